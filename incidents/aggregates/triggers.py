"""The kept tables' SQL, written from the registry: the statement-level triggers that keep them in the writing
transaction, the functions the writers call (the features' rebuild, the terms' fill) and the fill from scratch.

Every trigger is statement-level with transition tables: a 100,000-row import touches each kept row once, not
100,000 times. PostgreSQL allows transition tables only on single-event triggers, so each written table has an
INSERT, an UPDATE and a DELETE trigger. Every count follows one pattern (_upsert): the statement's rows, signed
(-1 for the old rows, +1 for the new), summed per key, added to the kept rows, and the rows that reach 0 deleted at
once (a partial index finds them), so "in use" means present. An edit that moves nothing a table counts cancels out
and writes no row.

kept_tables_sql() is the whole script; operations.InstallKeptTables installs a frozen copy of it (sql/v<N>.sql).
"""

from ..map.grid import CELL_FUNCTIONS_SQL
from ..public import country_names_sql, feature_sql
from . import privacy, registry
from .registry import ACTOR, ACTOR_PAIR, INCIDENT, TERM

INCIDENTS, LINKS = "incidents_incident", "incidents_incidentactor"
MEDIA = "incidents_incidentmedia"  # an incident's media: its feature lists those previews may carry (public.py)
PUBLIC = "('published', 'retracted')"  # statuses whose incidents (or retraction notices) the public side shows
REFERENCING = {
    "INSERT": "NEW TABLE AS new_rows",
    "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "OLD TABLE AS old_rows",
}
# The transition tables of each event, with the sign of their rows.
SIGNED = {"INSERT": [("new_rows", 1)], "UPDATE": [("old_rows", -1), ("new_rows", 1)], "DELETE": [("old_rows", -1)]}
# What each summed column of a kept table adds up, in the signed rows.
_SUMS = {
    "incidents": "n",
    "fatalities": "f",
    "sum_x": "sx",
    "sum_y": "sy",
    "fatalities_low": "fl",
    "fatalities_high": "fh",
}
CELL_SUMS = ("incidents", "fatalities", "sum_x", "sum_y")


def _upsert(kept, key, sums, delta, *, emptied="incidents = 0"):
    """Add the signed rows `delta` (an SQL query with the key columns and n, f, sx, sy) to `kept`, then delete the
    rows that reached nothing.

    The sums are written in the order of the kept table's key (its unique index): a large statement then walks the
    index's pages in order instead of at random, which is what matters once the index outgrows shared buffers (a
    million incidents' term cells). The terms' cells of 100,000 incidents, 1.2 million rows, into a small table:
    9.3–9.4 s of CPU sorted, 8.9–12.8 s in hash order (bench/RESULTS.md, "Import at scale")."""
    key = ", ".join(key)
    summed = ", ".join(f"sum({_SUMS[name]})" for name in sums)
    moved = " OR ".join(f"sum({_SUMS[name]}) <> 0" for name in sums)
    added = ", ".join(f"{name} = c.{name} + EXCLUDED.{name}" for name in sums)
    return f"""
    INSERT INTO {kept} AS c ({key}, {", ".join(sums)})
    SELECT {key}, {summed} FROM ({delta}) AS rows
     GROUP BY {key} HAVING {moved} ORDER BY {key}
    ON CONFLICT ({key}) DO UPDATE SET {added};
    DELETE FROM {kept} WHERE {emptied};"""


def _signed(sign):
    return f"""{sign} AS n, {sign} * COALESCE(i.fatalities_best, 0)::bigint AS f,
                   {sign} * ST_X(i.public_location) AS sx, {sign} * ST_Y(i.public_location) AS sy"""


def _cell_rows(kept, incidents, sign, *, extra="", join=""):
    """The published, located incidents of `incidents` as signed contributions to a map-cell table's key."""
    key = ", ".join(f"{column.sql} AS {column.column}" for column in kept.key)
    return f"""SELECT {key}{extra},
                   {_signed(sign)}
              FROM {incidents} i{join}
             WHERE i.status = 'published' AND i.public_location IS NOT NULL"""


def _function(name, body, *, settings=""):
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql{settings} AS $fn$
BEGIN{body}
    RETURN NULL;
