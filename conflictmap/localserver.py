"""What the gunicorn and browser tests and the benchmarks need to run a server of ours beside the test database and
drive a browser at it."""

import http.client
import os
import secrets
import signal
import socket
import subprocess
import time
from contextlib import contextmanager

from django.conf import settings
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


@contextmanager
def serving_stack(*, run_dir, log, environment=None, seconds=240):
    """`make serve` (scripts/serve.sh: nginx in front of gunicorn, production settings) against this process's
    database on a free loopback port, which it yields once /healthz answers. `run_dir` holds nginx's files and
    gunicorn's socket (keep its path short: a Unix socket path has at most 107 bytes)."""
    port = free_port()
    process = subprocess.Popen(
        [str(settings.BASE_DIR / "scripts" / "serve.sh")],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DATABASE_URL": connection_url(),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "NGINX_RUN_DIR": str(run_dir),
            **(environment or {}),
        },
        stdout=log,
        stderr=log,
        start_new_session=True,  # its own process group: stopping it stops nginx and gunicorn too
    )
    try:
        deadline = time.monotonic() + seconds  # migrate and collectstatic first: half a minute on a busy machine
        while not _healthy(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"scripts/serve.sh did not come up (exit {process.poll()}); see its log")
            time.sleep(0.2)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _healthy(port):
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        client.request("GET", "/healthz")
        return client.getresponse().status == 200
    except OSError:
        return False
    finally:
        client.close()


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
