"""Possible duplicates (incidents/duplicates.py) in the admin, the import preview and the report assistant, and the
merge of two incidents by a Publisher (services.incident_merge)."""

import csv
import datetime
import json
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from incidents import services
from incidents.duplicates import HINTS_PER_INCIDENT, incident_duplicate_hints, proposed_duplicate_hints
from incidents.importing import import_batch_create, import_events
from incidents.models import (
    DatePrecision,
    EventType,
    Incident,
    IncidentActor,
    IncidentSource,
    LocationPrecision,
    Side,
    Status,
)
from tests.factories import ActorFactory, IncidentFactory, SourceFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2019, 4, 18)
PALMYRA = Point(38.2673, 34.5560, srid=4326)
UCDP_SAMPLE = Path(__file__).parent / "data" / "ucdp" / "ged-iraq-hdx-sample.csv"


def incident(**fields):
    """A draft with words of its own (the factory's place words are shared by all its incidents)."""
    return IncidentFactory(**{"place_reported": "", "title": "Unrelated", "start_date": DAY, **fields})


def hint_ids(subject):
    return [hint.incident_id for hint in incident_duplicate_hints(incidents=[subject]).get(subject.pk, [])]


@pytest.fixture
def islamic_state(db):
    return ActorFactory(name="Islamic State", aliases=["IS", "Daesh"])


def test_a_report_of_the_same_attack_nearby_is_listed_first_with_its_reasons(islamic_state):
    attack = incident(
        title="Islamic State attack on army positions north of Palmyra",
        actors=[(islamic_state, Side.A)],
        published=True,
    )
    # 1.9 km away, the same day, the same type, the same actor under an alias, most of the words.
    same = incident(
        title="Islamic State attack kills soldiers north of Palmyra",
        location=Point(38.28, 34.57, srid=4326),
        actors=[(ActorFactory(name="Daesh fighters", aliases=["Daesh"]), Side.A)],
    )
    IncidentActor.objects.create(incident=same, actor=islamic_state, side=Side.A)
    nearby_same_type = incident(title="Shelling", location=Point(38.30, 34.55, srid=4326))
    hints = incident_duplicate_hints(incidents=[attack])[attack.pk]
    assert [hint.incident_id for hint in hints] == [same.pk, nearby_same_type.pk]
    reasons = hints[0].reasons()
    assert reasons[0] == "dates overlap"
    assert reasons[1].endswith("km apart (within 10 km for their location precisions)")
    assert 1.5 < hints[0].distance_metres / 1000 < 2.5
    assert reasons[2:] == ["same event type", "shares actors: Islamic State", "shares 5 of 7 words"]
    assert hints[1].reasons()[2:] == ["same event type"]


def test_dates_distance_and_status_keep_other_incidents_out():
    subject = incident()
    far = incident(location=Point(37.16, 36.20, srid=4326))  # Aleppo, about 230 km away
    weeks_before = incident(start_date=DAY - datetime.timedelta(days=20))  # dated to the day, weeks before
    retracted = incident(status=Status.RETRACTED, retraction_reason="Wrong.")
    protest = incident(event_type=EventType.objects.get(slug="protests"))  # nothing shared but time and place
    next_day = incident(start_date=DAY + datetime.timedelta(days=1))  # a day-precise date may be a day off
    within_month = incident(start_date=DAY - datetime.timedelta(days=20), date_precision=DatePrecision.MONTH)
    ids = hint_ids(subject)
    assert set(ids) == {next_day.pk, within_month.pk}
    assert not {far.pk, weeks_before.pk, retracted.pk, protest.pk} & set(ids)
    assert all(pk != subject.pk for pk in ids)
    hint = incident_duplicate_hints(incidents=[subject])[subject.pk][ids.index(within_month.pk)]
    assert hint.reasons()[0] == "dates overlap within their precision (2019-03-29 to 2019-03-29)"


