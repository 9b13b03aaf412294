"""Importing ACLED and UCDP GED files (tests/data/import/: invented rows in each publisher's format)."""

import csv
import datetime
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from incidents.importing import import_batch_create, import_batch_revert, import_events
from incidents.importing.formats import map_acled, map_ucdp
from incidents.importing.reverting import ImportRevertError
from incidents.models import (
    Actor,
    ActorKind,
    DatePrecision,
    ImportBatch,
    ImportStatus,
    Incident,
    LocationPrecision,
    Source,
    Status,
)
from places import geocoding
from places.models import Place
from tests.factories import ActorFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data" / "import"
ACLED = DATA / "acled_export.csv"
ACLED_NEWER = DATA / "acled_export_newer.csv"
UCDP = DATA / "GEDEvent_v24_1.csv"
ACLED_ATTRIBUTION = "Armed Conflict Location & Event Data Project (ACLED); acleddata.com"


@pytest.fixture
def known_actors(db):
    return {
        "army": ActorFactory(
            name="Syrian Arab Army", kind=ActorKind.STATE_FORCES, aliases=["SAA", "Military Forces of Syria"]
        ),
        "islamic_state": ActorFactory(name="Islamic State", kind=ActorKind.JIHADIST_GROUP, aliases=["IS"]),
        "government": ActorFactory(name="Government of Syria", kind=ActorKind.STATE_FORCES),
    }


def run_import(path, *, user=None, dry_run=False, status=Status.DRAFT, retract_missing=False, dataset="auto"):
    batch = import_batch_create(
        path=path, user=user, requested_status=status, retract_missing=retract_missing, dry_run=dry_run
    )
    return import_events(batch=batch, path=path, dataset=dataset, user=user)


def geojson_features(client):
    return json.loads(b"".join(client.get("/api/incidents.geojson").streaming_content))["features"]


def imported(event_id):
    return Incident.objects.get(event_id=event_id)


def roles(incident):
    return sorted((role.side, role.is_associated, role.actor.name) for role in incident.incident_actors.all())


def cited(incident):
    return sorted(f"{source.publisher}: {source.title}" for source in incident.sources.all())


