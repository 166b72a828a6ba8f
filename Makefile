# The two commands: `make run` serves the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make test` runs the suite in two passes: all but the `serial` tests spread over TEST_WORKERS
# processes (pytest-xdist), then the serial ones alone. Exit 5 (nothing selected) is allowed per
# pass so PYTEST_ARGS can name one file; .ci/run fails when a pass ran no test.
TEST_WORKERS ?= 2
HTMX := static/vendor/htmx.min.js
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint audit bench check-exports install install-test assets migrate clean

run: install assets migrate
	$(BIN)/advisor serve --host $(HOST) --port $(PORT)

test: install-test assets
	$(BIN)/ruff check app tests bench migrations checks
	$(BIN)/ruff format --check app tests bench migrations checks
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal -m "not serial" $(PYTEST_ARGS) \
		|| [ $$? -eq 5 ]
	$(BIN)/python -m pytest -m serial $(PYTEST_ARGS) || [ $$? -eq 5 ]

bench: install-test assets
	$(BIN)/python -m bench

# Every trainer export read by LLaMA-Factory 0.9.5 and Axolotl 0.19.0 themselves, each pinned in
# its own venv under .venv-checks/ (several GB; see README "Checking the exports").
check-exports: install-test
	APP_PYTHON=$(BIN)/python bash checks/run.sh $(CHECK_TOOLS)

# Known vulnerabilities with a fix available (pip-audit, npm audit); needs PyPI's JSON API and
# the npm advisories endpoint, not only package downloads (checks/audit.py).
audit: install-test
	$(BIN)/python checks/audit.py

lint: install-test
	$(BIN)/ruff check app tests bench migrations checks
	$(BIN)/ruff format --check app tests bench migrations checks
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache --no-logo

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
assets: $(HTMX)

migrate: install
	$(BIN)/advisor db upgrade

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

# The test extras include the training stack; torch==2.13.0 is the CPU build on this machine's disk.
$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test,train]'
	touch $@

$(HTMX): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $(HTMX)

clean:
	rm -rf $(VENV) .venv-checks node_modules static/vendor .pytest_cache .mypy_cache .ruff_cache
