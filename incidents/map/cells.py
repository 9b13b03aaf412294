"""Reading the kept map-cell tables (MapCell, MapDetailCell, MapActorCell less MapActorPairCell, MapTermCell): the
clusters of a view from whole cells inside it, with the incidents of its edge cells and edge months counted live."""

import datetime
import math

from django.contrib.gis.geos import Polygon
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from ..aggregates.registry import ACTOR, MAP_ACTOR_CELL, MAP_ACTOR_PAIR_CELL, TERM, cell_table_for
from ..selectors import filters_given, incident_filter, params_without
from .grid import (
    MAP_CELL_COLUMNS,
    MAP_CELL_HEIGHT,
    MAP_CELL_WIDTH,
    ROW_LATITUDE_SQL,
    cell_row_latitude,
    clamp_latitude,
    cluster_cell,
    mercator_y,
)
from .live import bind, incident_cluster_totals, live_parts_sql, map_read

# The text filter: on a word MapTerm keeps, MapTermCell answers it (the term's id, map_term_id, is its parameter).
MAP_TERM_FILTER = "q"
_TERM_CONDITION = "term_id = %(q)s"
# Actors (with or without a side): the signed reads of the actor tables, by the columns naming actor and side. An
# incident naming m of the chosen actors is in m of MapActorCell's sums and m(m-1)/2 of MapActorPairCell's: it counts
# m - m(m-1)/2 times, once for one or two actors; an incident naming three or more (`multiple`) is set right live.
_ACTOR_READS = [
    (MAP_ACTOR_CELL.table, 1, [("actor_id", "side")]),
    (MAP_ACTOR_PAIR_CELL.table, -1, [("actor_low_id", "side_low"), ("actor_high_id", "side_high")]),
]
_COUNTED = "({m} - {m} * ({m} - 1) / 2)"  # how many times the actor tables count an incident naming m chosen actors
# How many of the chosen actors (%(actors)s, on the side %(side)s when `side` is given) each incident naming one of
# them names, `m`: the map's and the region tables' actor reads set right those naming several.
NAMED_ACTORS_SQL = """SELECT incident_id, count(*) AS m FROM incidents_incidentactor
     WHERE actor_id = ANY(%(actors)s) {side} GROUP BY incident_id"""


def named_actors_sql(side):
    return NAMED_ACTORS_SQL.format(side="AND side = %(side)s" if side else "")


_MULTIPLE_SQL = "multiple AS ({named} HAVING count(*) > 2),"
# Margin (degrees) by which the live queries' boxes overreach the cell edges they stand for: the exact test is the
# cell functions' own, in SQL, so the boxes need only hold every point that test can select.
_EDGE_MARGIN = 1e-6


def _month_start(day):
    return day.replace(day=1)


def _month_end(day):
    following = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


def counted_filters(filters):
    """The names of the filters a kept table must answer: the given ones, less `side` without an actor (it filters
    nothing then)."""
    given = filters_given(filters)
    if "actor" not in given:
        given.discard("side")
    return given


def kept_conditions(key, given, values):
    """How a kept table keyed by months and `key` (KeyColumns) is read for the given filters (names) with their
    validated `values`: (conditions over its columns, their named values, the incidents its edge months hold outside
    the date range). Those incidents (ending in the month of `start` before that day, starting in the month of `end`
    after it) are for the caller to count live and take back out; Q() when the range is whole months."""
    conditions, named, outside = [], {}, Q()
    for column in key:
        if column.filter in given:
            conditions.append(column.condition)
            named[column.filter] = column.value(values[column.filter])
    start, end = values.get("start"), values.get("end")
    if start:
        conditions.append("end_month >= %(start_month)s")
        named["start_month"] = _month_start(start)
        if start.day != 1:
            outside |= Q(end_date__gte=_month_start(start), end_date__lt=start)
    if end:
        conditions.append("start_month <= %(end_month)s")
        named["end_month"] = _month_start(end)
        if end != _month_end(end):
            outside |= Q(start_date__gt=end, start_date__lte=_month_end(end))
    return conditions, named, outside