def test_acled_export_maps_every_column(known_actors, publisher):
    batch = run_import(ACLED, user=publisher)

    assert (batch.status, batch.dataset, batch.created, batch.updated, batch.unchanged) == ("done", "acled", 3, 0, 0)
    batch.refresh_from_db()
    assert (batch.rows_read, batch.bytes_read) == (3, ACLED.stat().st_size)
    assert batch.dataset_version == "export of 2020-05-11"  # the newest `timestamp` in the file
    clash = imported("TST1001")
    assert clash.dataset == "acled" and clash.status == Status.DRAFT
    assert (clash.start_date, clash.end_date) == (datetime.date(2020, 5, 9), datetime.date(2020, 5, 9))
    assert clash.date_precision == DatePrecision.DAY
    assert clash.location.coords == (38.2673, 34.556)
    assert clash.location_precision == LocationPrecision.EXACT
    # admin1 / admin2: the governorate and district whose boundaries cover the point, in their one spelling
    assert (clash.place_name, clash.admin1, clash.admin2, str(clash.country)) == ("Tadmur", "Homs", "Tadmor", "SY")
    assert (clash.event_type.name, clash.sub_event_type.name) == ("Battles", "Armed clash")
    assert clash.title == "Armed clash: Tadmur, Homs"
    # the note's line break survives the CRLF file
    assert clash.description == "Made-up test note, first line.\nSecond line of the same note."
    assert (clash.fatalities_low, clash.fatalities_best, clash.fatalities_high) == (7, 7, None)
    # "Military Forces of Syria (2000-2024)" is the army's alias without ACLED's period suffix
    assert roles(clash) == [
        ("a", False, "Syrian Arab Army"),
        ("a", True, "Testland Militia A"),
        ("a", True, "Testland Militia B"),
        ("b", False, "Islamic State"),
    ]
    assert cited(clash) == [
        f"{ACLED_ATTRIBUTION}: ACLED export of 2020-05-11",
        "Wire One: as cited by ACLED",
        "Wire Two: as cited by ACLED",
    ]
    # the original record: every column as read, the ones we map and those we have no field for
    assert clash.import_record["analyst_flag"] == "checked twice"  # a column ACLED does not have
    assert (clash.import_record["admin3"], clash.import_record["actor1"]) == (
        "Tadmur",
        "Military Forces of Syria (2000-2024)",
    )
    assert clash.import_record["notes"] == "Made-up test note, first line.\nSecond line of the same note."
    assert (clash.import_record["tags"], len(clash.import_record)) == ("", 33)
    assert (batch.warnings, clash.import_warnings, clash.fatalities_as_published) == (0, [], False)
    assert clash.created_by == publisher

    strike = imported("TST1002")  # "09 May 2020"
    assert (strike.start_date, strike.date_precision) == (datetime.date(2020, 5, 9), DatePrecision.WEEK)
    assert strike.location_precision == LocationPrecision.NEAR
    assert (strike.event_type.name, strike.sub_event_type.name) == ("Explosions/Remote violence", "Air/drone strike")
    assert (strike.fatalities_low, strike.fatalities_best) == (0, 0)
    assert Actor.objects.get(name="Unknown Test Air Force").kind == ActorKind.FOREIGN_FORCES  # inter1 8
    assert Actor.objects.get(name="Civilians (Syria)").kind == ActorKind.CIVILIANS  # inter2 7

    protest = imported("TST1003")  # "2020-05-10", inter1 written as its label
    assert (protest.start_date, protest.date_precision) == (datetime.date(2020, 5, 10), DatePrecision.MONTH)
    assert (protest.location_precision, str(protest.country)) == (LocationPrecision.REGION, "IQ")
    assert (protest.fatalities_low, protest.fatalities_best) == (None, None)
    assert Actor.objects.get(name="Protesters (Iraq)").kind == ActorKind.PROTESTERS
    assert roles(protest) == [("a", False, "Protesters (Iraq)")]


@pytest.mark.parametrize("written", ["9-May-20", "09 May 2020", "9 May 2020", "2020-05-09", "09-May-2020"])
def test_acled_dates_as_acled_has_written_them(written):
    row = {"event_id_cnty": "X1", "event_date": written, "event_type": "Battles", "actor1": "A"}
    assert map_acled({**row, "latitude": "1", "longitude": "2"}, 2).start_date == datetime.date(2020, 5, 9)


@pytest.mark.parametrize(
    ("column", "code", "field", "expected"),
    [
        ("time_precision", "1", "date_precision", DatePrecision.DAY),
        ("time_precision", "2", "date_precision", DatePrecision.WEEK),
        ("time_precision", "3", "date_precision", DatePrecision.MONTH),
        ("geo_precision", "1", "location_precision", LocationPrecision.EXACT),
        ("geo_precision", "2", "location_precision", LocationPrecision.NEAR),
        ("geo_precision", "3", "location_precision", LocationPrecision.REGION),
    ],
)
def test_acled_precision_codes(column, code, field, expected):
    row = {"event_id_cnty": "X1", "event_date": "2020-05-09", "event_type": "Battles", "actor1": "A"}
    mapped = map_acled({**row, "latitude": "1", "longitude": "2", column: code}, 2)
    assert getattr(mapped, field) == expected


@pytest.mark.parametrize(
    ("inter", "kind"),
    [
        ("1", ActorKind.STATE_FORCES),
        ("2", ActorKind.REBEL_GROUP),
        ("3", ActorKind.POLITICAL_MILITIA),
        ("4", ActorKind.IDENTITY_MILITIA),
        ("5", ActorKind.RIOTERS),
        ("6", ActorKind.PROTESTERS),
        ("7", ActorKind.CIVILIANS),
        ("8", ActorKind.FOREIGN_FORCES),
        ("Rebel group", ActorKind.REBEL_GROUP),
    ],
)
def test_acled_inter_codes_give_the_actor_kind(inter, kind):
    row = {"event_id_cnty": "X1", "event_date": "2020-05-09", "event_type": "Battles", "latitude": "1"}
    mapped = map_acled({**row, "longitude": "2", "actor1": "A", "actor2": "B", "inter2": inter}, 2)
    assert mapped.actor_kinds == {"A": ActorKind.OTHER, "B": kind}


