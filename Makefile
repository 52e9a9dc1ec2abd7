# Clinic: `make run` serves the demo, `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install run test contract lint fmt typecheck messages clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(VENV)/.installed node_modules/.installed ## Create .venv and install Python and npm dependencies

run: export DEBUG ?= true
run: install ## Migrate, load the demo organization and serve http://127.0.0.1:8000
	@mkdir -p var
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	$(MANAGE) send_reminders
	@echo ""
	@echo "  Open http://$(HOST):$(PORT)/ and log in with one of the demo users above."
	@echo ""
	$(MANAGE) runserver $(HOST):$(PORT)

test: install ## Provision PostgreSQL + Redis (+ Chromium) and run lint, migration check and the whole suite
	scripts/with-test-services $(MAKE) --no-print-directory check-and-pytest

.PHONY: check-and-pytest
check-and-pytest:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	DJANGO_SETTINGS_MODULE=clinic.settings_test $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -n auto --dist worksteal $(PYTEST_ARGS)

contract: install ## The whole Schemathesis run (coverage phase, new draws): some 8,000 requests, a few minutes
	CONTRACT_FULL=1 scripts/with-test-services $(BIN)/pytest tests/api/test_contract.py $(PYTEST_ARGS)

lint: install ## ruff, mypy, the import contract and the migration check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	DJANGO_SETTINGS_MODULE=clinic.settings_test $(BIN)/python manage.py makemigrations --check --dry-run

fmt: install ## Format and autofix with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

messages: install ## Extract translatable strings into locale/*/LC_MESSAGES/django.po and compile them
	DEBUG=true $(MANAGE) makemessages --no-obsolete --no-location -l pt_BR -l es -l de -i '.venv/*' -i 'node_modules/*'
	DEBUG=true $(MANAGE) compilemessages --ignore '.venv/*' --ignore 'node_modules/*'

clean: ## Remove .venv, node_modules and local data
	rm -rf $(VENV) node_modules var/*.sqlite3 var/static
