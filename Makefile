# Two commands do everything on a fresh machine:
#   make run   - set up, migrate, seed the demo, start app + WeChat simulator + job worker
#   make test  - set up, then ruff and the whole pytest suite (real PostgreSQL and Redis when present)
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: setup system-deps vendor fonts run test test-fast lint fmt migrate clean

setup: system-deps vendor $(STAMP) fonts

system-deps:
	@bash scripts/setup_system.sh

# Front-end libraries from the npm registry (package.json), served from app/web/static/vendor/.
vendor:
	@bash scripts/vendor_static.sh

# Noto CJK converted to TrueType for the reports' PDFs, once per machine (instance/font-cache/).
fonts: $(STAMP)
	@$(PY) -m app.services.reports.pdffont

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

migrate: setup
	$(PY) -m flask --app wsgi db upgrade

run: migrate
	$(PY) -m flask --app wsgi demo seed
	$(PY) -m scripts.run_demo --host $(HOST) --port $(PORT)

lint: setup
	$(VENV)/bin/ruff check .

test: setup
	@bash scripts/ensure_services.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest $(PYTEST_ARGS)
	@# Then the service and HTTP tests again on SQLite, the demo's database (pg_only tests skip there);
	@# exit 5 (PYTEST_ARGS selected none of them) is not a failure.
	HUIYI_TEST_DB=sqlite $(VENV)/bin/pytest -m "not browser and not slow" $(PYTEST_ARGS) || [ $$? -eq 5 ]

# The inner loop: the same setup, services and ruff, then pytest without the browser and slow tests.
# `make test` stays the whole truth.
test-fast: setup
	@bash scripts/ensure_services.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -m "not browser and not slow" $(PYTEST_ARGS)

fmt: setup
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache node_modules app/web/static/vendor