# The clusters from MapCell: whole cells strictly inside the view, from the table, by month; the incidents of the
# cells along the view's edges counted live. With a date filter the table's months at the range's edges hold some
# incidents outside it (ending in the month of `start` but before that day, or starting in the month of `end` but
# after it): those are counted live and subtracted (sign -1), which in a range of whole months are none. Exact: a
# point is in an inner cell by the same SQL function that placed it in the table, an inner cell lies wholly inside
# the view, and what is subtracted was in the table's rows of the same cell. With three or more actors the tables
# count an incident naming m of them _COUNTED times: what the edge months hold outside the range is subtracted that
# many times, and an incident inside it that many less one (a join with `multiple`, _MULTIPLE_SQL).
MAP_CELL_CLUSTERS_SQL = """
WITH {multiple} live AS ({live}),
parts AS (
    SELECT floor(conflictmap_cell_x(x) / %(block)s::float8) AS gx, floor(conflictmap_cell_y(y) / %(block)s::float8) AS gy,
           sum(sign) AS count, coalesce(sum(sign * fatalities_best), 0) AS fatalities,
           sum(sign * x) AS sum_x, sum(sign * y) AS sum_y,
           min(x) FILTER (WHERE sign > 0) AS west, min(y) FILTER (WHERE sign > 0) AS south,
           max(x) FILTER (WHERE sign > 0) AS east, max(y) FILTER (WHERE sign > 0) AS north,
           min(start_date) FILTER (WHERE sign > 0) AS first, max(start_date) FILTER (WHERE sign > 0) AS last
      FROM live GROUP BY 1, 2
    UNION ALL
    SELECT floor(cell_x / %(block)s::float8), floor(cell_y / %(block)s::float8), sum(incidents), sum(fatalities),
           sum(sum_x), sum(sum_y),
           -- the extent of the cells (their members' own extent is not kept: it cannot shrink on a delete)
           min(cell_x) * %(cell_width)s::float8, {south_edge},
           (max(cell_x) + 1) * %(cell_width)s::float8, {north_edge},
           -- month bounds; the feed makes the first and last dates exact with one more query
           min(start_month), (max(start_month) + interval '1 month' - interval '1 day')::date
      FROM ({cell_rows}) AS cells GROUP BY 1, 2)
SELECT sum(count)::bigint AS count, sum(fatalities)::bigint AS fatalities, sum(sum_x) / sum(count) AS lon,
       sum(sum_y) / sum(count) AS lat, min(west) AS west, min(south) AS south, max(east) AS east,
       max(north) AS north, min(first) AS first, max(last) AS last
  FROM parts GROUP BY gx, gy HAVING sum(count) > 0 ORDER BY count DESC, lon, lat""".replace(
    "{south_edge}", ROW_LATITUDE_SQL.format(row="min(cell_y)", height="%(cell_height)s::float8")
).replace("{north_edge}", ROW_LATITUDE_SQL.format(row="(max(cell_y) + 1)", height="%(cell_height)s::float8"))

# The cells a point is counted in, by the view's edges: inside (from the tables) or not (live).
_INNER_CELL = (
    "conflictmap_cell_x({x}) > conflictmap_cell_x(%(west)s) AND conflictmap_cell_x({x}) < conflictmap_cell_x(%(east)s) "
    "AND conflictmap_cell_y({y}) > conflictmap_cell_y(%(south)s) AND conflictmap_cell_y({y}) < conflictmap_cell_y(%(north)s)"
)
# The inner cells of the view, as conditions on the tables' columns.
_INNER_CELLS = [
    "conflictmap_cell_x(%(west)s) < cell_x",
    "cell_x < conflictmap_cell_x(%(east)s)",
    "conflictmap_cell_y(%(south)s) < cell_y",
    "cell_y < conflictmap_cell_y(%(north)s)",
]


# The MapTerm that `q` is: its lower case, giving the same words query and the same upper-cased substring as the
# term, so that the filter on `q` and the term's cells select the same incidents. Normalised by PostgreSQL, like the
# filter. A text of several words, or anything websearch_to_tsquery reads otherwise, finds none.
_MAP_TERM_SQL = """SELECT id FROM incidents_mapterm
 WHERE term = lower(%(text)s) AND upper(term) = upper(%(text)s)
   AND websearch_to_tsquery('simple', term) = websearch_to_tsquery('simple', %(text)s)"""


def map_term_id(*, text, using):
    """The id of the MapTerm whose cells hold exactly the published incidents `q=text` finds, or None."""
    text = text.strip()  # as IncidentFilterSet.filter_text strips it
    with connections[using].cursor() as cursor:
        cursor.execute(*bind(_MAP_TERM_SQL, text=text))
        row = cursor.fetchone()
    return row[0] if row else None


