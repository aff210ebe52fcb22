# Nexora: two commands. `make run` starts Nexora; `make test` runs lint and the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: run test lint format bench install web clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# The web console is built into src/nexora/api/static when its sources are newer than the build.
# Without Node.js the API still runs; the console is skipped with a notice (`make test` likewise).
web:
	@if ! command -v npm >/dev/null 2>&1; then echo "notice: npm not found; the web console is not built (install Node.js >= 20 for it)"; \
	elif [ -f web/package.json ]; then $(MAKE) -C web build; fi

run: install web
	$(BIN)/nexora up

lint: install
	$(BIN)/ruff check src tests benchmarks migrations
	$(BIN)/ruff format --check src tests benchmarks migrations
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format src tests benchmarks migrations
	$(BIN)/ruff check --fix src tests benchmarks migrations

test: install lint
	@if ! command -v npm >/dev/null 2>&1; then echo "notice: npm not found; skipping the web console's checks"; \
	elif [ -f web/package.json ]; then $(MAKE) -C web test; fi
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	@for script in benchmarks/*_bench.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