UCDP_ROW = {
    "id": "1",
    "date_start": "2020-05-09",
    "type_of_violence": "1",
    "side_a": "Government of Testland",
    "side_b": "Testgroup",
    "latitude": "1",
    "longitude": "2",
    "best": "3",
}


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("1", DatePrecision.DAY),
        ("2", DatePrecision.WEEK),
        ("3", DatePrecision.WEEK),
        ("4", DatePrecision.MONTH),
        ("5", DatePrecision.MONTH),
    ],
)
def test_ucdp_date_prec(code, expected):
    assert map_ucdp({**UCDP_ROW, "date_prec": code}, 3).date_precision == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("1", LocationPrecision.EXACT),
        ("2", LocationPrecision.NEAR),
        ("3", LocationPrecision.REGION),
        ("4", LocationPrecision.REGION),
        ("5", LocationPrecision.NEAR),
        ("6", LocationPrecision.REGION),
        ("7", LocationPrecision.REGION),
    ],
)
def test_ucdp_where_prec(code, expected):
    assert map_ucdp({**UCDP_ROW, "where_prec": code}, 3).location_precision == expected


@pytest.mark.parametrize(
    ("violence", "event_type", "kinds"),
    [
        ("1", "battles-armed-clash", (ActorKind.STATE_FORCES, ActorKind.REBEL_GROUP)),
        ("2", "battles-armed-clash", (ActorKind.STATE_FORCES, ActorKind.REBEL_GROUP)),
        ("3", "violence-against-civilians-attack", (ActorKind.STATE_FORCES, ActorKind.OTHER)),
    ],
)
def test_ucdp_type_of_violence(violence, event_type, kinds):
    mapped = map_ucdp({**UCDP_ROW, "type_of_violence": violence}, 3)
    assert mapped.sub_event_type_slug == event_type
    assert (mapped.actor_kinds["Government of Testland"], mapped.actor_kinds["Testgroup"]) == kinds


@pytest.mark.parametrize(
    ("cells", "field", "value", "warning"),
    [
        ({"date_end": "2020-05-08"}, "end_date", datetime.date(2020, 5, 9),
         ("date_end", "2020-05-08", "is before date_start: the incident is dated to date_start")),
        ({"where_prec": "9"}, "location_precision", LocationPrecision.REGION,
         ("where_prec", "9", "is not a code of the codebook (1, 2, 3, 4, 5, 6, 7): read as “Only the region is known”")),
        ({"low": "4"}, "fatalities_low", 4, ("low", "4", "is more than best (3): kept as published")),
    ],
)  # fmt: skip
def test_ucdp_inconsistencies_are_warnings_on_a_row_that_imports(cells, field, value, warning):
    mapped = map_ucdp({**UCDP_ROW, **cells}, 3)
    assert getattr(mapped, field) == value
    assert [(w.line, w.column, w.value, w.reason) for w in mapped.warnings] == [(3, *warning)]
    assert mapped.fatalities_as_published == (field == "fatalities_low")


def test_acled_unknown_inter_code_is_a_warning_and_kind_other():
    row = {"event_id_cnty": "X1", "event_date": "2020-05-09", "event_type": "Battles", "latitude": "1"}
    mapped = map_acled({**row, "longitude": "2", "actor1": "A", "inter1": "9"}, 2)
    assert mapped.actor_kinds == {"A": ActorKind.OTHER}
    assert [(w.column, w.value) for w in mapped.warnings] == [("inter1", "9")]