def test_the_reach_grows_with_the_location_precision():
    subject = incident()
    # About 60 km east of Palmyra: too far for two exact points, near enough for a region's centre.
    exact = incident(location=Point(38.92, 34.556, srid=4326))
    region = incident(location=Point(38.92, 34.556, srid=4326), location_precision=LocationPrecision.REGION)
    assert hint_ids(subject) == [region.pk]
    assert exact.pk not in hint_ids(subject)


def test_hints_are_capped_and_ranked():
    subject = incident(title="Car bomb at the Palmyra checkpoint")
    same_words = [incident(title="Car bomb at the Palmyra checkpoint") for _ in range(HINTS_PER_INCIDENT)]
    only_type = [incident() for _ in range(3)]
    ids = hint_ids(subject)
    assert len(ids) == HINTS_PER_INCIDENT
    assert set(ids) == {i.pk for i in same_words}
    assert not set(ids) & {i.pk for i in only_type}


def test_a_proposal_without_a_point_needs_most_words_or_an_actor_and_the_type(islamic_state):
    existing = incident(title="Islamic State attack on army positions north of Palmyra", actors=[(islamic_state, "a")])
    battles = EventType.objects.get(slug="battles")
    proposals = [
        {"title": "IS attack on army positions north of Palmyra", "start_date": DAY, "event_type": battles},
        {"title": "Clashes", "start_date": DAY, "event_type": battles, "actors": [("IS", "a")]},
        {"title": "Clashes", "start_date": DAY, "event_type": battles},  # the type alone, no point: not enough
        {"title": "IS attack on army positions north of Palmyra", "start_date": None, "event_type": battles},
    ]
    hints = proposed_duplicate_hints(proposals=proposals)
    assert [[hint.incident_id for hint in row] for row in hints] == [[existing.pk], [existing.pk], [], []]
    assert "distance" not in " ".join(hints[0][0].reasons())
    assert hints[1][0].reasons()[1:] == ["same event type", "shares actors: Islamic State"]


# --- where editors see them ---


@pytest.fixture
def publisher_client(client, publisher):
    client.force_login(publisher)
    return client


def test_the_change_page_lists_possible_duplicates_with_reasons_and_links(publisher_client):
    subject = incident(title="Car bomb at the Palmyra checkpoint")
    twin = incident(title="Car bomb at the Palmyra <checkpoint>")
    page = publisher_client.get(reverse("admin:incidents_incident_change", args=[subject.pk])).content.decode()
    assert "Possible duplicates" in page
    assert f'href="{reverse("admin:incidents_incident_change", args=[twin.pk])}"' in page
    assert "Car bomb at the Palmyra &lt;checkpoint&gt;" in page  # escaped
    assert "dates overlap; 0.0 km apart (within 10 km for their location precisions); same event type" in page
    assert "Merge it into this incident" in page


def test_editors_see_the_hints_but_no_merge(client, editor):
    subject = incident(title="Car bomb at the Palmyra checkpoint")
    incident(title="Car bomb at the Palmyra checkpoint")
    client.force_login(editor)
    page = client.get(reverse("admin:incidents_incident_change", args=[subject.pk])).content.decode()
    assert "Possible duplicates" in page and "Merge it into this incident" not in page


def twin_copy(tmp_path, prefix="twin-", rows=None):
    """The UCDP sample again with every event id prefixed: the same events under other keys."""
    target = tmp_path / "twins.csv"
    with open(UCDP_SAMPLE, newline="", encoding="utf-8-sig") as given, open(target, "w", newline="") as out:
        reader = csv.DictReader(given)
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames)
        writer.writeheader()
        for number, row in enumerate(reader):
            if row["id"] and not row["id"].startswith("#"):
                if rows is not None and number > rows:
                    break
                row["id"] = prefix + row["id"]
            writer.writerow(row)
    return target


