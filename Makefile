# Every routine command of Mvsic. `make run` and `make test` are the two a new user needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/mvsic
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: help venv broker services run migrate seed test test-suite test-faults test-fast lint format clean bench bench-smoke

help: ## List the targets
	@grep -E '^[a-z-]+:.*?## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

venv: $(BIN)/.installed ## Create .venv and install the pinned requirements

broker: ## Make sure a RabbitMQ broker answers (starts or installs one when it can)
	@sh scripts/ensure-rabbitmq.sh

services: ## Make sure the test database server (TEST_DATABASE_URL) and the broker answer
	@DATABASE_URL=$(TEST_DATABASE_URL) sh scripts/ensure-postgres.sh
	@sh scripts/ensure-rabbitmq.sh

# make run is for development: debug mode (the development secret key and the demo logins
# are refused without it) unless DJANGO_DEBUG is set in the environment.
run migrate seed: export DJANGO_DEBUG ?= true

migrate: venv ## Apply migrations to the site's database (SQLite in var/ unless DATABASE_URL)
	$(BIN)/python manage.py migrate --noinput

seed: migrate ## Create the demo artists, tracks, logins and 13 months of listening history
	$(BIN)/python manage.py seed_demo --history 400

run: venv broker migrate ## Set up and run web, worker and beat on http://127.0.0.1:$${PORT:-8000}
	$(BIN)/python manage.py seed_demo --history 400
	@sh scripts/run.sh

# The fault tests stop and start PostgreSQL and RabbitMQ: they get a server and a node of their
# own (scripts/fault-services.sh) and run beside the rest of the suite, each part's report
# printed whole when it ends. An exit status of 5 is pytest's "no test selected" (PYTEST_ARGS
# may select tests of one part only).
test: venv lint ## Lint, then the whole suite against PostgreSQL and RabbitMQ
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-suite test-faults; \
		status=$$?; sh scripts/fault-services.sh stop; exit $$status

test-suite: venv services ## Every test but the fault tests
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest -m "not fault" $(PYTEST_ARGS) || [ $$? = 5 ]

test-faults: venv ## The fault tests, on a PostgreSQL and a RabbitMQ of their own
	@sh scripts/fault-services.sh start
	env $$(sh scripts/fault-services.sh env) $(BIN)/pytest -m fault $(PYTEST_ARGS) || [ $$? = 5 ]

test-fast: venv services ## Everything but the browser, fault and slow tests
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest -m "not browser and not fault and not slow" $(PYTEST_ARGS)

bench: venv services ## Benchmark the event pipeline (~90 min; BENCH_ARGS=--quick for ~3 min)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-smoke: venv services ## A tiny benchmark run that checks only that counts are exact
	$(BIN)/pytest tests/test_bench_smoke.py -m slow $(PYTEST_ARGS)

lint: venv ## ruff check and ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv ## Reformat the code and apply ruff's safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean: ## Remove the virtualenv, the local database and caches
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache .hypothesis
