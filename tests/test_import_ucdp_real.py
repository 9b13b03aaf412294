"""A publisher's own file, quirks and all: 317 rows of UCDP's GED country file for Iraq (tests/data/ucdp/, CC BY 4.0,
credit in its README), 15 of them with low above best or high below best, as UCDP published them. And the actors
ACLED and UCDP name for the same forces."""

import csv
import io
import json
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from incidents.importing import import_batch_create, import_batch_revert, import_events
from incidents.models import Actor, ActorNameMapping, ImportBatch, ImportStatus, Incident, Status
from tests.factories import ActorFactory, IncidentFactory
from tests.test_admin import incident_form
from tests.test_edit_conflicts import opened_version

pytestmark = pytest.mark.django_db

UCDP_IRAQ = Path(__file__).parent / "data" / "ucdp" / "ged-iraq-hdx-sample.csv"
ACLED_HEADER = (Path(__file__).parent / "data" / "import" / "acled_export.csv").read_text("utf-8-sig").splitlines()[0]


def run_import(path, *, dry_run=False, status=Status.DRAFT, user=None):
    batch = import_batch_create(path=path, user=user, requested_status=status, dry_run=dry_run)
    return import_events(batch=batch, path=path, user=user)


def imported(event_id):
    return Incident.objects.get(dataset="ucdp-ged", event_id=event_id)


def figures(incident):
    return (incident.fatalities_low, incident.fatalities_best, incident.fatalities_high)


def names_on(incident):
    return sorted((link.side, link.actor.name) for link in incident.incident_actors.select_related("actor"))


def test_the_publishers_file_imports_with_warnings_and_no_errors(seed_actors):
    batch = run_import(UCDP_IRAQ)

    assert (batch.status, batch.created, batch.rejected, batch.warnings) == (ImportStatus.DONE, 317, 0, 15)
    assert batch.report["errors"] == []
    assert batch.report["warnings"][:2] == [
        {"line": 84, "column": "low", "value": "6610", "reason": "is more than best (6573): kept as published"},
        {"line": 303, "column": "high", "value": "21", "reason": "is less than best (22): kept as published"},
    ]
    # the figures exactly as UCDP published them, marked, the warning kept with the incident
    basra = imported("145155")
    assert figures(basra) == (22, 22, 21)
    assert basra.fatalities_as_published
    assert basra.import_warnings == [
        {"column": "high", "value": "21", "reason": "is less than best (22): kept as published"}
    ]
    assert figures(imported("138872")) == (17, 1, 17)
    # the original record: every column of the row, as read
    record = basra.import_record
    assert (record["low"], record["best"], record["high"], record["where_coordinates"]) == (
        "22",
        "22",
        "21",
        "al Başrah town",
    )
    assert (record["side_a"], record["side_b"], len(record)) == ("Government of Iraq", "SCIRI", 45)
    # consistent rows are not marked
    consistent = Incident.objects.filter(dataset="ucdp-ged", fatalities_as_published=False)
    assert consistent.count() == 317 - 15
    assert not consistent.exclude(import_warnings=[]).exists()


def test_downloads_show_the_publishers_figures_unchanged(seed_actors, client):
    run_import(UCDP_IRAQ, status=Status.PUBLISHED)
    basra = imported("145155")

    geojson = json.loads(b"".join(client.get("/api/incidents.geojson", {"q": "Başrah"}).streaming_content))
    feature = next(feature for feature in geojson["features"] if feature["id"] == basra.pk)
    properties = feature["properties"]
    assert (properties["fatalities_low"], properties["fatalities_best"], properties["fatalities_high"]) == (22, 22, 21)

    text = b"".join(client.get("/api/incidents.csv", {"q": "Başrah"}).streaming_content).decode("utf-8")
    row = next(row for row in csv.DictReader(io.StringIO(text, newline="")) if row["id"] == str(basra.pk))
    assert (row["fatalities_low"], row["fatalities"], row["fatalities_high"]) == ("22", "22", "21")


