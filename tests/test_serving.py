"""Under the production server (gunicorn as `make serve` runs it, against the test database): a download cut by the
database is visibly incomplete, a download waiting longer than the worker timeout is neither cut nor blocking, and a
database outage is a 503 the site recovers from by itself."""

import http.client
import json
import os
import secrets
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from conflictmap.backup import libpq_environment
from conflictmap.localserver import connection_url, free_port

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

GUNICORN = Path(sys.executable).parent / "gunicorn"
# Short enough to prove a long download outlives it, long enough that a busy machine never trips it otherwise.
WORKER_TIMEOUT = 5


def admin_connection(dbname=None):
    environment = libpq_environment()
    return psycopg.connect(
        host=environment.get("PGHOST"),
        port=environment.get("PGPORT"),
        user=environment.get("PGUSER"),
        password=environment.get("PGPASSWORD"),
        dbname=dbname or connection.settings_dict["NAME"],
        autocommit=True,
    )


def wait_for(probe, *, seconds=60, explain=lambda: ""):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := probe():
            return found
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting: {explain()}")


def activity(admin, tmp_path):
    """What every session of the test database is doing and what gunicorn logged, for a failure message."""
    admin.execute("SELECT pg_stat_clear_snapshot()")
    sessions = admin.execute(
        "SELECT pid, state, wait_event_type, wait_event, left(query, 80) FROM pg_stat_activity"
        " WHERE datname = current_database()"
    ).fetchall()
    return f"{sessions}\n{(tmp_path / 'gunicorn.log').read_text()[-3000:]}"


@pytest.fixture
def server(export_incidents, tmp_path):
    """gunicorn with the project's gunicorn.conf.py and production settings; yields its port."""
    port = free_port()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "conflictmap.settings.prod",
        "DATABASE_URL": connection_url(),
        "SECRET_KEY": secrets.token_urlsafe(50),  # production refuses a short key
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DOWNLOAD_CACHE_DIR": str(tmp_path / "downloads"),
        "RATE_LIMIT_API": "100000/60",
        "RATE_LIMIT_DOWNLOAD": "100000/60",
        "DATABASE_UNAVAILABLE_RETRY_AFTER": "7",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "4",
        "GUNICORN_TIMEOUT": str(WORKER_TIMEOUT),
        "GUNICORN_ACCESS_LOG": "-",
    }
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [str(GUNICORN), "conflictmap.wsgi"], cwd=settings.BASE_DIR, env=environment, stdout=log, stderr=log
    )

    def healthy():
        try:
            status, _headers, _body = fetch(port, "/healthz")
        except OSError:
            return False
        return status == 200

    try:
        wait_for(healthy, seconds=30)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def fetch(port, path, headers=None):
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        client.request("GET", path, headers=headers or {})
        response = client.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        client.close()


@contextmanager
def citations_locked(admin):
    """Hold a lock on the citations and the kept features: every export query (CSV reads the citations, GeoJSON the
    features) waits on it, while the map, the timeline and the freshness checks (which read neither) run on."""
    with admin.transaction():
        admin.execute("LOCK TABLE incidents_incidentsource, incidents_incidentfeature IN ACCESS EXCLUSIVE MODE")
        yield


def waiting_exports(admin):
    # Inside a transaction PostgreSQL answers pg_stat_activity from one snapshot; each look needs a fresh one.
    admin.execute("SELECT pg_stat_clear_snapshot()")
    return [
        pid
        for (pid,) in admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchall()
    ]


