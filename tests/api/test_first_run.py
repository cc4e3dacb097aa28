"""The first hour (issue 14, point 7): `make run` says what it does, and every example in the
README is a curl command that runs as written against a freshly seeded demo."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.servers import PROJECT, loyalty, loyalty_env, loyalty_server

README = (PROJECT / "README.md").read_text()
BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.S)
# A walk-through: its sh blocks run one after another in one shell (a helper defined once).
WALK_THROUGH = "## Partners"


def _section(heading: str) -> str:
    start = README.index(heading)
    end = README.find("\n## ", start + len(heading))
    return README[start : end if end != -1 else len(README)]


def _standalone() -> str:
    return README.replace(_section(WALK_THROUGH), "")


def test_make_run_says_what_it_installs_and_shows_pips_progress(tmp_path):
    # when: what `make run` would do on a clean clone (no virtualenv yet)
    planned = subprocess.run(
        ["make", "-n", "run", f"VENV={tmp_path / 'venv'}"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # then: it announces the install, and pip's own output is not silenced
    assert "installing dependencies" in planned
    [install] = [line for line in planned.splitlines() if "pip install" in line and "-e" in line]
    assert " -q" not in install
    assert "seeding the demo programme" in planned


def test_every_readme_example_is_curl_naming_its_key():
    examples = [
        body for kind, body in BLOCK.findall(_standalone()) if kind == "sh" and "/graphql" in body
    ]
    assert not [kind for kind, _ in BLOCK.findall(README) if kind == "graphql"]
    assert len(examples) >= 5
    for example in examples:
        assert "curl" in example
        assert re.search(r"Bearer \$(LOYALTY_\w+_KEY|TOKEN)", example), example
    # and the README says what the integers are, beside the first example
    first = README.index("## A member page with curl")
    assert "minor units" in README[first : first + 2500]
    assert "`entryThreshold: 10000` is 100.00" in README


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data = tmp_path_factory.mktemp("readme")
    env = loyalty_env(LOYALTY_DATA_DIR=str(data))
    loyalty(env, "migrate")
    loyalty(env, "seed-demo", "--members", "3")
    with loyalty_server(env, data / "server.log") as base:
        yield base, data


def test_the_readme_examples_run_as_written(demo):
    base, data = demo
    examples = [
        body for _, body in BLOCK.findall(_standalone()) if "curl" in body and "/graphql" in body
    ]
    for example in examples:
        # as a reader runs them: in one shell that has sourced the demo keys
        script = "set -eu\nsource .loyalty/demo-keys.env\n" + example
        script = script.replace("http://127.0.0.1:8000", base)
        script = script.replace(".loyalty/demo-keys.env", str(data / "demo-keys.env"))
        done = subprocess.run(
            ["bash", "-c", script], capture_output=True, text=True, timeout=60, cwd=PROJECT
        )
        assert done.returncode == 0, (example, done.stderr)
        answers = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
        assert answers, example
        for answer in answers:
            assert "errors" not in answer, (example, answer)
            assert answer["data"], example


def test_the_partner_walk_through_runs_as_written(demo):
    base, data = demo
    steps = [body for kind, body in BLOCK.findall(_section(WALK_THROUGH)) if kind == "sh"]
    assert len(steps) >= 5
    script = "set -eu\n" + "\n".join(steps)
    script = script.replace("http://127.0.0.1:8000", base)
    script = script.replace(".loyalty/demo-keys.env", str(data / "demo-keys.env"))
    # the `loyalty` command of this installation, on the demo's data
    env = loyalty_env(
        LOYALTY_DATA_DIR=str(data), PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    )
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=120, cwd=data, env=env
    )
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(answers) >= 5, done.stdout
    for answer in answers:
        assert "errors" not in answer, answer
        for result in (answer.get("data") or {}).values():
            # a union answer that is an error type names it in __typename
            if isinstance(result, dict):
                assert not result.get("__typename", "").endswith("Error"), answer