def test_reimport_changes_nothing_and_revert_leaves_nothing(seed_actors, capsys):
    first = run_import(UCDP_IRAQ)
    basra_history = imported("145155").history.count()

    call_command("import_events", str(UCDP_IRAQ), "--format", "ucdp-ged")

    second = ImportBatch.objects.order_by("-id").first()
    out = capsys.readouterr().out
    assert f"Batch {second.pk} (Imported): 0 created, 0 updated, 317 unchanged, 0 rejected, 15 warnings" in out
    assert (second.created, second.updated, second.unchanged, second.warnings) == (0, 0, 317, 15)
    assert imported("145155").history.count() == basra_history
    assert Incident.objects.filter(dataset="ucdp-ged").count() == 317

    import_batch_revert(batch=second, user=None)
    import_batch_revert(batch=first, user=None)
    assert not Incident.objects.filter(dataset="ucdp-ged").exists()


def test_command_lists_each_warning_with_line_and_column(seed_actors, capsys):
    call_command("import_events", str(UCDP_IRAQ), "--format", "ucdp-ged", "--dry-run")

    out = capsys.readouterr().out
    assert "warning: line 303, column high ('21'): is less than best (22): kept as published" in out
    assert "warning: line 84, column low ('6610'): is more than best (6573): kept as published" in out
    assert len(re.findall(r"^warning: line \d+, column (?:low|high) ", out, re.MULTILINE)) == 15
    assert "(Preview ready, dry run): 317 created, 0 updated, 0 unchanged, 0 rejected, 15 warnings" in out
    assert not Incident.objects.filter(dataset="ucdp-ged").exists()


def test_preview_and_report_list_the_warnings(client, publisher, seed_actors):
    client.force_login(publisher)
    events_file = SimpleUploadedFile(UCDP_IRAQ.name, UCDP_IRAQ.read_bytes(), content_type="text/csv")
    response = client.post(
        reverse("admin:incidents_importbatch_upload"), {"events_file": events_file, "format": "auto", "status": "draft"}
    )
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.warnings) == (ImportStatus.PREVIEW, 15)

    page = client.get(response.url).content.decode()
    assert '<td class="import-count-warnings">15</td>' in page
    warning_row = "<td>303</td><td>high</td><td><bdi>21</bdi></td><td>is less than best (22): kept as published</td>"
    assert warning_row in page
    assert "Import these events" in page  # warnings do not stop the import

    client.post(reverse("admin:incidents_importbatch_confirm", args=[batch.pk]))
    batch.refresh_from_db()
    assert (batch.status, batch.created, batch.warnings) == (ImportStatus.DONE, 317, 15)
    assert warning_row in client.get(response.url).content.decode()  # the report keeps them


def test_editor_sees_why_and_is_still_held_to_the_order(client, editor, seed_actors):
    run_import(UCDP_IRAQ)
    basra = imported("145155")
    url = reverse("admin:incidents_incident_change", args=[basra.pk])
    client.force_login(editor)

    page = client.get(url).content.decode()
    assert "is less than best (22): kept as published" in page  # the warning
    assert '<th scope="row"><code>source_headline</code></th>' in page  # the original record, read-only
    assert 'name="import_record"' not in page

    # Untouched, the publisher's figures stay as published while the editor fixes something else.
    unchanged = incident_form(
        title="Clash in Basra", fatalities_low="22", fatalities_best="22", fatalities_high="21",
        edit_version=opened_version(client, url),
    )  # fmt: skip
    assert client.post(url, unchanged).status_code == 302
    basra.refresh_from_db()
    assert (basra.title, figures(basra), basra.fatalities_as_published) == ("Clash in Basra", (22, 22, 21), True)

    # A figure the editor types is theirs: low ≤ best ≤ high.
    touched = incident_form(
        fatalities_low="22", fatalities_best="23", fatalities_high="21", edit_version=opened_version(client, url)
    )
    refused = client.post(url, touched)
    assert refused.status_code == 200
    assert "The best fatality estimate cannot exceed the high estimate." in refused.content.decode()
    basra.refresh_from_db()
    assert figures(basra) == (22, 22, 21)

    fixed = incident_form(
        fatalities_low="21", fatalities_best="22", fatalities_high="22", edit_version=opened_version(client, url)
    )
    assert client.post(url, fixed).status_code == 302
    basra.refresh_from_db()
    assert (figures(basra), basra.fatalities_as_published) == ((21, 22, 22), False)


