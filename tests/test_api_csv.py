import csv
import io
import json

import pytest
from django.urls import reverse

from incidents import selectors

pytestmark = pytest.mark.django_db

URL = reverse("incidents:api-csv")

ACLED_COLUMNS = [
    "event_id_cnty", "event_date", "year", "time_precision", "event_type", "sub_event_type", "actor1",
    "assoc_actor_1", "actor2", "assoc_actor_2", "country", "admin1", "admin2", "location", "latitude",
    "longitude", "geo_precision", "source", "notes", "fatalities", "timestamp",
]  # fmt: skip


def rows_of(response):
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_acled_columns_come_first_then_ours(client, export_incidents):
    response = client.get(URL)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="incidents.csv"'
    header = next(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert header[: len(ACLED_COLUMNS)] == ACLED_COLUMNS
    assert {"end_date", "fatalities_low", "fatalities_high", "source_urls", "id"} <= set(header)


def test_a_download_read_back_with_csv_round_trips_every_incident(client, export_incidents):
    rows = rows_of(client.get(URL))
    assert [int(row["id"]) for row in rows] == [incident.pk for incident in export_incidents]
    for row, incident in zip(rows, export_incidents, strict=True):
        incident.refresh_from_db()
        assert (float(row["longitude"]), float(row["latitude"])) == (incident.location.x, incident.location.y)
        assert row["title"] == incident.title
        assert row["notes"] == incident.description
        assert row["event_date"] == incident.start_date.isoformat()
        assert row["end_date"] == incident.end_date.isoformat()
        assert row["year"] == str(incident.start_date.year)
        assert row["time_precision"] == str(incident.date_precision)
        assert row["geo_precision"] == str(incident.location_precision)
        assert row["event_type"] == incident.event_type.name
        assert row["country"] == incident.country.name
        assert row["admin1"] == incident.admin1
        assert row["fatalities"] == ("" if incident.fatalities_best is None else str(incident.fatalities_best))
        assert row["timestamp"] == str(int(incident.updated_at.timestamp()))
    palmyra = rows[1]
    assert palmyra["event_id_cnty"] == f"SYR{export_incidents[1].pk}"
    assert (palmyra["actor1"], palmyra["assoc_actor_1"]) == ("Islamic State", "")
    assert (palmyra["actor2"], palmyra["assoc_actor_2"]) == ("Syrian Arab Army", "Liwa al-Quds")
    assert palmyra["source"] == "DW; SANA"
    assert palmyra["source_urls"] == "https://www.dw.com/a-48413223"
    assert palmyra["notes"] == "Fighters attacked army positions, “at least 35” killed."
    assert (palmyra["fatalities_low"], palmyra["fatalities"], palmyra["fatalities_high"]) == ("35", "35", "")
    assert palmyra["location"] == "Palmyra"
    assert rows[2]["country"] == "Iraq"


FILTER_CASES = [
    {},
    {"country": "SY"},
    {"event_type": "battles"},
    {"start": "2019-04-19", "end": "2019-04-20"},
    {"bbox": "36,34,39,37", "fatalities_min": "3"},
    {"q": "Mosul"},
    {"precision": ["1", "2"]},
]


@pytest.mark.parametrize("params", FILTER_CASES)
def test_the_same_filters_give_the_same_set_everywhere(client, export_incidents, params):
    expected = sorted(incident.pk for incident in selectors.incident_filter(params=params_dict(params)))
    geojson = json.loads(b"".join(client.get(reverse("incidents:api-geojson"), params).streaming_content))
    csv_ids = [int(row["id"]) for row in rows_of(client.get(URL, params))]
    ogc = json.loads(b"".join(client.get(reverse("incidents:ogc-items", args=["incidents"]), params).streaming_content))
    assert sorted(feature["id"] for feature in geojson["features"]) == expected
    assert sorted(csv_ids) == expected
    assert sorted(feature["id"] for feature in ogc["features"]) == expected
    assert ogc["numberMatched"] == geojson["numberMatched"] == len(expected)


def params_dict(params):
    from django.http import QueryDict

    query = QueryDict(mutable=True)
    for name, value in params.items():
        query.setlist(name, value if isinstance(value, list) else [value])
    return query
