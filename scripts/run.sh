#!/usr/bin/env bash
# `make run`: the development server and, beside it, a background-job worker (imports, the full-download files:
# conflictmap/jobs.py); Ctrl-C stops both.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"

"$PY" manage.py procrastinate worker &
worker=$!
trap 'kill "$worker" 2>/dev/null || true; wait "$worker" 2>/dev/null || true' EXIT INT TERM
"$PY" manage.py runserver "${HOST:-127.0.0.1}:${PORT:-8000}"
