# Two commands set everything up on a fresh machine with Python 3.11 and make:
#   make run    everything up (embedded PostgreSQL when DATABASE_URL is unset) with a demo salon
#   make test   the whole suite on a real PostgreSQL
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.install-stamp
WITH_DB := $(PY) -m salon_platform.embedded_db --
PYTEST_ARGS ?=

.PHONY: install run test lint format bench db-stop clean messages

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(WITH_DB) $(PY) -m salon_platform.devrun

test: install
	$(WITH_DB) $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	SALON_TESTING=1 $(WITH_DB) $(PY) manage.py makemigrations --check --dry-run

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(WITH_DB) $(PY) -m bench.run

messages: install
	SALON_TESTING=1 $(WITH_DB) $(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore '.venv/*' --ignore 'bench/*'
	SALON_TESTING=1 $(WITH_DB) $(PY) manage.py compilemessages --ignore '.venv/*'

db-stop: install
	$(PY) -m salon_platform.embedded_db stop

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache staticfiles
