"""CSV downloads with ?hxl=1: the HXL hashtag row right under the header, one tag per column from the declaration in
incidents/public.py, and the file otherwise byte for byte the same."""

import csv
import io

import pytest

from incidents.public import CSV_COLUMNS

pytestmark = pytest.mark.django_db


def csv_text(client, query):
    response = client.get(f"/api/incidents.csv?{query}")
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content).decode()


@pytest.mark.parametrize("filters", ["country=SY", "country=SY,IQ&event_type=battles", "start=2000-01-01"])
def test_the_tag_row_is_right_under_the_header_and_the_rest_is_unchanged(client, export_incidents, filters):
    plain, tagged = csv_text(client, filters), csv_text(client, f"{filters}&hxl=1")
    plain_lines, tagged_lines = plain.splitlines(keepends=True), tagged.splitlines(keepends=True)
    assert tagged_lines[0] == plain_lines[0]
    assert tagged_lines[2:] == plain_lines[1:] and len(plain_lines) > 1
    header, tags = list(csv.reader(io.StringIO(tagged)))[:2]
    assert len(tags) == len(header) and all(tag.startswith("#") for tag in tags)
    tag_of = dict(zip(header, tags, strict=True))
    # The tags HDX's conflict files use for these concepts.
    assert {name: tag_of[name] for name in ("event_date", "event_type", "admin1", "latitude", "longitude")} == {
        "event_date": "#date",
        "event_type": "#event+type",
        "admin1": "#adm1+name",
        "latitude": "#geo+lat",
        "longitude": "#geo+lon",
    }
    assert (tag_of["fatalities"], tag_of["actor1"], tag_of["actor2"]) == (
        "#affected+killed",
        "#group+name+first",
        "#group+name+second",
    )


def test_tags_come_from_the_column_declaration(client, export_incidents):
    header, tags = list(csv.reader(io.StringIO(csv_text(client, "hxl=1"))))[:2]
    assert header == [name for name, _sql, _tag in CSV_COLUMNS]
    assert tags == [tag for _name, _sql, tag in CSV_COLUMNS]
    assert len(set(tags)) == len(tags)  # one concept, one tag


def test_without_hxl_there_is_no_tag_row_and_a_bad_value_is_a_400(client, export_incidents):
    rows = list(csv.reader(io.StringIO(csv_text(client, "hxl=0"))))
    assert not any(cell.startswith("#") for cell in rows[1])
    response = client.get("/api/incidents.csv?hxl=yes")
    assert response.status_code == 400 and "hxl" in response.json()["errors"]
