"""Confidence: how many independent sources support an incident and its clarity grade (UCDP's event_clarity), in
every output, as filters, on the incident page and popup, imported from UCDP and set by editors."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse

from incidents.importing import import_batch_create, import_events
from incidents.models import DATASET_URL, Dataset, EventClarity, Incident, IncidentSource
from tests.factories import IncidentFactory, SourceFactory

pytestmark = pytest.mark.django_db

UCDP_SAMPLE = Path(__file__).parent / "data" / "ucdp" / "ged-iraq-hdx-sample.csv"


def cite(incident, source, reporter=""):
    IncidentSource.objects.create(incident=incident, source=source, original_reporter=reporter)


@pytest.fixture
def graded():
    """Published incidents whose citations test each rule of "independent", with their expected counts."""
    one_site = IncidentFactory(published=True, title="One site", sources=[
        SourceFactory(publisher="DW", url="https://www.dw.com/en/a"),
    ], event_clarity=EventClarity.CLEAR)  # fmt: skip
    cite(one_site, SourceFactory(publisher="Deutsche Welle", url="https://dw.com/en/b"))  # the same site
    relayed = IncidentFactory(published=True, title="Relayed", sources=[
        SourceFactory(publisher="Reuters", url="https://www.reuters.com/x"),
    ])  # fmt: skip
    IncidentSource.objects.filter(incident=relayed).update(original_reporter="SOHR")
    cite(relayed, SourceFactory(publisher="AP", url="https://apnews.com/y"), reporter=" sohr ")  # one witness
    cite(relayed, SourceFactory(publisher="Enab Baladi", url="https://english.enabbaladi.net/z"))
    dataset = SourceFactory(publisher="UCDP GED 24.1", url=DATASET_URL[Dataset.UCDP_GED])
    dataset_only = IncidentFactory(published=True, title="Dataset only", sources=[dataset],
                                   event_clarity=EventClarity.LOWER)  # fmt: skip
    cite(dataset_only, SourceFactory(publisher="ACLED", url=DATASET_URL[Dataset.ACLED]))  # datasets: one together
    # UCDP cites articles as "outlet,date,headline": two articles of one outlet are one source; the dataset adds none.
    articles = IncidentFactory(published=True, title="Articles", sources=[dataset])
    cite(articles, SourceFactory(publisher='"Agence France Presse,2014-01-25,Iraq violence kills 14"', url=""))
    cite(articles, SourceFactory(publisher='"Agence France Presse,2014-01-26,More violence"', url=""))
    cite(articles, SourceFactory(publisher="Rudaw", url=""))
    return {one_site: 1, relayed: 2, dataset_only: 1, articles: 2}


def geojson(client, **params):
    response = client.get(reverse("incidents:api-geojson"), params)
    assert response.status_code == 200
    return {feature["id"]: feature for feature in json.loads(b"".join(response.streaming_content))["features"]}


def csv_rows(client, **params):
    response = client.get(reverse("incidents:api-csv"), params)
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8")
    return {int(row["id"]): row for row in csv.DictReader(io.StringIO(text, newline=""))}


def test_every_output_carries_the_independent_sources_and_the_clarity(client, graded):
    features, rows = geojson(client), csv_rows(client)
    for incident, expected in graded.items():
        properties = features[incident.pk]["properties"]
        assert properties["independent_sources"] == expected, incident.title
        assert properties["event_clarity"] == incident.event_clarity
        item = client.get(reverse("incidents:ogc-item", args=["incidents", incident.pk])).json()
        assert item["properties"]["independent_sources"] == expected
        assert rows[incident.pk]["independent_sources"] == str(expected)
        assert rows[incident.pk]["event_clarity"] == (
            "" if incident.event_clarity is None else str(incident.event_clarity)
        )


def test_the_hxl_row_tags_both_columns(client, graded):
    response = client.get(reverse("incidents:api-csv"), {"hxl": "1"})
    header, tags = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))[:2]
    assert tags[header.index("event_clarity")] == "#meta+clarity"
    assert tags[header.index("independent_sources")] == "#meta+sources+num"


def test_both_are_filters_of_the_api_the_map_the_timeline_and_ogc(client, graded):
    by_title = {incident.title: incident.pk for incident in graded}
    two_or_more = {by_title["Relayed"], by_title["Articles"]}
    assert set(geojson(client, sources_min=2)) == two_or_more
    assert set(csv_rows(client, sources_min=2)) == two_or_more
    assert set(geojson(client, clarity=1)) == {by_title["One site"]}
    assert (
        set(geojson(client, clarity="1,2"))
        == set(geojson(client, clarity=[1, 2]))
        == {
            by_title["One site"],
            by_title["Dataset only"],
        }
    )
    assert set(geojson(client, clarity=2, sources_min=2)) == set()
    # The map's list and clusters count the same set (live: no kept table holds these).
    body = client.get(reverse("incidents:map-list"), {"sources_min": 2}).json()
    assert {row["id"] for row in body["incidents"]} == two_or_more and body["total"] == 2
    feed = client.get(reverse("incidents:map-feed"), {"sources_min": 2, "zoom": 3}).json()
    assert feed["total"] == 2
    assert client.get(reverse("incidents:api-timeline"), {"clarity": 1}).json()["total"] == 1
    assert client.get(reverse("incidents:api-timeline"), {"sources_min": 2}).json()["total"] == 2
    response = client.get(
        reverse("incidents:ogc-items", args=["incidents"]),
        {"filter": "independent_sources >= 2 AND event_clarity IS NULL", "sortby": "-independent_sources,title"},
    )
    items = json.loads(b"".join(response.streaming_content))
    assert [feature["properties"]["title"] for feature in items["features"]] == ["Articles", "Relayed"]
    queryables = client.get(reverse("incidents:ogc-queryables", args=["incidents"])).json()["properties"]
    assert queryables["event_clarity"] == {
        "title": "Clarity (1 clear, 2 lower clarity)",
        "type": ["integer", "null"],
        "enum": [1, 2],
        "x-sortable": True,
    }
    assert queryables["independent_sources"]["type"] == "integer"


@pytest.mark.parametrize(
    ("params", "parameter", "words"),
    [
        ({"clarity": "3"}, "clarity", "3 is not one of the available choices"),
        ({"sources_min": "-1"}, "sources_min", "greater than or equal to 0"),
        ({"sources_min": "many"}, "sources_min", "Enter a whole number"),
    ],
)
@pytest.mark.parametrize("endpoint", ["incidents:api-geojson", "incidents:api-csv", "incidents:map-feed"])
def test_bad_values_are_a_400_naming_the_parameter(client, endpoint, params, parameter, words):
    response = client.get(reverse(endpoint), params)
    assert response.status_code == 400
    assert words in " ".join(response.json()["errors"][parameter])


def test_the_incident_page_and_popup_say_it(client, graded):
    relayed = next(incident for incident in graded if incident.title == "Relayed")
    relayed.event_clarity = EventClarity.CLEAR
    relayed.save()
    page = client.get(reverse("incidents:detail", args=[relayed.pk])).content.decode()
    assert '<dd class="incident-confidence">2 independent sources; clarity: Clear</dd>' in page
    popup = client.get(reverse("incidents:detail-json", args=[relayed.pk])).json()
    assert popup["confidence"] == "2 independent sources; clarity: Clear"
    assert (popup["independent_sources"], popup["event_clarity"]) == (2, 1)
    assert client.get(f"/ar/incidents/{relayed.pk}.json").json()["confidence"] == "مصدران مستقلان؛ الوضوح: واضح"


def test_ucdp_imports_set_the_clarity_from_the_file():
    with open(UCDP_SAMPLE, newline="", encoding="utf-8-sig") as given:
        expected = {row["id"]: row["event_clarity"] for row in csv.DictReader(given) if row["id"][:1].isdigit()}
    batch = import_events(batch=import_batch_create(path=UCDP_SAMPLE, user=None), path=UCDP_SAMPLE)
    assert batch.status == "done"
    stored = dict(Incident.objects.filter(dataset="ucdp-ged").values_list("event_id", "event_clarity"))
    assert stored == {event_id: int(code) for event_id, code in expected.items()}
    assert {1, 2} <= set(stored.values())  # the sample has both grades: the comparison is not of one value


def test_an_editor_sets_the_clarity_and_a_publisher_sees_it_in_the_outputs(client, publisher):
    incident = IncidentFactory(published=True, location=Point(38.27, 34.56, srid=4326))
    client.force_login(publisher)
    page = client.get(reverse("admin:incidents_incident_change", args=[incident.pk])).content.decode()
    assert 'name="event_clarity"' in page and "Lower clarity" in page
    assert '<div class="readonly">1</div>' in page  # the independent sources, read-only
    Incident.objects.filter(pk=incident.pk).update(event_clarity=EventClarity.LOWER)
    client.logout()
    assert geojson(client)[incident.pk]["properties"]["event_clarity"] == 2
    assert set(geojson(client, clarity=2)) == {incident.pk}
