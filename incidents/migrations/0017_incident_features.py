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


# Each incident's actors and sources, in display order, as JSON array text. Looked up per incident (LATERAL, by the
# link tables' incident_id indexes), so a rebuild costs the same per incident whether PostgreSQL expects one incident
# or a hundred thousand: a table's statistics lag behind an import, and a grouped join planned for one incident
# was re-aggregated for every incident of a 10,000-row import (seconds became minutes).
# The actor and the source of each link are read by primary key from the link (a subquery per link), never joined
# the other way round: with stale statistics PostgreSQL otherwise probed the links once per actor.
ACTORS = """SELECT '[' || string_agg((SELECT '{"name":' || to_json(a.name) FROM incidents_actor a WHERE a.id = ia.actor_id)
                            || ',"side":' || to_json(ia.side)
                            || CASE WHEN ia.is_associated THEN ',"associated":true}' ELSE ',"associated":false}' END,
                            ',' ORDER BY ia.side, ia.is_associated, ia.id) || ']' AS actors
     FROM incidents_incidentactor ia
    WHERE ia.incident_id = i.id"""
SOURCES = """SELECT '[' || string_agg((SELECT '{"publisher":' || to_json(s.publisher) || ',"title":' || to_json(s.title)
                                    || ',"url":' || COALESCE(to_json(NULLIF(s.url, ''))::text, 'null')
                                    || ',"published_on":' || COALESCE(to_json(s.published_on)::text, 'null')
                               FROM incidents_source s WHERE s.id = cite.source_id)
                            || ',"original_reporter":'
                            || COALESCE(to_json(NULLIF(cite.original_reporter, ''))::text, 'null') || '}',
                            ',' ORDER BY cite.id) || ']' AS sources
     FROM incidents_incidentsource cite
    WHERE cite.incident_id = i.id"""

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
  || ',"country":' || COALESCE(to_json(NULLIF(i.country, ''))::text, 'null')
  || ',"country_name":' || COALESCE(to_json(COUNTRY_NAMES::jsonb ->> i.country)::text, 'null')
  || ',"location_precision":' || i.location_precision
  || CASE i.location_precision WHEN 1 THEN ',"location_precision_label":"exact"'
          WHEN 2 THEN ',"location_precision_label":"near"' WHEN 3 THEN ',"location_precision_label":"region"'
          ELSE ',"location_precision_label":null' END
  || et.members
  || COALESCE(st.members, ',"sub_event_type":null,"sub_event_type_name":null')
  || ',"actors":' || COALESCE(la.actors, '[]')
  || ',"fatalities_low":' || COALESCE(i.fatalities_low::text, 'null')
  || ',"fatalities_best":' || COALESCE(i.fatalities_best::text, 'null')
  || ',"fatalities_high":' || COALESCE(i.fatalities_high::text, 'null')
  || ',"notable_casualties":' || to_json(i.notable_casualties)
  || ',"sources":' || COALESCE(ls.sources, '[]')
  || ',"updated_at":' || to_json(i.updated_at)
  || '}}'"""


def _statements(affected):
    """The two statements that rebuild the features of the incidents `affected` (a query of incident ids) selects:
    the rows of those no longer published removed, the published ones upserted.

    Joins, not `IN (affected)`: past work_mem PostgreSQL cannot hash an IN subquery and rescans it for every row,
    which made a 100,000-row import take minutes.
    """
    delete = f"""
    DELETE FROM incidents_incidentfeature f
     USING (SELECT DISTINCT id FROM ({affected}) AS affected (id)) AS affected
     WHERE f.incident_id = affected.id
       AND NOT EXISTS (SELECT 1 FROM incidents_incident i WHERE i.id = f.incident_id AND i.status = 'published')"""
    feature = FEATURE_TEXT.replace("COUNTRY_NAMES", _countries_literal())
    upsert = f"""
    INSERT INTO incidents_incidentfeature AS f (incident_id, feature)
    SELECT i.id, {feature}
      FROM (SELECT DISTINCT id FROM ({affected}) AS affected (id)) AS affected
      JOIN incidents_incident i ON i.id = affected.id
      JOIN (SELECT id, ',"event_type":' || to_json(slug) || ',"event_type_name":' || to_json(name) AS members
              FROM incidents_eventtype) et ON et.id = i.event_type_id
      LEFT JOIN (SELECT id, ',"sub_event_type":' || to_json(slug) || ',"sub_event_type_name":' || to_json(name)
                        AS members
                   FROM incidents_subeventtype) st ON st.id = i.sub_event_type_id
      CROSS JOIN LATERAL ({ACTORS}) AS la
      CROSS JOIN LATERAL ({SOURCES}) AS ls
     WHERE i.status = 'published'
    ON CONFLICT (incident_id) DO UPDATE SET feature = EXCLUDED.feature
     WHERE f.feature IS DISTINCT FROM EXCLUDED.feature"""
    return [delete, upsert]


def _build(affected):
    """The rebuild as plain SQL, for the migration's fill (and the tests' rebuild from scratch)."""
    return "".join(f"{statement};" for statement in _statements(affected))


def _executed(affected, using=""):
    """The rebuild in a PL/pgSQL body, each statement planned when it runs (EXECUTE): a static statement would keep
    the plan made for the first call, e.g. for one edited incident, and reuse it for a 100,000-row import."""
    return "".join(f"\n    EXECUTE $sql${statement}$sql${using};" for statement in _statements(affected))


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


# A bulk writer that touches the same incidents in several statements (an import writes the incidents, then their
# actors, then their sources) sets this for its transaction (SET LOCAL) and rebuilds once at the end with
# conflictmap_incident_features_rebuild(ids): one pass over its incidents instead of three.
DEFERRED = "IF current_setting('conflictmap.features_deferred', true) = 'on' THEN RETURN NULL; END IF;"

# UTC for the functions' run, whatever the writing session's TimeZone: to_json(updated_at) writes the offset.
REBUILD = f"""
CREATE FUNCTION conflictmap_incident_features_rebuild(ids bigint[]) RETURNS void LANGUAGE plpgsql
    SET timezone = 'UTC' AS $fn$
BEGIN{_executed("SELECT unnest($1)", " USING ids")}
END $fn$;"""


def _trigger(table, event):
    name = _name(table, event)
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql SET timezone = 'UTC' AS $fn$
BEGIN
    {DEFERRED}{_executed(AFFECTED[table, event])}
    RETURN NULL;
END $fn$;
CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {REFERENCING[event]}
    FOR EACH STATEMENT EXECUTE FUNCTION {name}();"""


FORWARD = (
    "SET LOCAL timezone = 'UTC';"
    + _build("SELECT id FROM incidents_incident WHERE status = 'published'")
    + "\nSET LOCAL timezone = DEFAULT;"
    + REBUILD
    + "".join(_trigger(table, event) for table, event in AFFECTED)
)
BACKWARD = "DROP FUNCTION IF EXISTS conflictmap_incident_features_rebuild(bigint[]);" + "".join(
    f"DROP TRIGGER IF EXISTS {_name(table, event)} ON {table}; DROP FUNCTION IF EXISTS {_name(table, event)}();"
    for table, event in AFFECTED
)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0016_search_words"),
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
