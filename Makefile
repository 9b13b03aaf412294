# Everything a fresh Debian/Ubuntu machine needs, in two commands: `make run`, `make test`.
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup stop demo remove-demo lint bench bench-peers bench-scale serve backup restore

setup:
	@scripts/setup.sh

run: setup
	@$(PY) manage.py load_demo
	@$(PY) manage.py ensure_demo_user
	@echo
	@echo "  Site:  http://$(HOST):$(PORT)/"
	@echo "  Admin: http://$(HOST):$(PORT)/admin/"
	@echo
	@HOST=$(HOST) PORT=$(PORT) scripts/run.sh

# One pytest-xdist worker per core, each with its own test database (tests/conftest.py: how work is shared out).
# Native tracebacks: pytest's own format parses each frame's source, and for one browser test's failure that raised
# CPython 3.11's "AST constructor recursion depth mismatch", which took the whole worker down with the failure unseen.
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)

test: setup
	@$(PY) -m pytest -n $(TEST_WORKERS) --tb=native

# Production settings on this machine: migrate, collectstatic, nginx on HOST:PORT in front of gunicorn (threaded
# workers, on a Unix socket) and a background-job worker; nginx runs from .local/nginx/ (scripts/serve.sh,
# docs/operations.md).
serve: setup
	@HOST=$(HOST) PORT=$(PORT) scripts/serve.sh

# pg_dump custom format into backups/ (or BACKUP=path); `make restore FILE=backups/….dump` puts it back.
backup: setup
	@$(PY) manage.py backup_database $(if $(BACKUP),--output $(BACKUP))

restore: setup
	@test -n "$(FILE)" || { echo "Usage: make restore FILE=backups/conflictmap-….dump"; exit 2; }
	@$(PY) manage.py restore_database "$(FILE)"

stop:
	@scripts/localdb.sh stop

remove-demo:
	@$(PY) manage.py remove_demo

bench: setup
	@$(PY) bench/geocode_bench.py
	@$(PY) bench/geocode_accuracy.py
	@$(PY) bench/geocode_batch_bench.py
	@$(PY) bench/import_bench.py
	@$(PY) bench/export_bench.py
	@$(PY) bench/extraction_eval.py
	@$(PY) bench/load_bench.py
	@$(PY) bench/demo_paint.py
	@$(PY) bench/archive_bench.py

# Optional: our OGC API items endpoint against pygeoapi's on the same table; pygeoapi lives in its own virtualenv.
PEERS_VENV := .local/bench-peers-venv

$(PEERS_VENV)/.installed: bench/peers/requirements.txt
	@python3 -m venv $(PEERS_VENV)
	@$(PEERS_VENV)/bin/pip install -q -r bench/peers/requirements.txt
	@touch $@

bench-peers: setup $(PEERS_VENV)/.installed
	@$(PY) bench/peers/run_peers.py

# A million generated incidents in their own database (bench_scale_conflictmap, kept between runs; the first run
# generates them in a few minutes), every public answer timed under one gunicorn worker, pygeoapi alongside, and
# first paint and playback of the map in headless Chromium (bench/first_paint.py).
bench-scale: setup $(PEERS_VENV)/.installed
	@$(PY) bench/scale_bench.py --peers

# Needs the virtualenv (ruff) and the database (makemigrations --check), so it sets up first like test.
lint: setup
	@.venv/bin/ruff check . && .venv/bin/ruff format --check . && $(PY) manage.py makemigrations --check --dry-run && $(PY) manage.py kept_tables_sql --check
