"""The export rows, built by PostgreSQL: one GeoJSON Feature (as text) or one CSV row (as text[]) per incident.

Python only joins the strings PostgreSQL hands over through a server-side cursor, so an export of any size runs in
constant memory and never instantiates a model.
"""

import json
from functools import cache

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.utils import translation
from django_countries import countries

# Rows travel from the server-side cursor in batches of this size.
CHUNK_SIZE = 2000


@cache
def _country_names_json():
    # ACLED's `country` column holds the English name; the table is small enough to pass as one jsonb parameter.
    with translation.override("en"):
        return json.dumps({code: str(name) for code, name in countries})


@cache
def _country_alpha3_json():
    return json.dumps({code: countries.alpha3(code) for code, _name in countries})


# The exported incidents, in export order: the caller's filtered, ordered (and possibly sliced) queryset.
_CHOSEN = "chosen (id, start_date) AS MATERIALIZED ({chosen})"

# Actors and sources are aggregated once per export with GROUP BY (hash joins), not once per row: for a full
# download that is several times faster than correlated subqueries.
_ACTORS_JSON = """actors AS (
  SELECT ia.incident_id, json_agg(json_build_object('name', a.name, 'side', ia.side, 'associated', ia.is_associated)
                                  ORDER BY ia.side, ia.is_associated, ia.id) AS actors
    FROM incidents_incidentactor ia JOIN incidents_actor a ON a.id = ia.actor_id
   WHERE ia.incident_id IN (SELECT id FROM chosen)
   GROUP BY ia.incident_id)"""

_SOURCES_JSON = """sources AS (
  SELECT cite.incident_id, json_agg(json_build_object(
           'publisher', s.publisher, 'title', s.title, 'url', NULLIF(s.url, ''), 'published_on', s.published_on,
           'original_reporter', NULLIF(cite.original_reporter, '')) ORDER BY cite.id) AS sources
    FROM incidents_incidentsource cite JOIN incidents_source s ON s.id = cite.source_id
   WHERE cite.incident_id IN (SELECT id FROM chosen)
   GROUP BY cite.incident_id)"""

_JOINS = """FROM chosen
  JOIN incidents_incident i ON i.id = chosen.id
  JOIN incidents_eventtype et ON et.id = i.event_type_id
  LEFT JOIN incidents_subeventtype st ON st.id = i.sub_event_type_id"""

FEATURE_SQL = f"""WITH {_CHOSEN}, {_ACTORS_JSON}, {_SOURCES_JSON}
SELECT json_build_object(
  'type', 'Feature',
  'id', i.id,
  'geometry', ST_AsGeoJSON(i.location, 6)::json,
  'properties', json_build_object(
    'title', i.title,
    'description', i.description,
    'start_date', i.start_date,
    'end_date', i.end_date,
    'date_precision', i.date_precision,
    'time_of_day', i.time_of_day,
    'place_reported', i.place_reported,
    'place_name', i.place_name,
    'admin1', i.admin1,
    'admin2', i.admin2,
    'country', NULLIF(i.country, ''),
    'country_name', %s::jsonb ->> i.country,
    'location_precision', i.location_precision,
    'event_type', et.slug,
    'event_type_name', et.name,
    'sub_event_type', st.slug,
    'sub_event_type_name', st.name,
    'actors', COALESCE(actors.actors, '[]'::json),
    'fatalities_low', i.fatalities_low,
    'fatalities_best', i.fatalities_best,
    'fatalities_high', i.fatalities_high,
    'notable_casualties', i.notable_casualties,
    'sources', COALESCE(sources.sources, '[]'::json),
    'updated_at', i.updated_at
  )
)::text, chosen.start_date, chosen.id
{_JOINS}
  LEFT JOIN actors ON actors.incident_id = i.id
  LEFT JOIN sources ON sources.incident_id = i.id
ORDER BY chosen.start_date DESC, chosen.id DESC"""