def test_editors_own_entry_is_refused_low_above_best(client, editor):
    client.force_login(editor)
    response = client.post(
        reverse("admin:incidents_incident_add"),
        incident_form(fatalities_low="22", fatalities_best="22", fatalities_high="21"),
    )
    assert response.status_code == 200
    assert "The best fatality estimate cannot exceed the high estimate." in response.content.decode()
    assert not Incident.objects.exists()


def test_the_database_exempts_only_figures_marked_as_published():
    with pytest.raises(IntegrityError, match="incident_fatalities_best_le_high"), transaction.atomic():
        IncidentFactory(fatalities_low=22, fatalities_best=22, fatalities_high=21)
    incident = IncidentFactory(fatalities_low=22, fatalities_best=22, fatalities_high=21, fatalities_as_published=True)
    assert figures(incident) == (22, 22, 21)


# Actors: ACLED's and UCDP's names for the same forces. The ACLED rows are invented; the names are ACLED's.
ACLED_ROW = (
    "{id},9-May-20,2020,1,Political violence,Battles,Armed clash,{actor1},,1,{actor2},,2,12,,368,Middle East,Iraq,"
    "Ninewa,Mosul,,Mosul,36.3350,43.1189,1,Test Wire,National,Invented row for the tests.,{killed},,1589000000,IRQ,"
)


def acled_file(tmp_path, rows):
    path = tmp_path / "acled_iraq.csv"
    lines = [ACLED_HEADER] + [
        ACLED_ROW.format(id=f"IRQ{number}", actor1=actor1, actor2=actor2, killed=number)
        for number, (actor1, actor2) in enumerate(rows, start=1)
    ]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def test_acled_and_ucdp_names_for_the_same_forces_meet_in_one_actor(tmp_path, seed_actors):
    actors = Actor.objects.count()
    ucdp = run_import(UCDP_IRAQ)
    acled = run_import(
        acled_file(
            tmp_path,
            [
                ("Military Forces of Iraq (2014-)", "Islamic State (Iraq)"),
                ("Military Forces of Turkey (2016-)", "Civilians (Iraq)"),
                ("Police Forces of Iraq (2014-2018)", "Islamic State (Iraq)"),
                ("Military Forces of Iraq (2022-) Peshmerga", "Military Forces of Iraq (2014-) Popular Mobilization Forces"),
            ],
        )
    )  # fmt: skip

    assert names_on(Incident.objects.get(event_id="IRQ1")) == [("a", "Iraqi Security Forces"), ("b", "Islamic State")]
    assert names_on(Incident.objects.get(event_id="IRQ2")) == [("a", "Turkish Armed Forces"), ("b", "Civilians (Iraq)")]
    assert names_on(Incident.objects.get(event_id="IRQ3"))[0] == ("a", "Iraqi Security Forces")
    assert names_on(Incident.objects.get(event_id="IRQ4")) == [
        ("a", "Peshmerga"),
        ("b", "Popular Mobilization Forces"),
    ]
    assert acled.report["new_actors"] == []
    # UCDP: "Government of Iraq", "IS", "Civilians", "Government of Turkey" are the same actors
    iraq_vs_is = Incident.objects.get(dataset="ucdp-ged", event_id="114064")
    assert names_on(iraq_vs_is) == [("a", "Iraqi Security Forces"), ("b", "Islamic State")]
    ucdp_names = {entry["name"] for entry in ucdp.report["new_actors"]}
    assert not ucdp_names & {"Government of Iraq", "IS", "Civilians", "Civilians (Iraq)", "Government of Turkey"}
    assert {"PKK", "al-Mahdi Army"} <= ucdp_names
    assert Actor.objects.count() == actors + len(ucdp_names)
    assert not Actor.objects.filter(name__startswith="Military Forces of").exists()


