"""The checked-in migrations build exactly the schema the models describe (on PostgreSQL)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid

import asyncpg

from tests.conftest import DATABASE_URL, asyncpg_dsn, needs_postgres

GENERATE = """
import asyncio, sys
from tortoise import Tortoise
from db.config import tortoise_config
async def main():
    await Tortoise.init(config=tortoise_config(sys.argv[1]))
    await Tortoise.generate_schemas(safe=False)
    await Tortoise.close_connections()
asyncio.run(main())
"""

COLUMNS = """
SELECT table_name, column_name, data_type, is_nullable, column_default, character_maximum_length
FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2
"""
CONSTRAINTS = """
SELECT rel.relname, con.conname, con.contype, pg_get_constraintdef(con.oid)
FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid
JOIN pg_namespace ns ON ns.oid = rel.relnamespace WHERE ns.nspname = 'public' ORDER BY 1, 2
"""
INDEXES = "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2"


LITERAL_DEFAULT = re.compile(r"^\(?'?(-?[0-9.]+|true|false)'?\)?(::[a-z ]+)?$", re.IGNORECASE)
# An enum's value backfilled into the rows already there (orders.channel: 'ONLINE'); case
# matters, so a lowercase text default is still compared.
ENUM_DEFAULT = re.compile(r"^'[A-Z][A-Z_]*'(::[a-z ]+)?$")


def without_literal_defaults(rows: list[tuple], default_at: int) -> list[tuple]:
    """`ALTER TABLE ... ADD col ... NOT NULL DEFAULT 0` needs a default for the rows already
    there; the models keep theirs in Python. A plain literal default is that, nothing more, so
    it is not a difference. (Sequence defaults, `nextval(...)`, are still compared.)"""
    return [
        (*row[:default_at], None, *row[default_at + 1 :])
        if isinstance(row[default_at], str)
        and (LITERAL_DEFAULT.match(row[default_at]) or ENUM_DEFAULT.match(row[default_at]))
        else row
        for row in rows
    ]


# Defaults written by hand in a migration, which the models cannot say for both dialects: each
# must be in the migrated schema exactly so, and is then compared like the rest.
HAND_WRITTEN_DEFAULTS = {
    # db/repositories/events.py reads events in commit order by the writing transaction's id
    ("events", "txid"): "(pg_current_xact_id())::text)::bigint",
}


def hand_written_defaults_checked(rows: list[tuple], default_at: int) -> list[tuple]:
    checked = []
    for row in rows:
        wanted = HAND_WRITTEN_DEFAULTS.get((row[0], row[1]))
        if wanted is not None:
            assert row[default_at] is not None and wanted in row[default_at], row
            row = (*row[:default_at], None, *row[default_at + 1 :])
        checked.append(row)
    return checked


# Tables a migration writes by hand, outside the models: PostgreSQL's insights rollups (migration
# 15), kept by the trigger below. Each must be in the migrated schema; the rest is compared.
HAND_WRITTEN_TABLES = {"member_activity", "ledger_day_sums"}
HAND_WRITTEN_TRIGGERS = {
    ("point_transactions", "insights_rollups"),
    ("audit_log", "audit_log_append_only"),  # migration 7: the audit log is append-only
    ("audit_log", "audit_log_no_truncate"),
}
TRIGGERS = """
SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE NOT t.tgisinternal
"""


def hand_written_tables_taken_out(described: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    assert {row[0] for row in described["columns"]} >= HAND_WRITTEN_TABLES
    return {
        name: [row for row in rows if row[0] not in HAND_WRITTEN_TABLES]
        for name, rows in described.items()
    }


async def _describe(url: str) -> dict[str, list[tuple]]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        described = {
            name: [tuple(r) for r in await conn.fetch(sql)]
            for name, sql in (
                ("columns", COLUMNS),
                ("constraints", CONSTRAINTS),
                ("indexes", INDEXES),
            )
        }
        described["columns"] = without_literal_defaults(described["columns"], 4)
        return described
    finally:
        await conn.close()


@needs_postgres
async def test_migrating_an_empty_database_gives_the_models_schema():
    base = DATABASE_URL.rsplit("/", 1)[0]
    migrated, generated = (
        f"loyalty_mig_{uuid.uuid4().hex[:8]}",
        f"loyalty_gen_{uuid.uuid4().hex[:8]}",
    )
    admin = await asyncpg.connect(asyncpg_dsn(DATABASE_URL))
    try:
        for name in (migrated, generated):
            await admin.execute(f'CREATE DATABASE "{name}"')
        env = {**os.environ, "LOYALTY_DATABASE_URL": f"{base}/{migrated}"}
        # when: the CLI migrates the empty database, and tortoise builds the other from the models
        run = subprocess.run(
            [sys.executable, "-m", "api.cli", "migrate"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert "0_" in run.stdout
        subprocess.run([sys.executable, "-c", GENERATE, f"{base}/{generated}"], check=True)
        # then
        from_migrations = await _describe(f"{base}/{migrated}")
        from_migrations["columns"] = hand_written_defaults_checked(from_migrations["columns"], 4)
        from_migrations = hand_written_tables_taken_out(from_migrations)
        conn = await asyncpg.connect(asyncpg_dsn(f"{base}/{migrated}"))
        try:
            triggers = {tuple(r) for r in await conn.fetch(TRIGGERS)}
        finally:
            await conn.close()
        assert triggers == HAND_WRITTEN_TRIGGERS
        from_models = await _describe(f"{base}/{generated}")
        assert from_migrations["columns"], "the migration created no tables"
        assert from_migrations == from_models
        # and migrating again is a no-op
        again = subprocess.run(
            [sys.executable, "-m", "api.cli", "migrate"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert "up to date" in again.stdout
    finally:
        for name in (migrated, generated):
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def _sqlite_schema(path: str) -> dict[str, list[tuple]]:
    import sqlite3

    db = sqlite3.connect(path)
    try:
        tables = [
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
            )
        ]
        schema: dict[str, list[tuple]] = {}
        for table in tables:
            # by name: a column added by ALTER TABLE comes last, wherever the model declares it
            schema[f"{table}.columns"] = without_literal_defaults(
                sorted(row[1:] for row in db.execute(f'PRAGMA table_info("{table}")')), 3
            )
            schema[f"{table}.fks"] = db.execute(f'PRAGMA foreign_key_list("{table}")').fetchall()
            indexes = db.execute(f'PRAGMA index_list("{table}")').fetchall()
            schema[f"{table}.indexes"] = sorted(
                (name, unique, tuple(c[2] for c in db.execute(f'PRAGMA index_info("{name}")')))
                for _, name, unique, *_ in indexes
            )
        return schema
    finally:
        db.close()


def test_migrating_an_empty_sqlite_file_gives_the_models_schema(tmp_path):
    migrated, generated = tmp_path / "migrated.sqlite3", tmp_path / "generated.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
    env.update(LOYALTY_DATABASE_URL=f"sqlite://{migrated}", LOYALTY_DATA_DIR=str(tmp_path))
    subprocess.run(
        [sys.executable, "-m", "api.cli", "migrate"], env=env, check=True, capture_output=True
    )
    subprocess.run([sys.executable, "-c", GENERATE, f"sqlite://{generated}"], check=True)
    from_migrations, from_models = _sqlite_schema(str(migrated)), _sqlite_schema(str(generated))
    assert from_migrations and from_migrations == from_models


def test_only_plain_literal_defaults_are_set_aside():
    rows = [
        ("t", "a", "bigint", "NO", "0", None),
        ("t", "b", "integer", "NO", "nextval('t_b_seq'::regclass)", None),
        ("t", "c", "boolean", "NO", "false", None),
        ("t", "d", "text", "NO", "'x'::text", None),
        ("t", "e", "character varying", "NO", "'ONLINE'::character varying", None),
    ]
    kept = without_literal_defaults(rows, 4)
    assert [r[4] for r in kept] == [None, "nextval('t_b_seq'::regclass)", None, "'x'::text", None]
