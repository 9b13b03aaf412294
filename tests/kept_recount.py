"""Every table the incidents' triggers keep, compared with a count from scratch of the incidents as they are now.

The recounts are plain GROUP BY queries written here, not the triggers' SQL, so a write path that drops, doubles or
misplaces rows (an import written in chunks, say) shows as rows that differ. Used by tests/test_import_chunks.py and
by bench/import_bench.py after a million-row import.
"""

from django.db import connection

from incidents.models import Incident, incident_text_haystack

PUBLISHED = "FROM incidents_incident i WHERE i.status = 'published'"
LOCATED = f"{PUBLISHED} AND i.public_location IS NOT NULL"
CELL = """conflictmap_cell_x(ST_X(i.public_location)) AS cell_x, conflictmap_cell_y(ST_Y(i.public_location)) AS cell_y,
          date_trunc('month', i.start_date)::date AS start_month, date_trunc('month', i.end_date)::date AS end_month,
          i.event_type_id, i.country, i.admin1, i.public_location_precision AS location_precision"""
DETAIL = f"{CELL}, COALESCE(i.sub_event_type_id, 0) AS sub_type, COALESCE(i.fatalities_best, -1) AS fatalities_best"
COUNTS = "count(*) AS incidents, COALESCE(sum(i.fatalities_best), 0) AS fatalities"
SUMS = f"{COUNTS}, sum(ST_X(i.public_location)) AS sum_x, sum(ST_Y(i.public_location)) AS sum_y"
REGION_SUMS = """count(*) AS incidents, sum(COALESCE(i.fatalities_low, i.fatalities_best, 0)) AS fatalities_low,
                 sum(COALESCE(i.fatalities_best, 0)) AS fatalities,
                 sum(COALESCE(i.fatalities_high, i.fatalities_best, 0)) AS fatalities_high"""
CELL_KEY = "cell_x, cell_y, start_month, end_month, event_type_id, country, admin1, location_precision"
DETAIL_KEY = f"{CELL_KEY}, sub_type, fatalities_best"
# GROUP BY reads a name as the table's column before the output's: the public precision is grouped by its own name.
CELL_GROUP = CELL_KEY.replace("location_precision", "i.public_location_precision")
DETAIL_GROUP = DETAIL_KEY.replace("location_precision", "i.public_location_precision")
PAIRS = """JOIN incidents_incidentactor a ON a.incident_id = i.id
           JOIN incidents_incidentactor b ON b.incident_id = i.id AND a.actor_id < b.actor_id"""


def _haystack():
    """What `q` searches for a substring, as Django compiles it (models.incident_text_haystack)."""
    query = Incident.objects.annotate(haystack=incident_text_haystack()).values("id", "haystack").query
    return query.sql_with_params()


