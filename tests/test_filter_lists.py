"""Every list filter of the one FilterSet means the same repeated (`?country=SY&country=IQ`), comma-separated
(`?country=SY,IQ`) or mixed, on every public output: the union of what each value finds alone."""

import csv
import io
import json

import pytest

from incidents.filters import IncidentFilterSet
from incidents.models import IncidentActor, Side, SubEventType
from tests.conftest import make_export_incidents
from tests.factories import ActorFactory
from tests.shared_rows import fresh_copy, rows_for_the_module

pytestmark = pytest.mark.django_db


# The declared list filters: the ones the documents describe as repeatable (OpenAPI `explode: true`).
LIST_FILTERS = [
    name for name, query_filter in IncidentFilterSet.base_filters.items() if query_filter.openapi.get("explode")
]

# How each list filter's value reads off an incident (the first value where an incident has several).
VALUE_OF = {
    "event_type": lambda incident: incident.event_type.slug,
    "sub_event_type": lambda incident: incident.sub_event_type and incident.sub_event_type.slug,
    "actor": lambda incident: incident.incident_actors.order_by("pk").values_list("actor_id", flat=True).first(),
    "country": lambda incident: incident.country,
    "admin1": lambda incident: incident.admin1,
    "precision": lambda incident: incident.location_precision,
    "clarity": lambda incident: incident.event_clarity,
}


def content(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def titles_geojson(response):
    return sorted(feature["properties"]["title"] for feature in json.loads(content(response))["features"])


def titles_csv(response):
    return sorted(row["title"] for row in csv.DictReader(io.StringIO(content(response).decode())))


def map_list(response):
    return sorted(item["title"] for item in response.json()["incidents"])


def map_feed_total(response):
    return response.json()["total"]


def timeline_total(response):
    return response.json()["total"]


# (path, what a visitor reads off the answer)
OUTPUTS = {
    "map feed": ("/map/incidents.json", map_feed_total),
    "map list": ("/map/list.json", map_list),
    "Arabic map list": ("/ar/map/list.json", map_list),
    "GeoJSON": ("/api/incidents.geojson", titles_geojson),
    "CSV": ("/api/incidents.csv", titles_csv),
    "timeline": ("/api/timeline", timeline_total),
    "OGC API items": ("/ogcapi/collections/incidents/items", titles_geojson),
}


@pytest.fixture(scope="module")
def listed_incidents_once(django_db_setup, django_db_blocker):
    yield from rows_for_the_module(django_db_blocker, make_listed_incidents)


@pytest.fixture
def listed_incidents(listed_incidents_once, db):
    return fresh_copy(listed_incidents_once)


def make_listed_incidents():
    """The export incidents, each with a sub-event type (of its own event type), so every list has two values. Made
    once for the module (tests/shared_rows.py)."""
    export_incidents = make_export_incidents()
    for number, incident in enumerate(export_incidents):
        if incident.sub_event_type is None:
            incident.sub_event_type = SubEventType.objects.filter(event_type=incident.event_type).order_by("pk")[0]
        incident.event_clarity = 1 + number % 2  # clear, lower clarity, clear…
        incident.save()
    mosul = export_incidents[2]
    IncidentActor.objects.create(incident=mosul, actor=ActorFactory(name="Protesters (Iraq)"), side=Side.A)
    return export_incidents


def test_every_list_filter_has_its_values_here():
    assert sorted(LIST_FILTERS) == sorted(VALUE_OF)


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("name", LIST_FILTERS)
def test_repeated_and_comma_forms_find_the_union(client, listed_incidents, name, output):
    path, reading = OUTPUTS[output]
    values = []
    for incident in listed_incidents:
        value = VALUE_OF[name](incident)
        if value is not None and str(value) not in values:
            values.append(str(value))

    def matching(query):
        return set(titles_geojson(client.get(f"/api/incidents.geojson?{query}")))

    # Two values where the last alone finds less than both (else keeping only the last would pass unseen).
    found = {value: matching(f"{name}={value}") for value in values}
    first, second = next((a, b) for a in values for b in values if not found[a] <= found[b])
    union = found[first] | found[second]

    def answer(query):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 200, (query, response.content[:300])
        return reading(response)

    repeated = answer(f"{name}={first}&{name}={second}")
    assert repeated == answer(f"{name}={first},{second}")
    assert repeated == answer(f"{name}={second}&{name}={first},{first}")
    assert repeated == (sorted(union) if isinstance(repeated, list) else len(union))
