"""The export rows, built by PostgreSQL: one GeoJSON Feature (as text) or one CSV row (as text[]) per incident.

Python only joins the strings PostgreSQL hands over through a server-side cursor, so an export of any size runs in
constant memory and never instantiates a model.
"""

import json
from functools import cache

from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
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

# The feature is assembled as text with || rather than json_build_object(...)::text: the properties are always the
# same keys, so only the values need JSON encoding (to_json), and nothing is parsed back (ST_AsGeoJSON(...)::json
# re-parsed every geometry). Measured on 100,000 incidents this halves the cost of the projection. Values that come
# from small tables (event types, countries, actors, sources) are encoded once per table row in the joined
# subquery, not once per incident. The key order and every value are those json_build_object produced; only the
# whitespace between tokens is gone.

# Actors and sources go through ONE grouping pass (instead of one GROUP BY each, each with its own semi-join to
# `chosen`, hash join and per-group sort): every link becomes a row (kind 1 = actor, 2 = source) with its element
# already encoded, the rows are sorted once by incident and display order, and string_agg joins each incident's
# elements in that order. string_agg carries no ORDER BY of its own because on PostgreSQL 15 an ordered aggregate
# sorts every group separately (a third of the cost here); the subquery's ORDER BY keeps the subquery from being
# flattened, and its sort order (incident_id first) already satisfies the GROUP BY, so the aggregate reads the rows
# in that order (this is the documented "sorted subquery" idiom; export cursors never run in parallel).
_LINKS = """links AS (
  SELECT incident_id,
         '[' || string_agg(element, ',') FILTER (WHERE kind = 1) || ']' AS actors,
         '[' || string_agg(element, ',') FILTER (WHERE kind = 2) || ']' AS sources
    FROM (SELECT ia.incident_id, 1 AS kind, ia.side AS k1, ia.is_associated AS k2, ia.id AS k3,
                 a.head || to_json(ia.side) || CASE WHEN ia.is_associated THEN ',"associated":true}'
                                                    ELSE ',"associated":false}' END AS element
            FROM chosen
            JOIN incidents_incidentactor ia ON ia.incident_id = chosen.id
            JOIN (SELECT id, '{"name":' || to_json(name) || ',"side":' AS head FROM incidents_actor) a
              ON a.id = ia.actor_id
          UNION ALL
          SELECT cite.incident_id, 2, '', false, cite.id,
                 s.head || COALESCE(to_json(NULLIF(cite.original_reporter, ''))::text, 'null') || '}'
            FROM chosen
            JOIN incidents_incidentsource cite ON cite.incident_id = chosen.id
            JOIN (SELECT id, '{"publisher":' || to_json(publisher) || ',"title":' || to_json(title)
                             || ',"url":' || COALESCE(to_json(NULLIF(url, ''))::text, 'null')
                             || ',"published_on":' || COALESCE(to_json(published_on)::text, 'null')
                             || ',"original_reporter":' AS head
                    FROM incidents_source) s
              ON s.id = cite.source_id
          ORDER BY 1, 2, 3, 4, 5) AS ordered
   GROUP BY incident_id)"""

# ACLED's English country names, one row per code with its two members already encoded.
_COUNTRIES = """countries AS (
  SELECT key AS code, ',"country":' || to_json(key) || ',"country_name":' || to_json(value) AS members
    FROM jsonb_each_text(%s::jsonb))"""

_JOINS = """FROM chosen
  JOIN incidents_incident i ON i.id = chosen.id
  JOIN incidents_eventtype et ON et.id = i.event_type_id
  LEFT JOIN incidents_subeventtype st ON st.id = i.sub_event_type_id"""