# kept table: (its key, the columns compared, the recount's SELECT producing key and columns).
RECOUNTS = {
    "incidents_timelinecell": (
        "start_date, end_date, event_type_id, country, admin1",
        "incidents, fatalities",
        f"SELECT i.start_date, i.end_date, i.event_type_id, i.country, i.admin1, {COUNTS} {PUBLISHED} GROUP BY 1, 2, 3, 4, 5",
    ),
    "incidents_timelineday": (
        "start_date, end_date, event_type_id",
        "incidents, fatalities",
        f"SELECT i.start_date, i.end_date, i.event_type_id, {COUNTS} {PUBLISHED} GROUP BY 1, 2, 3",
    ),
    "incidents_publishedregion": (
        "country, admin1",
        "incidents",
        f"SELECT i.country, i.admin1, count(*) AS incidents {PUBLISHED} GROUP BY 1, 2",
    ),
    "incidents_publishedactor": (
        "actor_id",
        "incidents",
        """SELECT l.actor_id, count(*) AS incidents FROM incidents_incident i
             JOIN incidents_incidentactor l ON l.incident_id = i.id WHERE i.status = 'published' GROUP BY 1""",
    ),
    "incidents_regionmonth": (
        "start_month, end_month, event_type_id, sub_type, country, admin1, admin2, location_precision",
        "incidents, fatalities_low, fatalities, fatalities_high",
        f"""SELECT date_trunc('month', i.start_date)::date AS start_month,
                   date_trunc('month', i.end_date)::date AS end_month, i.event_type_id,
                   COALESCE(i.sub_event_type_id, 0) AS sub_type, i.country, i.admin1, i.admin2,
                   i.public_location_precision AS location_precision, {REGION_SUMS}
              {PUBLISHED} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8""",
    ),
    "incidents_regionweek": (
        "start_week, start_month, end_month, event_type_id, sub_type, country, admin1, admin2, location_precision",
        "incidents, fatalities_low, fatalities, fatalities_high",
        f"""SELECT (i.start_date - (extract(isodow FROM i.start_date)::int - 1)) AS start_week,
                   date_trunc('month', i.start_date)::date AS start_month,
                   date_trunc('month', i.end_date)::date AS end_month, i.event_type_id,
                   COALESCE(i.sub_event_type_id, 0) AS sub_type, i.country, i.admin1, i.admin2,
                   i.public_location_precision AS location_precision, {REGION_SUMS}
              {PUBLISHED} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9""",
    ),
    "incidents_regionactormonth": (
        "actor_id, side, start_month, end_month, event_type_id, country, admin1, admin2",
        "incidents, fatalities_low, fatalities, fatalities_high",
        f"""SELECT l.actor_id, l.side, date_trunc('month', i.start_date)::date AS start_month,
                   date_trunc('month', i.end_date)::date AS end_month, i.event_type_id, i.country, i.admin1, i.admin2,
                   {REGION_SUMS}
              FROM incidents_incident i JOIN incidents_incidentactor l ON l.incident_id = i.id
             WHERE i.status = 'published' GROUP BY 1, 2, 3, 4, 5, 6, 7, 8""",
    ),
    "incidents_mapcell": (CELL_KEY, "incidents, fatalities, sum_x, sum_y",
                          f"SELECT {CELL}, {SUMS} {LOCATED} GROUP BY {CELL_GROUP}"),
    "incidents_mapdetailcell": (DETAIL_KEY, "incidents, fatalities, sum_x, sum_y",
                                f"SELECT {DETAIL}, {SUMS} {LOCATED} GROUP BY {DETAIL_GROUP}"),
    "incidents_mapactorcell": (
        f"actor_id, side, {DETAIL_KEY}",
        "incidents, fatalities, sum_x, sum_y",
        f"""SELECT l.actor_id, l.side, {DETAIL}, {SUMS} FROM incidents_incident i
              JOIN incidents_incidentactor l ON l.incident_id = i.id
             WHERE i.status = 'published' AND i.public_location IS NOT NULL GROUP BY l.actor_id, l.side, {DETAIL_GROUP}""",
    ),
    "incidents_mapactorpaircell": (
        f"actor_low_id, actor_high_id, side_low, side_high, {DETAIL_KEY}",
        "incidents, fatalities, sum_x, sum_y",
        f"""SELECT a.actor_id AS actor_low_id, b.actor_id AS actor_high_id, a.side AS side_low, b.side AS side_high,
                   {DETAIL}, {SUMS} FROM incidents_incident i {PAIRS}
             WHERE i.status = 'published' AND i.public_location IS NOT NULL
             GROUP BY a.actor_id, b.actor_id, a.side, b.side, {DETAIL_GROUP}""",
    ),
    "incidents_maptermcell": (
        f"term_id, {CELL_KEY}",
        "incidents, fatalities, sum_x, sum_y",
        # `q`'s condition (filters.IncidentFilterSet.filter_text): the stored words, or the term in the haystack.
        f"""SELECT t.id AS term_id, {CELL}, {SUMS} FROM incidents_incident i
              JOIN (HAYSTACK) h ON h.id = i.id
              JOIN incidents_mapterm t ON i.search_words @@ websearch_to_tsquery('simple', t.term)
                                       OR upper(h.haystack) LIKE '%%' || upper(t.term) || '%%'
             WHERE i.status = 'published' AND i.public_location IS NOT NULL GROUP BY t.id, {CELL_GROUP}""",
    ),
}  # fmt: skip


def _differing(cursor, table, key, columns, recount, params):
    """Rows of `table` missing from, extra to or different from the recount (sums of coordinates to rounding)."""
    differ = " OR ".join(
        f"abs(k.{column} - r.{column}) > 1e-6 * greatest(1, abs(r.{column}))"
        if column.startswith("sum_")
        else f"k.{column} IS DISTINCT FROM r.{column}"
        for column in columns.split(", ")
    )
    cursor.execute(
        f"""SELECT count(*) FROM (SELECT {key}, {columns} FROM {table}) AS k
              FULL JOIN ({recount}) AS r USING ({key})
             WHERE k.incidents IS NULL OR r.incidents IS NULL OR {differ}""",
        params,
    )
    return cursor.fetchone()[0]


def _differing_features(cursor):
    """IncidentFeature against every published incident's feature built anew (by the rebuild function the triggers
    call), inside a savepoint that is rolled back."""
    cursor.execute("SAVEPOINT kept_recount")
    try:
        cursor.execute("CREATE TEMP TABLE kept_features ON COMMIT DROP AS SELECT * FROM incidents_incidentfeature")
        cursor.execute("SELECT conflictmap_incident_features_rebuild(ARRAY(SELECT id FROM incidents_incident))")
        cursor.execute(
            """SELECT count(*) FROM kept_features k FULL JOIN incidents_incidentfeature r USING (incident_id)
                WHERE k.feature IS DISTINCT FROM r.feature"""
        )
        return cursor.fetchone()[0]
    finally:
        cursor.execute("ROLLBACK TO SAVEPOINT kept_recount")


def kept_tables_differing():
    """{kept table: number of its rows that differ from a recount}; all zero when every kept table is exact.

    Runs inside a transaction (a test's, or an atomic block) so that the features' rebuild can be rolled back."""
    haystack, haystack_params = _haystack()
    differing = {}
    with connection.cursor() as cursor:
        for table, (key, columns, recount) in RECOUNTS.items():
            params = haystack_params if "HAYSTACK" in recount else None
            recount = recount.replace("HAYSTACK", haystack)
            differing[table] = _differing(cursor, table, key, columns, recount, params)
        differing["incidents_incidentfeature"] = _differing_features(cursor)
    return differing
