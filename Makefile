# The two quick-start commands: `make run` and `make test`.
# Both create .venv with the project installed from pyproject.toml; nothing
# else needs installing by hand (PostgreSQL comes embedded via pgserver).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint typecheck unit clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## Run the hub on the embedded PostgreSQL with the demo data (http://127.0.0.1:8000/graphql).
run: install
	$(BIN)/hub serve --demo

## Lint, type-check and run the whole test suite.
test: install lint typecheck unit

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .hub .pytest_cache .mypy_cache .ruff_cache
