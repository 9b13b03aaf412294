import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents.models import Status
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db

URL = reverse("incidents:api-geojson")


def body_of(response):
    return json.loads(b"".join(response.streaming_content))


def test_a_feature_carries_every_property_in_lon_lat_order(client, export_incidents):
    aleppo, palmyra, mosul = export_incidents
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    collection = body_of(response)
    assert collection["type"] == "FeatureCollection"
    assert "crs" not in collection
    assert [feature["id"] for feature in collection["features"]] == [aleppo.pk, palmyra.pk, mosul.pk]
    feature = collection["features"][1]
    assert feature["geometry"] == {"type": "Point", "coordinates": [38.2673, 34.556]}
    properties = feature["properties"]
    assert properties["title"] == "IS assault north of Palmyra"
    assert properties["description"] == "Fighters attacked army positions, “at least 35” killed."
    assert (properties["title_ar"], properties["description_ar"], properties["original_language"]) == ("", "", "en")
    assert (properties["start_date"], properties["end_date"], properties["date_precision"]) == (
        "2019-04-18",
        "2019-04-19",
        2,
    )
    assert properties["place_reported"] == "desert north of Palmyra"
    assert (properties["admin1"], properties["admin2"]) == ("Homs", "Tadmur")
    assert (properties["country"], properties["country_name"], properties["location_precision"]) == ("SY", "Syria", 2)
    assert (properties["date_precision_label"], properties["location_precision_label"]) == ("week", "near")
    labels = [
        (feature["properties"]["date_precision_label"], feature["properties"]["location_precision_label"])
        for feature in collection["features"]
    ]
    assert labels == [("day", "exact"), ("week", "near"), ("day", "exact")]

    assert (properties["event_type"], properties["event_type_name"]) == ("battles", "Battles")
    assert (properties["sub_event_type"], properties["sub_event_type_name"]) == ("battles-armed-clash", "Armed clash")
    assert properties["actors"] == [
        {"name": "Islamic State", "name_ar": None, "side": "a", "associated": False},
        {"name": "Syrian Arab Army", "name_ar": None, "side": "b", "associated": False},
        {"name": "Liwa al-Quds", "name_ar": None, "side": "b", "associated": True},
    ]
    assert (properties["fatalities_low"], properties["fatalities_best"], properties["fatalities_high"]) == (
        35,
        35,
        None,
    )
    assert properties["sources"] == [
        {
            "publisher": "DW",
            "title": "IS kills 35 Syrian soldiers",
            "url": "https://www.dw.com/a-48413223",
            "published_on": "2019-04-20",
            "original_reporter": "Syrian Observatory for Human Rights",
        },
        {
            "publisher": "SANA",
            "title": "Army repels attack",
            "url": None,
            "published_on": None,
            "original_reporter": None,
        },
    ]
    palmyra.refresh_from_db()
    assert datetime.datetime.fromisoformat(properties["updated_at"]) == palmyra.updated_at


def test_drafts_and_retractions_are_in_no_page_and_no_count(client, export_incidents):
    collection = body_of(client.get(URL))
    titles = {feature["properties"]["title"] for feature in collection["features"]}
    assert titles == {"IS assault north of Palmyra", "Shelling of al-Hamdaniya, Aleppo", "Protest in Mosul"}
    assert collection["numberMatched"] == 3
    assert collection["numberReturned"] == 3
    assert collection["next"] is None
    download = body_of(client.get(URL, {"download": "1", "q": "assault"}))
    assert [feature["properties"]["title"] for feature in download["features"]] == ["IS assault north of Palmyra"]


def test_pages_follow_next_links_through_the_whole_set_once(client, export_incidents):
    seen, url, pages = [], f"{URL}?limit=1&country=SY", 0
    while url:
        page = body_of(client.get(url))
        assert page["numberMatched"] == 2
        assert page["numberReturned"] == len(page["features"]) == 1
        seen += [feature["id"] for feature in page["features"]]
        url, pages = page["next"], pages + 1
        if url:
            assert {"rel": "next", "type": "application/geo+json", "href": url} in page["links"]
            assert "country=SY" in url
    assert pages == 2
    assert seen == [export_incidents[0].pk, export_incidents[1].pk]


def test_incidents_on_the_same_day_are_paged_without_loss(client, db):
    same_day = [IncidentFactory(published=True, start_date=datetime.date(2020, 1, 1)) for _ in range(7)]
    seen, url = [], f"{URL}?limit=3"
    while url:
        page = body_of(client.get(url))
        seen += [feature["id"] for feature in page["features"]]
        url = page["next"]
    assert seen == sorted((incident.pk for incident in same_day), reverse=True)


def test_a_huge_limit_is_clamped_and_the_response_says_so(client, export_incidents, settings):
    settings.API_MAX_LIMIT = 2
    page = body_of(client.get(URL, {"limit": 10**9}))
    assert page["numberReturned"] == 2
    assert page["limit"] == 2
    assert page["warnings"] == ["limit 1000000000 is above the maximum of 2; at most 2 features are returned per page."]
    assert "limit=2" in page["next"]


def test_download_streams_the_whole_set_as_an_attachment(client, export_incidents, settings):
    settings.API_MAX_LIMIT = 1
    response = client.get(URL, {"download": "1"})
    assert response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="incidents.geojson"'
    collection = body_of(response)
    assert len(collection["features"]) == 3
    assert "next" not in collection


def test_bbox_keeps_only_incidents_inside(client, export_incidents):
    collection = body_of(client.get(URL, {"bbox": "36,34,39,37"}))
    assert {feature["id"] for feature in collection["features"]} == {export_incidents[0].pk, export_incidents[1].pk}


def test_the_download_runs_the_same_queries_for_3_or_33_incidents(client, export_incidents):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            body_of(client.get(URL, {"download": "1"}))
        return len(captured)

    few = queries()
    for _ in range(30):
        IncidentFactory(published=True, status=Status.PUBLISHED)
    assert queries() == few


@pytest.mark.parametrize("name", ["api-geojson", "api-csv", "ogc-items"])
def test_a_filter_django_proves_empty_gives_an_empty_export(client, export_incidents, name):
    # A fatality count beyond PostgreSQL's integer range matches nothing; Django then runs no query at all.
    url = reverse(f"incidents:{name}", args=["incidents"] if name == "ogc-items" else [])
    response = client.get(url, {"fatalities_min": "216477086794115"})
    assert response.status_code == 200
    content = b"".join(response.streaming_content).decode()
    if name == "api-csv":
        assert content.count("\n") == 1  # the header only
    else:
        assert json.loads(content)["features"] == []


def test_precision_labels_name_every_code(client, export_incidents):
    from incidents.models import Incident

    Incident.objects.filter(pk=export_incidents[2].pk).update(date_precision=3, location_precision=3)
    feature = body_of(client.get(URL))["features"][2]
    assert (feature["properties"]["date_precision"], feature["properties"]["date_precision_label"]) == (3, "month")
    assert (feature["properties"]["location_precision"], feature["properties"]["location_precision_label"]) == (
        3,
        "region",
    )
