"""The export rows, built by PostgreSQL: one GeoJSON Feature (as text) or one CSV row (as text[]) per incident.

Python only joins the strings PostgreSQL hands over through a server-side cursor, so an export of any size runs in
constant memory and never instantiates a model.
"""

import json
from functools import cache

from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction

from ..public import CSV_COLUMNS, country_alpha3

# Rows travel from the server-side cursor in batches of this size.
CHUNK_SIZE = 2000


@cache
def _country_alpha3_json():
    return json.dumps(country_alpha3())


# The exported incidents, in export order: the caller's filtered, ordered (and possibly sliced) queryset.
_CHOSEN = "chosen (id, start_date) AS MATERIALIZED ({chosen})"

# Each published incident's feature text is kept by the database (models.IncidentFeature, kept by triggers from public.py's feature,
# incidents/aggregates): an export reads finished features by primary key. The exported queryset stays a plain
# subquery (not a materialized CTE) and the feature is looked up per row (OFFSET 0 keeps the lookup a nested loop),
# so the rows come out in the queryset's order from its index and PostgreSQL never sorts the feature texts
# themselves (a gigabyte at a million incidents).
_FEATURE_TEMPLATE = """SELECT f.feature{columns}
  FROM ({chosen}) AS chosen (id, start_date)
  CROSS JOIN LATERAL (SELECT feature FROM incidents_incidentfeature WHERE incident_id = chosen.id OFFSET 0) AS f
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
  SELECT cite.incident_id, string_agg(CASE WHEN NOT s.sensitive THEN NULLIF(s.url, '') END, ' ' ORDER BY cite.id)
         AS source_urls
    FROM incidents_incidentsource cite JOIN incidents_source s ON s.id = cite.source_id
   WHERE cite.incident_id IN (SELECT id FROM chosen)
   GROUP BY cite.incident_id)"""


CSV_HEADER = [name for name, _sql, _hxl in CSV_COLUMNS]
CSV_HXL_TAGS = [hxl for _name, _sql, hxl in CSV_COLUMNS]

CSV_SQL = f"""WITH {_CHOSEN}, {_ACTOR_NAMES}, {_SOURCE_NAMES}
SELECT {", ".join(column_sql for _name, column_sql, _hxl in CSV_COLUMNS)}
FROM chosen
  JOIN incidents_incident i ON i.id = chosen.id
  JOIN incidents_eventtype et ON et.id = i.event_type_id
  LEFT JOIN incidents_subeventtype st ON st.id = i.sub_event_type_id
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
        cursor.execute(FEATURE_SQL.replace("{chosen}", chosen), chosen_params)
        return cursor.fetchall()


# The features of a page of incident ids, in the page's order (the ids come sorted by an analyst's sortby).
FEATURES_IN_ORDER_SQL = """SELECT f.feature, NULL, f.incident_id
  FROM unnest(%s::bigint[]) WITH ORDINALITY AS chosen (id, position)
  JOIN incidents_incidentfeature f ON f.incident_id = chosen.id
 ORDER BY chosen.position"""


def features_in_order(ids, *, using):
    """(feature JSON text, None, id) rows of the given incidents, in the given order, in one query."""
    if not ids:
        return []
    with connections[using].cursor() as cursor:
        cursor.execute(FEATURES_IN_ORDER_SQL, [list(ids)])
        return cursor.fetchall()


def feature_batches(exported):
    """Lists of feature JSON texts, in export order, one list per fetch: the full download's rows.

    Python handles one list per CHUNK_SIZE features (a comprehension and a join), not each feature in a loop.
    """
    batches = _server_side_batches(FEATURE_TEXT_SQL, _pinned(exported), [])
    return ([feature for (feature,) in rows] for rows in batches)


def csv_rows(exported):
    """One tuple per incident, in CSV_HEADER order, from a server-side cursor."""
    return _server_side_rows(CSV_SQL, _pinned(exported), [_country_alpha3_json()])
