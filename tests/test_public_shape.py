"""What the public sees of an incident is one thing (incidents/public.py): the GeoJSON feature, the OGC item and the
CSV row of each incident say the same of it, country names included."""

import csv
import io
import json

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def features(client):
    body = json.loads(b"".join(client.get(reverse("incidents:api-geojson"), {"limit": 1000}).streaming_content))
    return {feature["id"]: feature for feature in body["features"]}


def csv_rows(client):
    text = b"".join(client.get(reverse("incidents:api-csv")).streaming_content).decode("utf-8")
    return {int(row["id"]): row for row in csv.DictReader(io.StringIO(text, newline=""))}


def names(actors, side, associated):
    return "; ".join(a["name"] for a in actors if a["side"] == side and a["associated"] == associated)


def test_the_feature_the_ogc_item_and_the_csv_row_say_the_same(client, export_incidents):
    by_feature, by_row = features(client), csv_rows(client)
    assert by_feature.keys() == by_row.keys() == {incident.pk for incident in export_incidents}
    for pk, feature in by_feature.items():
        item = client.get(reverse("incidents:ogc-item", args=["incidents", pk])).json()
        assert {key: item[key] for key in ("id", "geometry", "properties")} == {
            key: feature[key] for key in ("id", "geometry", "properties")
        }
        properties, row = feature["properties"], by_row[pk]
        assert row["country"] == (properties["country_name"] or "")
        assert row["country"]  # the fixture's incidents have a country: the comparison is not of two blanks
        for column, name in [
            ("title", "title"),
            ("notes", "description"),
            ("admin1", "admin1"),
            ("admin2", "admin2"),
            ("place_reported", "place_reported"),
            ("event_date", "start_date"),
            ("end_date", "end_date"),
            ("event_type", "event_type_name"),
            ("sub_event_type", "sub_event_type_name"),
            ("time_precision", "date_precision"),
            ("geo_precision", "location_precision"),
            ("fatalities", "fatalities_best"),
            ("fatalities_low", "fatalities_low"),
            ("fatalities_high", "fatalities_high"),
        ]:
            value = properties[name]
            assert row[column] == ("" if value is None else str(value)), (pk, column)
        lon, lat = feature["geometry"]["coordinates"]
        assert (round(float(row["longitude"]), 6), round(float(row["latitude"]), 6)) == (lon, lat)
        actors = properties["actors"]
        assert row["actor1"] == names(actors, "a", False) and row["assoc_actor_1"] == names(actors, "a", True)
        assert row["actor2"] == names(actors, "b", False) and row["assoc_actor_2"] == names(actors, "b", True)
        assert row["source_urls"] == " ".join(source["url"] for source in properties["sources"] if source["url"])
