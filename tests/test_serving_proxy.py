"""`make serve` as production runs it: nginx in front of gunicorn (scripts/serve.sh), against the test database.

The proxy sends the full downloads itself (Content-Length, Range, the app's ETag), serves the static files, passes
the client's address (and only the one it saw) to the app, and takes a slow reader's answer off the app at once: with
one gunicorn thread, the site still answers while someone reads a big export a few bytes at a time.
"""

import http.client
import json
import shutil
import socket
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from conflictmap.localserver import serving_stack
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

API_LIMIT = 20


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    """One nginx + one gunicorn worker with ONE thread for the module: what a slow reader would block, if anything."""
    run_dir = Path(tempfile.mkdtemp(prefix="cm-proxy-"))  # short: it holds gunicorn's Unix socket
    log_path = run_dir / "serve.log"
    with django_db_blocker.unblock(), log_path.open("w") as log:
        # A transactional test before this module may have flushed the database: the stack's `migrate` would then
        # add content types and permissions under new keys, which these tests' serialized rollback collides with.
        # Put the serialized rows back first, as each test's set-up does.
        if contents := getattr(connection, "_test_serialized_contents", None):
            connection.creation.deserialize_db_from_string(contents)
        try:
            with serving_stack(
                run_dir=run_dir,
                log=log,
                environment={
                    "DOWNLOAD_CACHE_DIR": str(run_dir / "downloads"),
                    "WEB_CONCURRENCY": "1",
                    "GUNICORN_THREADS": "1",
                    "NGINX_WORKER_PROCESSES": "1",
                    "RATE_LIMIT_API": f"{API_LIMIT}/600",
                    "RATE_LIMIT_DOWNLOAD": "100000/60",
                },
            ) as port:
                yield {"port": port, "run_dir": run_dir}
        finally:
            print(log_path.read_text()[-3000:])
            shutil.rmtree(run_dir, ignore_errors=True)


def fetch(port, path, headers=None, method="GET"):
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        client.request(method, path, headers=headers or {})
        response = client.getresponse()
        return response.status, {name.lower(): value for name, value in response.getheaders()}, response.read()
    finally:
        client.close()


def test_the_full_download_comes_whole_resumable_and_with_the_apps_etag(stack, export_incidents):
    port = stack["port"]
    status, headers, body = fetch(port, "/api/incidents.geojson?download=1")
    assert status == 200
    assert headers["server"] == "nginx"
    assert int(headers["content-length"]) == len(body)
    features = json.loads(body)["features"]
    assert sorted(feature["properties"]["title"] for feature in features) == [
        "IS assault north of Palmyra",
        "Protest in Mosul",
        "Shelling of al-Hamdaniya, Aleppo",
    ]
    assert headers["content-disposition"] == 'attachment; filename="incidents.geojson"'
    assert headers["content-type"] == "application/geo+json"
    assert headers["access-control-allow-origin"] == "*"
    assert headers["accept-ranges"] == "bytes"
    # The file on disk is named by the app's data version, which is also its ETag.
    (written,) = (stack["run_dir"] / "downloads").glob("incidents-*.geojson")
    assert headers["etag"] == f'"{written.stem.split("-", 1)[1]}"'

    status, ranged, part = fetch(port, "/api/incidents.geojson?download=1", {"Range": "bytes=100-199"})
    assert (status, part, ranged["content-range"]) == (206, body[100:200], f"bytes 100-199/{len(body)}")
    status, _headers, tail = fetch(port, "/api/incidents.geojson?download=1", {"Range": "bytes=-50"})
    assert (status, tail) == (206, body[-50:])
    # Resuming a copy of another version sends the whole file again; past the end is 416.
    status, _headers, again = fetch(
        port, "/api/incidents.geojson?download=1", {"Range": "bytes=100-199", "If-Range": '"an-older-version"'}
    )
    assert (status, again) == (200, body)
    status, _headers, _body = fetch(port, "/api/incidents.geojson?download=1", {"Range": f"bytes={len(body)}-"})
    assert status == 416
    assert fetch(port, "/api/incidents.geojson?download=1", {"If-None-Match": headers["etag"]})[0] == 304
    status, head, nothing = fetch(port, "/api/incidents.geojson?download=1", method="HEAD")
    assert (status, head["content-length"], nothing) == (200, str(len(body)), b"")

    status, csv_headers, csv = fetch(port, "/api/incidents.csv")
    assert status == 200 and int(csv_headers["content-length"]) == len(csv)
    assert len(csv.decode().strip().splitlines()) == 1 + 3


def test_static_files_come_from_nginx_and_hashed_names_are_cached_for_good(stack):
    manifest = json.loads((Path(settings.STATIC_ROOT) / "staticfiles.json").read_text())["paths"]
    hashed = manifest["incidents/js/map.js"]
    status, headers, body = fetch(stack["port"], f"/static/{hashed}")
    assert status == 200
    assert body == (Path(settings.STATIC_ROOT) / hashed).read_bytes()
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert headers["content-type"] == "application/javascript"
    assert fetch(stack["port"], "/static/incidents/js/no-such-file.js")[0] == 404


def test_the_app_counts_the_address_nginx_saw_not_the_one_a_client_claims(stack, export_incidents):
    statuses = [
        fetch(stack["port"], "/map/incidents.json", {"X-Forwarded-For": f"198.51.100.{number}"})[0]
        for number in range(API_LIMIT + 1)
    ]
    assert statuses == [200] * API_LIMIT + [429]


def test_a_slow_reader_holds_no_app_thread(stack):
    # About 12 MB of GeoJSON in a streamed (filtered) export: far more than the sockets between the app and a slow
    # client could hold, so without the proxy's buffering the one app thread would wait on the reader.
    with transaction.atomic():
        for number in range(8):
            IncidentFactory(published=True, title=f"Long report {number}", description="word " * 300_000)
    reader = http.client.HTTPConnection("127.0.0.1", stack["port"], timeout=60)
    # A small receive window, set before connecting so the kernel cannot grow it: the reader takes little at a time.
    reader.sock = socket.socket()
    reader.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    reader.sock.settimeout(60)
    reader.sock.connect(("127.0.0.1", stack["port"]))
    reader.request("GET", "/api/incidents.geojson?download=1&country=SY")
    response = reader.getresponse()
    assert response.status == 200
    first = response.read(1024)
    started = time.monotonic()
    status, _headers, _body = fetch(stack["port"], "/healthz")
    waited = time.monotonic() - started
    assert status == 200
    assert waited < 5, f"/healthz waited {waited:.1f} s behind a slow reader"
    assert fetch(stack["port"], "/api/timeline")[0] == 200
    # And the reader, back at last, gets the whole answer.
    body = first + response.read()
    reader.close()
    assert len(body) > 10_000_000
    titles = sorted(feature["properties"]["title"] for feature in json.loads(body)["features"])
    assert titles == [f"Long report {number}" for number in range(8)]
