"""Releases (`manage.py release NAME`): the published set frozen with a manifest and a citation, listed at
/releases/, and `?release=NAME` answering byte for byte as it was after edits, retractions and new incidents."""

import datetime
import hashlib
import json

import pytest
from django.core.management import CommandError, call_command

from incidents import services
from incidents.models import Release
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def folders(settings, tmp_path):
    settings.RELEASES_DIR = tmp_path / "releases"
    settings.DOWNLOAD_CACHE_DIR = tmp_path / "downloads"


def body(response):
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_release_answers_as_it_was_after_edits_and_retractions(client, export_incidents, publisher):
    aleppo, palmyra, mosul = export_incidents
    geojson_then = body(client.get("/api/incidents.geojson?download=1"))
    csv_then = body(client.get("/api/incidents.csv"))
    call_command("release", "2026-12")

    palmyra.title = "IS assault north of Palmyra (corrected)"
    palmyra.save()
    services.incident_retract(incident=mosul, reason="Wrong year.", user=publisher)
    IncidentFactory(published=True, title="A later clash")

    # The release is exactly the full download of its day, whatever changed since; the live answers moved on.
    assert body(client.get("/api/incidents.geojson?release=2026-12&download=1")) == geojson_then
    assert body(client.get("/api/incidents.csv?release=2026-12")) == csv_then
    assert body(client.get("/api/incidents.geojson?download=1")) != geojson_then
    release = Release.objects.get(name="2026-12")
    manifest = release.manifest
    assert (release.number, release.incidents, manifest["incidents"]) == (1, 3, 3)
    for filename, served in (("incidents.geojson", geojson_then), ("incidents.csv", csv_then)):
        assert manifest["files"][filename] == {"bytes": len(served), "sha256": hashlib.sha256(served).hexdigest()}
    assert "release 1 “2026-12” (3 published incidents" in manifest["citation"]

    # A second release numbers on; incident ids are the same in both.
    call_command("release", "2026-12-b")
    later = Release.objects.get(name="2026-12-b")
    assert (later.number, later.incidents) == (2, 3)  # mosul retracted, the later clash published
    first_ids = {f["id"] for f in json.loads(geojson_then)["features"]}
    later_file = json.loads(body(client.get("/api/incidents.geojson?release=2026-12-b&download=1")))
    later_ids = {f["id"] for f in later_file["features"]}
    assert first_ids - later_ids == {mosul.pk} and {aleppo.pk, palmyra.pk} <= later_ids


def test_a_release_is_listed_with_its_files_checksums_and_citation(client, export_incidents, settings):
    call_command("release", "first")
    folder = settings.RELEASES_DIR / "first"
    assert sorted(path.name for path in folder.iterdir()) == [
        "CITATION.cff",
        "incidents.csv",
        "incidents.geojson",
        "manifest.json",
    ]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest == Release.objects.get(name="first").manifest
    assert "cff-version: 1.2.0" in (folder / "CITATION.cff").read_text()
    listed = client.get("/api/releases.json").json()["releases"]
    assert [entry["name"] for entry in listed] == ["first"]
    assert listed[0]["urls"]["incidents.csv"] == "http://testserver/api/incidents.csv?release=first"
    page = client.get("/releases/").content.decode()
    assert "Release 1: first" in page and manifest["files"]["incidents.csv"]["sha256"] in page
    assert '/api/incidents.geojson?release=first&amp;download=1"' in page  # the file, not a page
    assert manifest["citation"] in page
    assert client.get("/ar/releases/").status_code == 200


def test_bad_names_and_parameters_are_refused(client, export_incidents):
    call_command("release", "one")
    with pytest.raises(CommandError, match="There is already a release “one”"):
        call_command("release", "one")
    with pytest.raises(CommandError, match="is not a release name"):
        call_command("release", "../etc")
    assert Release.objects.count() == 1
    for query, named in (
        ("release=nope", "release"),
        ("release=one&release=two", "release"),
        ("release=one&download=1&country=SY", "country"),  # a release's file is served whole
        ("release=one&download=1&limit=5", "limit"),
    ):
        response = client.get(f"/api/incidents.geojson?{query}")
        assert response.status_code == 400, query
        assert list(response.json()["errors"]) == [named], query
    # An immutable file: a client holding it gets 304.
    served = client.get("/api/incidents.csv?release=one")
    assert client.get("/api/incidents.csv?release=one", HTTP_IF_NONE_MATCH=served["ETag"]).status_code == 304


