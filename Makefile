# OpsDesk: `make run` to try it, `make test` to check it. Both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/opsdesk demo
	$(BIN)/opsdesk serve --host $(HOST) --port $(PORT)

# OPSDESK_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test runs the suite on PostgreSQL.
test: $(VENV)/.installed-dev
	OPSDESK_DATABASE_URL="$(OPSDESK_TEST_DATABASE_URL)" $(BIN)/pytest -n auto --dist loadgroup $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports
	OPSDESK_DATA_DIR=$$(mktemp -d) $(BIN)/opsdesk manage makemigrations --check --dry-run

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/api.py

clean:
	rm -rf $(VENV) var
