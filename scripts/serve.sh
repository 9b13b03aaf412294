#!/usr/bin/env bash
# `make serve`: the site with production settings on this machine: migrate, collectstatic, then gunicorn
# (gunicorn.conf.py: threaded workers). Every setting can come from the environment; for a local run the
# database is the project-local cluster, the secret key is generated once into .local/secret_key, the hosts are
# 127.0.0.1 and localhost, and plain http is allowed.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"

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
export GUNICORN_BIND="${GUNICORN_BIND:-${HOST:-127.0.0.1}:${PORT:-8000}}"

"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py collectstatic --noinput -v 0
echo "Serving on http://$GUNICORN_BIND/ with production settings (Ctrl-C stops)."
exec "$ROOT/.venv/bin/gunicorn" conflictmap.wsgi
