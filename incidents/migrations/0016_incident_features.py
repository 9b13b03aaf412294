"""Every published incident's GeoJSON Feature, kept as text by the database.

A page of the API or OGC items and the full download then read finished features by primary key instead of
joining actors, sources, event types and countries for every row on every request (at 100,000 incidents that
was 15–25 ms of a 1,000-feature page). Statement-level triggers rebuild the features of the incidents a statement
touched, in the writing transaction: the incident itself, its actor and source links, and the actors, sources,
event types and sub-types it shows. Drafts and retractions have no row.

The feature text is the one api/sql.py built per request until now: the same keys in the same order, values
encoded by to_json, no whitespace between tokens.
"""

import json

from django.db import migrations, models
from django.utils import translation
from django_countries import countries


def _countries_literal():
    # ACLED's `country_name` is the English name; fixed here, as the feature text is, when the migration runs.
    with translation.override("en"):
        names = json.dumps({code: str(name) for code, name in countries})
    return "'" + names.replace("'", "''") + "'"


# `chosen` (id, start_date): the published incidents whose features are (re)built.
LINKS = """links AS (
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
# Actors and sources are grouped in one sorted pass rather than an ordered aggregate each: on PostgreSQL 15 an
# ordered aggregate sorts every group on its own, and a 100,000-row import rebuilds 100,000 features at once.

FEATURE_TEXT = """'{"type":"Feature","id":' || i.id
  || ',"geometry":' || COALESCE(ST_AsGeoJSON(i.location, 6), 'null')
  || ',"properties":{"title":' || to_json(i.title)
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
  || '}}'"""


def _build(affected):
    """Rebuild the features of the incidents `affected` (a query of incident ids) selects: published ones upserted,
    the others' rows removed.

    Joins, not `IN (affected)`: past work_mem PostgreSQL cannot hash an IN subquery and rescans it for every row,
    which made a 100,000-row import take minutes.
    """
    countries_cte = f"""countries AS (
  SELECT key AS code, ',"country":' || to_json(key) || ',"country_name":' || to_json(value) AS members
    FROM jsonb_each_text({_countries_literal()}::jsonb))"""
    return f"""
    DELETE FROM incidents_incidentfeature f
     USING (SELECT DISTINCT id FROM ({affected}) AS affected (id)) AS affected
     WHERE f.incident_id = affected.id
       AND NOT EXISTS (SELECT 1 FROM incidents_incident i WHERE i.id = f.incident_id AND i.status = 'published');
    INSERT INTO incidents_incidentfeature AS f (incident_id, feature)
    WITH chosen AS MATERIALIZED (
           SELECT i.id, i.start_date
             FROM (SELECT DISTINCT id FROM ({affected}) AS affected (id)) AS affected
             JOIN incidents_incident i ON i.id = affected.id
            WHERE i.status = 'published'),
         {countries_cte},
         {LINKS}
    SELECT i.id, {FEATURE_TEXT}
      FROM chosen
      JOIN incidents_incident i ON i.id = chosen.id
      JOIN (SELECT id, ',"event_type":' || to_json(slug) || ',"event_type_name":' || to_json(name) AS members
              FROM incidents_eventtype) et ON et.id = i.event_type_id
      LEFT JOIN (SELECT id, ',"sub_event_type":' || to_json(slug) || ',"sub_event_type_name":' || to_json(name)
                        AS members
                   FROM incidents_subeventtype) st ON st.id = i.sub_event_type_id
      LEFT JOIN countries ON countries.code = i.country
      LEFT JOIN links ON links.incident_id = i.id
    ON CONFLICT (incident_id) DO UPDATE SET feature = EXCLUDED.feature
     WHERE f.feature IS DISTINCT FROM EXCLUDED.feature;"""


def _changed(columns, *, via):
    """Incidents showing a row whose shown `columns` a statement changed; `via` is (table, column) pointing to it."""
    table, column = via
    incident = "id" if table == "incidents_incident" else "incident_id"
    differs = " OR ".join(f"n.{name} IS DISTINCT FROM o.{name}" for name in columns)
    return f"""SELECT l.{incident} FROM new_rows n JOIN old_rows o ON o.id = n.id
                 JOIN {table} l ON l.{column} = n.id WHERE {differs}"""


REFERENCING = {
    "INSERT": "NEW TABLE AS new_rows",
    "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "OLD TABLE AS old_rows",
}
_LINKED = {
    "INSERT": "SELECT incident_id FROM new_rows",
    "UPDATE": "SELECT incident_id FROM new_rows UNION SELECT incident_id FROM old_rows",
    "DELETE": "SELECT incident_id FROM old_rows",
}
# (table, event): the incidents whose feature the statement may have changed.
AFFECTED = {
    ("incidents_incident", "INSERT"): "SELECT id FROM new_rows",
    ("incidents_incident", "UPDATE"): "SELECT id FROM new_rows",
    ("incidents_incident", "DELETE"): "SELECT id FROM old_rows",
    **{(table, event): _LINKED[event] for table in ("incidents_incidentactor", "incidents_incidentsource")
       for event in REFERENCING},
    ("incidents_actor", "UPDATE"): _changed(["name"], via=("incidents_incidentactor", "actor_id")),
    ("incidents_source", "UPDATE"): _changed(
        ["publisher", "title", "url", "published_on"], via=("incidents_incidentsource", "source_id")
    ),
    ("incidents_eventtype", "UPDATE"): _changed(["slug", "name"], via=("incidents_incident", "event_type_id")),
    ("incidents_subeventtype", "UPDATE"): _changed(["slug", "name"], via=("incidents_incident", "sub_event_type_id")),
}  # fmt: skip


def _name(table, event):
    return f"{table}_feature_{event.lower()}"


def _trigger(table, event):
    name = _name(table, event)
    # UTC for the function's run, whatever the writing session's TimeZone: to_json(updated_at) writes the offset.
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql SET timezone = 'UTC' AS $fn$
BEGIN{_build(AFFECTED[table, event])}
    RETURN NULL;
END $fn$;
CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {REFERENCING[event]}
    FOR EACH STATEMENT EXECUTE FUNCTION {name}();"""


FORWARD = (
    "SET LOCAL timezone = 'UTC';"
    + _build("SELECT id FROM incidents_incident WHERE status = 'published'")
    + "\nSET LOCAL timezone = DEFAULT;"
    + "".join(_trigger(table, event) for table, event in AFFECTED)
)
BACKWARD = "".join(
    f"DROP TRIGGER IF EXISTS {_name(table, event)} ON {table}; DROP FUNCTION IF EXISTS {_name(table, event)}();"
    for table, event in AFFECTED
)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0015_text_search_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="IncidentFeature",
            fields=[
                (
                    "incident",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=models.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="incidents.incident",
                        verbose_name="incident",
                    ),
                ),
                ("feature", models.TextField(verbose_name="GeoJSON feature")),
            ],
            options={
                "verbose_name": "incident feature",
                "verbose_name_plural": "incident features",
            },
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