def test_an_import_preview_lists_each_new_rows_possible_duplicates_among_existing_incidents(
    tmp_path, client, superuser
):
    first = import_events(batch=import_batch_create(path=UCDP_SAMPLE, user=None), path=UCDP_SAMPLE)
    assert first.status == "done" and first.created > 300
    by_event = dict(Incident.objects.filter(dataset="ucdp-ged").values_list("event_id", "pk"))
    twins = twin_copy(tmp_path)
    preview = import_events(batch=import_batch_create(path=twins, user=None, dry_run=True), path=twins)
    assert preview.status == "preview" and preview.created == first.created
    report = preview.report["duplicates"]
    assert report["rows"] == len(report["listed"]) == first.created  # every row has its twin among its hints
    for row in report["listed"]:
        assert by_event[row["event_id"].removeprefix("twin-")] in [hint["id"] for hint in row["hints"]], row
    # Nothing of the preview was written.
    assert Incident.objects.filter(event_id__startswith="twin-").count() == 0

    client.force_login(superuser)
    page = client.get(reverse("admin:incidents_importbatch_change", args=[preview.pk])).content.decode()
    assert "Possible duplicates" in page
    assert f"{first.created} new rows may report incidents you already have" in page
    row = report["listed"][0]
    assert f"<bdi>{row['event_id']}</bdi>" in page
    assert reverse("admin:incidents_incident_change", args=[row["hints"][0]["id"]]) in page


def test_a_real_import_keeps_no_hints_and_a_file_of_new_events_has_none(tmp_path):
    first = import_events(batch=import_batch_create(path=UCDP_SAMPLE, user=None), path=UCDP_SAMPLE)
    assert "duplicates" not in first.report  # only a preview lists them
    Incident.objects.all().delete()
    preview = import_events(batch=import_batch_create(path=UCDP_SAMPLE, user=None, dry_run=True), path=UCDP_SAMPLE)
    assert preview.status == "preview" and "duplicates" not in preview.report


def test_the_report_assistant_shows_possible_duplicates_of_its_candidates(client, editor, gazetteer, seed_actors):
    from tests.test_admin_report import SEED_TEXT, URL, create_data, read

    client.force_login(editor)
    client.post(URL, create_data(read(client, SEED_TEXT), keep={0}))
    palmyra = Incident.objects.get(created_by=editor)
    again = read(client, SEED_TEXT + "\nReported again.", url="https://example.org/again")
    rows = again.context["rows"]
    assert [hint.incident_id for hint, _reasons, _url in rows[0][4]] == [palmyra.pk]
    assert all(not row[4] for row in rows[1:])
    page = again.content.decode()
    assert page.count("Possible duplicates") == 1
    assert "shares actors: Islamic State, Pro-government militias (Syria), Syrian Arab Army" in page


# --- merge ---


@pytest.fixture
def pair(islamic_state):
    """Two reports of one attack: the kept one published, the duplicate a draft with a source and actor of its own."""
    army = ActorFactory(name="Syrian Arab Army")
    shared = SourceFactory(publisher="DW")
    kept = incident(published=True, sources=[shared], actors=[(islamic_state, Side.A)], title="Attack near Palmyra")
    duplicate = incident(
        sources=[shared, SourceFactory(publisher="Reuters", url="https://www.reuters.com/a")],
        actors=[(islamic_state, Side.B), (army, Side.B)],
        title="Assault north of Palmyra",
    )
    return kept, duplicate, army


def test_a_merge_moves_sources_and_actors_and_retracts_the_duplicate_pointing_to_the_kept_one(pair, publisher):
    kept, duplicate, _army = pair
    services.incident_merge(kept=kept, duplicate=duplicate, user=publisher, note="Same attack.")
    kept.refresh_from_db()
    duplicate.refresh_from_db()
    assert sorted(kept.sources.values_list("publisher", flat=True)) == ["DW", "Reuters"]
    assert {(link.actor.name, link.side) for link in kept.incident_actors.all()} == {
        ("Islamic State", Side.A),  # its own side stays
        ("Syrian Arab Army", Side.B),
    }
    # What would repeat the kept incident's rows stays on the retracted duplicate, as its record.
    assert list(duplicate.sources.values_list("publisher", flat=True)) == ["DW"]
    assert list(duplicate.actors.values_list("name", flat=True)) == ["Islamic State"]
    assert duplicate.status == Status.RETRACTED and duplicate.duplicate_of == kept
    assert duplicate.retraction_reason == f"Duplicate of incident {kept.pk}. Same attack."
    assert kept.history.first().history_change_reason.startswith(f"merged incident {duplicate.pk} into this one")
    assert duplicate.history.first().status == Status.RETRACTED  # both histories go on
    assert IncidentSource.objects.get(incident=kept, source__publisher="Reuters").history.exists()
    assert Incident.objects.published().get(pk=kept.pk)


