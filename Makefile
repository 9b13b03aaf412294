# Everything a fresh Debian/Ubuntu machine needs, in two commands: `make run`, `make test`.
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup stop demo remove-demo lint bench bench-peers

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
	@$(PY) bench/geocode_accuracy.py
	@$(PY) bench/geocode_batch_bench.py
	@$(PY) bench/export_bench.py

# Optional: our OGC API items endpoint against pygeoapi's on the same table; pygeoapi lives in its own virtualenv.
PEERS_VENV := .local/bench-peers-venv

$(PEERS_VENV)/.installed: bench/peers/requirements.txt
	@python3 -m venv $(PEERS_VENV)
	@$(PEERS_VENV)/bin/pip install -q -r bench/peers/requirements.txt
	@touch $@

bench-peers: setup $(PEERS_VENV)/.installed
	@$(PY) bench/peers/run_peers.py

lint:
	@.venv/bin/ruff check . && .venv/bin/ruff format --check . && $(PY) manage.py makemigrations --check --dry-run
