# Two commands set up everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

UI := web/ui
UI_MODULES := $(UI)/node_modules/.package-lock.json
UI_BUILD := $(UI)/dist/index.html
UI_SOURCES := $(wildcard $(UI)/src/*) $(UI)/build.mjs $(UI)/tsconfig.json

.PHONY: run test lint typecheck install clean migrate ui

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The browser app: npm packages from the committed lockfile, bundled by esbuild into web/ui/dist.
$(UI_MODULES): $(UI)/package.json $(UI)/package-lock.json
	npm ci --prefix $(UI) --ignore-scripts --no-audit --no-fund
	touch $@

$(UI_BUILD): $(UI_MODULES) $(UI_SOURCES)
	npm run --prefix $(UI) --silent build

ui: $(UI_BUILD)

## make run: the app on embedded defaults (SQLite, local Qdrant, in-process jobs, offline providers)
run: $(STAMP) ui
	$(BIN)/champion-clone serve

## make test: lint, type check and the whole suite (real PostgreSQL and Redis when reachable)
test: $(STAMP) ui lint typecheck
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP) $(UI_MODULES)
	$(BIN)/mypy
	npm run --prefix $(UI) --silent typecheck

migrate: $(STAMP)
	$(BIN)/champion-clone db upgrade

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(UI)/node_modules $(UI)/dist