@pytest.mark.parametrize(
    "path", ["/api/incidents.geojson?download=1&country=SY", "/api/incidents.csv?country=SY"], ids=["geojson", "csv"]
)
def test_a_download_cut_by_the_database_is_visibly_incomplete(server, path, tmp_path):
    with admin_connection() as admin:
        with citations_locked(admin):
            client = http.client.HTTPConnection("127.0.0.1", server, timeout=20)
            client.request("GET", path)
            response = client.getresponse()  # the status and the first bytes are out before the export query
            assert response.status == 200
            assert response.getheader("Transfer-Encoding") == "chunked"
            (export,) = wait_for(lambda: waiting_exports(admin), explain=lambda: activity(admin, tmp_path))
            admin.execute("SELECT pg_terminate_backend(%s)", [export])
        with pytest.raises(http.client.IncompleteRead):
            response.read()
        client.close()


def test_a_full_download_cut_while_being_written_is_a_503_and_leaves_no_file(server, tmp_path):
    downloads = tmp_path / "downloads"
    with admin_connection() as admin:
        with citations_locked(admin):
            client = http.client.HTTPConnection("127.0.0.1", server, timeout=20)
            client.request("GET", "/api/incidents.csv")
            (export,) = wait_for(lambda: waiting_exports(admin), explain=lambda: activity(admin, tmp_path))
            admin.execute("SELECT pg_terminate_backend(%s)", [export])
        response = client.getresponse()
        assert response.status == 503
        assert response.getheader("Retry-After") == "7"
        assert json.loads(response.read())["code"] == "ServiceUnavailable"
        client.close()
    assert [path.name for path in downloads.iterdir() if not path.name.endswith(".lock")] == []
    status, headers, body = fetch(server, "/api/incidents.csv")
    assert status == 200
    assert int(headers["Content-Length"]) == len(body)
    assert len(body.decode().strip().splitlines()) == 1 + 3


def test_downloads_outlive_the_worker_timeout_and_block_no_one(server, tmp_path):
    with admin_connection() as admin:
        clients, responses = [], []
        with citations_locked(admin):
            for _download in range(2):
                client = http.client.HTTPConnection("127.0.0.1", server, timeout=30)
                client.request("GET", "/api/incidents.geojson?download=1&country=SY")
                clients.append(client)
                responses.append(client.getresponse())
            wait_for(lambda: len(waiting_exports(admin)) == 2, explain=lambda: activity(admin, tmp_path))
            # Two of the worker's four threads wait on the database, well past the worker timeout; the rest answer.
            deadline = time.monotonic() + 2 * WORKER_TIMEOUT
            while time.monotonic() < deadline:
                assert fetch(server, "/healthz")[0] == 200
                status, _headers, body = fetch(server, "/api/timeline")
                assert status == 200 and json.loads(body)
                time.sleep(0.2)
        for client, response in zip(clients, responses, strict=True):
            features = json.loads(response.read())["features"]
            assert sorted(feature["properties"]["title"] for feature in features) == [
                "IS assault north of Palmyra",
                "Shelling of al-Hamdaniya, Aleppo",
            ]
            client.close()


def test_a_database_outage_is_a_503_and_the_site_recovers_by_itself(server):
    # PostgreSQL refuses new connections to the database and drops the server's: an outage, for the site.
    with admin_connection(dbname="postgres") as admin:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            own = cursor.fetchone()[0]
        name = connection.settings_dict["NAME"]
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
                [name, own],
            )
            status, headers, body = fetch(server, "/healthz")
            assert (status, json.loads(body)["database"]) == (503, "unreachable")
            status, headers, body = fetch(server, "/api/timeline")
            assert (status, headers["Retry-After"], json.loads(body)["code"]) == (503, "7", "ServiceUnavailable")
            status, headers, body = fetch(server, "/map/incidents.json")
            assert (status, headers["Content-Type"]) == (503, "application/json")
            status, headers, body = fetch(server, "/")
            assert (status, headers["Content-Type"]) == (503, "text/html; charset=utf-8")
            assert b"The database is unreachable" in body
        finally:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    assert fetch(server, "/healthz")[0] == 200
    status, _headers, body = fetch(server, "/api/incidents.geojson")
    assert status == 200
    assert len(json.loads(body)["features"]) == 3