def test_ucdp_ged_file_with_hxl_row(known_actors):
    batch = run_import(UCDP)

    assert (batch.status, batch.dataset, batch.created) == ("done", "ucdp-ged", 3)  # the HXL row is no event
    assert batch.dataset_version == "24.1"  # from the file name GEDEvent_v24_1.csv
    hill = imported("900001")
    assert (hill.dataset, hill.start_date, hill.end_date) == (
        "ucdp-ged",
        datetime.date(2020, 5, 9),
        datetime.date(2020, 5, 11),
    )
    assert (hill.date_precision, hill.location_precision) == (DatePrecision.WEEK, LocationPrecision.EXACT)
    assert (hill.fatalities_low, hill.fatalities_best, hill.fatalities_high) == (3, 5, 9)
    assert (hill.place_name, hill.place_reported) == ("Test Hill", "on the hill above Test Hill")
    # UCDP's "Hims governorate" is the Homs region that covers the point
    assert (hill.admin1, str(hill.country), hill.location.coords) == ("Homs", "SY", (36.7, 34.7))
    assert (hill.event_type.slug, hill.sub_event_type.slug) == ("battles", "battles-armed-clash")
    assert roles(hill) == [("a", False, "Government of Syria"), ("b", False, "Testgroup North")]
    assert "UCDP Georeferenced Event Dataset (GED) Global version 24.1: UCDP GED 24.1" in cited(hill)
    province = imported("900002")
    assert (province.date_precision, province.location_precision, str(province.country)) == (3, 3, "IQ")
    one_sided = imported("900003")
    assert one_sided.sub_event_type.slug == "violence-against-civilians-attack"
    # UCDP's "Civilians" are the event country's, as ACLED and our seeds name them
    assert roles(one_sided) == [("a", False, "Testgroup North"), ("b", False, "Civilians (Syria)")]
    assert Actor.objects.get(name="Civilians (Syria)").kind == ActorKind.CIVILIANS
    assert (hill.import_record["year"], hill.import_record["region"], hill.import_record["side_b"]) == (
        "2020",
        "Middle East",
        "Testgroup North",
    )
    assert hill.import_record["date_start"] == "2020-05-09 00:00:00.000"  # as read, not as mapped


def test_bad_rows_are_all_reported_and_nothing_is_written(known_actors):
    incidents, actors, sources = Incident.objects.count(), Actor.objects.count(), Source.objects.count()

    batch = run_import(DATA / "acled_bad_rows.csv")

    assert batch.status == ImportStatus.REJECTED
    assert batch.rejected == 6
    assert [(error["line"], error["column"]) for error in batch.report["errors"]] == [
        (2, "event_date"),  # 31-Feb-20; the row's note spans lines 2 and 3
        (4, "latitude"),
        (6, "event_id_cnty"),
        (8, "longitude"),
        (10, "event_type"),
        (13, "event_id_cnty"),  # the same event id as line 12
    ]
    assert batch.report["errors"][1]["reason"] == "must be between -90 and 90"
    assert batch.report["errors"][5]["reason"] == "the same event id as line 12"
    # an unknown code is the publisher's, not a row we cannot place: a warning, listed with the errors
    assert (batch.warnings, batch.report["warnings"]) == (
        1,
        [
            {
                "line": 8,
                "column": "time_precision",
                "value": "7",
                "reason": "is not a code of the codebook (1, 2, 3): read as “Within a month”",
            }
        ],
    )
    assert (Incident.objects.count(), Actor.objects.count(), Source.objects.count()) == (incidents, actors, sources)


