"""An import written a chunk of rows per statement (settings.IMPORT_WRITE_CHUNK_ROWS) leaves every kept table equal
to a count from scratch: each statement's triggers see only their chunk, and the chunks must add up."""

import csv
import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from incidents.importing import import_batch_create, import_events
from incidents.models import Incident, IncidentActor, Status
from incidents.services import map_terms_refresh
from tests.kept_recount import kept_tables_differing

pytestmark = pytest.mark.django_db

HEADER = [
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type", "sub_event_type",
    "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "interaction", "civilian_targeting",
    "iso", "region", "country", "admin1", "admin2", "admin3", "location", "latitude", "longitude", "geo_precision",
    "source", "source_scale", "notes", "fatalities", "tags", "timestamp",
]  # fmt: skip
TYPES = [("Battles", "Armed clash"), ("Explosions/Remote violence", "Air/drone strike"),
         ("Protests", "Peaceful protest")]  # fmt: skip
ACTORS = ["Chunk Militia (Syria)", "Chunk Army (Syria)", "Chunk Brigade (Syria)", "Chunk Front (Syria)"]
# Three places, so that rows of different chunks land in the same map cells and update each other's counts.
PLACES = [("Homs", "Tadmur", 34.556, 38.2673), ("Aleppo", "Al Bab", 36.3706, 37.517), ("Aleppo", "Aleppo", 36.2, 37.15)]


def acled_row(number, *, changed=False):
    """An invented ACLED row; `changed` moves its date, toll, place and actors (an update of every kept key)."""
    shift = 1 if changed else 0
    admin1, location, latitude, longitude = PLACES[(number + shift) % len(PLACES)]
    event_type, sub_type = TYPES[number % len(TYPES)]
    day = datetime.date(2020, 1, 1) + datetime.timedelta(days=(number * 11 + shift * 40) % 120)
    actor1, actor2 = ACTORS[(number + shift) % 4], ACTORS[(number + 1 + 2 * shift) % 4] if number % 4 else ""
    associated = ACTORS[(number + 2) % 4] if number % 3 == 0 else ""
    note = "Shelling near the village reported by residents." if number % 2 else "Clashes near the river."
    return dict(zip(HEADER, [
        f"CHK{number}", day.isoformat(), day.year, 1, "Political violence", event_type, sub_type, actor1, associated,
        3, actor2, "", 1 if actor2 else "", "13" if actor2 else "30", "", 760, "Middle East", "Syria", admin1,
        location, "", location, latitude, longitude, 1, "Wire One; Wire Two", "National", note,
        (number * 7 + shift * 3) % 11, "", 1_600_000_000 + number,
    ], strict=True))  # fmt: skip


def write_acled(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, HEADER)
        writer.writeheader()
        writer.writerows(rows)


def run_import(path):
    batch = import_batch_create(path=path, user=None, requested_status=Status.PUBLISHED, dry_run=False)
    return import_events(batch=batch, path=path)


def links(row):
    return {row["actor1"], row["assoc_actor_1"], row["actor2"]} - {""}


