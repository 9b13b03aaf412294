import json

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

ITEMS = reverse("incidents:ogc-items", args=["incidents"])


def items(client, **params):
    response = client.get(ITEMS, params)
    assert response.status_code == 200, response.content if not response.streaming else ""
    assert response["Content-Type"] == "application/geo+json"
    return json.loads(b"".join(response.streaming_content))


def test_landing_page_links_to_the_api_definition_conformance_and_data(client):
    landing = client.get(reverse("incidents:ogc-landing")).json()
    links = {link["rel"]: link for link in landing["links"]}
    assert links["service-desc"]["href"] == "http://testserver/ogcapi/api"
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert links["conformance"]["href"] == "http://testserver/ogcapi/conformance"
    assert links["data"]["href"] == "http://testserver/ogcapi/collections"


def test_conformance_declares_core_geojson_html_and_openapi(client):
    conforms_to = client.get(reverse("incidents:ogc-conformance")).json()["conformsTo"]
    part_1 = [uri for uri in conforms_to if "/ogcapi-features-1/" in uri]
    assert {"core", "geojson", "html", "oas30"} == {uri.rsplit("/", 1)[1] for uri in part_1}


def test_the_collection_has_the_extent_of_published_incidents_only(client, export_incidents):
    collection = client.get(reverse("incidents:ogc-collection", args=["incidents"])).json()
    assert collection["extent"]["spatial"]["bbox"] == [[37.1293, 34.556, 43.1189, 36.34]]
    assert collection["extent"]["temporal"]["interval"] == [["2018-11-02T00:00:00Z", "2019-04-20T23:59:59Z"]]
    items = {link["type"]: link["href"] for link in collection["links"] if link["rel"] == "items"}
    assert items == {
        "application/geo+json": f"http://testserver{ITEMS}",
        "text/html": f"http://testserver{ITEMS}?f=html",
    }
    collections = client.get(reverse("incidents:ogc-collections")).json()["collections"]
    assert [c["id"] for c in collections] == ["incidents"]


def test_an_unknown_collection_is_a_404(client):
    response = client.get(reverse("incidents:ogc-collection", args=["tanks"]))
    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"


def test_items_count_published_incidents_only(client, export_incidents):
    page = items(client)
    assert page["numberMatched"] == page["numberReturned"] == 3
    assert "timeStamp" in page
    assert [feature["id"] for feature in page["features"]] == [incident.pk for incident in export_incidents]


@pytest.mark.parametrize(
    ("value", "titles"),
    [
        ("2019-04-19", {"IS assault north of Palmyra"}),
        ("2019-04-20T08:30:00Z", {"Shelling of al-Hamdaniya, Aleppo"}),
        ("2019-04-19/2019-04-20", {"IS assault north of Palmyra", "Shelling of al-Hamdaniya, Aleppo"}),
        ("../2018-12-31", {"Protest in Mosul"}),
        ("/2018-12-31", {"Protest in Mosul"}),
        ("2019-04-20/..", {"Shelling of al-Hamdaniya, Aleppo"}),
        ("2017-01-01T00:00:00+02:00/2018-11-02T01:00:00+03:00", set()),
    ],
)
def test_datetime_instants_and_intervals(client, export_incidents, value, titles):
    page = items(client, datetime=value)
    assert {feature["properties"]["title"] for feature in page["features"]} == titles
    assert page["numberMatched"] == len(titles)


def test_bbox_limit_and_paging_links(client, export_incidents):
    page = items(client, bbox="36,34,39,37", limit=1)
    # A bbox is not in the pre-aggregated counts, so numberMatched (optional in OGC API) is left out, not counted.
    assert "numberMatched" not in page
    assert page["numberReturned"] == 1
    rels = {link["rel"]: link for link in page["links"]}
    assert rels["next"]["type"] == "application/geo+json"
    assert rels["collection"]["href"] == "http://testserver/ogcapi/collections/incidents"
    second = json.loads(b"".join(client.get(rels["next"]["href"]).streaming_content))
    assert [feature["id"] for feature in second["features"]] == [export_incidents[1].pk]
    assert "next" not in {link["rel"] for link in second["links"]}


def test_our_filters_work_as_extra_parameters(client, export_incidents):
    page = items(client, event_type="protests", country="IQ")
    assert [feature["properties"]["title"] for feature in page["features"]] == ["Protest in Mosul"]


def test_one_item_and_drafts_are_not_found(client, export_incidents):
    from incidents.models import Incident

    palmyra = export_incidents[1]
    response = client.get(reverse("incidents:ogc-item", args=["incidents", palmyra.pk]))
    assert response["Content-Type"] == "application/geo+json"
    feature = response.json()
    assert feature["geometry"]["coordinates"] == [38.2673, 34.556]
    assert feature["properties"]["title"] == "IS assault north of Palmyra"
    assert (feature["properties"]["date_precision_label"], feature["properties"]["location_precision_label"]) == (
        "week",
        "near",
    )
    assert {"self", "alternate", "collection"} <= {link["rel"] for link in feature["links"]}
    for hidden in Incident.objects.exclude(status="published"):
        missing = client.get(reverse("incidents:ogc-item", args=["incidents", hidden.pk]))
        assert missing.status_code == 404
        assert missing.json()["code"] == "NotFound"
    assert client.get(reverse("incidents:ogc-item", args=["incidents", "-1"])).status_code == 404
    assert client.get(reverse("incidents:ogc-item", args=["incidents", "9" * 30])).status_code == 404


@pytest.mark.parametrize("name", ["ogc-landing", "ogc-conformance", "ogc-collections"])
def test_html_by_f_or_by_accept_json_otherwise(client, name):
    url = reverse(f"incidents:{name}")
    assert client.get(url, {"f": "html"})["Content-Type"] == "text/html; charset=utf-8"
    browser = client.get(url, HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert browser["Content-Type"] == "text/html; charset=utf-8"
    assert b"<h1>" in browser.content
    assert client.get(url, HTTP_ACCEPT="application/json")["Content-Type"] == "application/json"
    assert client.get(url, {"f": "json"}, HTTP_ACCEPT="text/html")["Content-Type"] == "application/json"
    assert "Accept" in client.get(url)["Vary"]
    bad = client.get(url, {"f": "xml"})
    assert bad.status_code == 400
    assert list(bad.json()["errors"]) == ["f"]


def test_items_as_html_escape_titles(client, export_incidents):
    export_incidents[0].title = "<script>alert(1)</script>"
    export_incidents[0].save()
    response = client.get(ITEMS, {"f": "html"})
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert b"<script>alert" not in response.content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.content


def test_the_ogc_openapi_document_describes_items(client):
    response = client.get(reverse("incidents:ogc-openapi"))
    assert response["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    document = response.json()
    parameters = {p["name"] for p in document["paths"]["/collections/incidents/items"]["get"]["parameters"]}
    assert {"bbox", "datetime", "limit", "cursor", "event_type", "actor", "q", "f"} <= parameters
    assert document["servers"] == [{"url": "http://testserver/ogcapi"}]