def test_command_prints_every_bad_row_and_fails(known_actors, capsys):
    with pytest.raises(CommandError, match="6 rows are invalid, so nothing was imported"):
        call_command("import_events", str(DATA / "acled_bad_rows.csv"))
    err = capsys.readouterr().err
    assert "line 4, column latitude ('95.5'): must be between -90 and 90" in err
    assert "line 10, column event_type ('Skirmish'): is not an event type of the taxonomy" in err


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("empty.csv", {}, "The file is empty."),
        ("not_events.csv", {}, "This is neither an ACLED export nor a UCDP GED file"),
        ("acled_export.csv", {"format": "ucdp-ged"}, "The file is a ACLED file, not UCDP GED."),
    ],
)
def test_wrong_files_get_a_clear_message(name, options, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("import_events", str(DATA / name), **options)
    assert not Incident.objects.exclude(dataset="").exists()
    assert ImportBatch.objects.get().status == ImportStatus.REJECTED


def test_not_utf8_is_refused(tmp_path):
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(ACLED.read_bytes().replace(b"Tadmur", "Tadmür".encode("latin-1")))
    batch = run_import(latin)
    assert batch.status == ImportStatus.REJECTED
    assert batch.message.startswith("The file is not UTF-8 text (line 2)")


def test_dry_run_counts_and_writes_nothing(known_actors, capsys):
    call_command("import_events", str(ACLED), "--dry-run")
    batch = ImportBatch.objects.get()
    assert f"Batch {batch.pk} (Preview ready, dry run): 3 created, 0 updated, 0 unchanged" in capsys.readouterr().out
    assert not Incident.objects.exclude(dataset="").exists()
    assert not Actor.objects.filter(name="Testland Militia A").exists()


def test_same_file_twice_changes_nothing(known_actors, capsys):
    call_command("import_events", str(ACLED))
    clash = imported("TST1001")
    history, updated_at = clash.history.count(), clash.updated_at

    call_command("import_events", str(ACLED))

    second = ImportBatch.objects.order_by("-id").first()
    assert f"Batch {second.pk} (Imported): 0 created, 0 updated, 3 unchanged, 0 rejected, 0 warnings, 0 missing" in (
        capsys.readouterr().out
    )
    clash.refresh_from_db()
    assert (clash.history.count(), clash.updated_at) == (history, updated_at)
    assert Incident.objects.filter(dataset="acled").count() == 3


def test_newer_export_updates_changed_events_and_lists_missing_ones(known_actors):
    run_import(ACLED)
    batch = run_import(ACLED_NEWER)  # no BOM, LF line ends, columns in the same order but rows shuffled

    assert (batch.created, batch.updated, batch.unchanged, batch.missing, batch.retracted) == (1, 1, 1, 1, 0)
    assert batch.report["missing"] == ["TST1003"]
    clash = imported("TST1001")
    assert (clash.fatalities_best, clash.description) == (9, "Made-up test note, corrected.")
    assert [record.fatalities_best for record in clash.history.order_by("history_id")] == [7, 9]
    assert clash.history.latest().history_change_reason == f"import batch {batch.pk} (acled_export_newer.csv)"
    assert f"{ACLED_ATTRIBUTION}: ACLED export of 2020-05-20" in cited(clash)  # the export that changed it
    assert imported("TST1003").status == Status.DRAFT  # listed, not deleted
    assert imported("TST1004").title == "Mob violence: Test Market, Aleppo"


def test_retract_missing_retracts_with_a_reason(known_actors):
    run_import(ACLED, status=Status.PUBLISHED)
    batch = run_import(ACLED_NEWER, retract_missing=True)

    protest = imported("TST1003")
    assert (batch.missing, batch.retracted, protest.status) == (1, 1, Status.RETRACTED)
    assert protest.retraction_reason == f"Not in the ACLED file acled_export_newer.csv (import batch {batch.pk})."
    assert not Incident.objects.published().filter(event_id="TST1003").exists()


def test_revert_restores_what_a_batch_changed_and_removes_what_it_created(known_actors, capsys):
    first = run_import(ACLED, status=Status.PUBLISHED)
    before = {event_id: (roles(imported(event_id)), cited(imported(event_id))) for event_id in ("TST1001", "TST1003")}
    newer = run_import(ACLED_NEWER, retract_missing=True)
    assert imported("TST1001").import_record["notes"] == "Made-up test note, corrected."

    call_command("import_events", "--revert", str(newer.pk))

    assert f"Batch {newer.pk} reverted: 1 incidents removed, 2 restored." in capsys.readouterr().out
    assert not Incident.objects.filter(event_id="TST1004").exists()
    clash, protest = imported("TST1001"), imported("TST1003")
    assert (clash.fatalities_best, clash.description.startswith("Made-up test note, first line.")) == (7, True)
    assert (clash.import_record["fatalities"], clash.import_record["timestamp"]) == ("7", "1589000000")
    assert (protest.status, protest.retraction_reason) == (Status.PUBLISHED, "")
    assert {event_id: (roles(imported(event_id)), cited(imported(event_id))) for event_id in before} == before
    assert clash.history.latest().history_change_reason.startswith(f"revert of import batch {newer.pk}")
    assert ImportBatch.objects.get(pk=newer.pk).status == ImportStatus.REVERTED

    import_batch_revert(batch=first, user=None)
    assert not Incident.objects.filter(dataset="acled").exists()
    assert not Place.objects.filter(source__startswith="acled:").exists()


def test_revert_refuses_an_older_batch_while_a_newer_one_stands(known_actors):
    first = run_import(ACLED)
    newer = run_import(ACLED_NEWER)
    with pytest.raises(ImportRevertError, match=f"Batch {newer.pk} has changed the same incidents since"):
        import_batch_revert(batch=first, user=None)
    preview = run_import(ACLED_NEWER, dry_run=True)
    with pytest.raises(CommandError, match=f"Only a finished import can be reverted; batch {preview.pk} is “Preview"):
        call_command("import_events", "--revert", str(preview.pk))
    with pytest.raises(CommandError, match=r"No user named nobody\."):
        call_command("import_events", "--revert", str(newer.pk), "--user", "nobody")


def test_drafts_stay_off_the_public_side_until_published(known_actors, client):
    run_import(ACLED)
    assert geojson_features(client) == []
    Incident.objects.filter(dataset="acled").delete()

    run_import(ACLED, status=Status.PUBLISHED)
    features = geojson_features(client)
    assert sorted(feature["properties"]["title"] for feature in features) == [
        "Air/drone strike: Test Village, Hama",
        "Armed clash: Tadmur, Homs",
        "Peaceful protest: Test Square, Ninewa",
    ]
    # the download cites the dataset with its attribution
    dataset_citation = {
        "publisher": ACLED_ATTRIBUTION,
        "title": "ACLED export of 2020-05-11",
        "url": "https://acleddata.com/",
        "published_on": None,
        "original_reporter": None,
    }
    assert all(dataset_citation in feature["properties"]["sources"] for feature in features)
    csv_rows = list(csv.DictReader(io.StringIO(b"".join(client.get("/api/incidents.csv").streaming_content).decode())))
    assert sorted(row["source"] for row in csv_rows) == [
        f"{ACLED_ATTRIBUTION}; Wire One; Wire Two",
        f"{ACLED_ATTRIBUTION}; Wire Three",
        f"{ACLED_ATTRIBUTION}; Wire Two",
    ]


def test_incident_page_shows_the_attribution(known_actors, client):
    run_import(UCDP, status=Status.PUBLISHED)
    page = client.get(imported("900001").get_absolute_url()).content.decode()
    assert "Data: <bdi>UCDP Georeferenced Event Dataset (GED) Global version 24.1</bdi>" in page


def test_imported_places_feed_the_gazetteer_without_duplicates(known_actors):
    Place.objects.create(name="Tadmur", point="SRID=4326;POINT(38.2690 34.5570)", country="SY")
    # (other tests may have loaded the full gazetteer, with GeoNames' own Tadmur)
    tadmur_places = set(Place.objects.filter(name="Tadmur").values_list("pk", flat=True))

    batch = run_import(ACLED)

    added = Place.objects.filter(source__startswith=f"acled:{batch.pk}:")
    # Tadmur is already there (170 m away); Test Square is region-only (geo_precision 3)
    assert [(place.name, place.admin1, str(place.country)) for place in added] == [("Test Village", "Hama", "SY")]
    assert set(Place.objects.filter(name="Tadmur").values_list("pk", flat=True)) == tadmur_places
    candidates = geocoding.geocoder_chain().geocode("Test Village", limit=1).candidates
    assert (candidates[0]["name"], candidates[0]["latitude"], candidates[0]["longitude"]) == (
        "Test Village",
        35.1,
        37.2,
    )
