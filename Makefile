# The two commands of the README, plus the checks CI runs. Everything installs into .venv.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
CONFIG ?= config.toml

.PHONY: run test lint bench check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

$(CONFIG):
	cp config.example.toml $(CONFIG)

## run: install, migrate and run the bot (needs DUTYBOT_TELEGRAM_TOKEN or [telegram] token)
run: $(STAMP) $(CONFIG)
	$(BIN)/dutybot run --config $(CONFIG)

## test: install and run the test suite (PostgreSQL too when DUTYBOT_TEST_DATABASE_URL is set)
test: $(STAMP)
	$(BIN)/pytest -q

## lint: ruff, mypy, and the layers (import-linter)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

## bench: the benchmarks, each printing a table
bench: $(STAMP)
	@for b in bench/delivery.py bench/client.py bench/statements.py bench/intake.py bench/clock.py bench/memory.py bench/failover.py bench/pings.py bench/flood.py bench/status_pages.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

check: lint test
