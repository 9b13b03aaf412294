import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "geojson": reverse("incidents:api-geojson"),
    "csv": reverse("incidents:api-csv"),
    "timeline": reverse("incidents:api-timeline"),
    "ogc-items": reverse("incidents:ogc-items", args=["incidents"]),
}
FILTER_ERRORS = [
    ({"bbox": "38,34,40"}, "bbox", "four numbers"),
    ({"bbox": "40,34,38,36"}, "bbox", "minLon is greater than maxLon"),
    ({"bbox": "38,36,40,34"}, "bbox", "minLat is greater than maxLat"),
    ({"bbox": "38,34,40,91"}, "bbox", "latitudes must be between -90 and 90"),
    ({"bbox": "NaN,34,40,36"}, "bbox", "finite"),
    ({"start": "2019-02-30"}, "start", "valid date"),
    ({"start": "2019-05-01", "end": "2019-04-01"}, "end", "end is before start"),
    ({"event_type": "picnics"}, "event_type", "picnics"),
    ({"fatalities_min": "-3"}, "fatalities_min", "greater than or equal to 0"),
]
PAGING_ERRORS = [
    ({"limit": "-1"}, "limit", "at least 1"),
    ({"limit": "0"}, "limit", "at least 1"),
    ({"limit": "ten"}, "limit", "whole number"),
    ({"cursor": "not-a-cursor"}, "cursor", "not a cursor this server issued"),
]


def assert_400_naming(response, parameter, words):
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert list(body["errors"]) == [parameter]
    assert words in " ".join(body["errors"][parameter])
    assert body["description"].startswith(f"{parameter}: ")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("params", "parameter", "words"), FILTER_ERRORS)
def test_a_malformed_filter_is_a_400_naming_it(client, endpoint, params, parameter, words):
    assert_400_naming(client.get(ENDPOINTS[endpoint], params), parameter, words)


@pytest.mark.parametrize("endpoint", ["geojson", "ogc-items"])
@pytest.mark.parametrize(("params", "parameter", "words"), PAGING_ERRORS)
def test_a_malformed_page_parameter_is_a_400_naming_it(client, endpoint, params, parameter, words):
    assert_400_naming(client.get(ENDPOINTS[endpoint], params), parameter, words)


@pytest.mark.parametrize("endpoint", ["geojson", "ogc-items"])
def test_a_tampered_cursor_is_refused(client, export_incidents, endpoint):
    page = json.loads(b"".join(client.get(ENDPOINTS[endpoint], {"limit": 1}).streaming_content))
    next_link = next(link["href"] for link in page["links"] if link["rel"] == "next")
    cursor = parse_qs(urlsplit(next_link).query)["cursor"][0]
    assert client.get(ENDPOINTS[endpoint], {"limit": 1, "cursor": cursor}).status_code == 200
    tampered = cursor[:-3] + ("AAA" if cursor[-3:] != "AAA" else "BBB")
    assert_400_naming(client.get(ENDPOINTS[endpoint], {"limit": 1, "cursor": tampered}), "cursor", "not a cursor")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("2019-04-31", "not an RFC 3339"),
        ("yesterday", "not an RFC 3339"),
        ("2019-05-01/2019-04-01", "ends before it starts"),
        ("2019-04-18T12:00:00Z/2019-04-18T11:00:00Z", "ends before it starts"),
        ("2019-01-01/2019-02-01/2019-03-01", "one instant or one start/end interval"),
        ("..", "cannot be open"),
        ("/", "at least one bounded end"),
        ("../..", "at least one bounded end"),
        ("../", "at least one bounded end"),
        ("0001-01-01T00:00:00+01:00", "outside the years 1 to 9999"),
        ("9999-12-31T23:00:00-05:00/..", "outside the years 1 to 9999"),
    ],
)
def test_a_malformed_datetime_is_a_400_naming_it(client, value, words):
    assert_400_naming(client.get(ENDPOINTS["ogc-items"], {"datetime": value}), "datetime", words)


def test_ogc_items_refuse_an_unknown_parameter(client):
    assert_400_naming(client.get(ENDPOINTS["ogc-items"], {"bbox_crs": "x"}), "bbox_crs", "not a parameter")


def test_download_flag_must_be_a_flag(client):
    assert_400_naming(client.get(ENDPOINTS["geojson"], {"download": "please"}), "download", "1 or 0")


@pytest.mark.parametrize(("params", "parameter", "words"), PAGING_ERRORS)
def test_a_malformed_page_parameter_is_refused_in_download_mode_too(client, params, parameter, words):
    assert_400_naming(client.get(ENDPOINTS["geojson"], {"download": "1", **params}), parameter, words)


def test_download_refuses_a_valid_limit_or_cursor(client, export_incidents):
    refusal = "download=1 streams the whole set; leave out limit and cursor."
    assert_400_naming(client.get(ENDPOINTS["geojson"], {"download": "1", "limit": "5"}), "limit", refusal)
    page = json.loads(b"".join(client.get(ENDPOINTS["geojson"], {"limit": 1}).streaming_content))
    cursor = parse_qs(urlsplit(page["next"]).query)["cursor"][0]
    assert_400_naming(client.get(ENDPOINTS["geojson"], {"download": "1", "cursor": cursor}), "cursor", refusal)
    assert client.get(ENDPOINTS["geojson"], {"download": "1"}).status_code == 200
