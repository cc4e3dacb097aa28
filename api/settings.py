"""Configuration from the environment. A bad value stops start-up with one line naming it."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from db.config import DEFAULT_DATABASE_URL
from services.tokens import TokenSettings

MODES = ("development", "production")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


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
    "LOYALTY_WORKERS": ("1", "uvicorn worker processes for `serve` (1-64)"),
    "LOYALTY_DATA_DIR": (
        ".loyalty",
        "where the SQLite file, the dev JWT secret and the demo keys live",
    ),
    "LOYALTY_LOG_LEVEL": ("INFO", "DEBUG, INFO, WARNING or ERROR"),
    "LOYALTY_JWT_ISSUER": ("loyalty", "`iss` of member tokens"),
    "LOYALTY_JWT_AUDIENCE": ("loyalty-members", "`aud` of member tokens"),
    "LOYALTY_JWT_SECRET": (
        "(generated in development)",
        "HS256 key for member tokens, at least 32 characters; required in production",
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


def load(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    mode = _choice(env, "LOYALTY_MODE", "development", MODES)
    data_dir = Path(env.get("LOYALTY_DATA_DIR", ".loyalty"))
    database_url = env.get("LOYALTY_DATABASE_URL") or f"sqlite://{data_dir / 'loyalty.sqlite3'}"
    if not database_url.startswith(("sqlite://", "postgres://", "postgresql://")):
        raise SettingsError(
            "LOYALTY_DATABASE_URL", "must start with sqlite://, postgres:// or postgresql://"
        )
    redis_url = env.get("LOYALTY_REDIS_URL") or None
    if redis_url is not None and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError("LOYALTY_REDIS_URL", "must start with redis://, rediss:// or unix://")
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        host=env.get("LOYALTY_HOST", "127.0.0.1"),
        port=_int(env, "LOYALTY_PORT", 8000, 1, 65535),
        mode=mode,
        workers=_int(env, "LOYALTY_WORKERS", 1, 1, 64),
        data_dir=data_dir,
        log_level=_choice(env, "LOYALTY_LOG_LEVEL", "INFO", LOG_LEVELS),
        jwt=TokenSettings(
            issuer=env.get("LOYALTY_JWT_ISSUER", "loyalty"),
            audience=env.get("LOYALTY_JWT_AUDIENCE", "loyalty-members"),
            secret=_jwt_secret(env, mode, data_dir),
        ),
    )
