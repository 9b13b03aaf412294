"""The change feed (/api/changes): a copy of the full download, brought up to date by the feed alone, equals the full
download made afterwards, through edits, link changes, retractions, unpublishing, an import and its revert; drafts
never appear; changes come in commit order, whatever order the writers started in."""

import json
import threading
from urllib.parse import urlsplit

import pytest
from django.contrib.gis.geos import Point
from django.db import connection, transaction

from incidents import services
from incidents.importing import import_batch_revert
from incidents.models import Actor, ChangeKind, Incident, IncidentActor, IncidentChange, Side, Status
from tests.factories import ActorFactory, IncidentFactory, SourceFactory
from tests.test_import import ACLED, ACLED_NEWER, run_import

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def download_dir(settings, tmp_path):
    settings.DOWNLOAD_CACHE_DIR = tmp_path / "downloads"


def full_download(client):
    """(features by id, in file order; the change feed URL its Link header gives)."""
    response = client.get("/api/incidents.geojson?download=1")
    assert response.status_code == 200
    features = json.loads(b"".join(response.streaming_content))["features"]
    link = response["Link"]
    assert link.endswith('>; rel="changes"')
    return {feature["id"]: feature for feature in features}, link[1 : link.index(">")]


def local(url):
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def apply_feed(client, copy, url):
    """Apply every change from `url` on, page by page, to `copy`; return the changes and the resume URL."""
    seen = []
    while url:
        response = client.get(local(url))
        assert response.status_code == 200, response.content
        page = json.loads(response.content)
        for change in page["changes"]:
            seen.append(change)
            if change["change"] in (ChangeKind.CREATED, ChangeKind.UPDATED) and change["feature"]:
                copy[change["incident"]] = change["feature"]
            else:
                # Left the public set (or has since left it: an earlier change's feature is null).
                copy.pop(change["incident"], None)
        url, resume = page["next"], page["resume"]
    return seen, resume


def download_order(features):
    return sorted(features.values(), key=lambda f: (f["properties"]["start_date"], f["id"]), reverse=True)


def test_a_copy_brought_up_to_date_by_the_feed_equals_the_new_full_download(client, export_incidents, publisher):
    aleppo, palmyra, mosul = export_incidents
    copy, feed_url = full_download(client)
    assert set(copy) == {aleppo.pk, palmyra.pk, mosul.pk}
    draft = Incident.objects.get(title="Draft near Palmyra")

    # Edits of published incidents, their links and a shared actor; a new incident; drafts touched throughout.
    palmyra.title, palmyra.location = "IS assault on army posts north of Palmyra", Point(38.3, 34.6, srid=4326)
    palmyra.save()
    IncidentActor.objects.create(incident=aleppo, actor=ActorFactory(name="Hay'at Tahrir al-Sham"), side=Side.A)
    Actor.objects.filter(name="Syrian Arab Army").update(name="Syrian Arab Army (SAA)")
    draft.title = "Draft near Palmyra, still unchecked"
    draft.save()
    added = IncidentFactory(published=True, title="Clash near Tadmur", sources=[SourceFactory()])
    never_published = IncidentFactory(title="A draft only")
    # Retracted, unpublished, published again after a retraction.
    services.incident_retract(incident=mosul, reason="The protest took place in 2017.", user=publisher)
    services.incident_unpublish(incident=added, user=publisher)
    services.incident_publish(incident=mosul, user=publisher)
    services.incident_retract(incident=mosul, reason="Still the 2017 protest.", user=publisher)
    # An import published, a newer export that retracts what it misses, then both reverted.
    first = run_import(ACLED, status=Status.PUBLISHED)
    newer = run_import(ACLED_NEWER, retract_missing=True)
    import_batch_revert(batch=newer, user=None)
    middle_copy = dict(copy)
    changes, resume = apply_feed(client, middle_copy, feed_url)
    assert middle_copy == full_download(client)[0]  # with the first import in
    import_batch_revert(batch=first, user=None)

    changes, resume = apply_feed(client, copy, feed_url)
    current, _link = full_download(client)
    assert copy == current
    assert download_order(copy) == list(current.values())

    # What the feed said along the way, for the hand-made incidents.
    by_incident = {}
    for change in changes:
        by_incident.setdefault(change["incident"], []).append(change)
    assert draft.pk not in by_incident and never_published.pk not in by_incident
    palmyra_changes = [(c["change"], c.get("fields")) for c in by_incident[palmyra.pk]]
    assert palmyra_changes == [("updated", ["geometry", "title", "updated_at"]), ("updated", ["actors"])]
    assert [(c["change"], c.get("fields")) for c in by_incident[aleppo.pk]] == [
        ("updated", ["actors"]),  # HTS added
        ("updated", ["actors"]),  # the army renamed
    ]
    # The factory writes the incident, then cites its source: two statements, two changes (the source is its first
    # independent one).
    assert [(c["change"], c.get("fields")) for c in by_incident[added.pk]] == [
        ("created", None),
        ("updated", ["independent_sources", "sources"]),
        ("unpublished", None),
    ]
    assert [(c["change"], c.get("note")) for c in by_incident[mosul.pk]] == [
        ("retracted", "The protest took place in 2017."),
        ("created", None),
        ("retracted", "Still the 2017 protest."),
    ]
    # Tombstones carry no content; a change whose incident has left the public set since carries none either.
    for change in changes:
        if change["change"] in ("retracted", "unpublished", "deleted"):
            assert "feature" not in change
    assert all(c.get("feature") is None for c in by_incident[added.pk])
    # Commit order: the ids and the data versions only grow.
    versions = [c["data_version"] for c in changes]
    assert versions == sorted(versions)

    # Nothing new: the resume link answers an empty page that resumes at the same place.
    page = json.loads(client.get(local(resume)).content)
    assert (page["changes"], page["next"], page["resume"]) == ([], None, resume)


