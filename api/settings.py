"""Configuration from the environment. A bad value stops start-up with one line naming it."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from redis.connection import parse_url as parse_redis_url
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.exceptions import ConfigurationError

from db.config import DEFAULT_DATABASE_URL, normalise_url
from domain.audit import DEFAULT_RETENTION_DAYS, MIN_RETENTION_DAYS
from services.tokens import TokenSettings

MODES = ("development", "production")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("json", "text")


class SettingsError(Exception):
    def __init__(self, variable: str, message: str) -> None:
        super().__init__(f"{variable}: {message}")
        self.variable = variable


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None
    host: str
    port: int
    mode: str
    workers: int
    data_dir: Path
    log_level: str
    jwt: TokenSettings
    max_body_bytes: int = 1024 * 1024
    cors_origins: tuple[str, ...] = ()
    log_format: str = "text"
    audit_retention_days: int = DEFAULT_RETENTION_DAYS
    webhook_keys: tuple[str, ...] = ()
    demo_pages: bool = False

    @property
    def production(self) -> bool:
        return self.mode == "production"


# name -> (default, meaning); the README's configuration table is checked against this.
VARIABLES: dict[str, tuple[str, str]] = {
    "LOYALTY_DATABASE_URL": (
        DEFAULT_DATABASE_URL,
        "`sqlite://PATH` or `postgres://user@host:port/db` (asyncpg; `?maxsize=N` sets the pool)",
    ),
    "LOYALTY_REDIS_URL": (
        "(unset)",
        "`redis://host:port/db`; unset = in-process cache (one process only)",
    ),
    "LOYALTY_HOST": ("127.0.0.1", "address `serve` binds"),
    "LOYALTY_PORT": ("8000", "port `serve` binds (1-65535)"),
    "LOYALTY_MODE": (
        "development",
        "`development` (GraphiQL, introspection, full errors) or `production`",
    ),
    "LOYALTY_WORKERS": (
        "1",
        "uvicorn worker processes for `serve` (1-64; more than 1 needs Redis)",
    ),
    "LOYALTY_DATA_DIR": (
        ".loyalty",
        "where the SQLite file, the dev JWT secret and the demo keys live",
    ),
    "LOYALTY_LOG_LEVEL": ("INFO", "DEBUG, INFO, WARNING or ERROR"),
    "LOYALTY_LOG_FORMAT": (
        "text (json in production)",
        "`json` (one object a line, with the request id) or `text` (key=value, for a terminal)",
    ),
    "LOYALTY_MAX_BODY_BYTES": (
        "1048576",
        "largest request body accepted (1024 to 1073741824 bytes); larger ones get 413",
    ),
    "LOYALTY_CORS_ORIGINS": (
        "(none)",
        "browser origins allowed to call /graphql, comma-separated "
        "(`https://shop.example,https://app.example`); none allowed when unset",
    ),
    "LOYALTY_AUDIT_RETENTION_DAYS": (
        str(DEFAULT_RETENTION_DAYS),
        f"days `run-jobs` keeps audit rows ({MIN_RETENTION_DAYS}-36500)",
    ),
    "LOYALTY_DEMO_PAGES": (
        "on (off in production)",
        "`on` serves the demo member page `/demo/member` and dashboard `/demo/admin`; `off` not",
    ),
    "LOYALTY_JWT_ISSUER": ("loyalty", "`iss` of member tokens"),
    "LOYALTY_JWT_AUDIENCE": ("loyalty-members", "`aud` of member tokens"),
    "LOYALTY_JWT_SECRET": (
        "(generated in development)",
        "HS256 key for member tokens, at least 32 characters; required in production "
        "unless `LOYALTY_JWT_SECRETS` is set",
    ),
    "LOYALTY_JWT_SECRETS": (
        "(unset)",
        "rotation: `kid:secret,kid:secret`, newest first; the first signs, all verify "
        "(replaces `LOYALTY_JWT_SECRET`)",
    ),
    "LOYALTY_WEBHOOK_KEYS": (
        "(generated in development)",
        "Fernet keys (comma-separated, newest first) that encrypt webhook signing secrets at "
        "rest; required in production (`loyalty generate-webhook-key` makes one)",
    ),
}


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(name, f"must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(name, f"must be {low}-{high}, got {value}")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, default)
    if value not in choices:
        raise SettingsError(name, f"must be one of {', '.join(choices)}, got {value!r}")
    return value


def _jwt_secret(env: Mapping[str, str], mode: str, data_dir: Path) -> str:
    secret = env.get("LOYALTY_JWT_SECRET")
    if secret is not None:
        if len(secret) < 32:
            raise SettingsError("LOYALTY_JWT_SECRET", "must be at least 32 characters")
        return secret
    if mode == "production":
        raise SettingsError("LOYALTY_JWT_SECRET", "is required in production")
    # Development: one secret per checkout, shared by every worker and kept across restarts.
    path = data_dir / "jwt-secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        # Created owner-only from the start, so there is no moment others could read it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as secret_file:
            secret_file.write(secrets.token_hex(32))
    return path.read_text().strip()


KID = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_JWT_SECRETS = 8


def _jwt_secrets(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """LOYALTY_JWT_SECRETS: `kid:secret` pairs, comma-separated, newest first."""
    name = "LOYALTY_JWT_SECRETS"
    pairs: list[tuple[str, str]] = []
    for item in env.get(name, "").split(","):
        if not item.strip():
            continue
        kid, sep, secret = item.strip().partition(":")
        if not sep or not KID.fullmatch(kid):
            raise SettingsError(name, "each entry is kid:secret, the kid 1-32 of A-Z a-z 0-9 _ . -")
        if len(secret) < 32:
            raise SettingsError(name, f"the secret of kid {kid} must be at least 32 characters")
        if kid in dict(pairs):
            raise SettingsError(name, f"kid {kid} is listed twice")
        pairs.append((kid, secret))
    if len(pairs) > MAX_JWT_SECRETS:
        raise SettingsError(name, f"at most {MAX_JWT_SECRETS} secrets")
    return tuple(pairs)


def _token_settings(env: Mapping[str, str], mode: str, data_dir: Path) -> TokenSettings:
    issuer = env.get("LOYALTY_JWT_ISSUER", "loyalty")
    audience = env.get("LOYALTY_JWT_AUDIENCE", "loyalty-members")
    rotating = _jwt_secrets(env)
    if not rotating:
        return TokenSettings(issuer, audience, _jwt_secret(env, mode, data_dir))
    if env.get("LOYALTY_JWT_SECRET"):
        raise SettingsError(
            "LOYALTY_JWT_SECRET", "set LOYALTY_JWT_SECRET or LOYALTY_JWT_SECRETS, not both"
        )
    kid, secret = rotating[0]
    return TokenSettings(issuer, audience, secret, kid=kid, verifying=rotating)


def _webhook_keys(env: Mapping[str, str], mode: str, data_dir: Path) -> tuple[str, ...]:
    from cryptography.fernet import Fernet

    name = "LOYALTY_WEBHOOK_KEYS"
    raw = env.get(name)
    if raw is None:
        if mode == "production":
            raise SettingsError(name, "is required in production")
        path = data_dir / "webhook-key"
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as key_file:
                key_file.write(Fernet.generate_key().decode())
        raw = path.read_text().strip()
    keys = tuple(k.strip() for k in raw.split(",") if k.strip())
    if not keys:
        raise SettingsError(name, "needs at least one key")
    for key in keys:
        try:
            Fernet(key.encode())
        except ValueError:
            raise SettingsError(name, "each key must be 32 url-safe base64-encoded bytes") from None
    return keys


def _database_url(env: Mapping[str, str], data_dir: Path) -> str:
    name = "LOYALTY_DATABASE_URL"
    url = env.get(name) or f"sqlite://{data_dir / 'loyalty.sqlite3'}"
    if url.startswith("sqlite://"):
        if url == "sqlite://":
            raise SettingsError(
                name, "sqlite:// needs a file path, e.g. sqlite://data/loyalty.sqlite3"
            )
        return url
    if not url.startswith(("postgres://", "postgresql://")):
        raise SettingsError(name, "must start with sqlite://, postgres:// or postgresql://")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        expand_db_url(normalise_url(url))
    except (ValueError, ConfigurationError) as error:
        raise SettingsError(name, f"is not a usable PostgreSQL URL ({error})") from None
    for pool_size in ("minsize", "maxsize"):
        for value in parse_qs(parts.query).get(pool_size, []):
            if not value.isdigit() or not 1 <= int(value) <= 1000:
                raise SettingsError(name, f"`{pool_size}` must be a whole number 1-1000")
    if not parts.hostname or parts.path in ("", "/"):
        raise SettingsError(name, "needs a host and a database name: postgres://user@host:5432/db")
    return url


def _redis_url(env: Mapping[str, str]) -> str | None:
    name = "LOYALTY_REDIS_URL"
    url = env.get(name) or None
    if url is None:
        return None
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError(name, "must start with redis://, rediss:// or unix://")
    try:
        urlsplit(url).port  # noqa: B018
        parse_redis_url(url)
    except ValueError as error:
        raise SettingsError(name, f"is not a usable Redis URL ({error})") from None
    return url


def _cors_origins(env: Mapping[str, str]) -> tuple[str, ...]:
    """Exact origins (`scheme://host[:port]`), as a browser sends them in `Origin`: no
    wildcard, since browsers calling with member tokens are the programme's own sites."""
    name = "LOYALTY_CORS_ORIGINS"
    origins = []
    for origin in (part.strip() for part in env.get(name, "").split(",")):
        if not origin:
            continue
        try:
            parts = urlsplit(origin)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            parts = None
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or "*" in origin
            or f"{parts.scheme}://{parts.netloc}" != origin
        ):
            raise SettingsError(
                name,
                f"{origin!r} is not an origin: scheme://host[:port], without a path or a "
                "wildcard (e.g. https://shop.example)",
            )
        origins.append(origin)
    return tuple(origins)


