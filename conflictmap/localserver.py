"""What the gunicorn and browser tests and the benchmarks need to run a server of ours beside the test database and
drive a browser at it."""

import socket

from django.db import connections


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def connection_url(alias="default"):
    """DATABASE_URL of a Django connection's database (a Unix socket directory goes in the query string)."""
    database = connections[alias].settings_dict
    credentials = database["USER"] + (f":{database['PASSWORD']}" if database.get("PASSWORD") else "")
    if (database.get("HOST") or "").startswith("/"):
        return f"postgis://{credentials}@/{database['NAME']}?host={database['HOST']}&port={database['PORT']}"
    return f"postgis://{credentials}@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}"


# Debian's Chromium (no browser download), headless, fetching nothing in the background: Playwright's launch options
# for the browser tests (tests/conftest.py) and the first-paint benchmark (bench/first_paint.py).
CHROMIUM_LAUNCH = {
    "headless": True,
    "executable_path": "/usr/bin/chromium",
    "args": [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
    ],
}
