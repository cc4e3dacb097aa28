from pathlib import Path

from schema import sdl

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_checked_in_schema_is_current():
    assert SCHEMA_FILE.read_text() == sdl(), "schema.graphql is stale: run `make schema`"


def test_every_mutation_returns_a_union_with_errors():
    text = SCHEMA_FILE.read_text()
    mutation = text.split("type Mutation {", 1)[1].split("\n}", 1)[0]
    results = [
        line.rsplit(":", 1)[1].strip().rstrip("!") for line in mutation.splitlines() if "):" in line
    ]
    assert results
    for result in results:
        assert f"union {result} = " in text, result
        error = result.replace("Result", "Error")
        assert f"type {error} {{" in text, error
        body = text.split(f"type {error} {{", 1)[1].split("\n}", 1)[0]
        assert "\n  errors: [UserError!]!" in body, error
