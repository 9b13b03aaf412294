# Everything a fresh Debian/Ubuntu machine needs, in two commands: `make run`, `make test`.
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup stop demo remove-demo lint bench

setup:
	@scripts/setup.sh

run: setup
	@$(PY) manage.py load_demo
	@$(PY) manage.py ensure_demo_user
	@echo
	@echo "  Site:  http://$(HOST):$(PORT)/"
	@echo "  Admin: http://$(HOST):$(PORT)/admin/"
	@echo
	@$(PY) manage.py runserver $(HOST):$(PORT)

test: setup
	@$(PY) -m pytest

stop:
	@scripts/localdb.sh stop

remove-demo:
	@$(PY) manage.py remove_demo

bench: setup
	@$(PY) bench/geocode_bench.py
	@$(PY) bench/export_bench.py

lint:
	@.venv/bin/ruff check . && .venv/bin/ruff format --check . && $(PY) manage.py makemigrations --check --dry-run
