# pollflow: `make demo` and `make test` set up everything they need on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

CHROMIUM := /usr/bin/chromium
# Root installs system packages itself; anyone else through sudo, where it is allowed.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test bench lint format schema clean browser assets

# The workspace's styles and scripts: GOV.UK Frontend from the npm registry (pinned in
# package-lock.json), compiled with the council's branding. Node.js comes from Debian if missing.
FRONTEND := pollflow/web/frontend
STATIC := pollflow/web/static
ASSETS := $(STATIC)/workspace.css

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "pollflow needs Python 3.11 or newer"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP) assets
	$(BIN)/pollflow demo

assets: $(ASSETS)

$(ASSETS): $(FRONTEND)/package.json $(FRONTEND)/package-lock.json $(FRONTEND)/workspace.scss $(FRONTEND)/init.mjs
	@command -v npm >/dev/null || { command -v apt-get >/dev/null && \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nodejs npm >/dev/null; }
	cd $(FRONTEND) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	mkdir -p $(STATIC)/assets
	$(FRONTEND)/node_modules/.bin/sass --pkg-importer=node --style=compressed --no-source-map \
		--quiet-deps --silence-deprecation=mixed-decls $(FRONTEND)/workspace.scss $(STATIC)/workspace.tmp.css
	cp $(FRONTEND)/node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js $(FRONTEND)/init.mjs $(STATIC)/
	mv $(STATIC)/workspace.tmp.css $@

# The page tests drive a real browser: Debian's Chromium. Best effort: where it cannot be installed
# the tests that need it skip and say why (on CI, POLLFLOW_REQUIRE_BROWSER=1 makes that a failure).
browser:
	@test -x $(CHROMIUM) || { command -v apt-get >/dev/null && \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; } || \
		echo "warning: could not install Chromium at $(CHROMIUM); browser tests will skip"

test: $(STAMP) browser assets
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: $(STAMP)
	$(BIN)/python -c 'from timetables.schema import json_schema_text as t; print(t(), end="")' \
		> timetables/definitions/definition.schema.json

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache $(STATIC) $(FRONTEND)/node_modules