# {columns}: the paged views also need each row's keyset position (start_date, id); the download does not.
_FEATURE_TEMPLATE = f"""WITH {_CHOSEN}, {_COUNTRIES}, {_LINKS}
SELECT '{{"type":"Feature","id":' || i.id
  || ',"geometry":' || COALESCE(ST_AsGeoJSON(i.location, 6), 'null')
  || ',"properties":{{"title":' || to_json(i.title)
  || ',"description":' || to_json(i.description)
  || ',"start_date":' || to_json(i.start_date)
  || ',"end_date":' || to_json(i.end_date)
  || ',"date_precision":' || i.date_precision
  || CASE i.date_precision WHEN 1 THEN ',"date_precision_label":"day"' WHEN 2 THEN ',"date_precision_label":"week"'
          WHEN 3 THEN ',"date_precision_label":"month"' ELSE ',"date_precision_label":null' END
  || ',"time_of_day":' || COALESCE(to_json(i.time_of_day)::text, 'null')
  || ',"place_reported":' || to_json(i.place_reported)
  || ',"place_name":' || to_json(i.place_name)
  || ',"admin1":' || to_json(i.admin1)
  || ',"admin2":' || to_json(i.admin2)
  || COALESCE(countries.members,
              ',"country":' || COALESCE(to_json(NULLIF(i.country, ''))::text, 'null') || ',"country_name":null')
  || ',"location_precision":' || i.location_precision
  || CASE i.location_precision WHEN 1 THEN ',"location_precision_label":"exact"'
          WHEN 2 THEN ',"location_precision_label":"near"' WHEN 3 THEN ',"location_precision_label":"region"'
          ELSE ',"location_precision_label":null' END
  || et.members
  || COALESCE(st.members, ',"sub_event_type":null,"sub_event_type_name":null')
  || ',"actors":' || COALESCE(links.actors, '[]')
  || ',"fatalities_low":' || COALESCE(i.fatalities_low::text, 'null')
  || ',"fatalities_best":' || COALESCE(i.fatalities_best::text, 'null')
  || ',"fatalities_high":' || COALESCE(i.fatalities_high::text, 'null')
  || ',"notable_casualties":' || to_json(i.notable_casualties)
  || ',"sources":' || COALESCE(links.sources, '[]')
  || ',"updated_at":' || to_json(i.updated_at)
  || '}}}}'{{columns}}
FROM chosen
  JOIN incidents_incident i ON i.id = chosen.id
  JOIN (SELECT id, ',"event_type":' || to_json(slug) || ',"event_type_name":' || to_json(name) AS members
          FROM incidents_eventtype) et ON et.id = i.event_type_id
  LEFT JOIN (SELECT id, ',"sub_event_type":' || to_json(slug) || ',"sub_event_type_name":' || to_json(name) AS members
               FROM incidents_subeventtype) st ON st.id = i.sub_event_type_id
  LEFT JOIN countries ON countries.code = i.country
  LEFT JOIN links ON links.incident_id = i.id
ORDER BY chosen.start_date DESC, chosen.id DESC"""

# (feature JSON text, start_date, id) per row, for the paged views.
FEATURE_SQL = _FEATURE_TEMPLATE.replace("{columns}", ", chosen.start_date, chosen.id")
# (feature JSON text,) per row, for the full download.
FEATURE_TEXT_SQL = _FEATURE_TEMPLATE.replace("{columns}", "")

_ACTOR_NAMES = """actor_names AS (
  SELECT ia.incident_id,
         string_agg(a.name, '; ' ORDER BY ia.id) FILTER (WHERE ia.side = 'a' AND NOT ia.is_associated) AS actor1,
         string_agg(a.name, '; ' ORDER BY ia.id) FILTER (WHERE ia.side = 'a' AND ia.is_associated) AS assoc_actor_1,
         string_agg(a.name, '; ' ORDER BY ia.id) FILTER (WHERE ia.side = 'b' AND NOT ia.is_associated) AS actor2,
         string_agg(a.name, '; ' ORDER BY ia.id) FILTER (WHERE ia.side = 'b' AND ia.is_associated) AS assoc_actor_2
    FROM incidents_incidentactor ia JOIN incidents_actor a ON a.id = ia.actor_id
   WHERE ia.incident_id IN (SELECT id FROM chosen)
   GROUP BY ia.incident_id)"""

# ACLED's `source` names each citation's original reporter (when given) before the publisher that carried the
# report, "; "-separated, each name once, in citation order; `source_urls` keeps one URL per citation.
_SOURCE_NAMES = """source_names AS (
  SELECT incident_id, string_agg(name, '; ' ORDER BY position) AS source
    FROM (SELECT cite.incident_id, named.name, min(cite.id * 2 + named.k) AS position
            FROM incidents_incidentsource cite
            JOIN incidents_source s ON s.id = cite.source_id
            CROSS JOIN LATERAL (VALUES (0, NULLIF(cite.original_reporter, '')), (1, NULLIF(s.publisher, '')))
                 AS named (k, name)
           WHERE cite.incident_id IN (SELECT id FROM chosen) AND named.name IS NOT NULL
           GROUP BY cite.incident_id, named.name) AS names
   GROUP BY incident_id),
source_links AS (
  SELECT cite.incident_id, string_agg(NULLIF(s.url, ''), ' ' ORDER BY cite.id) AS source_urls
    FROM incidents_incidentsource cite JOIN incidents_source s ON s.id = cite.source_id
   WHERE cite.incident_id IN (SELECT id FROM chosen)
   GROUP BY cite.incident_id)"""


def _text(expression):
    """A text cell that a spreadsheet would run as a formula (=, +, -, @, tab or CR first) gets a leading ' (OWASP).

    Only text columns go through this: numbers (a longitude of -3.2) stay numbers.
    """
    return (
        f"CASE WHEN left({expression}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
        f"THEN '''' || {expression} ELSE {expression} END"
    )


