"""make backup / make restore: a dump restored into a fresh database holds every incident, its history and sources."""

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from conflictmap.backup import libpq_environment
from incidents import services
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

RESTORED = "test_conflictmap_restored"
# Every column of every row, in a stable order: the comparison misses nothing a later migration adds.
COMPARED_TABLES = [
    "incidents_incident",
    "incidents_historicalincident",
    "incidents_source",
    "incidents_historicalsource",
    "incidents_incidentsource",
    "incidents_incidentactor",
    "incidents_actor",
]


def table_rows(dbname, table):
    environment = libpq_environment(dbname=dbname)
    with psycopg.connect(
        host=environment.get("PGHOST"),
        port=environment.get("PGPORT"),
        user=environment.get("PGUSER"),
        password=environment.get("PGPASSWORD"),
        dbname=dbname,
    ) as database:
        return database.execute(f"SELECT row_to_json(t)::text FROM {table} t ORDER BY 1").fetchall()


@pytest.fixture
def restored_database():
    yield RESTORED
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {RESTORED} WITH (FORCE)")


def test_a_backup_restores_every_incident_its_history_and_sources(
    export_incidents, publisher, tmp_path, restored_database
):
    palmyra = export_incidents[1]
    palmyra.title = "IS assault north of Palmyra (corrected)"
    palmyra.save()
    services.incident_retract(incident=export_incidents[2], user=publisher, reason="Duplicate report")
    SourceFactory(publisher="SOHR", title="An uncited report")
    dump = tmp_path / "conflictmap.dump"
    call_command("backup_database", output=str(dump))
    assert dump.stat().st_size > 0
    call_command("restore_database", str(dump), into=restored_database)

    live = connection.settings_dict["NAME"]
    for table in COMPARED_TABLES:
        original = table_rows(live, table)
        assert original, table
        assert table_rows(restored_database, table) == original, table
    restored_titles = [row for (row,) in table_rows(restored_database, "incidents_historicalincident")]
    assert any("(corrected)" in row for row in restored_titles)
    assert any('"retracted"' in row for row in restored_titles)


def test_restoring_a_file_that_is_not_a_backup_fails_and_changes_nothing(export_incidents, tmp_path):
    broken = tmp_path / "not-a-backup.dump"
    broken.write_bytes(b"PGDMP but not really")
    with pytest.raises(CommandError, match="pg_restore failed"):
        call_command("restore_database", str(broken))
    titles = [row for (row,) in table_rows(connection.settings_dict["NAME"], "incidents_incident")]
    assert len(titles) == 5


@pytest.mark.django_db  # refused before any database work: no need to flush the tables after it
def test_restoring_a_missing_file_says_so(tmp_path):
    with pytest.raises(CommandError, match="No backup file at"):
        call_command("restore_database", str(tmp_path / "missing.dump"))


@pytest.mark.django_db  # refused before any database work: no need to flush the tables after it
def test_restoring_into_a_name_that_is_not_plain_is_refused(tmp_path):
    dump = tmp_path / "conflictmap.dump"
    dump.write_bytes(b"")
    with pytest.raises(CommandError, match="is not a plain database name"):
        call_command("restore_database", str(dump), into="x'; DROP DATABASE conflictmap; --")