def test_publishers_make_a_release_from_the_admin_through_a_job(client, export_incidents, publisher, editor):
    client.force_login(editor)
    assert client.get("/admin/incidents/release/make/").status_code == 403
    client.force_login(publisher)
    page = client.get("/admin/incidents/release/").content.decode()
    assert "/admin/incidents/release/make/" in page  # the "Make a release" button

    response = client.post("/admin/incidents/release/make/", {"name": "2026-12"}, follow=True)
    release = Release.objects.get(name="2026-12")  # the job ran in the request (JOBS_RUN_AT_ONCE in tests)
    assert (release.number, release.incidents, release.created_by) == (1, 3, publisher)
    assert "Release “2026-12” is being made" in response.content.decode()
    again = client.post("/admin/incidents/release/make/", {"name": "2026-12"}).content.decode()
    assert "There is already a release “2026-12”." in again
    assert "Enter a valid “slug”" in client.post("/admin/incidents/release/make/", {"name": "a b"}).content.decode()


def test_a_queued_release_job_shows_its_state_on_the_release_list(client, export_incidents, publisher, settings):
    settings.JOBS_RUN_AT_ONCE = False  # queued for a worker; none runs in this test
    client.force_login(publisher)
    client.post("/admin/incidents/release/make/", {"name": "2027-01"})
    assert not Release.objects.exists()
    page = client.get("/admin/incidents/release/").content.decode()
    assert "2027-01" in page and '<strong class="release-job-state">queued</strong>' in page
    assert "No job worker is running" in page


def test_a_release_whose_files_are_gone_is_a_404_not_a_500(client, export_incidents, settings):
    call_command("release", "lost")
    (settings.RELEASES_DIR / "lost" / "incidents.csv").unlink()
    response = client.get("/api/incidents.csv?release=lost")
    assert response.status_code == 404
    assert "missing" in response.json()["description"]


# Filters a release can apply, each as the live API answered it on the release's day.
RELEASE_QUERIES = (
    "",
    "country=IQ",
    "country=SY&admin1=Homs",
    "event_type=protests",
    "event_type=battles&event_type=protests",
    "sub_event_type=battles-armed-clash",
    "start=2019-04-19",
    "end=2019-01-01",
    "start=2019-04-19&end=2019-04-19",
    "fatalities_min=10",
    "precision=1",
    "bbox=37,34,39,35",
)


def feature_pages(client, url):
    """Every feature of a paged answer, following `next` links (one page per request)."""
    features = []
    while url:
        page = json.loads(body(client.get(url)))
        features += page["features"]
        url = page.get("next") or next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    return features


def test_json_and_ogc_pages_of_a_release_answer_as_the_live_api_did(client, export_incidents, publisher):
    aleppo, palmyra, mosul = export_incidents
    then = {query: feature_pages(client, f"/api/incidents.geojson?{query}&limit=1") for query in RELEASE_QUERIES}
    items_then = {query: feature_pages(client, f"/ogcapi/collections/incidents/items?{query}&limit=2") for query in
                  ("", "datetime=2019-04-19/..", "datetime=../2019-01-01")}  # fmt: skip
    call_command("release", "then")

    # Since: an edit that moves palmyra out of several filters, a retraction, a deletion and a new incident.
    palmyra.title, palmyra.admin1, palmyra.fatalities_best, palmyra.fatalities_low = "Corrected", "Hama", 3, 3
    palmyra.save()
    services.incident_retract(incident=mosul, reason="Wrong year.", user=publisher)
    aleppo_id = aleppo.pk
    aleppo.delete()
    later = IncidentFactory(published=True, title="A later clash", country="IQ", start_date=datetime.date(2019, 4, 19))

    for query, features in then.items():
        assert feature_pages(client, f"/api/incidents.geojson?{query}&release=then&limit=1") == features, query
        assert feature_pages(client, f"/api/incidents.geojson?release=then&{query}") == features, query
        items = feature_pages(client, f"/ogcapi/collections/incidents/items?release=then&{query}&limit=2")
        assert [item["id"] for item in items] == [feature["id"] for feature in features], query
    for query, items in items_then.items():
        assert feature_pages(client, f"/ogcapi/collections/incidents/items?{query}&release=then&limit=2") == items
    # The live answers moved on: the comparison above could fail.
    assert feature_pages(client, "/api/incidents.geojson?fatalities_min=10") == []
    assert [f["id"] for f in feature_pages(client, "/api/incidents.geojson?country=IQ")] == [later.pk]

    # One item by id: as it was, retracted or deleted since; one made since is not in the release.
    released = {feature["id"]: feature for feature in then[""]}
    for pk in (palmyra.pk, mosul.pk, aleppo_id):
        item = json.loads(body(client.get(f"/ogcapi/collections/incidents/items/{pk}?release=then")))
        assert {k: v for k, v in item.items() if k != "links"} == released[pk]
        assert item["links"][0]["href"].endswith(f"/items/{pk}?release=then")
    assert client.get(f"/ogcapi/collections/incidents/items/{mosul.pk}").status_code == 404
    assert client.get(f"/ogcapi/collections/incidents/items/{later.pk}").status_code == 200
    missing = client.get(f"/ogcapi/collections/incidents/items/{later.pk}?release=then")
    assert missing.status_code == 404 and "release then" in missing.json()["description"]

    # A page names how many the release holds when no filter narrows it, and its `next` link keeps the release.
    page = json.loads(body(client.get("/api/incidents.geojson?release=then&limit=1")))
    assert (page["numberMatched"], page["numberReturned"]) == (3, 1) and "release=then" in page["next"]
    html = client.get("/ogcapi/collections/incidents/items?release=then&f=html").content.decode()
    assert f"/items/{mosul.pk}?release=then&amp;f=html" in html and "Filter (CQL2)" not in html


