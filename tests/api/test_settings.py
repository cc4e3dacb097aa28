"""Configuration from the environment: defaults, and one named variable per bad value."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from api.settings import SettingsError, load

PROJECT_ROOT = Path(__file__).resolve().parents[2]
A_SECRET = "s" * 32
A_WEBHOOK_KEY = "hTV6SPggFu70yTMS9Jv5TD1v4r5KMbYBkMZlHIju6DU="


def env_with(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """A valid environment that writes nothing outside tmp_path."""
    return {
        "LOYALTY_DATA_DIR": str(tmp_path),
        "LOYALTY_JWT_SECRET": A_SECRET,
        "LOYALTY_WEBHOOK_KEYS": A_WEBHOOK_KEY,
        **overrides,
    }


def test_defaults(tmp_path):
    # given only a data directory
    env = {"LOYALTY_DATA_DIR": str(tmp_path)}
    # when
    settings = load(env)
    # then
    assert settings.database_url == f"sqlite://{tmp_path / 'loyalty.sqlite3'}"
    assert settings.redis_url is None
    assert settings.port == 8000
    assert settings.host == "127.0.0.1"
    assert settings.mode == "development"
    assert settings.production is False
    assert settings.workers == 1
    assert settings.log_level == "INFO"
    assert settings.data_dir == tmp_path
    assert (settings.jwt.issuer, settings.jwt.audience) == ("loyalty", "loyalty-members")


def test_default_data_dir_is_dot_loyalty():
    # given a secret, so nothing is written to the default data directory
    env = {"LOYALTY_JWT_SECRET": A_SECRET}
    # when
    settings = load(env)
    # then
    assert settings.data_dir == Path(".loyalty")
    assert settings.database_url == f"sqlite://{Path('.loyalty') / 'loyalty.sqlite3'}"


def test_given_values_are_used(tmp_path):
    # given
    env = env_with(
        tmp_path,
        LOYALTY_DATABASE_URL="postgresql://loyalty@db:5432/loyalty",
        LOYALTY_REDIS_URL="redis://cache:6379/0",
        LOYALTY_HOST="0.0.0.0",
        LOYALTY_PORT="65535",
        LOYALTY_MODE="production",
        LOYALTY_WORKERS="64",
        LOYALTY_LOG_LEVEL="DEBUG",
    )
    # when
    settings = load(env)
    # then
    assert settings.database_url == "postgresql://loyalty@db:5432/loyalty"
    assert settings.redis_url == "redis://cache:6379/0"
    assert (settings.host, settings.port, settings.workers) == ("0.0.0.0", 65535, 64)
    assert settings.production is True
    assert settings.log_level == "DEBUG"
    assert settings.jwt.secret == A_SECRET


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LOYALTY_PORT", "abc"),
        ("LOYALTY_PORT", "70000"),
        ("LOYALTY_PORT", "0"),
        ("LOYALTY_PORT", ""),
        ("LOYALTY_MODE", "staging"),
        ("LOYALTY_DATABASE_URL", "mysql://x"),
        ("LOYALTY_REDIS_URL", "http://x"),
        ("LOYALTY_WORKERS", "0"),
        ("LOYALTY_WORKERS", "65"),
        ("LOYALTY_LOG_LEVEL", "LOUD"),
        ("LOYALTY_JWT_SECRET", "s" * 31),
    ],
)
def test_a_bad_value_names_its_variable(tmp_path, variable, value):
    # given an otherwise valid environment
    env = env_with(tmp_path, **{variable: value})
    # when
    with pytest.raises(SettingsError) as raised:
        load(env)
    # then
    assert raised.value.variable == variable
    assert str(raised.value).startswith(f"{variable}: ")


def test_production_without_a_jwt_secret_fails(tmp_path):
    # given
    env = {"LOYALTY_DATA_DIR": str(tmp_path), "LOYALTY_MODE": "production"}
    # when
    with pytest.raises(SettingsError) as raised:
        load(env)
    # then
    assert raised.value.variable == "LOYALTY_JWT_SECRET"
    assert not (tmp_path / "jwt-secret").exists()


def test_development_generates_a_secret_once_and_keeps_it(tmp_path):
    # given a data directory that does not exist yet
    data_dir = tmp_path / "data"
    env = {"LOYALTY_DATA_DIR": str(data_dir)}
    # when
    first = load(env)
    second = load(env)
    # then
    secret_file = data_dir / "jwt-secret"
    assert secret_file.read_text().strip() == first.jwt.secret
    assert len(first.jwt.secret) >= 32
    assert second.jwt.secret == first.jwt.secret
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600


def test_two_checkouts_get_different_secrets(tmp_path):
    # given two data directories
    # when
    one = load({"LOYALTY_DATA_DIR": str(tmp_path / "one")})
    other = load({"LOYALTY_DATA_DIR": str(tmp_path / "other")})
    # then
    assert one.jwt.secret != other.jwt.secret


def test_cli_reports_a_bad_variable_in_one_line(tmp_path):
    # given an environment with a bad port and no other LOYALTY_ settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
    env.update(LOYALTY_PORT="abc", LOYALTY_DATA_DIR=str(tmp_path))
    # when
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "migrate"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # then
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "LOYALTY_PORT" in lines[0]
    assert not (tmp_path / "loyalty.sqlite3").exists()


def test_readme_lists_every_variable_with_its_default():
    # given
    from api.settings import VARIABLES

    readme = (PROJECT_ROOT / "README.md").read_text()
    rows = {
        line.split("|")[1].strip(): line.split("|")[2].strip()
        for line in readme.splitlines()
        if line.startswith("| `LOYALTY_")
    }
    # then
    assert sorted(rows) == sorted(f"`{name}`" for name in VARIABLES)
    for name, (default, _meaning) in VARIABLES.items():
        assert default in rows[f"`{name}`"], name


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"LOYALTY_DATABASE_URL": "postgres://u@h:notaport/db"}, "LOYALTY_DATABASE_URL"),
        ({"LOYALTY_DATABASE_URL": "sqlite://"}, "LOYALTY_DATABASE_URL"),
        ({"LOYALTY_DATABASE_URL": "postgres://u@h:5432/db?maxsize=abc"}, "LOYALTY_DATABASE_URL"),
        ({"LOYALTY_DATABASE_URL": "postgres://h"}, "LOYALTY_DATABASE_URL"),
        ({"LOYALTY_REDIS_URL": "redis://h:notaport/0"}, "LOYALTY_REDIS_URL"),
        ({"LOYALTY_WORKERS": "4"}, "LOYALTY_WORKERS"),
        ({"LOYALTY_DATA_DIR": "/proc/nope/data"}, "LOYALTY_DATA_DIR"),
    ],
)
def test_unusable_urls_dirs_and_worker_counts_name_their_variable(tmp_path, env, variable):
    base = {"LOYALTY_DATA_DIR": str(tmp_path), "LOYALTY_JWT_SECRET": "s" * 40}
    with pytest.raises(SettingsError) as raised:
        load({**base, **env})
    assert raised.value.variable == variable


def test_many_workers_with_redis_and_a_full_postgres_url_are_accepted(tmp_path):
    settings = load(
        {
            "LOYALTY_DATA_DIR": str(tmp_path),
            "LOYALTY_JWT_SECRET": "s" * 40,
            "LOYALTY_WORKERS": "4",
            "LOYALTY_REDIS_URL": "redis://127.0.0.1:6379/0",
            "LOYALTY_DATABASE_URL": "postgresql://app@db.internal:5432/loyalty?maxsize=10",
        }
    )
    assert settings.workers == 4