END $fn$;"""


def _trigger(name, table, event, body, *, settings=""):
    """A statement-level trigger and its function, replacing any of the name (the migration that installs a new
    version of the script replaces the old one's in place)."""
    return f"""
DROP TRIGGER IF EXISTS {name} ON {table};{_function(name, body, settings=settings)}
CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {REFERENCING[event]}
    FOR EACH STATEMENT EXECUTE FUNCTION {name}();"""


# --- Map cells of the incidents themselves (MapCell, MapDetailCell) and of their actor links (MapActorCell). ---
# Each side of a write joins the current rows of the other table, which makes either order of writes in one
# transaction count once: an incident inserted before its links adds nothing and each link adds itself; links
# deleted before their incident subtract themselves and the incident's delete finds none left (and the reverse).

_ACTOR_COLUMNS = ["actor_id", "side"]


def _incident_cells(kept, event):
    """A map-cell table of incidents or actor links, on a statement over the incidents."""
    if kept.rows == INCIDENT:
        delta = " UNION ALL ".join(_cell_rows(kept, rows, sign) for rows, sign in SIGNED[event])
        return _upsert(kept.table, kept.columns, CELL_SUMS, delta)
    delta = " UNION ALL ".join(
        _cell_rows(kept, rows, sign, extra=", l.actor_id, l.side", join=f" JOIN {LINKS} l ON l.incident_id = i.id")
        for rows, sign in SIGNED[event]
    )
    return _upsert(kept.table, [*_ACTOR_COLUMNS, *kept.columns], CELL_SUMS, delta)


# A statement over the links finds each link's incident by primary key. Left to plan the join itself, PostgreSQL
# hashed every incident for each statement (its estimate of a transition table's rows is no help): at a million
# incidents 0.77 s for an import chunk's 200,000 links, against 0.16 s looked up, and the more the incidents the
# more it cost. Only for the functions whose every join is such a look-up (not the pair cells', which hash the
# statement's own rows).
BY_PRIMARY_KEY = " SET enable_hashjoin = off SET enable_mergejoin = off"


def _link_cells(kept, event):
    """MapActorCell on a statement over the actor links."""
    delta = " UNION ALL ".join(
        _cell_rows(kept, INCIDENTS, sign, extra=", l.actor_id, l.side", join=f" JOIN {rows} l ON l.incident_id = i.id")
        for rows, sign in SIGNED[event]
    )
    return _upsert(kept.table, [*_ACTOR_COLUMNS, *kept.columns], CELL_SUMS, delta)


# --- MapActorPairCell: the incidents naming both of two actors, per pair of (actor, side). A link statement moves
# the pairs with at least one of its rows; a pair of two of them is taken once, from the row with the lower actor id.

_PAIR_COLUMNS = ["actor_low_id", "actor_high_id", "side_low", "side_high"]


def _pair(one, other):
    return f"""{one}.incident_id, LEAST({one}.actor_id, {other}.actor_id) AS actor_low_id,
        CASE WHEN {one}.actor_id < {other}.actor_id THEN {one}.side ELSE {other}.side END AS side_low,
        GREATEST({one}.actor_id, {other}.actor_id) AS actor_high_id,
        CASE WHEN {one}.actor_id < {other}.actor_id THEN {other}.side ELSE {one}.side END AS side_high"""


def _all_pairs(incidents=None):
    """Every pair of the current links (of the incidents in `incidents`, a statement's rows, if given)."""
    pairs = f"""SELECT {_pair("a", "b")} FROM {LINKS} a JOIN {LINKS} b
    ON b.incident_id = a.incident_id AND a.actor_id < b.actor_id"""
    return pairs + (f" WHERE a.incident_id IN (SELECT id FROM {incidents})" if incidents else "")


# `state` is materialized: planned as a subquery, PostgreSQL could put it inside a nested loop over the statement's
# rows and run it again for each of them when its statistics said the links were few (a fresh test database: one
# bulk insert of 2,800 links ran for more than ten minutes). Materialized, it runs once, whatever the estimates.
def _moved_pairs(moved, state):
    """The pairs of `state` (links, with a flag `moved` on the statement's own rows) that hold a row of `moved`."""
    return f"""WITH s AS MATERIALIZED ({state})
        SELECT {_pair("m", "s")} FROM {moved} m JOIN s
        ON s.incident_id = m.incident_id AND s.actor_id <> m.actor_id
     WHERE NOT s.moved OR m.actor_id < s.actor_id"""


_LINK_COLUMNS = "t.id, t.incident_id, t.actor_id, t.side"


def _links_of(moved):
    """The table's links of the incidents the statement's rows `moved` belong to."""
    return f"SELECT {_LINK_COLUMNS} FROM {LINKS} t WHERE t.incident_id IN (SELECT incident_id FROM {moved})"


# The statement's own rows are found by a join, never by `id IN (SELECT id FROM new_rows)` in the select list or
# `id NOT IN (…)`: PostgreSQL cannot turn those into joins, hashes them while the transition table fits in hash_mem
# (about 250,000 links) and past that rescans it for every link, so a 300,000-row import took hours, not seconds.
def _after(moved):
    """The links as the statement left them, its own rows (`moved`, in the table now) flagged."""
    return f"""SELECT {_LINK_COLUMNS}, own.id IS NOT NULL AS moved FROM ({_links_of(moved)}) AS t
                 LEFT JOIN {moved} own ON own.id = t.id"""


def _without(moved, present=None):
    """The links with the statement's old rows `moved` (gone from the table, or replaced by `present`) flagged."""
    kept = f"SELECT {_LINK_COLUMNS}, false AS moved FROM ({_links_of(moved)}) AS t"
    if present:
        kept += f" WHERE NOT EXISTS (SELECT FROM {present} own WHERE own.id = t.id)"
    return f"{kept} UNION ALL SELECT {_LINK_COLUMNS}, true FROM {moved} t"


# (written table, event): the (incidents, pairs, sign) contributions the statement moves.
_PAIR_MOVES = {
    (INCIDENTS, "INSERT"): [("new_rows", _all_pairs("new_rows"), 1)],
    (INCIDENTS, "UPDATE"): [("old_rows", _all_pairs("old_rows"), -1), ("new_rows", _all_pairs("new_rows"), 1)],
    (INCIDENTS, "DELETE"): [("old_rows", _all_pairs("old_rows"), -1)],
    # Inserted links are in the table now: pairs with at least one of them.
    (LINKS, "INSERT"): [(INCIDENTS, _moved_pairs("new_rows", _after("new_rows")), 1)],
    # Updated links: their pairs as they were (the table less their new rows, plus their old ones) go, their pairs
    # as they are come.
    (LINKS, "UPDATE"): [
        (INCIDENTS, _moved_pairs("old_rows", _without("old_rows", "new_rows")), -1),
        (INCIDENTS, _moved_pairs("new_rows", _after("new_rows")), 1),
    ],
    # Deleted links are gone from the table: pairs with at least one of them, among the table and them.
    (LINKS, "DELETE"): [(INCIDENTS, _moved_pairs("old_rows", _without("old_rows")), -1)],
}


def _pair_rows(kept, incidents, pairs, sign):
    return _cell_rows(
        kept,
        incidents,
        sign,
        extra=", p.actor_low_id, p.actor_high_id, p.side_low, p.side_high",
        join=f" JOIN ({pairs}) AS p ON p.incident_id = i.id",
    )


def _pair_cells(kept, table, event):
    delta = " UNION ALL ".join(_pair_rows(kept, *move) for move in _PAIR_MOVES[table, event])
    return _upsert(kept.table, [*_PAIR_COLUMNS, *kept.columns], CELL_SUMS, delta)


# --- MapTermCell: the incidents `q=<term>` finds, for whatever terms MapTerm holds. The match is the text filter's
# own (IncidentFilterSet.filter_text with q = the term): the stored words against websearch_to_tsquery('simple',
# term), or the term, upper-cased, inside the upper-cased haystack, which is written here exactly as Django compiles
# models.incident_text_haystack() (tests/test_map_terms.py compares the two). strpos rather than LIKE: no wildcard
# to escape, the same answer as `icontains`.
HAYSTACK = (
    "COALESCE(i.title, '') || COALESCE((COALESCE('\x1f', '') || COALESCE((COALESCE(CASE WHEN i.generalised_location "
    "IS NULL THEN i.place_reported ELSE '' END, '') || COALESCE((COALESCE('\x1f', '') || COALESCE(i.description, '')), "
    "'')), '')), '')"
)


def _term_cells(kept, tables):
    """One set-based statement: each changed incident matched once against every term (its haystack upper-cased
    once), its matched terms unnested, the (term, key) rows summed and added.

    The matches are one array per incident (a subplan over the terms), not a join of incidents and terms: PostgreSQL
    put the few terms on the outer side of such a join and read the incidents, haystacks and all, once per term from a
    materialised copy that a 100,000-row statement spills to disk. OFFSET 0 keeps the rows a subquery, so the
    haystack is computed once per incident."""
    key = ", ".join(kept.columns)
    delta = " UNION ALL ".join(
        _cell_rows(kept, table, sign, extra=f", i.search_words, upper({HAYSTACK}) AS haystack")
        for table, sign in tables
    )
    return f"""
    WITH terms AS MATERIALIZED (
        SELECT id, websearch_to_tsquery('simple', term) AS words, upper(term) AS needle FROM incidents_mapterm)
    INSERT INTO {kept.table} AS c (term_id, {key}, incidents, fatalities, sum_x, sum_y)
    SELECT matched.id, {key}, sum(n), sum(f), sum(sx), sum(sy)
      FROM (SELECT * FROM ({delta}) AS rows OFFSET 0) AS r
     CROSS JOIN LATERAL unnest(ARRAY(SELECT t.id FROM terms t
                          WHERE r.search_words @@ t.words OR strpos(r.haystack, t.needle) > 0)) AS matched (id)
     GROUP BY matched.id, {key} HAVING sum(n) <> 0 OR sum(f) <> 0 OR sum(sx) <> 0 OR sum(sy) <> 0
     ORDER BY matched.id, {key}
    ON CONFLICT (term_id, {key}) DO UPDATE SET incidents = c.incidents + EXCLUDED.incidents,
        fatalities = c.fatalities + EXCLUDED.fatalities, sum_x = c.sum_x + EXCLUDED.sum_x,
        sum_y = c.sum_y + EXCLUDED.sum_y;"""


def _term_trigger(kept, event):
    # With no term chosen a write costs one look at an empty table. The matches of a 100,000-row statement (about
    # 1.2 million (term, key) rows at the bench's 24 terms) are grouped in memory: 2.1 s of CPU, against 5.0 s
    # spilled to disk at 64 MB.
    body = f"""
    IF EXISTS (SELECT FROM incidents_mapterm) THEN{_term_cells(kept, SIGNED[event])}
        DELETE FROM {kept.table} WHERE incidents = 0;
    END IF;"""
    return _trigger(
        f"incidents_incident_maptermcell_{event.lower()}", INCIDENTS, event, body, settings=" SET work_mem = '256MB'"
    )


def _term_fill(kept):
    """incidents_maptermcell_fill(): the terms' cells from scratch (`manage.py refresh_map_terms` after choosing)."""
    return f"""
CREATE OR REPLACE FUNCTION incidents_maptermcell_fill() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN{_term_cells(kept, [(INCIDENTS, 1)])}
END $fn$;"""


def _cell_triggers():
    script = []
    for kept in registry.CELL_TABLES:
        short = kept.table.removeprefix("incidents_")
        for event in SIGNED:
            if kept.rows in (INCIDENT, ACTOR):
                name = f"{INCIDENTS}_{short}_{event.lower()}"
                script.append(_trigger(name, INCIDENTS, event, _incident_cells(kept, event)))
            if kept.rows == ACTOR:
                name = f"{LINKS}_{short}_{event.lower()}"
                script.append(_trigger(name, LINKS, event, _link_cells(kept, event), settings=BY_PRIMARY_KEY))
            if kept.rows == ACTOR_PAIR:
                for table in (INCIDENTS, LINKS):
                    name = f"{table}_{short}_{event.lower()}"
                    script.append(_trigger(name, table, event, _pair_cells(kept, table, event)))
            if kept.rows == TERM:
                script.append(_term_trigger(kept, event))
        if kept.rows == TERM:
            script.append(_term_fill(kept))
    return script


def _cell_fill(kept):
    """A map-cell table from scratch, from every incident (and link)."""
    if kept.rows == TERM:
        return "\n    PERFORM incidents_maptermcell_fill();"
    if kept.rows == INCIDENT:
        key, rows = kept.columns, _cell_rows(kept, INCIDENTS, 1)
    elif kept.rows == ACTOR:
        key = [*_ACTOR_COLUMNS, *kept.columns]
        rows = _cell_rows(
            kept, INCIDENTS, 1, extra=", l.actor_id, l.side", join=f" JOIN {LINKS} l ON l.incident_id = i.id"
        )
    else:
        key, rows = [*_PAIR_COLUMNS, *kept.columns], _pair_rows(kept, INCIDENTS, _all_pairs(), 1)
    return _upsert(kept.table, key, CELL_SUMS, rows)


# --- The timeline, the filter panel's choices and the data version (ETags): published incidents per day, type and
# region; actors that published incidents show; a number bumped by every write a public answer can see.


def _bump(condition):
    """Bump the data version when `condition` (an SQL boolean over the transition tables) holds."""
    return f"""
    IF {condition} THEN
        -- An upsert, so a flushed table (TransactionTestCase, a restore) starts counting again by itself.
        INSERT INTO incidents_dataversion AS v (id, version, changed_at) VALUES (1, 1, clock_timestamp())
        ON CONFLICT (id) DO UPDATE SET version = v.version + 1, changed_at = EXCLUDED.changed_at;
    END IF;"""


def _public_tables(rows):
    return [kept for kept in registry.PUBLIC_TABLES if kept.rows == rows]


def _public_key(kept):
    return [*_ACTOR_COLUMNS, *kept.key] if kept.rows == ACTOR else kept.key


def _public_rows(table, sign, *, links=None):
    """The published incidents of `table` as signed rows of every public table's key columns; with `links`, one row
    for each of their actor links in it (actor_id, side)."""
    rows = ACTOR if links else INCIDENT
    columns = list(dict.fromkeys(column for kept in _public_tables(rows) for column in kept.key))
    values = [f"{registry.PUBLIC_KEY_SQL.get(column, f'i.{column}')} AS {column}" for column in columns]
    join = ""
    if links:
        values += ["l.actor_id", "l.side"]
        join = f" JOIN {links} l ON l.incident_id = i.id"
    # An unknown low or high estimate counts as the best one (models.RegionMonth).
    return f"""SELECT {", ".join(values)}, {sign} AS n,
                   {sign} * COALESCE(i.fatalities_best, 0)::bigint AS f,
                   {sign} * COALESCE(i.fatalities_low, i.fatalities_best, 0)::bigint AS fl,
                   {sign} * COALESCE(i.fatalities_high, i.fatalities_best, 0)::bigint AS fh
              FROM {table} i{join} WHERE i.status = 'published'"""


def _public_upserts(rows, delta):
    return "".join(_upsert(kept.table, _public_key(kept), kept.sums, delta) for kept in _public_tables(rows))


def _public_counts(tables):
    """The public tables on a statement over the incidents: theirs, and their links' as they are now (either order of
    writes counts once, as for the map's actor cells)."""
    delta = " UNION ALL ".join(_public_rows(table, sign) for table, sign in tables)
    links = " UNION ALL ".join(_public_rows(table, sign, links=LINKS) for table, sign in tables)
    return _public_upserts(INCIDENT, delta) + _public_upserts(ACTOR, links)


def _actor_upsert(delta):
    return _upsert("incidents_publishedactor", ["actor_id"], ["incidents"], delta, emptied="incidents <= 0")


def _incident_public(event):
    tables = SIGNED[event]
    body = _public_counts(tables)
    if event == "UPDATE":
        # Publishing or unpublishing moves the incident's actors in or out of the published set. (A new incident has
        # no actors yet; a deleted one lost its actor rows first, by the links' own trigger.)
        body += _actor_upsert("""SELECT ia.actor_id, CASE WHEN n.status = 'published' THEN 1 ELSE -1 END AS n
              FROM new_rows n JOIN old_rows o ON o.id = n.id
              JOIN incidents_incidentactor ia ON ia.incident_id = n.id
             WHERE (n.status = 'published') <> (o.status = 'published')""")
    public = " OR ".join(f"EXISTS (SELECT 1 FROM {table} WHERE status IN {PUBLIC})" for table, _ in tables)
    return body + _bump(public)


def _link_public(event, *, actors):
    """incident_actor / incident_source rows: public when their incident is published or retracted."""
    tables = SIGNED[event]
    public = " OR ".join(
        f"""EXISTS (SELECT 1 FROM {table} t JOIN incidents_incident i ON i.id = t.incident_id
                    WHERE i.status IN {PUBLIC})"""
        for table, _ in tables
    )
    body = ""
    if actors:
        body = _public_upserts(
            ACTOR, " UNION ALL ".join(_public_rows(INCIDENTS, sign, links=table) for table, sign in tables)
        )
        body += _actor_upsert(
            " UNION ALL ".join(
                f"""SELECT t.actor_id, {sign} AS n FROM {table} t
                      JOIN incidents_incident i ON i.id = t.incident_id WHERE i.status = 'published'"""
                for table, sign in tables
            )
        )
    return body + _bump(public)


def _shown(column, via):
    """An actor, source, event type or sub-type: public when a published or retracted incident shows it."""
    if via:
        link, link_column = via
        shown = f"""EXISTS (SELECT 1 FROM new_rows t JOIN {link} l ON l.{link_column} = t.id
                    JOIN incidents_incident i ON i.id = l.incident_id WHERE i.status IN {PUBLIC})"""
    else:
        shown = f"""EXISTS (SELECT 1 FROM new_rows t JOIN incidents_incident i ON i.{column} = t.id
                    WHERE i.status IN {PUBLIC})"""
    return _bump(shown)


def _public_triggers():
    script = []
    for event in SIGNED:
        for table, body in (
            (INCIDENTS, _incident_public(event)),
            (LINKS, _link_public(event, actors=True)),
            ("incidents_incidentsource", _link_public(event, actors=False)),
            (MEDIA, _link_public(event, actors=False)),
        ):
            settings = BY_PRIMARY_KEY if table != INCIDENTS else ""
            script.append(_trigger(f"{table}_public_{event.lower()}", table, event, body, settings=settings))
    # Inserting an actor or a type changes no public answer (nothing shows it yet) and deleting one that is shown is
    # refused (PROTECT): only their updates can.
    for table, column, via in [
        ("incidents_actor", None, (LINKS, "actor_id")),
        ("incidents_source", None, ("incidents_incidentsource", "source_id")),
        ("incidents_eventtype", "event_type_id", None),
        ("incidents_subeventtype", "sub_event_type_id", None),
    ]:
        script.append(_trigger(f"{table}_public_update", table, "UPDATE", _shown(column, via)))
    return script


def public_table_fill_sql(kept):
    """One public table counted from scratch (into an empty table)."""
    key = ", ".join(_public_key(kept))
    rows = _public_rows(INCIDENTS, 1, links=LINKS if kept.rows == ACTOR else None)
    return (
        f"\n    INSERT INTO {kept.table} ({key}, {', '.join(kept.sums)})"
        f"\n    SELECT {key}, {', '.join(f'sum({_SUMS[name]})' for name in kept.sums)}"
        f" FROM ({rows}) AS rows GROUP BY {key};"
    )


def _public_fill():
    body = "".join(public_table_fill_sql(kept) for kept in registry.PUBLIC_TABLES)
    return (
        body
        + """
    INSERT INTO incidents_publishedactor (actor_id, incidents)
    SELECT ia.actor_id, count(*) FROM incidents_incidentactor ia
      JOIN incidents_incident i ON i.id = ia.incident_id WHERE i.status = 'published' GROUP BY 1;"""
        + _bump("true")
    )


# --- IncidentFeature: each published incident's GeoJSON feature (public.py), rebuilt for the incidents a statement
# touched: the incident itself, its actor and source links, and the actors, sources, event types and sub-types it
# shows. Drafts and retractions have no row.


def _feature_statements(affected):
    """The two statements that rebuild the features of the incidents `affected` (a query of incident ids) selects:
    the rows of those no longer published removed, the published ones upserted.

    Joins, not `IN (affected)`: past work_mem PostgreSQL cannot hash an IN subquery and rescans it for every row,
    which made a 100,000-row import take minutes.
    """
    distinct = f"(SELECT DISTINCT id FROM ({affected}) AS affected (id)) AS affected"
    delete = f"""
    DELETE FROM incidents_incidentfeature f
     USING {distinct}
     WHERE f.incident_id = affected.id
       AND NOT EXISTS (SELECT 1 FROM incidents_incident i WHERE i.id = f.incident_id AND i.status = 'published')"""
    upsert = f"""
    INSERT INTO incidents_incidentfeature AS f (incident_id, feature)
    {feature_sql(distinct)}
    ON CONFLICT (incident_id) DO UPDATE SET feature = EXCLUDED.feature
     WHERE f.feature IS DISTINCT FROM EXCLUDED.feature"""
    return [delete, upsert]


def _executed(affected, using=""):
    """The rebuild in a PL/pgSQL body, each statement planned when it runs (EXECUTE): a static statement would keep
    the plan made for the first call, e.g. for one edited incident, and reuse it for a 100,000-row import."""
    return "".join(f"\n    EXECUTE $sql${statement}$sql${using};" for statement in _feature_statements(affected))


def _changed(columns, *, via):
    """Incidents showing a row whose shown `columns` a statement changed; `via` is (table, column) pointing to it."""
    table, column = via
    incident = "id" if table == INCIDENTS else "incident_id"
    differs = " OR ".join(f"n.{name} IS DISTINCT FROM o.{name}" for name in columns)
    return f"""SELECT l.{incident} FROM new_rows n JOIN old_rows o ON o.id = n.id
                 JOIN {table} l ON l.{column} = n.id WHERE {differs}"""


_LINKED = {
    "INSERT": "SELECT incident_id FROM new_rows",
    "UPDATE": "SELECT incident_id FROM new_rows UNION SELECT incident_id FROM old_rows",
    "DELETE": "SELECT incident_id FROM old_rows",
}
# (table, event): the incidents whose feature the statement may have changed.
FEATURE_AFFECTED = {
    (INCIDENTS, "INSERT"): "SELECT id FROM new_rows",
    (INCIDENTS, "UPDATE"): "SELECT id FROM new_rows",
    (INCIDENTS, "DELETE"): "SELECT id FROM old_rows",
    **{(table, event): _LINKED[event] for table in (LINKS, "incidents_incidentsource", MEDIA) for event in REFERENCING},
    ("incidents_actor", "UPDATE"): _changed(["name", "aliases"], via=(LINKS, "actor_id")),
    ("incidents_source", "UPDATE"): _changed(
        ["publisher", "title", "url", "published_on", "sensitive"], via=("incidents_incidentsource", "source_id")
    ),
    ("incidents_eventtype", "UPDATE"): _changed(["slug", "name"], via=(INCIDENTS, "event_type_id")),
    ("incidents_subeventtype", "UPDATE"): _changed(["slug", "name"], via=(INCIDENTS, "sub_event_type_id")),
}

# A bulk writer that touches the same incidents in several statements (an import writes the incidents, then their
# actors, then their sources) sets this for its transaction (SET LOCAL) and rebuilds once at the end with
# conflictmap_incident_features_rebuild(ids): one pass over its incidents instead of three.
_DEFERRED = "IF current_setting('conflictmap.features_deferred', true) = 'on' THEN RETURN NULL; END IF;"
# UTC for the functions' run, whatever the writing session's TimeZone: to_json(updated_at) writes the offset.
_UTC = " SET timezone = 'UTC'"


def _feature_triggers():
    script = [
        f"""
CREATE OR REPLACE FUNCTION conflictmap_incident_features_rebuild(ids bigint[]) RETURNS void LANGUAGE plpgsql
   {_UTC} AS $fn$
BEGIN{_executed("SELECT unnest($1)", " USING ids")}
END $fn$;"""
    ]
    for (table, event), affected in FEATURE_AFFECTED.items():
        body = f"\n    {_DEFERRED}{_executed(affected)}"
        script.append(_trigger(f"{table}_feature_{event.lower()}", table, event, body, settings=_UTC))
    return script


# --- IncidentChange: the change feed's log (api/changes.py), one row per incident whose public feature a statement
# created, changed or removed, written by the feature table's own triggers, so that whatever writes a feature (an edit,
# a link, a renamed actor, an import's rebuild, a revert) is logged alike and a draft never is (it has no feature).
# No content is logged: the feed sends the feature as it is now.
#
# Commit order: each statement bumps the data version (the one-row upsert _bump writes) *before* it inserts its rows.
# That row lock is held to the end of the transaction, so a second writer waits there until the first has committed,
# and only then draws its ids: ids are handed out in commit order, and a reader can never see an id above one that is
# still to commit. The version each row records is its statement's.

_CHANGE_VERSION = """
    INSERT INTO incidents_dataversion AS v (id, version, changed_at) VALUES (1, 1, clock_timestamp())
    ON CONFLICT (id) DO UPDATE SET version = v.version + 1, changed_at = EXCLUDED.changed_at;"""
_CHANGE_COLUMNS = "incident_id, kind, fields, note, duplicate_of, data_version, changed_at"
_CHANGE_NOW = "(SELECT version FROM incidents_dataversion WHERE id = 1), clock_timestamp()"
# The feature's members whose values differ, "geometry" or a property's name, in name order.
_CHANGED_FIELDS = """ARRAY(
               SELECT 'geometry' WHERE f.new -> 'geometry' IS DISTINCT FROM f.old -> 'geometry'
               UNION ALL
               SELECT p.key FROM jsonb_each(f.new -> 'properties') AS p (key, value)
                WHERE p.value IS DISTINCT FROM f.old -> 'properties' -> p.key
               ORDER BY 1)"""
CHANGE_ROWS = {
    "INSERT": f"""SELECT incident_id, 'created', '{{}}'::text[], '', NULL, {_CHANGE_NOW} FROM new_rows ORDER BY incident_id""",
    "UPDATE": f"""SELECT n.incident_id, 'updated', {_CHANGED_FIELDS}, '', NULL, {_CHANGE_NOW}
          FROM new_rows n JOIN old_rows o ON o.incident_id = n.incident_id
         CROSS JOIN LATERAL (SELECT n.feature::jsonb AS new, o.feature::jsonb AS old) AS f
         WHERE n.feature IS DISTINCT FROM o.feature ORDER BY n.incident_id""",
    # Gone from the public set: retracted (with its note, and the incident it was merged into, if it was), back to
    # draft, or deleted.
    "DELETE": f"""SELECT o.incident_id,
               CASE i.status WHEN 'retracted' THEN 'retracted' WHEN 'draft' THEN 'unpublished' ELSE 'deleted' END,
               '{{}}'::text[], CASE WHEN i.status = 'retracted' THEN i.retraction_reason ELSE '' END,
               CASE WHEN i.status = 'retracted' THEN i.duplicate_of_id END, {_CHANGE_NOW}
          FROM old_rows o LEFT JOIN incidents_incident i ON i.id = o.incident_id ORDER BY o.incident_id""",
}


def _change_triggers():
    script = []
    for event, rows in CHANGE_ROWS.items():
        # A statement that moved no feature (an upsert whose every row was unchanged) logs nothing, bumps nothing.
        table = "old_rows" if event == "DELETE" else "new_rows"
        body = f"""
    IF NOT EXISTS (SELECT FROM {table}) THEN RETURN NULL; END IF;{_CHANGE_VERSION}
    INSERT INTO incidents_incidentchange ({_CHANGE_COLUMNS})
        {rows};"""
        name = f"incidents_incidentfeature_change_{event.lower()}"
        script.append(_trigger(name, "incidents_incidentfeature", event, body))
    return script


def _public_location_triggers():
    """The links' and sources' statements that change which incidents cite a sensitive source (privacy.py)."""
    return [
        _trigger(f"{table}_public_location_{event.lower()}", table, event, privacy.recompute_sql(candidates))
        for (table, event), candidates in privacy.CANDIDATES.items()
    ]


def kept_tables_fill_sql():
    """conflictmap_kept_tables_fill(): every kept table emptied and counted again from the incidents (a new version
    of a table's key; the tests' check that the triggers keep what a fill makes)."""
    tables = [*(kept.table for kept in registry.CELL_TABLES), *(kept.table for kept in registry.PUBLIC_TABLES)]
    tables += ["incidents_publishedactor"]
    # The public locations first: every count below is keyed on them.
    body = privacy.public_location_fill_sql()
    body += f"\n    TRUNCATE {', '.join(tables)};"
    body += "".join(_cell_fill(kept) for kept in registry.CELL_TABLES)
    body += _public_fill()
    # The features are rebuilt in place, not emptied first: a fill then logs in the change feed only the features it
    # really changes (a new shape of the feature), not every published incident as created again.
    body += """
    DELETE FROM incidents_incidentfeature f
     WHERE NOT EXISTS (SELECT 1 FROM incidents_incident i WHERE i.id = f.incident_id AND i.status = 'published');"""
    body += "\n    PERFORM conflictmap_incident_features_rebuild(ARRAY(SELECT id FROM incidents_incident WHERE status = 'published'));"
    body += f"\n    ANALYZE {', '.join([*tables, 'incidents_incidentfeature'])};"
    return f"""
CREATE OR REPLACE FUNCTION conflictmap_kept_tables_fill() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN{body}
END $fn$;"""


def kept_tables_sql():
    """The whole script: the cell functions, every kept table's triggers and functions, and the fill."""
    script = [
        CELL_FUNCTIONS_SQL,
        country_names_sql(),
        privacy.public_location_functions_sql(),
        *_public_location_triggers(),
        *_cell_triggers(),
        *_public_triggers(),
        *_feature_triggers(),
        *_change_triggers(),
        kept_tables_fill_sql(),
    ]
    header = "-- Generated by `manage.py kept_tables_sql` from incidents/aggregates/registry.py: do not edit.\n"
    return header + "".join(script).strip() + "\n"