def test_a_release_refuses_what_it_cannot_apply_naming_the_parameter(client, export_incidents):
    call_command("release", "one")
    actor = export_incidents[0].incident_actors.first().actor_id
    for url, named in (
        ("/api/incidents.geojson?release=one&q=Palmyra", "q"),
        (f"/api/incidents.geojson?release=one&actor={actor}", "actor"),
        ("/api/incidents.geojson?release=one&country=SY&side=a", "side"),
        ("/api/incidents.geojson?release=one&fatalities_min=-1", "fatalities_min"),  # still validated
        ("/api/incidents.csv?release=one&country=SY", "country"),  # the CSV of a release is its file, whole
        ("/api/incidents.csv?release=one&hxl=1", "hxl"),
        ("/api/timeline?release=one", "release"),
        ("/ogcapi/collections/incidents/items?release=one&filter=fatalities_best>1", "filter"),
        ("/ogcapi/collections/incidents/items?release=one&sortby=-fatalities_best", "sortby"),
        ("/ogcapi/collections/incidents/items?release=nope", "release"),
        (f"/ogcapi/collections/incidents/items/{actor}?release=nope", "release"),
        ("/ogcapi/collections/incidents?release=one", "release"),
    ):
        response = client.get(url)
        assert response.status_code == 400, url
        if named:
            assert list(response.json()["errors"]) == [named], url
    # The same name twice is one release; two names are refused.
    once = body(client.get("/api/incidents.geojson?release=one"))
    assert (
        json.loads(body(client.get("/api/incidents.geojson?release=one&release=one")))["features"]
        == json.loads(once)["features"]
    )
    assert client.get("/ogcapi/collections/incidents/items?release=one&release=two").status_code == 400


def test_release_answers_are_cached_for_long_and_the_collection_lists_releases(client, export_incidents):
    collection = client.get("/ogcapi/collections/incidents")
    call_command("release", "2026-12")
    # The collection lists the new release although the data did not change: the client's copy is stale.
    fresh = client.get("/ogcapi/collections/incidents", HTTP_IF_NONE_MATCH=collection["ETag"])
    assert fresh.status_code == 200
    links = {link["href"]: link for link in fresh.json()["links"]}
    release_items = links["http://testserver/ogcapi/collections/incidents/items?release=2026-12"]
    assert "Release 1 “2026-12”" in release_items["title"]
    assert any(link["rel"] == "version-history" for link in links.values())
    listed = client.get("/api/releases.json").json()["releases"][0]
    assert listed["pages"]["ogcapi"] == "http://testserver/ogcapi/collections/incidents/items?release=2026-12"

    for url in (
        "/api/incidents.geojson?release=2026-12&limit=2",
        "/ogcapi/collections/incidents/items?release=2026-12",
        f"/ogcapi/collections/incidents/items/{export_incidents[0].pk}?release=2026-12",
    ):
        response = client.get(url)
        body(response)
        assert response["Cache-Control"] == "public, max-age=31536000, immutable", url
        again = client.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
        assert again.status_code == 304 and again["ETag"] == response["ETag"], url
    # The live page is revalidated as the data changes; a release's is not.
    assert "immutable" not in client.get("/api/incidents.geojson?limit=2").get("Cache-Control", "")
