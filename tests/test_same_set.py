"""One FilterSet: the map feed, the timeline, GeoJSON, CSV and OGC items all show the same incidents for a filter."""

import csv
import io
import json

import pytest
from django.http import QueryDict
from django.urls import reverse

from incidents import selectors
from incidents.models import Actor

pytestmark = pytest.mark.django_db

# Actor names stand for their ids, which the fixture assigns.
FILTER_CASES = {
    "nothing": {},
    "country": {"country": "SY"},
    "event_type": {"event_type": "battles"},
    "dates": {"start": "2019-04-19", "end": "2019-04-20"},
    "bbox": {"bbox": "36,34,39,37"},
    "bbox+fatalities_min": {"bbox": "36,34,39,37", "fatalities_min": "3"},
    "fatalities_min": {"fatalities_min": "2"},
    "q": {"q": "Mosul"},
    "q-in-description": {"q": "army positions"},
    "precision": {"precision": ["1", "2"]},
    "precision-exact": {"precision": "1"},
    "admin1": {"admin1": "Homs"},
    "admin1-two": {"admin1": "Aleppo,Nineveh"},
    "actor": {"actor": "Syrian Arab Army"},
    "actor+side-b": {"actor": "Syrian Arab Army", "side": "b"},
    "actor+side-a": {"actor": "Syrian Arab Army", "side": "a"},
    "two-actors+side-a": {"actor": ["Islamic State", "Syrian Arab Army"], "side": "a"},
}


def query_of(params):
    query = QueryDict(mutable=True)
    for name, value in params.items():
        values = value if isinstance(value, list) else [value]
        if name == "actor":
            values = [str(Actor.objects.get(name=actor).pk) for actor in values]
        query.setlist(name, values)
    return query


def streamed(response):
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8")


@pytest.mark.parametrize("case", FILTER_CASES)
def test_the_same_filters_give_the_same_set_everywhere(client, export_incidents, case):
    query = query_of(FILTER_CASES[case])
    expected = sorted(incident.pk for incident in selectors.incident_filter(params=query))
    url = "?" + query.urlencode()

    geojson = json.loads(streamed(client.get(reverse("incidents:api-geojson") + url)))
    download = json.loads(streamed(client.get(reverse("incidents:api-geojson") + url + "&download=1")))
    csv_rows = list(csv.DictReader(io.StringIO(streamed(client.get(reverse("incidents:api-csv") + url)), newline="")))
    ogc = json.loads(streamed(client.get(reverse("incidents:ogc-items", args=["incidents"]) + url)))
    feed = client.get(reverse("incidents:map-feed") + url).json()
    timeline = client.get(reverse("incidents:api-timeline") + url).json()

    assert sorted(feature["id"] for feature in geojson["features"]) == expected
    assert sorted(feature["id"] for feature in download["features"]) == expected
    assert sorted(int(row["id"]) for row in csv_rows) == expected
    assert sorted(feature["id"] for feature in ogc["features"]) == expected
    assert sorted(point["id"] for point in feed["incidents"]) == expected
    assert feed["total"] == len(expected)
    # numberMatched comes only from the pre-aggregated counts (dates, types, countries, regions) and then is exact.
    cheap = set(FILTER_CASES[case]) <= selectors.AGGREGATE_FILTERS
    assert ogc.get("numberMatched") == geojson.get("numberMatched") == (len(expected) if cheap else None)
    assert timeline["total"] == sum(bucket["total"] for bucket in timeline["buckets"]) == len(expected)


def test_the_cases_are_not_all_trivial(export_incidents):
    sizes = {case: selectors.incident_filter(params=query_of(params)).count() for case, params in FILTER_CASES.items()}
    assert sizes["nothing"] == 3
    assert sizes["actor+side-a"] == 0
    assert sizes["two-actors+side-a"] == 1
    assert sizes["actor+side-b"] == 2
    assert sizes["admin1"] == 1
    assert sizes["q"] == 1
    assert sizes["bbox"] == 2
    assert sizes["fatalities_min"] == 2
    assert sizes["precision-exact"] == 2
