# Every routine command of Mvsic. `make run` and `make test` are the two a new user needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/mvsic

.PHONY: help venv broker run migrate seed test test-fast lint format bench clean

help:
	@grep -E '^[a-z-]+:.*?## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

venv: $(BIN)/.installed ## Create .venv and install the pinned requirements

broker: ## Make sure a RabbitMQ broker answers (starts or installs one when it can)
	@sh scripts/ensure-rabbitmq.sh

migrate: venv
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: venv broker migrate ## Set up and run web, worker and beat on http://127.0.0.1:$${PORT:-8000}
	$(BIN)/python manage.py seed_demo
	$(BIN)/honcho start

test: venv lint ## The whole suite against PostgreSQL and RabbitMQ on this machine
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest

test-fast: venv ## Everything but the browser, fault and slow tests
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest -m "not browser and not fault and not slow"

lint: venv ## ruff check and ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