def test_a_new_actor_takes_the_name_without_acleds_period(tmp_path, seed_actors):
    batch = run_import(acled_file(tmp_path, [("Military Forces of Iran (1989-)", "Military Forces of Iraq (2014-)")]))

    assert batch.report["new_actors"] == [
        {"name": "Military Forces of Iran (1989-)", "kind": "state_forces", "creates": "Military Forces of Iran",
         "period": "1989–", "rows": 1},
    ]  # fmt: skip
    iran = Actor.objects.get(name="Military Forces of Iran")
    assert iran.description == "ACLED writes “Military Forces of Iran (1989-)”: active 1989–."
    # the same force in another period, in another case and without its accents, is the same actor
    run_import(acled_file(tmp_path, [("MILITARY FORCES OF IRÁN (2024-)", "Military Forces of Iraq (2014-)")]))
    assert Actor.objects.filter(name__istartswith="Military Forces of Ir").count() == 1


def test_publisher_maps_a_new_name_to_an_actor_and_the_next_import_uses_it(client, publisher, seed_actors):
    pkk = ActorFactory(name="Kurdistan Workers' Party", aliases=[])
    client.force_login(publisher)
    events_file = SimpleUploadedFile(UCDP_IRAQ.name, UCDP_IRAQ.read_bytes(), content_type="text/csv")
    response = client.post(
        reverse("admin:incidents_importbatch_upload"), {"events_file": events_file, "format": "auto", "status": "draft"}
    )
    batch = ImportBatch.objects.get()
    new_names = [entry["name"] for entry in batch.report["new_actors"]]
    page = client.get(response.url).content.decode()
    assert "Actors this file would create" in page
    assert "<td><bdi>PKK</bdi></td><td>15</td>" in page  # the name, the rows that name it
    index = new_names.index("PKK")
    assert f'name="actor_{index}"' in page  # a search box of the actors we have
    search = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "incidents", "model_name": "actornamemapping", "field_name": "actor", "term": "kurdistan"},
    )
    assert search.json()["results"] == [{"id": str(pkk.pk), "text": "Kurdistan Workers' Party"}]

    client.post(reverse("admin:incidents_importbatch_confirm", args=[batch.pk]), {f"actor_{index}": pkk.pk})

    batch.refresh_from_db()
    assert batch.status == ImportStatus.DONE
    assert not Actor.objects.filter(name="PKK").exists()
    assert pkk.incidents.filter(dataset="ucdp-ged").count() == 15
    mapping = ActorNameMapping.objects.get()
    assert (mapping.dataset, mapping.name, mapping.actor, mapping.created_by) == ("ucdp-ged", "PKK", pkk, publisher)
    # the next import of the dataset links the name by itself
    again = run_import(UCDP_IRAQ, dry_run=True)
    assert "PKK" not in {entry["name"] for entry in again.report["new_actors"]}


def test_a_mapping_to_an_unknown_actor_is_refused(client, publisher, seed_actors):
    client.force_login(publisher)
    events_file = SimpleUploadedFile(UCDP_IRAQ.name, UCDP_IRAQ.read_bytes(), content_type="text/csv")
    client.post(
        reverse("admin:incidents_importbatch_upload"), {"events_file": events_file, "format": "auto", "status": "draft"}
    )
    batch = ImportBatch.objects.get()

    response = client.post(reverse("admin:incidents_importbatch_confirm", args=[batch.pk]), {"actor_0": "999999"})

    batch.refresh_from_db()
    assert batch.status == ImportStatus.PREVIEW and not ActorNameMapping.objects.exists()
    assert "Choose actors from the list" in client.get(response.url).content.decode()
