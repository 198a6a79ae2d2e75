# Each target creates .venv and installs by itself on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev
# `make run PORT=9000 HOST=0.0.0.0 DB=/tmp/t.db`
HOST ?= 127.0.0.1
PORT ?= 8080
DB ?= ./tercel.db

.PHONY: run test test-prerequisites lint fmt bench conformance clean schema crash ui ui-test ui-vitest ui-check browser

# The web UI (ui/, Vite + Svelte) is built into the package (src/tercel/webui/dist), where the
# editable install serves it. Rebuilt only when a source, the lockfile or the schema changed.
UI_DIST := src/tercel/webui/dist/index.html
UI_DEPS := ui/node_modules/.installed
UI_SOURCES := $(shell find ui/src -type f -not -path 'ui/src/gql/*' 2>/dev/null) \
	ui/index.html ui/graphiql.html ui/vite.config.ts ui/codegen.ts ui/tsconfig.json schema.graphql

$(UI_DEPS): ui/package-lock.json
	@command -v npm >/dev/null || { echo "the web UI needs Node.js >= 20 and npm"; exit 1; }
	cd ui && npm ci --no-audit --no-fund --loglevel=error
	touch $(UI_DEPS)

# The typed documents (graphql-codegen into ui/src/gql, not checked in): the build, vitest and
# svelte-check read them, so each waits for them (`npm run build` is this step, then the next).
UI_GQL := ui/src/gql/graphql.ts
$(UI_GQL): $(UI_DEPS) $(UI_SOURCES)
	cd ui && npx --no-install graphql-codegen --config codegen.ts --silent
	touch $(UI_GQL)

$(UI_DIST): $(UI_GQL)
	cd ui && npx --no-install vite build --logLevel warn
	test -f $(UI_DIST)

ui: $(UI_DIST)

ui-test: ui-vitest ui-check

ui-vitest: $(UI_GQL)
	cd ui && npx --no-install vitest run --reporter=dot

ui-check: $(UI_GQL)
	cd ui && npx --no-install svelte-check --tsconfig ./tsconfig.json --fail-on-warnings --output human

# The browser tests drive Debian's chromium (nothing downloads a browser).
CHROMIUM ?= /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || { echo "installing chromium for the browser tests (apt-get install chromium)"; \
		(apt-get update -qq && apt-get install -y -qq chromium) >/dev/null || sudo sh -c 'apt-get update -qq && apt-get install -y -qq chromium' >/dev/null; }

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP) ui
	$(VENV)/bin/tercel server --flows examples/flows --host $(HOST) --port $(PORT) --db $(DB)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/ruff format --check src tests bench scripts
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache
	$(PY) scripts/import_cycles.py tercel

fmt: $(STAMP)
	$(VENV)/bin/ruff format src tests bench scripts
	$(VENV)/bin/ruff check --fix src tests bench scripts

# The coverage gate (CONTRIBUTING.md#coverage). The whole suite runs once under coverage (lines
# and branches), the `tercel server` and `tercel run` subprocesses it starts included
# (`patch = ["subprocess"]` in pyproject.toml); the tests marked `timing` (a wall-clock budget that
# tracing would break) and `untraced` (CPU-heavy property tests: tracing triples their cost, and
# what random inputs reach must not decide a gate) run apart, untraced. Gates: the transition
# tables and the rules at 100 %, the engine package at COVERAGE_ENGINE_MIN, the whole package at
# COVERAGE_MIN.
# The traced run uses TEST_WORKERS pytest-xdist workers (`make test TEST_WORKERS=0`: one
# process); each worker is a Python subprocess, measured like the servers. `--dist loadfile` keeps
# a file's tests in one worker (its module-scoped server or browser starts once); in collection
# order (`--no-loadscope-reorder`), so the many short unit files come last and keep both busy.
# The untraced run uses them too: its tests mostly wait (servers killed and restarted, renders
# at their deadline), 0.8 of a core in one process; on two, with the crash file (the longest,
# random kills) started early by collection order, its tests take half the time and all kept
# their budgets at a load of 4-6 (CONTRIBUTING.md#coverage).
TEST_WORKERS ?= 2
COVERAGE_MIN ?= 92
COVERAGE_ENGINE_MIN ?= 90.8
COVERAGE_FULL := src/tercel/engine/states.py,src/tercel/engine/rules.py
# absolute, so that subprocesses started in another directory write their data here too
export COVERAGE_FILE := $(CURDIR)/.coverage

# What the suite needs and the checks before it run side by side (`-j`; `-O` prints each one's
# output whole when it ends): the two installs (pip, npm ci) mostly wait on the network; lint
# (mypy above all), the UI build, vitest and svelte-check each keep about one core busy. One after
# the other they were some 2 min of a fresh clone's `make test` (CONTRIBUTING.md#coverage). Any
# failure stops `make test` before the suite.
test-prerequisites:
	$(MAKE) --no-print-directory -j4 -O $(STAMP) ui browser lint ui-test

test: test-prerequisites
	rm -f .coverage .coverage.*
	$(PY) -m coverage run -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder -m 'not timing and not untraced and not slow'
	$(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder -m '(timing or untraced) and not slow'
	$(PY) -m coverage combine -q
	$(PY) -m coverage report --fail-under=$(COVERAGE_MIN)
	$(PY) -m coverage report --include='src/tercel/engine/*' --format=total --fail-under=$(COVERAGE_ENGINE_MIN)
	$(PY) -m coverage report --include=$(COVERAGE_FULL) --no-skip-covered --fail-under=100

conformance: $(STAMP)
	$(PY) tests/conformance/check.py --tercel $(VENV)/bin/tercel --jobs 2 tests/conformance/cases

crash: $(STAMP)
	$(PY) -m pytest tests/crash tests/hostile -m slow -q

bench: $(STAMP) ui browser
	$(PY) -m bench

schema: $(STAMP)
	$(PY) -c "from tercel.resolvers.build import build_schema; from tercel.settings import Settings; print(build_schema(Settings()).as_str())" > schema.graphql

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .coverage .coverage.* ui/node_modules ui/src/gql src/tercel/webui/dist
