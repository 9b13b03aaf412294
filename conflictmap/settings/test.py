"""pytest: the same real PostGIS as dev, fast hashing, no external tiles."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import CONTENT_SECURITY_POLICY, DATABASES, LEAFLET_CONFIG, LOCAL_DIR, env

SECRET_KEY = "test-only-key"
ALLOWED_HOSTS = ["*"]
DEMO_DATA_ALLOWED = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Tests never reach a tile server.
MAP_TILES_URL = ""
LEAFLET_CONFIG = {**LEAFLET_CONFIG, "TILES": []}
CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"] = ["'self'", "data:"]

# `make test` runs the suite in parallel (pytest-xdist): each worker process has its own test database (pytest-django
# names it after the worker) and its own scratch folders below, which tests empty and fill as they please.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_SCRATCH = f"-{WORKER}" if WORKER else ""

# Parallel runs (or a second clone) can use their own test database.
if DATABASES.get("default"):
    DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default="test_conflictmap")}

# Static files are served by the staticfiles finders in tests; there is no collectstatic output.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# Uploaded import files of the admin tests go to a scratch folder, and imports run inside the test's transaction
# (tests/test_jobs.py puts them on the real queue, with real workers).
IMPORT_UPLOAD_DIR = Path(tempfile.gettempdir()) / f"conflictmap-test-imports{_SCRATCH}"
JOBS_RUN_AT_ONCE = env.bool("JOBS_RUN_AT_ONCE", default=True)

# The map and the API tests make many requests from one address; tests/test_rate_limits.py lowers these itself.
RATE_LIMITS = {"api": "100000/60", "download": "100000/60", "tiles": "100000/60"}
DOWNLOAD_CACHE_DIR = Path(env("DOWNLOAD_CACHE_DIR", default=str(LOCAL_DIR / f"test-downloads{_SCRATCH}")))
RELEASES_DIR = LOCAL_DIR / f"test-releases{_SCRATCH}"

# Webhook retries in milliseconds, not minutes (tests/test_webhooks.py lets the loopback receiver in itself).
WEBHOOKS_RETRY_FIRST_SECONDS = 0.05
WEBHOOKS_RETRY_MAX_SECONDS = 0.4
WEBHOOKS_TIMEOUT_SECONDS = 2.0
# Captures of archived sources go to a scratch folder (tests/test_source_archive.py).
SOURCE_ARCHIVE_DIR = Path(env("SOURCE_ARCHIVE_DIR", default=str(LOCAL_DIR / f"test-source-archive{_SCRATCH}")))

# Uploaded media of the tests go to a scratch folder, never the developer's own.
MEDIA_ORIGINALS_DIR = Path(tempfile.gettempdir()) / f"conflictmap-test-media{_SCRATCH}" / "originals"
MEDIA_PUBLIC_DIR = Path(tempfile.gettempdir()) / f"conflictmap-test-media{_SCRATCH}" / "public"
