# Rathaus — the two set-up commands are `make run` and `make test` (README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
UV := $(VENV)/bin/uv
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)/src
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

.PHONY: run test test-fast lint bench messages venv demo-env

$(VENV)/.installed: pyproject.toml uv.lock
	test -x $(UV) || ($(PYTHON) -m venv $(VENV) && $(VENV)/bin/pip install -q uv==0.13.8)
	$(UV) sync --frozen --inexact --quiet
	touch $@

## the local OIDC test provider (npm oidc-provider, Node >= 20; docs/identity.md)
tools/oidc/node_modules/.installed: tools/oidc/package.json tools/oidc/package-lock.json
	cd tools/oidc && npm ci --no-audit --no-fund --silent
	touch $@

venv: $(VENV)/.installed tools/oidc/node_modules/.installed

## make run: install, migrate the embedded SQLite database, load the demo, serve on :8000
run: venv
	RATHAUS_ENV=demo $(PY) manage.py migrate --noinput
	RATHAUS_ENV=demo $(PY) manage.py load_demo
	RATHAUS_ENV=demo $(PY) manage.py load_demo_staff
	RATHAUS_ENV=demo $(PY) manage.py use_payment_sandbox --base-url http://127.0.0.1:8100
	RATHAUS_ENV=demo $(PY) manage.py use_identity_sandbox
	RATHAUS_ENV=demo $(PY) manage.py collectstatic --noinput -v0
	$(PY) scripts/run-demo

lint: venv
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy src
	$(VENV)/bin/lint-imports

## make test: the whole suite, on a throwaway PostgreSQL 15 cluster, browser tests included
test: lint
	scripts/with-postgres $(VENV)/bin/pytest -p no:cacheprovider $(PYTEST_ARGS); \
	  status=$$?; [ $$status -eq 5 ] && echo "no tests collected" && exit 1; exit $$status

## make test-fast: pytest on SQLite, for quick local iteration only
test-fast: venv
	$(VENV)/bin/pytest -q -x $(PYTEST_ARGS)

bench: venv
	$(PY) bench/run.py $(BENCH)

## make messages APP=catalog: update and compile the German catalogue of one app
messages: venv
	cd src/rathaus/$(APP) && mkdir -p locale && DJANGO_SETTINGS_MODULE=tests.settings \
	  PYTHONPATH=$(CURDIR)/src:$(CURDIR) $(CURDIR)/$(PY) -P -m django makemessages -l de -l en --no-obsolete
	cd src/rathaus/$(APP) && DJANGO_SETTINGS_MODULE=tests.settings \
	  PYTHONPATH=$(CURDIR)/src:$(CURDIR) $(CURDIR)/$(PY) -P -m django compilemessages