# (column, SQL) in file order: ACLED's names where the concept matches, then ours.
CSV_COLUMNS = [
    ("event_id_cnty", "COALESCE(%s::jsonb ->> i.country, 'XXX') || i.id"),
    ("event_date", "to_char(i.start_date, 'YYYY-MM-DD')"),
    ("year", "extract(year FROM i.start_date)::int"),
    ("time_precision", "i.date_precision"),
    ("event_type", _text("et.name")),
    ("sub_event_type", _text("st.name")),
    ("actor1", _text("actor_names.actor1")),
    ("assoc_actor_1", _text("actor_names.assoc_actor_1")),
    ("actor2", _text("actor_names.actor2")),
    ("assoc_actor_2", _text("actor_names.assoc_actor_2")),
    ("country", "%s::jsonb ->> i.country"),
    ("admin1", _text("i.admin1")),
    ("admin2", _text("i.admin2")),
    ("location", _text("COALESCE(NULLIF(i.place_name, ''), i.place_reported)")),
    # PostgreSQL's shortest round-trip text for a double, so the CSV reads back to the very same coordinates.
    ("latitude", "ST_Y(i.location)::text"),
    ("longitude", "ST_X(i.location)::text"),
    ("geo_precision", "i.location_precision"),
    ("source", _text("source_names.source")),
    ("notes", _text("i.description")),
    ("fatalities", "i.fatalities_best"),
    ("timestamp", "floor(extract(epoch FROM i.updated_at))::bigint"),
    ("id", "i.id"),
    ("external_id", _text("i.external_id")),
    ("title", _text("i.title")),
    ("end_date", "to_char(i.end_date, 'YYYY-MM-DD')"),
    ("place_reported", _text("i.place_reported")),
    ("fatalities_low", "i.fatalities_low"),
    ("fatalities_high", "i.fatalities_high"),
    ("source_urls", _text("source_links.source_urls")),
]
CSV_HEADER = [name for name, _sql in CSV_COLUMNS]

CSV_SQL = f"""WITH {_CHOSEN}, {_ACTOR_NAMES}, {_SOURCE_NAMES}
SELECT {", ".join(column_sql for _name, column_sql in CSV_COLUMNS)}
{_JOINS}
  LEFT JOIN actor_names ON actor_names.incident_id = i.id
  LEFT JOIN source_names ON source_names.incident_id = i.id
  LEFT JOIN source_links ON source_links.incident_id = i.id
ORDER BY chosen.start_date DESC, chosen.id DESC"""


def _server_side_batches(template, exported, params):
    """Lists of rows of the export query around `exported` (an ordered queryset), one list per server-side fetch."""
    try:
        chosen, chosen_params = exported.values_list("pk", "start_date").query.sql_with_params()
    except EmptyResultSet:  # Django proved the filters match nothing (e.g. an empty IN list): no query to run
        return
    # One transaction for the cursor's whole life: outside one, Django declares the cursor WITH HOLD, and PostgreSQL
    # then computes and stores every row at the declaring COMMIT before the first byte goes out. Inside, rows are
    # produced as they are fetched, so a download starts at once.
    # The database the queryset reads from (a replica for public requests, see conflictmap/routers.py), pinned by
    # feature_rows / feature_batches / csv_rows before the response starts streaming.
    connection = connections[exported.db]
    with transaction.atomic(using=exported.db), connection.chunked_cursor() as cursor:
        with connection.cursor() as settings:
            # The export is cheap per row but estimated as costly, so past a few hundred thousand rows PostgreSQL
            # would spend seconds compiling it with LLVM; SET LOCAL ends with this transaction.
            settings.execute("SET LOCAL jit = off")
        cursor.execute(template.replace("{chosen}", chosen), [*chosen_params, *params])
        while rows := cursor.fetchmany(CHUNK_SIZE):
            yield rows


def _server_side_rows(template, exported, params):
    for rows in _server_side_batches(template, exported, params):
        yield from rows


def _pinned(exported):
    """The queryset bound to the database it reads from now: rows are fetched later, as the response streams, after
    the request's routing (conflictmap/routers.py) has ended."""
    return exported.using(exported.db)


def feature_page(exported):
    """(feature JSON text, start_date, id) rows of one page (a sliced queryset), in one plain query.

    A page holds at most API_MAX_LIMIT + 1 rows, so it needs neither the server-side cursor nor its transaction
    (four round trips saved on every page).
    """
    try:
        chosen, chosen_params = exported.values_list("pk", "start_date").query.sql_with_params()
    except EmptyResultSet:
        return []
    with connections[exported.db].cursor() as cursor:
        cursor.execute(FEATURE_SQL.replace("{chosen}", chosen), [*chosen_params, _country_names_json()])
        return cursor.fetchall()


def feature_batches(exported):
    """Lists of feature JSON texts, in export order, one list per fetch: the full download's rows.

    Python handles one list per CHUNK_SIZE features (a comprehension and a join), not each feature in a loop.
    """
    batches = _server_side_batches(FEATURE_TEXT_SQL, _pinned(exported), [_country_names_json()])
    return ([feature for (feature,) in rows] for rows in batches)


def csv_rows(exported):
    """One tuple per incident, in CSV_HEADER order, from a server-side cursor."""
    return _server_side_rows(CSV_SQL, _pinned(exported), [_country_alpha3_json(), _country_names_json()])
