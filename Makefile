# Two commands for a new user: `make run` and `make test`. Everything else is for developers.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

.PHONY: install run test test-embedded lint schema migration clean bench-ledger bench-tiers \
	eval-recommendations bench-recommendations bench bench-events fuzz mutation bench-webhooks

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

## Migrate, seed the demo programme (once) and serve GraphiQL on http://127.0.0.1:8000/graphql
run: install
	$(BIN)/loyalty migrate
	$(BIN)/loyalty seed-demo
	$(BIN)/loyalty serve

## The whole suite. With LOYALTY_TEST_DATABASE_URL / LOYALTY_TEST_REDIS_URL set it runs on
## PostgreSQL + Redis and then the GraphQL tests once more on the embedded default (SQLite).
test: install lint
	$(BIN)/python -m pytest
	@if [ -n "$$LOYALTY_TEST_DATABASE_URL$$LOYALTY_TEST_REDIS_URL" ]; then \
		echo "== GraphQL tests on the embedded default (SQLite, in-process cache) =="; \
		env -u LOYALTY_TEST_DATABASE_URL -u LOYALTY_TEST_REDIS_URL $(BIN)/python -m pytest tests/graphql; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy domain services

## Rewrite schema.graphql after a schema change (a test fails while it is stale).
schema: install
	$(BIN)/loyalty print-schema > schema.graphql

clean:
	rm -rf $(VENV) .loyalty .pytest_cache

## Write the next migration (SQL for SQLite and PostgreSQL in one file) after a model change.
migration: install
	$(BIN)/python scripts/make_migration.py $(or $(NAME),update)

## Mutation testing of domain/ with the domain tests alone (mutmut; minutes, not a CI step),
## then the score per module. MUTANTS='domain.points.*' runs only some mutants.
mutation: install
	rm -rf mutants
	@start=$$(date +%s); \
	env -u LOYALTY_TEST_DATABASE_URL -u LOYALTY_TEST_REDIS_URL $(BIN)/mutmut run $(MUTANTS) \
		|| exit 1; \
	$(BIN)/python scripts/mutation_scores.py; \
	echo "make mutation took $$(( $$(date +%s) - start )) s"

## Ledger benchmark on PostgreSQL: 10,000 orders and 10,000 redemptions at concurrency 32.
bench-ledger: install
	$(BIN)/python scripts/bench_ledger.py

## How long run-jobs takes to judge 10,000 members whose tier validity ended (PostgreSQL).
bench-tiers: install
	$(BIN)/python scripts/bench_tier_jobs.py

## Recommendation quality on generated data: hit rate@10 and NDCG@10 against popularity.
eval-recommendations: install
	$(BIN)/python scripts/eval_recommendations.py

## How long build-recommendations takes for 5,000 members and 500 products (PostgreSQL).
bench-recommendations: install
	$(BIN)/python scripts/bench_recommendations.py

## Webhooks on PostgreSQL: 10,000 events through one deliverer to a local receiver; events/s
## and commit-to-receipt percentiles.
bench-webhooks: install
	$(BIN)/python scripts/bench_webhooks.py

## What writing the outbox row costs recordOrder: with and without it, interleaved (PostgreSQL).
bench-events: install
	$(BIN)/python scripts/bench_events.py

## The member page and recordOrder against raw Starlette and pgbench (see BENCHMARKS.md).
bench: install
	@command -v wrk >/dev/null || apt-get install -y -q wrk
	$(BIN)/python scripts/bench_member_page.py

## schemathesis over every query and mutation of a server on a fresh SQLite file, with a
## storefront and an admin key (a few minutes): requests sent, 5xx answers, errors without a code.
fuzz: install
	$(BIN)/python scripts/fuzz.py
