"""Public reads on a real PostgreSQL streaming replica of the test cluster (pg_basebackup -R); writes on the primary.

Which server answered is read from the queries each connection ran during the request (CaptureQueriesContext on
the replica's and the primary's connections), not from anything the router reports about itself.
"""

import importlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conflictmap import routers
from incidents.models import EventType, Incident
from tests.factories import IncidentFactory, SourceFactory
from tests.test_admin import ADD_URL, incident_form

PGBIN = Path("/usr/lib/postgresql/15/bin")
ALIAS = "replica_test"
# The replica's alias is a test mirror of "default": Django neither creates nor flushes a database for it.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=["default", ALIAS])


def as_cluster_owner(command):
    # PostgreSQL refuses to run as root; scripts/localdb.sh runs the local cluster as `postgres` in that case.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def run(command):
    subprocess.run(as_cluster_owner([str(part) for part in command]), check=True, capture_output=True, cwd="/")


@pytest.fixture(scope="module")
def replica_server(django_db_setup, django_db_blocker):
    primary = connections["default"].settings_dict
    if not str(primary["HOST"]).startswith("/"):
        pytest.skip("DATABASE_URL points to an external server: no local cluster to stream from")
    workdir = Path(tempfile.mkdtemp(prefix="conflictmap-replica-"))
    data, socket = workdir / "data", workdir / "socket"
    socket.mkdir()
    if os.geteuid() == 0:
        for path in (workdir, socket):
            shutil.chown(path, "postgres", "postgres")
    port = primary["PORT"] or 5432
    run(
        [
            PGBIN / "pg_basebackup",
            *("-h", primary["HOST"], "-p", port, "-U", primary["USER"]),
            *("-D", data, "-R", "-X", "stream", "-c", "fast"),
        ]
    )
    server = {"HOST": str(socket), "PORT": port, "data": data, "log": workdir / "server.log"}
    start(server)
    connections.settings[ALIAS] = {**primary, "HOST": str(socket), "PORT": port, "TEST": {"MIRROR": "default"}}
    yield server
    connections[ALIAS].close()
    del connections[ALIAS]
    del connections.settings[ALIAS]
    subprocess.run(as_cluster_owner([str(PGBIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]), cwd="/")
    shutil.rmtree(workdir, ignore_errors=True)


def start(server):
    # The copied postgresql.conf names the primary's socket folder; the replica listens in its own.
    run(
        [
            PGBIN / "pg_ctl",
            *("-D", server["data"], "-l", server["log"], "-w", "-t", "60"),
            *("-o", f"-k {server['HOST']} -p {server['PORT']} -c listen_addresses=''"),
            "start",
        ]
    )


def stop(replica_server):
    run([PGBIN / "pg_ctl", "-D", replica_server["data"], "-m", "fast", "-w", "stop"])


@pytest.fixture
def replica(replica_server, transactional_db, settings):
    """The replica as the alias replica_test, checked on every request (no health cache)."""
    for module, function in [("0002_acled_taxonomy", "add_taxonomy"), ("0003_editorial_groups", "add_groups")]:
        # serialized_rollback restores what an earlier transactional test flushed, unless none of it was saved.
        if module.startswith("0002") and EventType.objects.exists():
            continue
        if module.startswith("0003") and django_apps.get_model("auth", "Group").objects.exists():
            continue
        getattr(importlib.import_module(f"incidents.migrations.{module}"), function)(django_apps, None)
    settings.DATABASE_REPLICA_CHECK_INTERVAL = 0
    settings.DATABASE_REPLICA_MAX_LAG = 5
    routers.replica_health.forget()
    yield ALIAS
    routers.replica_health.forget()


def wait_for_replay(alias, timeout=30):
    """Until the replica has replayed everything the primary has committed so far.

    The insert position, not the write position: the local cluster runs with synchronous_commit = off, so a commit's
    WAL may still be in memory (and not yet sent) when the transaction returns."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        (written,) = cursor.fetchone()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [written])
            if cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError(f"the replica did not catch up within {timeout} s")


def incident_queries(context):
    return [query["sql"] for query in context.captured_queries if "incidents_incident" in query["sql"]]


def get_served(client, url, alias):
    """The response (body read in full, streaming included) and the incident queries each server ran for it."""
    with (
        CaptureQueriesContext(connections[alias]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body, incident_queries(on_replica), incident_queries(on_primary)


@pytest.fixture
def published_on_both(replica):
    # One transaction each: the "published cites a source" check runs at commit, after the factory adds the source.
    with transaction.atomic():
        incidents = [IncidentFactory(published=True, title=f"Clash {n}", sources=[SourceFactory()]) for n in range(3)]
        IncidentFactory(title="Draft never shown")
    wait_for_replay(replica)
    return incidents


@pytest.mark.parametrize(
    "url, expected",
    [
        ("/map/incidents.json", b'"total": 3'),
        ("/api/incidents.geojson?download=1", b"Clash 2"),
        ("/api/incidents.csv", b"Clash 1"),
        ("/ogcapi/collections/incidents/items?limit=10", b"Clash 0"),
    ],
)
def test_public_reads_are_served_by_the_replica(client, replica, published_on_both, url, expected):
    response, body, on_replica, on_primary = get_served(client, url, replica)
    assert response.status_code == 200
    assert expected in body.replace(b'"total":3', b'"total": 3')
    assert b"Draft never shown" not in body
    assert on_replica, "no incident query ran on the replica"
    assert on_primary == []


def test_writes_and_the_admin_use_the_primary(client, editor, replica, published_on_both):
    client.force_login(editor)
    with CaptureQueriesContext(connections[replica]) as on_replica:
        assert client.get(reverse("admin:incidents_incident_changelist")).status_code == 200
        assert client.post(ADD_URL, incident_form(title="Written on the primary")).status_code == 302
    assert on_replica.captured_queries == []
    created = Incident.objects.get(title="Written on the primary")
    wait_for_replay(replica)
    with connections[replica].cursor() as cursor:
        cursor.execute("SELECT title FROM incidents_incident WHERE id = %s", [created.pk])
        assert cursor.fetchone() == ("Written on the primary",)
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone() == (True,)


def test_a_replica_that_is_down_is_skipped(client, replica_server, replica, published_on_both):
    stop(replica_server)
    try:
        response, _body, _on_replica, on_primary = get_served(client, "/map/incidents.json", "default")
        assert response.status_code == 200
        assert response.json()["total"] == 3
        assert on_primary
    finally:
        start(replica_server)
    wait_for_replay(replica)
    response, _body, on_replica, _on_primary = get_served(client, "/map/incidents.json", replica)
    assert on_replica, "the replica was not used again once it was back"


def test_a_lagging_replica_is_skipped(client, settings, replica, published_on_both):
    with connections[replica].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
    try:
        with transaction.atomic():
            IncidentFactory(published=True, title="Newer than the replica", sources=[SourceFactory()])
        settings.DATABASE_REPLICA_MAX_LAG = 0.5
        time.sleep(1)
        response, _body, on_replica, on_primary = get_served(client, "/map/incidents.json", replica)
        assert response.json()["total"] == 4  # the primary's answer, with the newest incident
        assert on_replica == [] and on_primary
    finally:
        with connections[replica].cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")


def test_a_replica_failing_after_its_check_is_retried_on_the_primary(
    client, settings, replica_server, replica, published_on_both
):
    settings.DATABASE_REPLICA_CHECK_INTERVAL = 3600  # the replica passed its check and is trusted for an hour
    _response, _body, on_replica, _on_primary = get_served(client, "/map/incidents.json", replica)
    assert on_replica
    stop(replica_server)
    try:
        with CaptureQueriesContext(connections["default"]) as on_primary:
            response = client.get("/map/incidents.json")
        assert response.status_code == 200
        assert response.json()["total"] == 3
        assert incident_queries(on_primary)
        # Marked down at once: the next request goes straight to the primary without trying the replica.
        assert routers.replica_health.healthy(replica) is False
    finally:
        start(replica_server)
