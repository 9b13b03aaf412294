"""Releases (`manage.py release NAME`): the published set frozen with a manifest and a citation, listed at
/releases/, and `?release=NAME` answering byte for byte as it was after edits, retractions and new incidents."""

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
    assert body(client.get("/api/incidents.geojson?release=2026-12")) == geojson_then
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
    later_ids = {f["id"] for f in json.loads(body(client.get("/api/incidents.geojson?release=2026-12-b")))["features"]}
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
    assert manifest["citation"] in page
    assert client.get("/ar/releases/").status_code == 200


def test_bad_names_and_parameters_are_refused(client, export_incidents):
    call_command("release", "one")
    with pytest.raises(CommandError, match="There is already a release “one”"):
        call_command("release", "one")
    with pytest.raises(CommandError, match="is not a release name"):
        call_command("release", "../etc")
    assert Release.objects.count() == 1
    for query in ("release=nope", "release=one&country=SY", "release=one&release=two", "release=one&limit=5"):
        response = client.get(f"/api/incidents.geojson?{query}")
        assert response.status_code == 400, query
        assert "release" in response.json()["errors"]
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
