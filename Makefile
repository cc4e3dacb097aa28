# Two commands for a new user: `make run` and `make test`. Everything else is for developers.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

.PHONY: install run test test-embedded lint schema migration clean bench-ledger bench-tiers \
	eval-recommendations bench-recommendations bench bench-events fuzz mutation audit-http \
	lint-schema bench-export bench-webhooks bench-scale bench-workers bench-campaigns \
	bench-insights bench-layers

# Says what it does: the first run takes a minute or two, and silence looks like a hang.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	@echo "== installing dependencies into $(VENV) (once; again only when pyproject.toml changes) =="
	@test -x $(BIN)/python || { echo "creating the virtualenv $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "updating pip"
	@$(BIN)/python -m pip install -q --upgrade pip
	@echo "installing the loyalty API and its development tools (pip's progress follows)"
	$(BIN)/python -m pip install --progress-bar on -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@
	@echo "== dependencies installed =="

install: $(STAMP)

## Migrate, seed the demo programme (once) and serve GraphiQL on http://127.0.0.1:8000/graphql
run: install
	@echo "== migrating the database =="
	$(BIN)/loyalty migrate
	@echo "== seeding the demo programme (first run only) =="
	$(BIN)/loyalty seed-demo
	@echo "== serving: open http://$${LOYALTY_HOST:-127.0.0.1}:$${LOYALTY_PORT:-8000}/ =="
	$(BIN)/loyalty serve

## The whole suite. With LOYALTY_TEST_DATABASE_URL / LOYALTY_TEST_REDIS_URL set it runs on
## PostgreSQL + Redis, and the GraphQL tests once more, beside it, on the embedded default
## (SQLite): see scripts/run-tests.
test: install lint
	scripts/run-tests

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy domain services

## graphql-schema-linter on schema.graphql (needs Node; the linter is pinned in scripts/lint-schema).
## Its rules are in scripts/lint-schema/.graphql-schema-linterrc. The description rules are also enforced without Node by tests/graphql/test_schema_conventions.py.
lint-schema:
	@command -v npm >/dev/null || { echo "make lint-schema needs Node (npm)"; exit 1; }
	cd scripts/lint-schema && npm ci --no-audit --no-fund --silent
	scripts/lint-schema/node_modules/.bin/graphql-schema-linter --config-directory scripts/lint-schema schema.graphql

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

## programmeInsights for a year on PostgreSQL: 100,000 members, 1,000,000 ledger rows (MONTH, DAY).
## A scratch database unless LOYALTY_BENCH_INSIGHTS_DB names one (kept). BENCH_ARGS: --runs N --explain
bench-insights: install
	$(BIN)/python scripts/bench_insights.py $(BENCH_ARGS)

## Exporting a member with 100,000 ledger rows: time, size, peak memory while streaming.
bench-export: install
	$(BIN)/python scripts/bench_member_export.py

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

## The member page, recordOrder, completeOrder and redeemPoints against raw Starlette and
## pgbench, with issue 16's targets met or missed (see BENCHMARKS.md). BENCH_ARGS adds options.
bench: install
	@command -v wrk >/dev/null || apt-get install -y -q wrk
	$(BIN)/python scripts/bench_member_page.py $(BENCH_ARGS)

## CPU per request of recordOrder and the member page, layer by layer (app, GraphQL view,
## Schema.execute), in process on a scratch PostgreSQL database. BENCH_ARGS adds options,
## e.g. BENCH_ARGS='--profile "recordOrder: execute" --sort tottime'.
bench-layers: install
	$(BIN)/python scripts/bench_layers.py $(BENCH_ARGS)

## (b) and (c) with 100,000 members and 1,000,000 ledger rows against 10,000 members, paired
## round by round (target: within 15%). Seeding both takes a few minutes.
bench-scale: install
	@command -v wrk >/dev/null || apt-get install -y -q wrk
	$(BIN)/python scripts/bench_member_page.py --members 100000 --ledger-rows 1000000 \
		--baseline-members 10000 --parts b,c $(BENCH_ARGS)

## (b) and (c) served by two uvicorn workers (LOYALTY_WORKERS=2), with pgbench's (d) beside.
bench-workers: install
	@command -v wrk >/dev/null || apt-get install -y -q wrk
	$(BIN)/python scripts/bench_member_page.py --workers 2 --parts b,c,d $(BENCH_ARGS)

## (c) recordOrder with 20 active campaigns (none rewarding the bench's orders) against
## none, paired round by round (issue 19: at most 15% lost). BENCH_ARGS adds options, e.g.
## BENCH_ARGS="--campaigns 22": two more that reward every order.
bench-campaigns: install
	@command -v wrk >/dev/null || apt-get install -y -q wrk
	$(BIN)/python scripts/bench_member_page.py --campaigns 20 --baseline-members 10000 \
		--parts c $(BENCH_ARGS)

## schemathesis over every query and mutation of a server on a fresh SQLite file, with a
## storefront and an admin key (a few minutes): requests sent, 5xx answers, errors without a code.
fuzz: install
	$(BIN)/python scripts/fuzz.py

## The graphql-http audit (GraphQL-over-HTTP conformance) against a development server on a
## fresh SQLite file; needs Node 18+ (installs the pinned npm packages the first time).
audit-http: install
	$(BIN)/python -m scripts.audit_http
