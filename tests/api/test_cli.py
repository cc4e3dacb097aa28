"""The `loyalty` command line, run as a user would, on a SQLite file of its own."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from pathlib import Path

from tests.fixtures.servers import loyalty_env, run_loyalty


def loyalty(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_loyalty(loyalty_env(LOYALTY_DATA_DIR=str(tmp_path)), *args)


def test_an_operator_sets_and_restores_a_programmes_rate_limit(tmp_path):
    assert loyalty(tmp_path, "migrate").returncode == 0
    assert loyalty(tmp_path, "create-programme", "shop", "--name", "Shop").returncode == 0
    limited = loyalty(
        tmp_path, "set-rate-limit", "shop", "member", "--maximum", "900", "--restore-rate", "30"
    )
    assert limited.returncode == 0, limited.stderr
    database = sqlite3.connect(tmp_path / "loyalty.sqlite3")
    stored = database.execute("SELECT rate_limits FROM programmes WHERE code = 'shop'").fetchone()
    assert json.loads(stored[0]) == {"member": {"maximumAvailable": 900, "restoreRate": 30}}
    refused = loyalty(tmp_path, "set-rate-limit", "shop", "member", "--maximum", "5")
    assert refused.returncode == 1 and "restore" in refused.stderr
    restored = loyalty(tmp_path, "set-rate-limit", "shop", "member")
    assert restored.returncode == 0, restored.stderr
    stored = database.execute("SELECT rate_limits FROM programmes WHERE code = 'shop'").fetchone()
    assert json.loads(stored[0]) == {}


def test_programme_keys_lifecycle_and_demo_seed_once(tmp_path):
    # given a migrated database
    assert loyalty(tmp_path, "migrate").returncode == 0
    # when a programme and a storefront key are created
    created = loyalty(
        tmp_path, "create-programme", "acme", "--name", "Acme", "--timezone", "Europe/Paris"
    )
    assert created.returncode == 0, created.stderr
    admin_key = re.search(r"(lk_admin_[0-9a-f]{64})", created.stdout).group(1)
    key = loyalty(tmp_path, "create-key", "acme", "storefront", "--label", "web")
    assert key.returncode == 0, key.stderr
    secret = re.search(r"(lk_storefront_[0-9a-f]{64})", key.stdout).group(1)
    prefix = re.search(r"revoke-key acme (\S+)", key.stdout).group(1)
    # then only hashes are stored
    db = sqlite3.connect(tmp_path / "loyalty.sqlite3")
    stored = db.execute("SELECT secret_hash, display_prefix, revoked_at FROM api_keys").fetchall()
    dump = "\n".join(db.iterdump())
    assert len(stored) == 2
    assert secret not in dump and admin_key not in dump
    # and revoking marks exactly that key
    assert loyalty(tmp_path, "revoke-key", "other-shop", prefix).returncode == 1  # not its key
    assert loyalty(tmp_path, "revoke-key", "acme", prefix).returncode == 0
    revoked = db.execute(
        "SELECT display_prefix FROM api_keys WHERE revoked_at IS NOT NULL"
    ).fetchall()
    assert revoked == [(prefix,)]
    assert loyalty(tmp_path, "revoke-key", "acme", prefix).returncode == 1  # nothing left
    # bad input is refused with a reason and changes nothing
    bad = loyalty(tmp_path, "create-programme", "acme", "--name", "Again")
    assert bad.returncode == 1 and "exists" in bad.stderr
    bad_zone = loyalty(
        tmp_path, "create-programme", "other", "--name", "X", "--timezone", "Mars/Base"
    )
    assert bad_zone.returncode == 1
    assert db.execute("SELECT count(*) FROM programmes").fetchone() == (1,)
    # the demo seed runs once
    first = loyalty(tmp_path, "seed-demo", "--members", "5")  # 50 is make run's, a year each
    assert first.returncode == 0 and "lk_admin_" in first.stdout
    second = loyalty(tmp_path, "seed-demo", "--members", "5")
    assert (
        second.returncode == 0 and "already seeded" in second.stdout and "lk_" not in second.stdout
    )
    counts = db.execute(
        "SELECT (SELECT count(*) FROM members), (SELECT count(*) FROM tiers), (SELECT count(*) FROM benefits)"
    ).fetchone()
    assert counts[0] == 5 and counts[1] == 6 and counts[2] > 6
    assert (tmp_path / "demo-keys.env").stat().st_mode & 0o077 == 0
    # the nightly build segments every member and ranks products for the consenting ones
    built = loyalty(tmp_path, "build-recommendations")
    assert built.returncode == 0 and "demo: 5 members segmented" in built.stdout, built.stdout
    lists, segments = db.execute(
        "SELECT (SELECT count(*) FROM recommendation_lists), (SELECT count(*) FROM member_segments)"
    ).fetchone()
    assert segments == 5 and lists > 1


def test_a_new_programme_has_the_neutral_points_policy_not_the_demos(tmp_path):
    assert loyalty(tmp_path, "migrate").returncode == 0
    assert loyalty(tmp_path, "create-programme", "shop", "--name", "Shop").returncode == 0
    database = sqlite3.connect(tmp_path / "loyalty.sqlite3")
    stored = database.execute("SELECT points_policy FROM programmes WHERE code = 'shop'").fetchone()
    policy = json.loads(stored[0])
    assert policy["category_bonus"] == {}  # the demo's "appliances +5" is not inherited
    assert policy["full_price_rate"] == [1, 100]
    assert (policy["checkin_points"], policy["referral_points"]) == (0, 0)


def test_argument_errors_name_the_argument(tmp_path):
    assert loyalty(tmp_path, "migrate").returncode == 0
    bad = loyalty(
        tmp_path,
        "create-programme",
        "shop",
        "--name",
        "S",
        "--timezone",
        "Mars/Base",
        "--currency",
        "XYZW",
    )
    assert bad.returncode == 1
    assert "argument --timezone: must be an IANA time zone" in bad.stderr
    assert "argument --currency: must be an ISO 4217 code" in bad.stderr
    bad_code = loyalty(tmp_path, "create-programme", "Not A Code", "--name", "S")
    assert bad_code.returncode == 1 and "argument code: " in bad_code.stderr
    assert loyalty(tmp_path, "create-programme", "shop", "--name", "S").returncode == 0
    limit = loyalty(
        tmp_path, "set-rate-limit", "shop", "member", "--maximum", "0", "--restore-rate", "1"
    )
    assert limit.returncode == 1 and "argument --maximum: must be" in limit.stderr, limit.stderr
    missing = loyalty(tmp_path, "create-key", "nope", "storefront")
    assert missing.returncode == 1 and "argument programme: no programme" in missing.stderr


def test_run_jobs_for_one_programme(tmp_path):
    assert loyalty(tmp_path, "migrate").returncode == 0
    assert loyalty(tmp_path, "create-programme", "shop", "--name", "Shop").returncode == 0
    one = loyalty(tmp_path, "run-jobs", "--programme", "shop")
    assert one.returncode == 0, one.stderr
    assert "idempotency keys pruned: skipped (one programme)" in one.stdout
    every = loyalty(tmp_path, "run-jobs")
    assert every.returncode == 0 and "idempotency keys pruned: 0" in every.stdout, every.stdout
    unknown = loyalty(tmp_path, "run-jobs", "--programme", "nope")
    assert unknown.returncode == 1
    assert "argument --programme: no programme 'nope'" in unknown.stderr
    # the insights rollups are PostgreSQL's: on SQLite there is nothing to rebuild, and it says so
    rebuilt = loyalty(tmp_path, "rebuild-insights")
    assert rebuilt.returncode == 0 and "nothing to rebuild" in rebuilt.stdout, rebuilt.stderr


def test_an_operator_issues_and_revokes_a_partner_key(tmp_path):
    # given a programme with a partner
    assert loyalty(tmp_path, "migrate").returncode == 0
    assert loyalty(tmp_path, "create-programme", "shop", "--name", "Shop").returncode == 0
    db = sqlite3.connect(tmp_path / "loyalty.sqlite3")
    [(programme_id,)] = db.execute("SELECT id FROM programmes WHERE code = 'shop'").fetchall()
    db.execute(
        "INSERT INTO partners (programme_id, code, name, status, terms, created_at, updated_at)"
        " VALUES (?, 'sky', 'Sky', 'ACTIVE', '{}', '2026-01-01', '2026-01-01')",
        (programme_id,),
    )
    db.commit()
    # when a partner key is created for it (and for a partner that does not exist)
    made = loyalty(tmp_path, "create-partner-key", "shop", "sky", "--label", "sky prod")
    unknown = loyalty(tmp_path, "create-partner-key", "shop", "sea")
    # then it is a lk_partner_ key stored as a hash, tied to the partner, and revocable
    assert made.returncode == 0, made.stderr
    secret = re.search(r"(lk_partner_[0-9a-f]{64})", made.stdout).group(1)
    prefix = re.search(r"revoke-key shop (\S+)", made.stdout).group(1)
    rows = db.execute("SELECT role, partner_id, display_prefix FROM api_keys").fetchall()
    assert ("partner", 1, prefix) in rows
    assert secret not in "\n".join(db.iterdump())
    assert unknown.returncode == 1 and "no partner" in unknown.stderr
    assert loyalty(tmp_path, "revoke-key", "shop", prefix).returncode == 0


def test_partner_statement_as_csv_and_its_refusals(tmp_path):
    assert loyalty(tmp_path, "migrate").returncode == 0
    assert loyalty(tmp_path, "create-programme", "shop", "--name", "Shop").returncode == 0
    db = sqlite3.connect(tmp_path / "loyalty.sqlite3")
    db.execute(
        "INSERT INTO partners (programme_id, code, name, status, terms, created_at, updated_at)"
        " VALUES (1, 'sky', 'Sky', 'ACTIVE', '{}', '2026-01-01', '2026-01-01')"
    )
    db.commit()
    empty = loyalty(tmp_path, "partner-statement", "shop", "sky", "2026-03-01", "--csv")
    text = loyalty(tmp_path, "partner-statement", "shop", "sky", "2026-03-01")
    unknown = loyalty(tmp_path, "partner-statement", "shop", "sea", "2026-03-01")
    bad_day = loyalty(tmp_path, "partner-statement", "shop", "sky", "March 1st")
    assert empty.returncode == 0, empty.stderr
    assert empty.stdout.splitlines()[0].startswith("at,transfer_id,direction,status,")
    assert len(empty.stdout.splitlines()) == 1
    assert "0 lines" in text.stdout
    assert unknown.returncode == 1 and "no partner" in unknown.stderr
    assert bad_day.returncode == 2
