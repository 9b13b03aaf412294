"""The public location of a sensitive incident, computed by the database on every write (part of the kept tables'
script, so it is versioned and installed like them).

An incident is *shown generalised* when it is marked sensitive or cites a sensitive source. Its generalised point
is the centroid of the district (places.District, admin2) whose boundary covers its exact point (or a point on
the district's surface when the centroid of a concave district falls outside it), else the centre of a grid cell
of `conflictmap.sensitive_location_grid_km` a side (settings.SENSITIVE_LOCATION_GRID_KM, passed by every Django
connection); its public precision is at least "only the region is known".

Why triggers rather than the services: imports and the bench generators insert incidents and links in set-based SQL,
a source turning sensitive changes incidents no form is open on, and a stale admin form saves every column back.
The database sees all of them. The work falls only on sensitive rows:

- `generalised_location` / `generalised_precision` are set by a row-level BEFORE trigger that fires only when the
  row is sensitive or was or is claimed to be generalised (WHEN clause), so a million ordinary imported rows never
  call it; a stale value a form writes back is computed again.
- `public_location` / `public_location_precision` are generated columns (COALESCE of the generalised value and the
  exact one): nothing to keep for ordinary incidents.
- Statement-level triggers on the source links and on sources recompute the incidents whose sensitive citations a
  statement changed; that UPDATE then moves the kept tables and features like any edit.
"""

from places.models import LocationPrecision

INCIDENTS, CITES, SOURCES = "incidents_incident", "incidents_incidentsource", "incidents_source"
GRID_SETTING = "conflictmap.sensitive_location_grid_km"
DEFAULT_GRID_KM = 25  # settings.SENSITIVE_LOCATION_GRID_KM's default, for a session that did not set it (psql)
GENERALISED_PRECISION = int(LocationPrecision.REGION)

_GENERALISE = f"""
CREATE OR REPLACE FUNCTION conflictmap_generalised_location(location geometry) RETURNS geometry
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
DECLARE
    km double precision := COALESCE(NULLIF(current_setting('{GRID_SETTING}', true), '')::double precision,
                                    {DEFAULT_GRID_KM});
    step double precision;
    row_latitude double precision;
    column_width double precision;
    centre geometry;
BEGIN
    IF location IS NULL THEN RETURN NULL; END IF;
    SELECT CASE WHEN ST_Covers(d.boundary, ST_Centroid(d.boundary)) THEN ST_Centroid(d.boundary)
                ELSE ST_PointOnSurface(d.boundary) END
      INTO centre
      FROM places_district d WHERE ST_Covers(d.boundary, location) ORDER BY d.wof_id LIMIT 1;
    IF centre IS NOT NULL THEN RETURN ST_SetSRID(centre, 4326); END IF;
    -- Rows `step` degrees of latitude high (km / 111.32); each row's columns as wide on the ground at its middle.
    step := greatest(km, 0.1) / 111.32;
    row_latitude := least(90, greatest(-90, (floor(ST_Y(location) / step) + 0.5) * step));
    column_width := least(360, step / greatest(cos(radians(row_latitude)), 0.01));
    RETURN ST_SetSRID(ST_MakePoint(least(180, greatest(-180, (floor(ST_X(location) / column_width) + 0.5) * column_width)),
                                   row_latitude), 4326);
END $fn$;

-- The generalised point of an incident, or NULL when the public sees it exactly.
CREATE OR REPLACE FUNCTION conflictmap_incident_generalised(incident bigint, sensitive boolean, location geometry)
    RETURNS geometry LANGUAGE sql STABLE PARALLEL SAFE
    RETURN CASE WHEN location IS NOT NULL
                 AND (sensitive OR EXISTS (SELECT FROM {CITES} l JOIN {SOURCES} s ON s.id = l.source_id
                                            WHERE l.incident_id = incident AND s.sensitive))
                THEN conflictmap_generalised_location(location) END;
"""

_ROW_TRIGGER = f"""
CREATE OR REPLACE FUNCTION incidents_incident_public_location() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    NEW.generalised_location := conflictmap_incident_generalised(NEW.id, NEW.sensitive, NEW.location);
    NEW.generalised_precision := CASE WHEN NEW.generalised_location IS NOT NULL
                                      THEN greatest(NEW.location_precision, {GENERALISED_PRECISION}) END;
    RETURN NEW;
END $fn$;
DROP TRIGGER IF EXISTS incidents_incident_public_location_insert ON {INCIDENTS};
CREATE TRIGGER incidents_incident_public_location_insert BEFORE INSERT ON {INCIDENTS} FOR EACH ROW
    WHEN (NEW.sensitive OR NEW.generalised_location IS NOT NULL OR NEW.generalised_precision IS NOT NULL)
    EXECUTE FUNCTION incidents_incident_public_location();
DROP TRIGGER IF EXISTS incidents_incident_public_location_update ON {INCIDENTS};
CREATE TRIGGER incidents_incident_public_location_update BEFORE UPDATE ON {INCIDENTS} FOR EACH ROW
    WHEN (NEW.sensitive OR OLD.sensitive OR OLD.generalised_location IS NOT NULL
          OR NEW.generalised_location IS NOT NULL OR NEW.generalised_precision IS NOT NULL)
    EXECUTE FUNCTION incidents_incident_public_location();
"""


def recompute_sql(candidates):
    """Set the generalised point of the incidents `candidates` (a query of ids) selects where it is not what it
    should be; the row trigger then sets the precision (and computes the same point)."""
    return f"""
    UPDATE {INCIDENTS} i SET generalised_location = x.point
      FROM (SELECT c.id, conflictmap_incident_generalised(c.id, c.sensitive, c.location) AS point
              FROM {INCIDENTS} c WHERE c.id IN ({candidates})) AS x
     WHERE x.id = i.id AND i.generalised_location IS DISTINCT FROM x.point;"""


_SENSITIVE = f"(SELECT id FROM {SOURCES} WHERE sensitive)"
# (table, event): the incidents whose sensitive citations the statement may have changed.
CANDIDATES = {
    (CITES, "INSERT"): f"SELECT incident_id FROM new_rows WHERE source_id IN {_SENSITIVE}",
    (CITES, "DELETE"): f"SELECT incident_id FROM old_rows WHERE source_id IN {_SENSITIVE}",
    (CITES, "UPDATE"): f"""SELECT incident_id FROM new_rows WHERE source_id IN {_SENSITIVE}
                     UNION SELECT incident_id FROM old_rows WHERE source_id IN {_SENSITIVE}""",
    (SOURCES, "UPDATE"): f"""SELECT l.incident_id FROM new_rows n JOIN old_rows o ON o.id = n.id
                      JOIN {CITES} l ON l.source_id = n.id WHERE n.sensitive IS DISTINCT FROM o.sensitive""",
}


def public_location_functions_sql():
    """The functions and the row trigger that compute the public location (triggers.py adds the statement-level
    triggers on links and sources, which run `recompute_sql` over CANDIDATES)."""
    return _GENERALISE + _ROW_TRIGGER


def public_location_fill_sql():
    """Every incident's generalised point computed again (the fill from scratch, a changed grid or districts)."""
    return recompute_sql(
        f"SELECT id FROM {INCIDENTS} WHERE sensitive OR generalised_location IS NOT NULL OR id IN "
        f"(SELECT incident_id FROM {CITES} WHERE source_id IN {_SENSITIVE})"
    )