def incident_map_cell_clusters(
    *, filters, viewport, zoom, points_max=None, exact_dates=True, cell_pixels=64, max_cells=1024
):
    """Grid clusters like live.incident_map_clusters, read from the MapCell table: {"clusters", "totals"}, or None
    when it cannot answer exactly. The totals' first and last dates are exact unless the total is at most
    `points_max` (the caller then draws points and takes the dates from them) or `exact_dates` is false (they are
    then only right to the month).

    It can when one kept table answers every given filter (registry.cell_table_for: MapCell for its key's filters,
    MapDetailCell adding a sub-type or a fatality threshold, MapTermCell for `q` on a word MapTerm keeps with
    MapCell's filters, MapActorCell less MapActorPairCell for actors, with or without `side`, and MapDetailCell's
    filters); when the view is one box (not split at the antimeridian); and when the cluster cells are blocks of
    MapCell cells: up to zoom 11 (at 11 the cells are MapCell's own, 128 pixels rather than 64).
    Cost: the table rows of the inner cells plus the incidents of the edge cells and edge months (and, for three
    actors or more, their links), instead of every incident in view.
    """
    given = counted_filters(filters)
    cleaned = filters.form.cleaned_data
    # The first kept table whose key answers every given filter (aggregates/registry.py).
    kept = cell_table_for(given)
    if kept is None:
        return None
    if len(viewport) != 1:  # split at the antimeridian
        return None
    cell_width, _ = cluster_cell(zoom=zoom, viewport=viewport, cell_pixels=cell_pixels, max_cells=max_cells)
    columns = round(360 / cell_width)
    if columns > 2 * MAP_CELL_COLUMNS:
        return None
    block = float(max(1, MAP_CELL_COLUMNS // columns))  # MapCell cells per cluster cell, along each axis
    west, south, east, north = (float(edge) for edge in viewport[0].extent)
    inner_west, inner_east = math.floor(west / MAP_CELL_WIDTH), math.floor(east / MAP_CELL_WIDTH)
    inner_south, inner_north = (math.floor(mercator_y(clamp_latitude(lat)) / MAP_CELL_HEIGHT) for lat in (south, north))
    if inner_east - inner_west < 2 or inner_north - inner_south < 2:
        return None  # no whole cell inside the view: the live query is as cheap
    in_view = filters.qs.in_view(viewport)
    # The validated values the conditions read: `q` stands for its MapTerm, looked up once the rest allows the table.
    values = dict(cleaned)
    if MAP_TERM_FILTER in given:
        values[MAP_TERM_FILTER] = map_term_id(text=cleaned[MAP_TERM_FILTER], using=in_view.db)
        if values[MAP_TERM_FILTER] is None:
            return None
    # Boxes (a little larger than) the edge cells, and the inner cells: the GiST index picks their incidents.
    x0, x1 = (inner_west + 1) * MAP_CELL_WIDTH, inner_east * MAP_CELL_WIDTH
    y0, y1 = cell_row_latitude(inner_south + 1), cell_row_latitude(inner_north)
    edge_boxes = [
        (west, south, min(east, x0 + _EDGE_MARGIN), north),
        (max(west, x1 - _EDGE_MARGIN), south, east, north),
        (west, south, east, min(north, y0 + _EDGE_MARGIN)),
        (west, max(south, y1 - _EDGE_MARGIN), east, north),
    ]
    inner_box = (x0 - _EDGE_MARGIN, y0 - _EDGE_MARGIN, x1 + _EDGE_MARGIN, y1 + _EDGE_MARGIN)
    view_edges = {"west": west, "east": east, "south": south, "north": north}

    edge_cells = Q()
    for box in edge_boxes:
        edge_cells |= Q(public_location__bboverlaps=Polygon.from_bbox(box))
    # (incidents, the cells they are counted in, their weight, what the weight joins)
    live_parts = [(in_view.filter(edge_cells), f"NOT ({_INNER_CELL})", "1", "")]
    # The table rows' conditions, with their named values.
    conditions, named, outside = kept_conditions(kept.key, given, values)
    cells, cell_values = [*_INNER_CELLS, *conditions], {**view_edges, **named}
    reads, multiple = _cell_reads(kept, values)
    if multiple[0]:
        # Read by primary key from `multiple` (few incidents), not by scanning the view: PostgreSQL cannot tell how
        # few pass HAVING, and would. `multiple` names the actors already.
        any_actor = incident_filter(params=params_without(filters.data, "actor", "side")).in_view(viewport)
        inner_in_range = any_actor.filter(public_location__bboverlaps=Polygon.from_bbox(inner_box)).filter(
            RawSQL("incidents_incident.id = ANY(ARRAY(SELECT incident_id FROM multiple))", [], BooleanField())
        )
        join = "JOIN multiple ON multiple.incident_id = id"
        live_parts.append((inner_in_range, _INNER_CELL, "1 - " + _COUNTED.format(m="multiple.m"), join))
    if outside:
        # The same filters but the dates, for what the edge months hold outside the range.
        undated = incident_filter(params=params_without(filters.data, "start", "end"))
        inner = (
            undated.in_view(viewport).filter(public_location__bboverlaps=Polygon.from_bbox(inner_box)).filter(outside)
        )
        if multiple[0]:  # an incident not in `multiple` names one or two of the actors: the tables count it once
            weight = "-" + _COUNTED.format(m="coalesce(multiple.m, 1)")
            live_parts.append((inner, _INNER_CELL, weight, "LEFT JOIN multiple ON incident_id = id"))
        else:
            live_parts.append((inner, _INNER_CELL, "-1", ""))

    try:
        live = live_parts_sql(live_parts, view_edges)
    except EmptyResultSet:  # Django proved the filters match nothing (an empty IN list): the live path says so
        return None
    cell_rows, read_params = [], []
    for read_table, sign, conditions, read_values in reads:
        minus = "-" if sign < 0 else ""
        sql, params = bind(
            f"SELECT cell_x, cell_y, start_month, {minus}incidents AS incidents, {minus}fatalities AS fatalities, "
            f"{minus}sum_x AS sum_x, {minus}sum_y AS sum_y FROM {read_table} WHERE " + " AND ".join(cells + conditions),
            **cell_values,
            **read_values,
        )
        cell_rows.append(sql)
        read_params += params
    query, params = bind(
        MAP_CELL_CLUSTERS_SQL,
        multiple=multiple,
        live=live,
        cell_rows=(" UNION ALL ".join(cell_rows), read_params),
        block=block,
        cell_width=MAP_CELL_WIDTH,
        cell_height=MAP_CELL_HEIGHT,
    )
    with map_read(in_view) as cursor:
        cursor.execute(query, params)
        names = [column.name for column in cursor.description]
        clusters = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        if MAP_TERM_FILTER in given and not _map_term_kept(cursor, values[MAP_TERM_FILTER]):
            return None
        totals = incident_cluster_totals(clusters=clusters)
        if exact_dates and totals["total"] and (points_max is None or totals["total"] > points_max):
            totals.update(_exact_first_and_last(cursor, in_view, totals["first"], totals["last"]))
    for cluster in clusters:
        if cluster["count"] == 1:  # one incident: its own point, not its cell
            cluster.update(west=cluster["lon"], east=cluster["lon"], south=cluster["lat"], north=cluster["lat"])
        else:  # cells at the view's edge reach past it; what is drawn stays within the view
            cluster.update(
                west=max(west, cluster["west"]),
                east=min(east, cluster["east"]),
                south=max(south, cluster["south"]),
                north=min(north, cluster["north"]),
            )
    return {"clusters": clusters, "totals": totals}


def _cell_reads(kept, values):
    """The signed reads of the map-cell tables for the filters `kept` answers: [(table, sign, conditions, named
    values)], and `multiple` as (SQL, parameters) (three actors or more; else ("", []))."""
    if kept.rows == ACTOR:
        return _actor_reads(values["actor"], values.get("side"))
    if kept.rows == TERM:
        return [(kept.table, 1, [_TERM_CONDITION], {"q": int(values[MAP_TERM_FILTER])})], ("", [])
    return [(kept.table, 1, [], {})], ("", [])


def _actor_reads(actors, side):
    """The actor tables' signed reads for the chosen actors (and side), and `multiple` when three or more are chosen
    (an incident may then name more than two of them)."""
    values = {"actors": [actor.pk for actor in actors], "side": side}
    reads = []
    for table, sign, columns in _ACTOR_READS[: 1 if len(values["actors"]) == 1 else 2]:
        conditions = []
        for actor_column, side_column in columns:
            conditions.append(f"{actor_column} = ANY(%(actors)s)")
            if side:
                conditions.append(f"{side_column} = %(side)s")
        reads.append((table, sign, conditions, values))
    if len(values["actors"]) < 3:
        return reads, ("", [])
    return reads, bind(_MULTIPLE_SQL.format(named=named_actors_sql(side)), **values)


def _map_term_kept(cursor, term_id):
    """Whether the term is still kept after its cells were read. A refresh (services.map_terms_refresh) that dropped
    it after the lookup left the read none of its rows; ids are never reused, so a term there before and after the
    read was there for it, with all its cells (the refresh replaces them in one transaction)."""
    cursor.execute("SELECT EXISTS (SELECT FROM incidents_mapterm WHERE id = %s)", [term_id])
    return cursor.fetchone()[0]


def _exact_first_and_last(cursor, in_view, first, last):
    """The exact first and last start dates when the clusters only know them to the month.

    `first` is at most the true first date and `last` at least the true last, and close to them (the same or a
    neighbouring month): the first match reading up from `first`, and down from `last`, on the start-date index.
    """
    ends = {}
    for name, order, days in (
        ("first", "start_date", {"start_date__gte": first}),
        ("last", "-start_date", {"start_date__lte": last}),
    ):
        ends[name] = in_view.filter(**days).order_by(order).values("start_date")[:1].query.sql_with_params()
    cursor.execute(*bind("SELECT ({first}), ({last})", **ends))
    exact_first, exact_last = cursor.fetchone()
    return {"first": exact_first, "last": exact_last}
