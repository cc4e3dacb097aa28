"""The first hour (issue 14, point 7): `make run` says what it does, and every example in the
README is a curl command that runs as written against a freshly seeded demo."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.fixtures.servers import PROJECT, loyalty, loyalty_env, loyalty_server

README = (PROJECT / "README.md").read_text()
BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.S)


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
    examples = [body for kind, body in BLOCK.findall(README) if kind == "sh" and "/graphql" in body]
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
    examples = [body for _, body in BLOCK.findall(README) if "curl" in body and "/graphql" in body]
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
