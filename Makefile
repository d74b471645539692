# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev lint format migrate seed screenshots bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(PY)
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(PY)
	$(PIP) install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Run the app on the embedded defaults (SQLite + in-memory channel layer), with the task
# worker in the background (mail is printed to this console); stopping the server stops both.
run: install
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(PY) manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	DEBUG=$${DEBUG:-1} $(PY) manage.py runserver $(HOST):$(PORT)

# Install and run the whole suite: lint, format check, then the tests.
# Uses DATABASE_URL / REDIS_URL when set (CI), the embedded defaults otherwise.
test: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	SECRET_KEY=$${SECRET_KEY:-test-only-secret-key-not-for-production} $(PY) -m pytest $(PYTEST_ARGS)

# Demo users, groups and messages for a lively first look (prints the demo password).
seed: install
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo

# Screenshots of the conversation page for the README (needs Debian's chromium).
screenshots: install-dev
	$(PY) scripts/screenshots.py

# All benchmark scenarios, chat server (one process, and two behind nginx for the ramp) vs the Node (bare and
# PostgreSQL) and Python peers, then issue 17's scorecard; about 25 minutes (PostgreSQL and Redis on 127.0.0.1;
# see BENCHMARKS.md and bench/README.md).
bench: install-dev
	$(PY) bench/run.py

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 test_db.sqlite3
