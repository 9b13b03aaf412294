#!/usr/bin/env bash
# Idempotent set-up shared by `make run` and `make test`: system packages, the
# virtualenv, Python and npm packages, the database, migrations and seeds.
# A second run checks each step and skips what is already in place.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
STAMPS="$ROOT/.local/stamps"
mkdir -p "$STAMPS"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# --- Debian packages ---------------------------------------------------------
APT_PACKAGES=(
  postgresql-15 postgresql-15-postgis-3 postgresql-contrib   # the database
  gdal-bin                                              # GDAL/GEOS/PROJ for GeoDjango, ogrinfo
  python3-venv gettext make                             # venv, translations
  nginx                                                 # `make serve`: the reverse proxy in front of gunicorn
  chromium fonts-noto-core fonts-dejavu-core            # browser tests, Arabic glyphs
  libatomic1 libstdc++6 libgcc-s1                       # loaded by Playwright's bundled Node.js driver
)
# A Node.js from elsewhere (nvm, the machine image) is as good as Debian's.
command -v npm >/dev/null || APT_PACKAGES+=(nodejs npm)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "Installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Python virtualenv -------------------------------------------------------
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  say "Creating virtualenv in .venv"
  "$PYTHON" -m venv "$VENV"
fi
req_hash="$(cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-40)"
if [ "$(cat "$STAMPS/requirements" 2>/dev/null)" != "$req_hash" ]; then
  say "Installing Python packages"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
  echo "$req_hash" >"$STAMPS/requirements"
fi

# --- Front-end libraries (pinned in package-lock.json, served by Django) ------
if [ -f package-lock.json ]; then
  lock_hash="$(sha1sum package-lock.json | cut -c1-40)"
  if [ "$(cat "$STAMPS/npm" 2>/dev/null)" != "$lock_hash" ] || [ ! -d node_modules ]; then
    say "Installing front-end libraries"
    npm ci --silent --no-audit --no-fund
    echo "$lock_hash" >"$STAMPS/npm"
  fi
fi

# --- Database ----------------------------------------------------------------
if [ -z "${DATABASE_URL:-}" ]; then
  say "Starting the project-local PostGIS"
  scripts/localdb.sh start
else
  say "Using DATABASE_URL (no local cluster)"
fi

PY="$VENV/bin/python"
say "Migrating"
"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py compilemessages -v 0 --ignore=.venv --ignore=node_modules 2>/dev/null || true
say "Loading the seed incidents"
"$PY" manage.py load_seeds
say "Loading the gazetteer (skipped when loaded)"
"$PY" manage.py load_gazetteer