def test_an_empty_copy_and_the_whole_feed_make_the_full_download(client, export_incidents):
    copy = {}
    apply_feed(client, copy, "/api/changes?limit=1")
    assert copy == full_download(client)[0]


def test_pages_follow_one_another_without_gaps_or_repeats(client, export_incidents):
    for incident in export_incidents:
        incident.title += " (checked)"
        incident.save()
    whole = json.loads(client.get("/api/changes?limit=100").content)["changes"]
    paged, url = [], "/api/changes?limit=2"
    while url:
        page = json.loads(client.get(local(url)).content)
        assert page["numberReturned"] <= 2 and page["limit"] == 2
        paged += page["changes"]
        url = page["next"]
    assert paged == whole and len(whole) > 6  # the fixture's writes, then the three edits


def test_a_bad_token_is_a_400_naming_since(client, db):
    for query in ("since=abc", "since=eDE", "since=%2F%2F", "since=YzE&since=YzI", "limit=0"):
        response = client.get(f"/api/changes?{query}")
        assert response.status_code == 400, query
        name = "limit" if query.startswith("limit") else "since"
        assert name in response.json()["errors"], query
    # "djE0" decodes to "v14": a token of ours, kept valid.
    assert client.get("/api/changes?since=djE0").status_code == 200


def test_the_feed_sends_only_what_the_public_feature_carries(client, export_incidents, publisher):
    aleppo = export_incidents[0]
    aleppo.import_record = {"private": "not public"}
    aleppo.description = "Shelling, two killed."
    aleppo.save()
    change = json.loads(client.get("/api/changes").content)["changes"][-1]
    feature = json.loads(client.get(f"/ogcapi/collections/incidents/items/{aleppo.pk}").content)
    feature.pop("links")  # the OGC item is the feature plus its links
    assert change["feature"] == feature
    assert "not public" not in json.dumps(change)
    assert change["fields"] == ["description", "updated_at"]
    services.incident_retract(incident=aleppo, reason="Wrong town.", user=publisher)
    changes = json.loads(client.get("/api/changes").content)["changes"]
    assert changes[-1] == {
        "change": "retracted",
        "incident": aleppo.pk,
        "data_version": changes[-1]["data_version"],
        "changed_at": changes[-1]["changed_at"],
        "note": "Wrong town.",
        "duplicate_of": None,  # not a merge (tests/test_duplicates.py has one)
    }
    # Its earlier changes (created by the fixture, the edit) no longer carry its content.
    earlier = [c for c in changes if c["incident"] == aleppo.pk and c["change"] != "retracted"]
    assert len(earlier) > 1 and all(c["feature"] is None for c in earlier)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the taxonomy back after other tests' flushes
def test_changes_are_numbered_in_commit_order():
    """The second writer starts while the first is still open and must wait: its changes come after the first's
    commit, so a reader that saw the second's could never miss the first's."""
    with transaction.atomic():
        palmyra = IncidentFactory(published=True, title="IS assault north of Palmyra")
        mosul = IncidentFactory(published=True, title="Protest in Mosul")
    baseline = IncidentChange.objects.order_by("-id").values_list("id", flat=True).first()
    first_open, release_first = threading.Event(), threading.Event()
    finished = []

    def first_writer():
        with transaction.atomic():
            Incident.objects.filter(pk=palmyra.pk).update(title="First writer")
            first_open.set()
            release_first.wait(10)
        finished.append("first")
        connection.close()

    def second_writer():
        Incident.objects.filter(pk=mosul.pk).update(title="Second writer")
        finished.append("second")
        connection.close()

    one = threading.Thread(target=first_writer)
    one.start()
    try:
        assert first_open.wait(10)
        two = threading.Thread(target=second_writer)
        two.start()
        two.join(0.5)
        assert finished == []  # the second waits for the first's commit
        assert not IncidentChange.objects.filter(id__gt=baseline).exists()  # and a reader sees neither
    finally:
        release_first.set()
        one.join(10)
    two.join(10)
    assert finished == ["first", "second"]
    updates = IncidentChange.objects.filter(id__gt=baseline).order_by("id")
    assert list(updates.values_list("incident_id", "kind")) == [(palmyra.pk, "updated"), (mosul.pk, "updated")]
