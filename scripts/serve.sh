#!/usr/bin/env bash
# `make serve`: the site with production settings on this machine, as production runs it (docs/operations.md):
# nginx on HOST:PORT in front, buffering every answer and sending static files and the full downloads itself, and
# gunicorn (gunicorn.conf.py: threaded workers) behind it on a Unix socket, and a worker for the background jobs
# (`manage.py procrastinate worker`). migrate and collectstatic first.
# Every setting can come from the environment; for a local run the database is the project-local cluster, the
# secret key is generated once into .local/secret_key, the hosts are 127.0.0.1 and localhost, and plain http is
# allowed. nginx runs from a generated config in NGINX_RUN_DIR (.local/nginx: config, pid, logs, temporary files),
# never as a system service.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
NGINX="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"

export DJANGO_SETTINGS_MODULE=conflictmap.settings.prod
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL="$(cat .local/database_url)"
  export DATABASE_URL
fi
if [ -z "${SECRET_KEY:-}" ]; then
  if [ ! -s .local/secret_key ]; then
    (umask 077 && "$PY" -c 'import secrets; print(secrets.token_urlsafe(50))' >.local/secret_key)
  fi
  SECRET_KEY="$(cat .local/secret_key)"
  export SECRET_KEY
fi
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-127.0.0.1,localhost}"
# Behind a TLS-terminating proxy, set SECURE_SSL_REDIRECT=true (the proxy sends X-Forwarded-Proto).
export SECURE_SSL_REDIRECT="${SECURE_SSL_REDIRECT:-false}"

RUN_DIR="${NGINX_RUN_DIR:-$ROOT/.local/nginx}"
mkdir -p "$RUN_DIR"
RUN_DIR="$(cd "$RUN_DIR" && pwd)"
# gunicorn answers nginx only: on a Unix socket, whose X-Forwarded-For the app believes (and nobody else's).
export GUNICORN_BIND="unix:$RUN_DIR/gunicorn.sock"
export TRUSTED_PROXIES="${TRUSTED_PROXIES:-unix}"
export DOWNLOAD_ACCEL_REDIRECT="${DOWNLOAD_ACCEL_REDIRECT:-/_downloads/}"
LISTEN="${HOST:-127.0.0.1}:${PORT:-8000}"

"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py collectstatic --noinput -v 0
"$PY" manage.py nginx_config --output "$RUN_DIR/nginx.conf" --listen "$LISTEN" --upstream "$GUNICORN_BIND" \
  --run-dir "$RUN_DIR" --worker-processes "${NGINX_WORKER_PROCESSES:-auto}" >/dev/null
"$NGINX" -t -q -p "$RUN_DIR" -e "$RUN_DIR/error.log" -c "$RUN_DIR/nginx.conf"

pids=()
stop() {
  trap - EXIT INT TERM
  [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM
"$ROOT/.venv/bin/gunicorn" conflictmap.wsgi &
pids+=($!)
"$NGINX" -p "$RUN_DIR" -e "$RUN_DIR/error.log" -c "$RUN_DIR/nginx.conf" &
pids+=($!)
# The background jobs (imports, the full-download files): conflictmap/jobs.py, docs/operations.md.
"$PY" manage.py procrastinate worker &
pids+=($!)
echo "Serving on http://$LISTEN/ with production settings: nginx ($RUN_DIR) in front of gunicorn, and a job worker" \
  "(Ctrl-C stops)."
# Any one ending ends them all.
wait -n