_ACTOR_NAMES = """actor_names AS (
  SELECT ia.incident_id,
         string_agg(a.name, '; ' ORDER BY ia.id) FILTER (WHERE ia.side = 'a' AND NOT ia.is_associated) AS actor1,
         string_agg(a.name, '; ' ORDER BY ia.id) FILTER (WHERE ia.side = 'a' AND ia.is_associated) AS assoc_actor_1,
         string_agg(a.name, '; ' ORDER BY ia.id) FILTER (WHERE ia.side = 'b' AND NOT ia.is_associated) AS actor2,
         string_agg(a.name, '; ' ORDER BY ia.id) FILTER (WHERE ia.side = 'b' AND ia.is_associated) AS assoc_actor_2
    FROM incidents_incidentactor ia JOIN incidents_actor a ON a.id = ia.actor_id
   WHERE ia.incident_id IN (SELECT id FROM chosen)
   GROUP BY ia.incident_id)"""

_SOURCE_NAMES = """source_names AS (
  SELECT cite.incident_id,
         string_agg(NULLIF(s.publisher, ''), '; ' ORDER BY cite.id) AS source,
         string_agg(NULLIF(s.url, ''), ' ' ORDER BY cite.id) AS source_urls
    FROM incidents_incidentsource cite JOIN incidents_source s ON s.id = cite.source_id
   WHERE cite.incident_id IN (SELECT id FROM chosen)
   GROUP BY cite.incident_id)"""

# (column, SQL) in file order: ACLED's names where the concept matches, then ours.
CSV_COLUMNS = [
    ("event_id_cnty", "COALESCE(%s::jsonb ->> i.country, 'XXX') || i.id"),
    ("event_date", "to_char(i.start_date, 'YYYY-MM-DD')"),
    ("year", "extract(year FROM i.start_date)::int"),
    ("time_precision", "i.date_precision"),
    ("event_type", "et.name"),
    ("sub_event_type", "st.name"),
    ("actor1", "actor_names.actor1"),
    ("assoc_actor_1", "actor_names.assoc_actor_1"),
    ("actor2", "actor_names.actor2"),
    ("assoc_actor_2", "actor_names.assoc_actor_2"),
    ("country", "%s::jsonb ->> i.country"),
    ("admin1", "i.admin1"),
    ("admin2", "i.admin2"),
    ("location", "COALESCE(NULLIF(i.place_name, ''), i.place_reported)"),
    # PostgreSQL's shortest round-trip text for a double, so the CSV reads back to the very same coordinates.
    ("latitude", "ST_Y(i.location)::text"),
    ("longitude", "ST_X(i.location)::text"),
    ("geo_precision", "i.location_precision"),
    ("source", "source_names.source"),
    ("notes", "i.description"),
    ("fatalities", "i.fatalities_best"),
    ("timestamp", "floor(extract(epoch FROM i.updated_at))::bigint"),
    ("id", "i.id"),
    ("external_id", "i.external_id"),
    ("title", "i.title"),
    ("end_date", "to_char(i.end_date, 'YYYY-MM-DD')"),
    ("place_reported", "i.place_reported"),
    ("fatalities_low", "i.fatalities_low"),
    ("fatalities_high", "i.fatalities_high"),
    ("source_urls", "source_names.source_urls"),
]
CSV_HEADER = [name for name, _sql in CSV_COLUMNS]

CSV_SQL = f"""WITH {_CHOSEN}, {_ACTOR_NAMES}, {_SOURCE_NAMES}
SELECT {", ".join(column_sql for _name, column_sql in CSV_COLUMNS)}
{_JOINS}
  LEFT JOIN actor_names ON actor_names.incident_id = i.id
  LEFT JOIN source_names ON source_names.incident_id = i.id
ORDER BY chosen.start_date DESC, chosen.id DESC"""


def _server_side_rows(template, exported, params):
    """Rows of the export query around `exported` (an ordered queryset), fetched in chunks by a named cursor."""
    try:
        chosen, chosen_params = exported.values_list("pk", "start_date").query.sql_with_params()
    except EmptyResultSet:  # Django proved the filters match nothing (e.g. an empty IN list): no query to run
        return
    with connection.chunked_cursor() as cursor:
        cursor.execute(template.replace("{chosen}", chosen), [*chosen_params, *params])
        while rows := cursor.fetchmany(CHUNK_SIZE):
            yield from rows


def feature_rows(exported):
    """(feature JSON text, start_date, id) per incident of an ordered export queryset, from a server-side cursor."""
    return _server_side_rows(FEATURE_SQL, exported, [_country_names_json()])


def csv_rows(exported):
    """One tuple per incident, in CSV_HEADER order, from a server-side cursor."""
    return _server_side_rows(CSV_SQL, exported, [_country_alpha3_json(), _country_names_json()])
