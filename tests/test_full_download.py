"""The unfiltered download is a file: Content-Length, ETag, Accept-Ranges, resumable with Range (206)."""

import csv
import io
import json

import pytest

from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db

GEOJSON = "/api/incidents.geojson"


@pytest.fixture(autouse=True)
def download_cache(settings, tmp_path):
    settings.DOWNLOAD_CACHE_DIR = tmp_path / "downloads"
    return settings.DOWNLOAD_CACHE_DIR


def body(response):
    return b"".join(response.streaming_content)


def test_the_full_geojson_download_is_a_file_of_the_published_incidents(client, export_incidents, download_cache):
    response = client.get(GEOJSON, {"download": "1"})
    assert response.status_code == 200
    content = body(response)
    assert int(response["Content-Length"]) == len(content)
    assert response["Accept-Ranges"] == "bytes"
    assert response["ETag"].startswith('"')
    assert response["Content-Disposition"] == 'attachment; filename="incidents.geojson"'
    titles = [feature["properties"]["title"] for feature in json.loads(content)["features"]]
    assert titles == [incident.title for incident in export_incidents]  # no draft, no retraction
    # The same features as the streamed export of the same set (an empty filter takes the streaming path).
    streamed = json.loads(body(client.get(GEOJSON, {"download": "1", "q": ""})))
    assert json.loads(content)["features"] == streamed["features"]
    assert [path.suffix for path in download_cache.iterdir() if not path.name.endswith(".lock")] == [".geojson"]


def test_the_full_csv_download_is_a_file_too(client, export_incidents):
    response = client.get("/api/incidents.csv")
    assert response.status_code == 200
    content = body(response)
    assert int(response["Content-Length"]) == len(content)
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    assert len(rows) == 3
    assert "IS assault north of Palmyra" in content.decode()
    assert "Draft near Palmyra" not in content.decode()
    streamed = body(client.get("/api/incidents.csv", {"q": ""}))
    assert content == streamed


def test_a_cut_download_resumes_with_range(client, export_incidents):
    full = client.get(GEOJSON, {"download": "1"})
    content, etag = body(full), full["ETag"]
    resumed = client.get(GEOJSON, {"download": "1"}, HTTP_RANGE="bytes=100-", HTTP_IF_RANGE=etag)
    assert resumed.status_code == 206
    assert resumed["Content-Range"] == f"bytes 100-{len(content) - 1}/{len(content)}"
    assert content[:100] + body(resumed) == content
    middle = client.get(GEOJSON, {"download": "1"}, HTTP_RANGE="bytes=10-19")
    assert (middle.status_code, body(middle), middle["Content-Length"]) == (206, content[10:20], "10")
    tail = client.get(GEOJSON, {"download": "1"}, HTTP_RANGE="bytes=-5")
    assert body(tail) == content[-5:]


def test_a_range_past_the_end_is_416_and_a_stale_if_range_gets_the_whole_file(client, export_incidents):
    full = client.get(GEOJSON, {"download": "1"})
    size = len(body(full))
    past = client.get(GEOJSON, {"download": "1"}, HTTP_RANGE=f"bytes={size}-")
    assert past.status_code == 416
    assert past["Content-Range"] == f"bytes */{size}"
    stale = client.get(GEOJSON, {"download": "1"}, HTTP_RANGE="bytes=100-", HTTP_IF_RANGE='"an-older-version"')
    assert stale.status_code == 200
    assert len(body(stale)) == size


def test_a_current_copy_gets_304_and_new_data_a_new_file(client, export_incidents, download_cache):
    first = client.get(GEOJSON, {"download": "1"})
    body(first)
    assert client.get(GEOJSON, {"download": "1"}, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    IncidentFactory(published=True, title="A new report")
    second = client.get(GEOJSON, {"download": "1"}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200
    assert second["ETag"] != first["ETag"]
    assert "A new report" in body(second).decode()
    # The older version's file is gone; only the current one (and the writers' lock) remain.
    assert len([path for path in download_cache.iterdir() if path.suffix == ".geojson"]) == 1


def test_a_draft_changes_neither_the_file_nor_its_etag(client, export_incidents):
    first = client.get(GEOJSON, {"download": "1"})
    content = body(first)
    IncidentFactory(title="Another draft")
    again = client.get(GEOJSON, {"download": "1"})
    assert again["ETag"] == first["ETag"]
    assert body(again) == content
