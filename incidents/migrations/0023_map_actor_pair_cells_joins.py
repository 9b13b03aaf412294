from django.db import migrations

# The actor-link triggers of MapActorPairCell (0020_map_actor_pair_cells), with the statement's own rows found by a
# join instead of `id IN (SELECT id FROM new_rows)` / `id NOT IN (SELECT id FROM new_rows)`. Such a subquery sits in
# the select list (or under NOT), so PostgreSQL cannot turn it into a join: it hashes it while the transition table
# fits in hash_mem (8 MB, about 250,000 links) and past that rescans it for every link of the incidents, so the
# 700,000 links of a 300,000-row import took hours instead of seconds. A join hashes in batches at any size.
# Only the three link functions change (CREATE OR REPLACE); their triggers, and what they count, stay as they are.
DETAIL_KEY = (
    "cell_x, cell_y, start_month, end_month, event_type_id, country, admin1, location_precision, sub_type, "
    "fatalities_best"
)
PAIR_KEY = f"actor_low_id, actor_high_id, side_low, side_high, {DETAIL_KEY}"
LINKS, KEPT = "incidents_incidentactor", "incidents_mapactorpaircell"
COLUMNS = "t.id, t.incident_id, t.actor_id, t.side"


def _rows(pairs, sign):
    """Signed contributions of the pairs (incident_id, actor_low_id, side_low, actor_high_id, side_high) of the
    published, located incidents; as in 0020."""
    return f"""SELECT conflictmap_cell_x(ST_X(i.location)) AS cell_x, conflictmap_cell_y(ST_Y(i.location)) AS cell_y,
                   date_trunc('month', i.start_date)::date AS start_month,
                   date_trunc('month', i.end_date)::date AS end_month, i.event_type_id, i.country, i.admin1,
                   i.location_precision, COALESCE(i.sub_event_type_id, 0) AS sub_type,
                   COALESCE(i.fatalities_best, -1) AS fatalities_best,
                   p.actor_low_id, p.actor_high_id, p.side_low, p.side_high,
                   {sign} AS n, {sign} * COALESCE(i.fatalities_best, 0)::bigint AS f,
                   {sign} * ST_X(i.location) AS sx, {sign} * ST_Y(i.location) AS sy
              FROM incidents_incident i JOIN ({pairs}) AS p ON p.incident_id = i.id
             WHERE i.status = 'published' AND i.location IS NOT NULL"""


def _pair(one, other):
    return f"""{one}.incident_id, LEAST({one}.actor_id, {other}.actor_id) AS actor_low_id,
        CASE WHEN {one}.actor_id < {other}.actor_id THEN {one}.side ELSE {other}.side END AS side_low,
        GREATEST({one}.actor_id, {other}.actor_id) AS actor_high_id,
        CASE WHEN {one}.actor_id < {other}.actor_id THEN {other}.side ELSE {one}.side END AS side_high"""


def _moved_pairs(moved, state):
    """The pairs of `state` (links, with a flag `moved` on the statement's own rows) that hold a row of `moved`."""
    return f"""SELECT {_pair("m", "s")} FROM {moved} m JOIN ({state}) s
        ON s.incident_id = m.incident_id AND s.actor_id <> m.actor_id
     WHERE NOT s.moved OR m.actor_id < s.actor_id"""


def _links_of(moved):
    """The table's links of the incidents the statement's rows `moved` belong to."""
    return f"SELECT {COLUMNS} FROM {LINKS} t WHERE t.incident_id IN (SELECT incident_id FROM {moved})"


def _after(moved):
    """The links as the statement left them, its own rows (`moved`, in the table now) flagged: a join (was IN)."""
    return f"""SELECT {COLUMNS}, own.id IS NOT NULL AS moved FROM ({_links_of(moved)}) AS t
                 LEFT JOIN {moved} own ON own.id = t.id"""


def _without(moved, present=None):
    """The links with the statement's old rows `moved` (gone from the table, or replaced by `present`) flagged: an
    anti-join (was NOT IN)."""
    kept = f"SELECT {COLUMNS}, false AS moved FROM ({_links_of(moved)}) AS t"
    if present:
        kept += f" WHERE NOT EXISTS (SELECT FROM {present} own WHERE own.id = t.id)"
    return f"{kept} UNION ALL SELECT {COLUMNS}, true FROM {moved} t"


TRIGGERS = {
    "INSERT": [(_moved_pairs("new_rows", _after("new_rows")), 1)],
    "UPDATE": [
        (_moved_pairs("old_rows", _without("old_rows", "new_rows")), -1),
        (_moved_pairs("new_rows", _after("new_rows")), 1),
    ],
    "DELETE": [(_moved_pairs("old_rows", _without("old_rows")), -1)],
}


def _function(event):
    delta = " UNION ALL ".join(_rows(pairs, sign) for pairs, sign in TRIGGERS[event])
    return f"""
CREATE OR REPLACE FUNCTION {LINKS}_mapactorpaircell_{event.lower()}() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO {KEPT} AS c ({PAIR_KEY}, incidents, fatalities, sum_x, sum_y)
    SELECT {PAIR_KEY}, sum(n), sum(f), sum(sx), sum(sy) FROM ({delta}) AS rows
     GROUP BY {PAIR_KEY} HAVING sum(n) <> 0 OR sum(f) <> 0 OR sum(sx) <> 0 OR sum(sy) <> 0
    ON CONFLICT ({PAIR_KEY}) DO UPDATE SET incidents = c.incidents + EXCLUDED.incidents,
        fatalities = c.fatalities + EXCLUDED.fatalities, sum_x = c.sum_x + EXCLUDED.sum_x,
        sum_y = c.sum_y + EXCLUDED.sum_y;
    DELETE FROM {KEPT} WHERE incidents = 0;
    RETURN NULL;
END $fn$;"""


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0022_import_warnings_records_actor_names"),
    ]

    # Backwards: nothing to undo. The functions count the same rows as 0020's, whose own reversal drops them.
    operations = [migrations.RunSQL("".join(_function(event) for event in TRIGGERS), migrations.RunSQL.noop)]
