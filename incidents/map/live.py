"""Counting over the incidents themselves: the clusters of a view when no kept table can answer, and the live parts
of a kept-table read (its edge cells and edge months)."""

import re
from contextlib import contextmanager

from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction

from .grid import MERCATOR_Y_SQL, cluster_cell, point_x, point_y

_TOKEN = re.compile(r"%\((\w+)\)s|\{(\w+)\}")


def bind(template, /, **values):
    """(SQL, positional parameters) from a template with named parameters `%(name)s` and pieces `{name}`, each piece
    an (SQL, parameters) pair such as Django's compiled queries: the parameters come out in the order their places
    come in the text, so no list is aligned by hand."""
    params = []

    def replace(match):
        name, piece = match.groups()
        if name:
            params.append(values[name])
            return "%s"
        sql, piece_params = values[piece]
        params.extend(piece_params)
        return sql

    return _TOKEN.sub(replace, template), params


# Cells of the clusters, counted over the incidents in view (the subquery, which reads each point's x and y once).
MAP_CLUSTERS_SQL = f"""
SELECT count(*) AS count, coalesce(sum(fatalities_best), 0) AS fatalities, avg(x) AS lon, avg(y) AS lat,
       min(x) AS west, min(y) AS south, max(x) AS east, max(y) AS north, min(start_date) AS first, max(start_date) AS last
FROM ({{in_view}}) AS in_view
GROUP BY floor(x / %(cell_width)s), floor({MERCATOR_Y_SQL.format(lat="y")} / %(cell_height)s)
ORDER BY count DESC, lon, lat"""


def incident_map_clusters(*, queryset, viewport, zoom, cell_pixels=64, max_cells=1024):
    """Grid clusters of the incidents in view, counted in PostGIS: one per non-empty cell, at its members' centroid.

    Every incident in the queryset falls in exactly one cell, so the counts add up to the queryset's count.
    """
    cell_width, cell_height = cluster_cell(zoom=zoom, viewport=viewport, cell_pixels=cell_pixels, max_cells=max_cells)
    # The id stays in the inner select: a FilterSet's DISTINCT must not fold two incidents at one spot into one.
    columns = queryset.order_by().annotate(x=point_x, y=point_y).values("id", "x", "y", "fatalities_best", "start_date")
    try:
        in_view = columns.query.sql_with_params()
    except EmptyResultSet:  # Django proved the filters match nothing (an empty IN list): no query to run
        return []
    query, params = bind(
        MAP_CLUSTERS_SQL,
        in_view=in_view,
        cell_width=cell_width,
        cell_height=cell_height,
    )
    with map_read(queryset) as cursor:
        cursor.execute(query, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def live_parts_sql(live_parts, view_edges):
    """The live parts (incidents, the cells they count in, their weight, what the weight joins) as one UNION ALL of
    (x, y, fatalities_best, start_date, sign) rows: (SQL, parameters). EmptyResultSet if Django proves one empty.

    Each part's condition may name the view's edges: %(west)s, %(east)s, %(south)s, %(north)s."""
    parts, params = [], []
    for incidents, condition, weight, join in live_parts:
        columns = incidents.order_by().annotate(x=point_x, y=point_y)
        part = columns.values("id", "x", "y", "fatalities_best", "start_date").query.sql_with_params()
        sql, part_params = bind(
            f"SELECT x, y, fatalities_best, start_date, {weight} AS sign FROM ({{part}}) AS part {join} WHERE "
            + condition.format(x="x", y="y"),
            part=part,
            **view_edges,
        )
        parts.append(sql)
        params += part_params
    return " UNION ALL ".join(parts), params


@contextmanager
def map_read(queryset):
    """A cursor in a transaction with JIT off: a map aggregate is cheap per row but estimated as costly, and past a
    few hundred thousand rows PostgreSQL would spend seconds (2.9 s of 3.3 s at 800 k) compiling it with LLVM.

    And with room to group in memory: PostgreSQL cannot tell how few cells the rows fall in, plans for one group a
    row, and at the default 4 MB sorted the 97 k matches of a common word through a file instead of hashing them."""
    connection = connections[queryset.db]
    # Inside a caller's transaction no savepoint is needed: SET LOCAL lasts until that transaction ends.
    with transaction.atomic(using=queryset.db, savepoint=False), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = '32MB'")
        yield cursor


def incident_cluster_totals(*, clusters):
    """Totals of the clusters: the same incidents, so the summary and the cluster numbers cannot disagree."""
    return {
        "total": sum(cluster["count"] for cluster in clusters),
        "total_fatalities": sum(cluster["fatalities"] for cluster in clusters),
        "first": min((cluster["first"] for cluster in clusters), default=None),
        "last": max((cluster["last"] for cluster in clusters), default=None),
    }
