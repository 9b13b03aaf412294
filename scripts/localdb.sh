#!/usr/bin/env bash
# Project-local PostGIS cluster: `localdb.sh start|stop|status|url`.
# Data and socket live in .local/postgres/ unless the server's user cannot reach
# that folder (a clone under /root run as root): then in /var/tmp, keyed by path.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PGBIN="$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || true)"
PGPORT="${CONFLICTMAP_PGPORT:-5433}"
DBNAME=conflictmap
DBUSER=conflictmap

as_pg() {
  # PostgreSQL refuses to run as root, so root hands the server to `postgres`.
  if [ "$(id -u)" = 0 ]; then
    # From /, since the postgres user may not be able to enter the clone's folder.
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

pick_datadir() {
  local local_dir="$ROOT/.local/postgres"
  if [ "$(id -u)" != 0 ] || runuser -u postgres -- test -x "$ROOT/.local" 2>/dev/null; then
    echo "$local_dir"
  else
    echo "/var/tmp/conflictmap-$(printf '%s' "$ROOT" | sha1sum | cut -c1-12)/postgres"
  fi
}

mkdir -p "$ROOT/.local"
DATADIR="$(pick_datadir)"
SOCKDIR="$DATADIR/socket"
# Unix socket paths are limited to 107 bytes; fall back to a short /tmp folder.
if [ ${#SOCKDIR} -gt 90 ]; then
  SOCKDIR="/tmp/conflictmap-$(printf '%s' "$ROOT" | sha1sum | cut -c1-12)"
fi

running() {
  [ -f "$DATADIR/PG_VERSION" ] && as_pg "$PGBIN/pg_ctl" -D "$DATADIR" status >/dev/null 2>&1
}

psql_admin() {
  as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$SOCKDIR" -p "$PGPORT" -d postgres "$@"
}

start() {
  [ -n "$PGBIN" ] || { echo "PostgreSQL 15 is not installed" >&2; exit 1; }
  if [ ! -f "$DATADIR/PG_VERSION" ]; then
    mkdir -p "$DATADIR"
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$DATADIR"
    as_pg "$PGBIN/initdb" -D "$DATADIR" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    # Local cluster: socket only, no TCP port to collide with other clones.
    cat >>"$DATADIR/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$SOCKDIR'
port = $PGPORT
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
  fi
  mkdir -p "$SOCKDIR"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$SOCKDIR"
  if ! running; then
    as_pg "$PGBIN/pg_ctl" -D "$DATADIR" -l "$DATADIR/server.log" -w -t 60 start >/dev/null
  fi
  if [ "$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname='$DBUSER'")" != 1 ]; then
    # Superuser so the test runner can create test databases with the postgis extension.
    psql_admin -c "CREATE ROLE $DBUSER LOGIN SUPERUSER"
  fi
  if [ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname='$DBNAME'")" != 1 ]; then
    psql_admin -c "CREATE DATABASE $DBNAME OWNER $DBUSER"
  fi
  PGOPTIONS="--client-min-messages=warning" as_pg psql -X -q -h "$SOCKDIR" -p "$PGPORT" -d "$DBNAME" -c "CREATE EXTENSION IF NOT EXISTS postgis; CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE EXTENSION IF NOT EXISTS unaccent;"
  # Settings read this file when DATABASE_URL is unset, so manage.py needs no environment.
  echo "postgis://$DBUSER@/$DBNAME?host=$SOCKDIR&port=$PGPORT" >"$ROOT/.local/database_url"
}

stop() {
  if running; then
    as_pg "$PGBIN/pg_ctl" -D "$DATADIR" -m fast -w stop >/dev/null
    echo "Local PostGIS stopped."
  else
    echo "Local PostGIS is not running."
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) running && echo "running: $DATADIR" || { echo "stopped"; exit 3; } ;;
  url) cat "$ROOT/.local/database_url" ;;
  *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
