# Each target creates .venv and installs by itself on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev
# `make run PORT=9000 HOST=0.0.0.0 DB=/tmp/t.db`
HOST ?= 127.0.0.1
PORT ?= 8080
DB ?= ./tercel.db

.PHONY: run test lint fmt bench conformance clean schema crash

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/tercel server --flows examples/flows --host $(HOST) --port $(PORT) --db $(DB)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

fmt: $(STAMP)
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

test: $(STAMP) lint
	$(PY) -m pytest -q

conformance: $(STAMP)
	$(PY) tests/conformance/check.py --tercel $(VENV)/bin/tercel --jobs 2 tests/conformance/cases

crash: $(STAMP)
	$(PY) -m pytest tests/crash tests/hostile -m slow -q

bench: $(STAMP)
	$(PY) -m bench

schema: $(STAMP)
	$(PY) -c "from tercel.schema import build_schema; from tercel.settings import Settings; print(build_schema(Settings()).as_str())" > schema.graphql

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