def _data_dir(env: Mapping[str, str]) -> Path:
    path = Path(env.get("LOYALTY_DATA_DIR", ".loyalty"))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SettingsError("LOYALTY_DATA_DIR", f"cannot be created ({error.strerror})") from None
    if not os.access(path, os.W_OK):
        raise SettingsError("LOYALTY_DATA_DIR", f"{path} is not writable")
    return path


def load(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    mode = _choice(env, "LOYALTY_MODE", "development", MODES)
    data_dir = _data_dir(env)
    database_url = _database_url(env, data_dir)
    redis_url = _redis_url(env)
    workers = _int(env, "LOYALTY_WORKERS", 1, 1, 64)
    if workers > 1 and redis_url is None:
        raise SettingsError(
            "LOYALTY_WORKERS",
            "more than one worker needs LOYALTY_REDIS_URL (the in-process cache is per process)",
        )
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        host=env.get("LOYALTY_HOST", "127.0.0.1"),
        port=_int(env, "LOYALTY_PORT", 8000, 1, 65535),
        mode=mode,
        workers=workers,
        data_dir=data_dir,
        log_level=_choice(env, "LOYALTY_LOG_LEVEL", "INFO", LOG_LEVELS),
        log_format=_choice(
            env, "LOYALTY_LOG_FORMAT", "json" if mode == "production" else "text", LOG_FORMATS
        ),
        max_body_bytes=_int(env, "LOYALTY_MAX_BODY_BYTES", 1024 * 1024, 1024, 1024**3),
        cors_origins=_cors_origins(env),
        audit_retention_days=_int(
            env,
            "LOYALTY_AUDIT_RETENTION_DAYS",
            DEFAULT_RETENTION_DAYS,
            MIN_RETENTION_DAYS,
            36_500,
        ),
        jwt=_token_settings(env, mode, data_dir),
        webhook_keys=_webhook_keys(env, mode, data_dir),
        demo_pages=_choice(
            env, "LOYALTY_DEMO_PAGES", "off" if mode == "production" else "on", ("on", "off")
        )
        == "on",
    )
