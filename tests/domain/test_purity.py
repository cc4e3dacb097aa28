"""Architecture checks: the wall clock is read in one place, and domain/ imports nothing impure."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WALL_CLOCK_READS = ("datetime.now(", "datetime.utcnow(", "time.time(", "date.today(")
SANCTIONED_CLOCK = Path("services/clock.py")
IMPURE_PACKAGES = {
    "tortoise",
    "strawberry",
    "redis",
    "starlette",
    "db",
    "services",
    "api",
    "schema",
    "resolvers",
}


def python_files(*packages: str) -> list[Path]:
    return sorted(path for package in packages for path in (ROOT / package).rglob("*.py"))


def wall_clock_reads(source: str) -> list[str]:
    return [
        f"line {number}: {line.strip()}"
        for number, line in enumerate(source.splitlines(), start=1)
        if any(read in line for read in WALL_CLOCK_READS)
    ]


def imported_packages(source: str) -> set[str]:
    packages: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            packages.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            packages.add(node.module.split(".")[0])
    return packages


def test_the_checks_see_what_they_look_for():
    # given a module that reads the clock and imports the ORM
    source = "import tortoise.models\nfrom db.models import X\nstamp = datetime.datetime.now(UTC)\n"
    # when
    reads, imports = wall_clock_reads(source), imported_packages(source)
    # then
    assert reads == ["line 3: stamp = datetime.datetime.now(UTC)"]
    assert {"tortoise", "db"} <= imports


def test_the_wall_clock_is_read_only_in_services_clock():
    # given every module of domain/ and services/
    files = python_files("domain", "services")
    assert ROOT / SANCTIONED_CLOCK in files
    # when
    offenders = {
        str(path.relative_to(ROOT)): reads
        for path in files
        if path.relative_to(ROOT) != SANCTIONED_CLOCK
        and (reads := wall_clock_reads(path.read_text()))
    }
    # then
    assert offenders == {}


def test_domain_imports_nothing_impure():
    # given every module of domain/
    files = python_files("domain")
    assert files
    # when
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path.read_text()) & IMPURE_PACKAGES)
        for path in files
    }
    # then
    assert {path: bad for path, bad in offenders.items() if bad} == {}