def test_the_change_feed_tombstone_of_a_merged_incident_points_to_the_kept_one(client, publisher, islamic_state):
    kept = incident(published=True, title="Attack near Palmyra")
    duplicate = incident(published=True, title="Assault north of Palmyra")
    services.incident_merge(kept=kept, duplicate=duplicate, user=publisher)
    changes = json.loads(client.get("/api/changes").content)["changes"]
    tombstone = [change for change in changes if change["incident"] == duplicate.pk][-1]
    assert tombstone == {
        "change": "retracted",
        "incident": duplicate.pk,
        "data_version": tombstone["data_version"],
        "changed_at": tombstone["changed_at"],
        "note": f"Duplicate of incident {kept.pk}.",
        "duplicate_of": kept.pk,
    }
    updated = [change for change in changes if change["incident"] == kept.pk][-1]
    assert updated["change"] == "updated" and updated["feature"]["properties"]["independent_sources"] == 1


def test_merges_are_a_publishers_and_refused_when_they_would_lose_or_hide_something(pair, editor, publisher):
    kept, duplicate, _army = pair
    with pytest.raises(PermissionDenied):
        services.incident_merge(kept=kept, duplicate=duplicate, user=editor)
    with pytest.raises(ValidationError, match="cannot be merged into itself"):
        services.incident_merge(kept=kept, duplicate=kept, user=publisher)
    # A published incident merged into a draft would leave the public site with nothing in its place.
    with pytest.raises(ValidationError, match=r"publish .* first"):
        services.incident_merge(kept=duplicate, duplicate=kept, user=publisher)
    services.incident_merge(kept=kept, duplicate=duplicate, user=publisher)
    with pytest.raises(ValidationError, match="already retracted"):
        services.incident_merge(kept=kept, duplicate=duplicate, user=publisher)
    assert Incident.objects.get(pk=kept.pk).status == Status.PUBLISHED


def test_a_second_merge_carries_earlier_duplicates_along(publisher):
    first, second, third = incident(title="A"), incident(title="B"), incident(title="C")
    services.incident_merge(kept=second, duplicate=first, user=publisher)
    services.incident_merge(kept=third, duplicate=second, user=publisher)
    assert Incident.objects.get(pk=first.pk).duplicate_of_id == third.pk
    assert Incident.objects.get(pk=second.pk).duplicate_of_id == third.pk


def test_the_admin_merge_buttons(publisher_client, pair, client, editor):
    kept, duplicate, _army = pair
    url = reverse("admin:incidents_incident_merge", args=[kept.pk])
    response = publisher_client.post(url, {"other": duplicate.pk, "keep": "this"})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:incidents_incident_change", args=[kept.pk])
    assert Incident.objects.get(pk=duplicate.pk).duplicate_of_id == kept.pk
    page = publisher_client.get(response["Location"]).content.decode()
    assert "is merged into" in page
    # A bad number is a message, not a 500; an Editor's merge is refused with a message and changes nothing.
    response = publisher_client.post(url, {"other": "999999", "keep": "this"}, follow=True)
    assert "There is no incident with that number that is not retracted." in response.content.decode()
    other = incident(title="Another")
    client.force_login(editor)
    response = client.post(
        reverse("admin:incidents_incident_merge", args=[other.pk]), {"other": kept.pk, "keep": "other"}, follow=True
    )
    assert "You do not have permission to do that." in response.content.decode()
    assert Incident.objects.get(pk=other.pk).status == Status.DRAFT
