import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse
from django.utils import translation

from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db

URL = reverse("incidents:api-geojson")


def test_api_urls_carry_no_language_prefix_while_pages_do(client, export_incidents):
    with translation.override("ar"):
        assert reverse("incidents:api-geojson") == "/api/incidents.geojson"
        assert reverse("incidents:ogc-landing") == "/ogcapi/"
        assert reverse("incidents:home") == "/ar/"
    assert reverse("incidents:api-csv") == "/api/incidents.csv"
    assert reverse("incidents:api-openapi") == "/api/openapi.json"
    assert reverse("incidents:ogc-openapi") == "/ogcapi/api"
    assert client.get("/api/incidents.geojson", HTTP_ACCEPT_LANGUAGE="ar").status_code == 200
    assert client.get("/ar/api/incidents.geojson").status_code == 404
    assert client.get("/ar/").status_code == 200
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("name", ["api-geojson", "api-csv", "api-timeline", "ogc-items"])
def test_a_conditional_get_is_answered_304_until_the_data_changes(client, export_incidents, name):
    url = reverse(f"incidents:{name}", args=["incidents"] if name.startswith("ogc") else [])
    first = client.get(url)
    assert first.status_code == 200
    etag, last_modified = first["ETag"], first["Last-Modified"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304
    IncidentFactory(published=True, title="A new report")
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_retracting_an_incident_changes_the_etag(client, export_incidents):
    etag = client.get(URL)["ETag"]
    export_incidents[0].status, export_incidents[0].retraction_reason = "retracted", "Wrong place"
    export_incidents[0].save()
    assert client.get(URL, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_different_filters_have_different_etags(client, export_incidents):
    assert client.get(URL)["ETag"] != client.get(URL, {"country": "SY"})["ETag"]


@pytest.mark.parametrize(
    "url", [URL, reverse("incidents:api-csv"), reverse("incidents:ogc-landing"), reverse("incidents:api-openapi")]
)
def test_public_gets_may_be_read_cross_origin(client, url):
    response = client.get(url, HTTP_ORIGIN="https://analyst.example.org")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response["Access-Control-Expose-Headers"]
    preflight = client.options(url, HTTP_ORIGIN="https://analyst.example.org")
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert "If-None-Match" in preflight["Access-Control-Allow-Headers"]


def test_errors_are_cross_origin_readable_too(client):
    response = client.get(URL, {"limit": "-1"})
    assert response.status_code == 400
    assert response["Access-Control-Allow-Origin"] == "*"


def test_writes_are_not_allowed(client):
    assert client.post(URL).status_code == 405


def test_the_openapi_document_lists_our_endpoints_and_filters(client):
    document = client.get(reverse("incidents:api-openapi")).json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {
        "/api/incidents.geojson",
        "/api/incidents.csv",
        "/api/changes",
        "/api/releases.json",
        "/api/timeline",
        "/api/regions.json",
        "/api/regions.csv",
        "/api/regions/boundaries.geojson",
        "/api/trends.json",
        "/api/trends.csv",
        "/api/aggregated.json",
        "/api/aggregated.csv",
        "/tiles/tiles.json",
        "/tiles/{z}/{x}/{y}.mvt",
    }
    parameters = {p["name"]: p for p in document["paths"]["/api/incidents.geojson"]["get"]["parameters"]}
    from incidents.filters import IncidentFilterSet
    from incidents.models import EventType

    # Generated from the FilterSet: exactly its filters, then the page's own parameters.
    assert list(parameters) == [*IncidentFilterSet.base_filters, "limit", "cursor", "download", "release"]
    csv_parameters = [p["name"] for p in document["paths"]["/api/incidents.csv"]["get"]["parameters"]]
    assert csv_parameters == [*IncidentFilterSet.base_filters, "hxl", "release"]
    # Values the filter takes from the database are listed as they are now.
    slugs = parameters["event_type"]["schema"]["items"]["enum"]
    assert sorted(slugs) == sorted(EventType.objects.values_list("slug", flat=True))
    assert parameters["fatalities_min"]["schema"] == {"type": "integer", "minimum": 0}


PUBLIC_DATA_URLS = {
    "geojson": lambda pk: reverse("incidents:api-geojson"),
    "geojson-download": lambda pk: reverse("incidents:api-geojson") + "?download=1",
    "csv": lambda pk: reverse("incidents:api-csv"),
    "timeline": lambda pk: reverse("incidents:api-timeline"),
    "openapi": lambda pk: reverse("incidents:api-openapi"),
    "ogc-landing": lambda pk: reverse("incidents:ogc-landing"),
    "ogc-landing-html": lambda pk: reverse("incidents:ogc-landing") + "?f=html",
    "ogc-conformance": lambda pk: reverse("incidents:ogc-conformance"),
    "ogc-collections": lambda pk: reverse("incidents:ogc-collections"),
    "ogc-collection": lambda pk: reverse("incidents:ogc-collection", args=["incidents"]),
    "ogc-items": lambda pk: reverse("incidents:ogc-items", args=["incidents"]),
    "ogc-item": lambda pk: reverse("incidents:ogc-item", args=["incidents", pk]),
    "ogc-openapi": lambda pk: reverse("incidents:ogc-openapi"),
    "map-feed": lambda pk: reverse("incidents:map-feed"),
    "incident-json": lambda pk: reverse("incidents:detail-json", args=[pk]),
    "tile": lambda pk: reverse("incidents:tile", args=["6", "38", "25"]),
    "tilejson": lambda pk: reverse("incidents:tilejson"),
}


@pytest.mark.parametrize("name", PUBLIC_DATA_URLS)
def test_every_public_data_url_has_an_etag_answers_304_and_allows_cors(client, export_incidents, name):
    url = PUBLIC_DATA_URLS[name](export_incidents[1].pk)
    first = client.get(url)
    assert first.status_code == 200
    assert first["ETag"].startswith('"')
    assert first["Access-Control-Allow-Origin"] == "*"
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]
    assert again["Access-Control-Allow-Origin"] == "*"
    if first.has_header("Last-Modified"):
        assert client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304


@pytest.mark.parametrize("name", ["ogc-collections", "ogc-collection", "map-feed", "incident-json", "ogc-item"])
def test_validators_of_documents_that_follow_the_data_change_with_it(client, export_incidents, name):
    palmyra = export_incidents[1]
    url = PUBLIC_DATA_URLS[name](palmyra.pk)
    first = client.get(url)
    assert first.has_header("Last-Modified") == (name != "map-feed")  # the feed's ETag is hashed from its body
    palmyra.title = "IS assault north of Palmyra (corrected)"
    palmyra.location = Point(38.3, 34.6, srid=4326)
    palmyra.save()
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


@pytest.mark.parametrize("name", ["api-openapi", "ogc-openapi"])
def test_every_documented_operation_lists_the_rate_limit_and_the_outage_answers(client, name):
    document = client.get(reverse(f"incidents:{name}")).json()
    operations = [operation for path in document["paths"].values() for operation in path.values()]
    assert len(operations) >= 3
    for operation in operations:
        for code in ("429", "503"):
            assert "Retry-After" in operation["responses"][code]["headers"], (operation["operationId"], code)