def test_an_import_written_in_chunks_leaves_every_kept_table_equal_to_a_recount(tmp_path, settings):
    settings.IMPORT_WRITE_CHUNK_ROWS = 7
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    write_acled(first, [acled_row(number) for number in range(40)])
    assert run_import(first).status == "done"
    # Words the kept term cells count (near, shelling, …), chosen before the second import writes.
    assert map_terms_refresh(min_incidents=2, max_terms=24)["terms"]

    # 10 of the first rows changed, 20 the same, 15 new (and 10 no longer in the file, left as they are).
    rows = [acled_row(number, changed=number % 3 == 0) for number in range(10, 55)]
    write_acled(second, rows)
    with CaptureQueriesContext(connection) as queries:
        batch = run_import(second)

    assert (batch.status, batch.created, batch.updated, batch.unchanged) == ("done", 15, 10, 20)
    inserts = [query for query in queries.captured_queries if "INSERT INTO incidents_incident (" in query["sql"]]
    assert len(inserts) == 4, "the 25 rows written, 7 a statement"
    assert Incident.objects.count() == 55
    assert IncidentActor.objects.count() == sum(len(links(acled_row(number))) for number in range(10)) + sum(
        len(links(row)) for row in rows
    )
    differing = kept_tables_differing()
    assert differing == dict.fromkeys(differing, 0)
    with connection.cursor() as cursor:
        for table in ("incidents_mapactorpaircell", "incidents_maptermcell", "incidents_incidentfeature"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            assert cursor.fetchone()[0] > 0, f"{table} has rows to compare"


def test_a_published_incident_without_a_source_still_fails_the_import(tmp_path, monkeypatch):
    """The import checks "a published incident cites a source" itself, once, instead of the deferred trigger per
    incident: a writer that lost an incident's sources must still leave nothing written."""
    from incidents.importing import loading

    checked = loading._check_published_have_sources

    def losing_one_incidents_sources(cursor, *, table):
        cursor.execute(
            f"DELETE FROM incidents_incidentsource WHERE incident_id = (SELECT min(incident_id) FROM {table})"
        )
        checked(cursor, table=table)

    monkeypatch.setattr(loading, "_check_published_have_sources", losing_one_incidents_sources)
    path = tmp_path / "rows.csv"
    write_acled(path, [acled_row(number) for number in range(5)])
    batch = run_import(path)

    assert batch.status == "failed"
    assert "cites no source" in batch.message
    assert not Incident.objects.filter(event_id__startswith="CHK").exists()


def test_after_an_import_the_same_transaction_is_checked_per_incident_again(tmp_path):
    path = tmp_path / "rows.csv"
    write_acled(path, [acled_row(number) for number in range(3)])
    assert run_import(path).status == "done"
    incident = Incident.objects.get(event_id="CHK1")

    with pytest.raises(IntegrityError, match="cites no source"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('conflictmap.sources_checked', true)")
            assert cursor.fetchone()[0] in (None, "", "off")
        incident.sources.clear()
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_the_import_runs_with_its_own_settings_and_gives_the_session_its_own_back(tmp_path, monkeypatch):
    """work_mem and jit for the import's statements only (bench/RESULTS.md, "Import at scale"): what the writes saw,
    and that the caller's transaction has its values again afterwards."""
    from incidents.importing import loading

    seen, write_events = {}, loading._write_events

    def noting_settings(cursor, **kwargs):
        cursor.execute("SELECT current_setting('work_mem'), current_setting('jit')")
        seen["during"] = cursor.fetchone()
        write_events(cursor, **kwargs)

    monkeypatch.setattr(loading, "_write_events", noting_settings)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '5MB'")
        cursor.execute("SET LOCAL jit = on")
    path = tmp_path / "rows.csv"
    write_acled(path, [acled_row(number) for number in range(3)])
    assert run_import(path).status == "done"

    assert seen["during"] == (loading.IMPORT_SESSION_SETTINGS["work_mem"], "off")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('work_mem'), current_setting('jit')")
        assert cursor.fetchone() == ("5MB", "on")


def test_names_with_quotes_backslashes_and_braces_arrive_as_written(tmp_path):
    """The file's actor and outlet lists go to the staging table as text[] literals written by the import itself."""
    row = acled_row(1)
    row["actor1"] = 'The "Red" Brigade \\ North {1}'
    row["assoc_actor_1"] = "NULL; Front, East"
    row["source"] = 'Wire "One"; C:\\Wire\\Two'
    path = tmp_path / "rows.csv"
    write_acled(path, [row])
    assert run_import(path).status == "done"

    incident = Incident.objects.get(event_id="CHK1")
    actors = set(incident.actors.values_list("name", flat=True))
    assert {'The "Red" Brigade \\ North {1}', "NULL", "Front, East"} <= actors
    publishers = set(incident.sources.values_list("publisher", flat=True))
    assert {'Wire "One"', "C:\\Wire\\Two"} <= publishers
