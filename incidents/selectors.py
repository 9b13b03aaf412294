"""Read paths. The public side starts from Incident.objects.published() and nowhere else."""

import datetime
import math
from contextlib import contextmanager

from django.contrib.gis.db.models import Extent
from django.contrib.gis.geos import Polygon
from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import BooleanField, Count, DateField, FloatField, Func, Max, Min, Prefetch, Q, Sum
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.http import QueryDict

from places.regions import admin_area_labels

from .filters import IncidentFilterSet
from .models import (
    MAP_CELL_LEVEL,
    DataVersion,
    EventType,
    Incident,
    IncidentActor,
    PublishedActor,
    PublishedRegion,
    SubEventType,
    TimelineCell,
    TimelineDay,
)

_point_x = Func("location", function="ST_X", output_field=FloatField())
_point_y = Func("location", function="ST_Y", output_field=FloatField())


def demo_data_loaded() -> bool:
    return Incident.objects.demo().exists()


def published_incidents():
    """The one door of every public read: the map, the pages, the API, the downloads, the counts."""
    return Incident.objects.published()


def incident_public_list():
    return (
        published_incidents()
        .select_related("event_type", "sub_event_type")
        .prefetch_related(
            Prefetch("incident_actors", queryset=IncidentActor.objects.select_related("actor")),
            "sources",
        )
    )


def incident_public_get(*, pk):
    """A published incident, or Incident.DoesNotExist (drafts and retractions are not public)."""
    return incident_public_list().get(pk=pk)


class InvalidFilters(Exception):
    """The query string did not validate; `errors` maps each parameter to its messages."""

    def __init__(self, errors):
        super().__init__(errors)
        self.errors = errors


def incident_filterset(*, params):
    """The FilterSet over published incidents, validated; raises InvalidFilters for a bad query string."""
    filterset = IncidentFilterSet(params, queryset=published_incidents())
    if not filterset.is_valid():
        raise InvalidFilters(filterset.error_dict())
    return filterset


def incident_filter(*, params):
    """Published incidents under the query-string filters; raises InvalidFilters for a bad query string."""
    return incident_filterset(params=params).qs


def public_data_version():
    """(version, changed_at) of everything the public side shows: one primary-key read, whatever the data size.

    Database triggers (migration 0010_public_aggregates) bump it on every write to a published or retracted incident
    or to what one shows (its actors, sources, types); writes that only touch drafts leave it alone.
    """
    row = DataVersion.objects.filter(pk=1).values_list("version", "changed_at").first()
    return row or (0, None)


# Filters the pre-aggregated tables can answer exactly: they keep start day, end day, event type, country and region.
AGGREGATE_FILTERS = {"start", "end", "event_type", "country", "admin1"}


def _given(data, name):
    """Whether the query string gives the parameter a value (an empty `?country=` filters nothing)."""
    values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
    return any(value is not None and str(value).strip() for value in values)


def _params_without(data, *names):
    """The query-string filters (a QueryDict or a dict) less some of them, as a QueryDict."""
    params = QueryDict(mutable=True)
    for name in data:
        if name not in names:
            params.setlist(name, data.getlist(name) if hasattr(data, "getlist") else [data[name]])
    return params


def _aggregate_cells(filterset):
    """The timeline cells matching the validated filters (a FilterSet), or None when a filter needs the incidents themselves."""
    given = {name for name in filterset.filters if _given(filterset.data, name)}
    if not given <= AGGREGATE_FILTERS:
        return None
    cleaned = filterset.form.cleaned_data
    # Without a region filter the per-day table (regions summed) is an order of magnitude smaller.
    cells = TimelineCell.objects.all() if given & {"country", "admin1"} else TimelineDay.objects.all()
    if cleaned.get("start"):
        cells = cells.filter(end_date__gte=cleaned["start"])
    if cleaned.get("end"):
        cells = cells.filter(start_date__lte=cleaned["end"])
    if "event_type" in given:
        cells = cells.filter(event_type__in=cleaned["event_type"])
    if "country" in given:
        cells = cells.filter(country__in=cleaned["country"])
    if "admin1" in given:
        cells = cells.filter(admin1__in=cleaned["admin1"])
    return cells


def incident_count_if_cheap(*, filters):
    """How many published incidents match, when the aggregates can say so exactly; None otherwise.

    OGC API – Features makes numberMatched optional: the paged outputs give it only from here, never by counting
    incidents (a full count costs more than the page itself at a million rows).
    """
    given = {name for name in filters.filters if _given(filters.data, name)}
    if given <= {"country", "admin1"}:
        # No date or type filter: the few dozen rows of regions in use answer it.
        regions = PublishedRegion.objects.all()
        if "country" in given:
            regions = regions.filter(country__in=filters.form.cleaned_data["country"])
        if "admin1" in given:
            regions = regions.filter(admin1__in=filters.form.cleaned_data["admin1"])
        return regions.aggregate(total=Coalesce(Sum("incidents"), 0))["total"]
    cells = _aggregate_cells(filters)
    if cells is None:
        return None
    return cells.aggregate(total=Coalesce(Sum("incidents"), 0))["total"]


TIMELINE_BUCKETS = ["day", "week", "month", "year"]


def timeline_bucket_for(first, last):
    """A bucket that gives a readable histogram (tens to a few hundred bars) for a span of dates."""
    days = (last - first).days if first and last else 0
    if days <= 120:
        return "day"
    if days <= 3 * 365:
        return "week"
    if days <= 30 * 365:
        return "month"
    return "year"


def timeline_counts(*, filters, bucket=None):
    """Incidents and fatalities (best estimate) per bucket of start date and per event type.

    Read from the pre-aggregated tables when the filters allow (dates, types, countries, regions); any other filter
    (actor, text, bbox, …) counts the matching incidents live in SQL.
    """
    cells = _aggregate_cells(filters)
    if cells is not None:
        counted, incidents, fatalities = cells, Sum("incidents"), Sum("fatalities")
    else:
        counted, incidents, fatalities = filters.qs.order_by(), Count("id"), Coalesce(Sum("fatalities_best"), 0)
    span = counted.aggregate(first=Min("start_date"), last=Max("start_date"))
    bucket = bucket or timeline_bucket_for(span["first"], span["last"])
    per_type = (
        counted.annotate(bucket=BucketStart("start_date", bucket=bucket))
        .values("bucket", "event_type_id")
        .annotate(incidents=incidents, fatalities=fatalities)
        .order_by()
    )
    try:
        inner, params = per_type.query.sql_with_params()
    except EmptyResultSet:  # Django proved the filters match nothing
        inner, params = None, None
    buckets, total, total_fatalities = "[]", 0, 0
    if inner is not None:
        with connections[per_type.db].cursor() as cursor:
            cursor.execute(TIMELINE_SQL.replace("{per_type}", inner), params)
            buckets, total, total_fatalities = cursor.fetchone()
    return {
        "bucket": bucket,
        "first": span["first"],
        "last": span["last"],
        "buckets": buckets,
        "total": total,
        "total_fatalities": total_fatalities,
    }


class BucketStart(Func):
    """The first day of the bucket a date falls in. As a timestamp without time zone: date_trunc on a date would go
    through timestamptz and the session's time zone, row by row."""

    output_field = DateField()

    def __init__(self, expression, *, bucket):
        if bucket not in TIMELINE_BUCKETS:
            raise ValueError(bucket)
        # A day is its own bucket: no function call per row.
        template = "%(expressions)s" if bucket == "day" else f"date_trunc('{bucket}', %(expressions)s::timestamp)::date"
        super().__init__(expression, template=template)


# The histogram's document built by PostgreSQL from the per-bucket, per-type rows: at bucket=day over 14 years that
# is 30,000 rows, which Django would otherwise turn into dicts one by one.
TIMELINE_SQL = """
SELECT COALESCE(json_agg(json_build_object('date', bucket, 'counts', counts, 'fatalities', fatalities,
                                           'total', total, 'total_fatalities', total_fatalities)
                         ORDER BY bucket)::text, '[]'),
       COALESCE(sum(total), 0)::bigint, COALESCE(sum(total_fatalities), 0)::bigint
  FROM (SELECT bucket, json_object_agg(slug, incidents) AS counts, json_object_agg(slug, fatalities) AS fatalities,
               sum(incidents) AS total, sum(fatalities) AS total_fatalities
          -- Sorted once here rather than by an ORDER BY inside each json_object_agg (a sort per bucket); the
          -- subquery's order reaches the aggregates, and the keys come out in slug order.
          FROM (SELECT r.bucket, et.slug, r.incidents, r.fatalities
                  FROM ({per_type}) AS r JOIN incidents_eventtype et ON et.id = r.event_type_id
                 ORDER BY r.bucket, et.slug) AS rows
         GROUP BY bucket) AS buckets
"""


# --- Analysts' exports (GeoJSON, CSV, OGC API): reads over a filtered queryset, ordered for keyset paging. ---


def incident_export_queryset(*, queryset, after=None):
    """The filtered incidents in export order (newest first, id breaking ties), after a keyset position if given.

    The FilterSet's querysets carry no DISTINCT (no filter can repeat an incident), so a page reads the newest-first
    index and stops at its limit instead of sorting every match.
    """
    exported = queryset.order_by("-start_date", "-id")
    if after is not None:
        start_date, pk = after
        exported = exported.filter(Q(start_date__lt=start_date) | Q(start_date=start_date, pk__lt=pk))
    return exported


def incident_extent(*, queryset):
    """Bounding box [minLon, minLat, maxLon, maxLat] (or None) and first start / last end date of the incidents."""
    extent = queryset.order_by().aggregate(box=Extent("location"), first=Min("start_date"), last=Max("end_date"))
    return {"bbox": list(extent["box"]) if extent["box"] else None, "first": extent["first"], "last": extent["last"]}


MAP_POINT_FIELDS = (
    "id",
    "title",
    "start_date",
    "end_date",
    "date_precision",
    "location_precision",
    "place_reported",
    "place_name",
    "lat",
    "lon",
    "event_type__slug",
    "fatalities_low",
    "fatalities_best",
    "fatalities_high",
)


# A marker needs less than a list row (no dates in words, no place): the feed stays small with many markers.
MAP_MARKER_FIELDS = (
    "id",
    "title",
    "start_date",
    "location_precision",
    "lat",
    "lon",
    "event_type__slug",
    "fatalities_low",
    "fatalities_best",
)


def incident_map_feed(*, filters, viewport, zoom, points_max):
    """What the map draws for a view: every incident in it when there are at most `points_max`, else clusters.

    `filters`: the validated FilterSet (incident_filterset). {"mode": "points", "rows": [...]} or
    {"mode": "clusters", "clusters": [...]}, with "totals" computed from the same rows or clusters, so the summary
    and what is drawn always agree. When the MapCell table can answer: its clusters (and the exact first and last
    dates), or the points when they are few. Otherwise the clusters counted over the incidents (JIT off), and the
    points instead when those clusters hold at most points_max.
    """
    in_view = filters.qs.in_view(viewport)
    # From MapCell when it can answer: its total says at once whether the view needs clusters (no count first).
    from_cells = incident_map_cell_clusters(filters=filters, viewport=viewport, zoom=zoom, points_max=points_max)
    if from_cells is not None and from_cells["totals"]["total"] > points_max:
        return {"mode": "clusters", **from_cells}
    if from_cells is None:
        # Live: the clusters first, since they are the count too. A view with many matches (a common word in `q`:
        # 97 k rows at 1 M) is read once, not once to count up to the threshold and again to cluster; a view with
        # few costs a GROUP BY over those few before its points.
        clusters = incident_map_clusters(queryset=in_view, viewport=viewport, zoom=zoom)
        totals = incident_cluster_totals(clusters=clusters)
        if totals["total"] > points_max:
            return {"mode": "clusters", "clusters": clusters, "totals": totals}
        if not totals["total"]:
            return {"mode": "points", "rows": [], "totals": incident_point_totals(rows=[])}
    rows = list(in_view.annotate(lon=_point_x, lat=_point_y).order_by("-start_date", "-id").values(*MAP_MARKER_FIELDS))
    return {"mode": "points", "rows": rows, "totals": incident_point_totals(rows=rows)}


def incident_map_points(*, queryset):
    """What a marker and a list row need, newest first, as dicts (a lazy QuerySet: slice it for a page)."""
    return queryset.annotate(lon=_point_x, lat=_point_y).order_by("-start_date", "-id").values(*MAP_POINT_FIELDS)


def incident_map_page(*, filters, viewport, page, page_size):
    """One page (1-based) of the incidents in view, newest first, and how many there are in all.

    `filters`: the validated FilterSet. The total comes from the MapCell table when it can answer (the same sum
    as the feed's clusters), else from a count over the incidents.
    """
    in_view = filters.qs.in_view(viewport)
    from_cells = incident_map_cell_clusters(filters=filters, viewport=viewport, zoom=0, exact_dates=False)
    with _map_read(in_view):
        if from_cells is not None:
            total = from_cells["totals"]["total"]
        else:
            total = in_view.order_by().values("pk").count()
        offset = (page - 1) * page_size
        rows = list(incident_map_points(queryset=in_view)[offset : offset + page_size]) if offset < total else []
    return {"total": total, "rows": rows}


def incident_point_totals(*, rows):
    """Totals of already-fetched map points, so the markers and the summary come from one read."""
    return {
        "total": len(rows),
        "total_fatalities": sum(row["fatalities_best"] or 0 for row in rows),
        "first": min((row["start_date"] for row in rows), default=None),
        "last": max((row["start_date"] for row in rows), default=None),
    }


# Web Mercator ends here; the clamp keeps ln(tan(...)) finite for a point at a pole.
MERCATOR_MAX_LATITUDE = 85.0511
TILE_PIXELS = 256


def cluster_cell(*, zoom, viewport, cell_pixels, max_cells):
    """(cell width in degrees of longitude, cell height in Web Mercator y) for a zoom level.

    A cell covers about `cell_pixels` on screen, in Web Mercator like the map itself, so a cluster looks the same
    size at any latitude. Cells double (staying aligned: they divide 360°) until the view holds at most `max_cells`,
    which bounds the response whatever zoom a client claims.
    """
    scale = cell_pixels / (TILE_PIXELS * 2**zoom)
    _, south, _, north = viewport.extent
    south, north = (max(-MERCATOR_MAX_LATITUDE, min(MERCATOR_MAX_LATITUDE, lat)) for lat in (south, north))
    mercator_height = abs(_mercator_y(north) - _mercator_y(south))
    # Boxes of a view split at the antimeridian: their longitudes add up (the extent would span the whole world).
    width = sum(polygon.extent[2] - polygon.extent[0] for polygon in viewport)
    while (width / (360 * scale) + 1) * (mercator_height / (2 * math.pi * scale) + 1) > max_cells:
        scale *= 2
    return 360 * scale, 2 * math.pi * scale


def _mercator_y(latitude):
    return math.log(math.tan(math.pi / 4 + math.radians(latitude) / 2))


# Cells of the clusters, counted over the incidents in view (the subquery, which reads each point's x and y once).
MAP_CLUSTERS_SQL = """
SELECT count(*) AS count, coalesce(sum(fatalities_best), 0) AS fatalities, avg(x) AS lon, avg(y) AS lat,
       min(x) AS west, min(y) AS south, max(x) AS east, max(y) AS north, min(start_date) AS first, max(start_date) AS last
FROM ({in_view}) AS in_view
GROUP BY floor(x / %s), floor(ln(tan(pi() / 4 + radians(least(greatest(y, %s), %s)) / 2)) / %s)
ORDER BY count DESC, lon, lat"""


def incident_map_clusters(*, queryset, viewport, zoom, cell_pixels=64, max_cells=1024):
    """Grid clusters of the incidents in view, counted in PostGIS: one per non-empty cell, at its members' centroid.

    Every incident in the queryset falls in exactly one cell, so the counts add up to the queryset's count.
    """
    cell_width, cell_height = cluster_cell(zoom=zoom, viewport=viewport, cell_pixels=cell_pixels, max_cells=max_cells)
    # The id stays in the inner select: a FilterSet's DISTINCT must not fold two incidents at one spot into one.
    columns = (
        queryset.order_by().annotate(x=_point_x, y=_point_y).values("id", "x", "y", "fatalities_best", "start_date")
    )
    try:
        in_view, params = columns.query.sql_with_params()
    except EmptyResultSet:  # Django proved the filters match nothing (an empty IN list): no query to run
        return []
    with _map_read(queryset) as cursor:
        cursor.execute(
            MAP_CLUSTERS_SQL.format(in_view=in_view),
            [*params, cell_width, -MERCATOR_MAX_LATITUDE, MERCATOR_MAX_LATITUDE, cell_height],
        )
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


MAP_CELL_COLUMNS = 2**MAP_CELL_LEVEL
MAP_CELL_WIDTH = 360 / MAP_CELL_COLUMNS  # degrees of longitude
MAP_CELL_HEIGHT = 2 * math.pi / MAP_CELL_COLUMNS  # Web Mercator y (radians)
# Filters MapCell keeps: dates (by month, with the edge months counted live), event type, country, region and
# location precision.
MAP_CELL_FILTERS = {"start", "end", "event_type", "country", "admin1", "precision"}
# Filters MapDetailCell (sub-type, fatality threshold) and MapActorCell (one actor, its side, and those) add.
MAP_DETAIL_FILTERS = {"sub_event_type", "fatalities_min", "actor", "side"}
# MapTermCell adds the text filter on one word MapTerm keeps, with MapCell's filters.
MAP_TERM_FILTER = "q"
# Each kept filter as a condition on the map-cell tables' columns, with its validated value as the parameter.
_CELL_CONDITIONS = {
    "event_type": ("event_type_id = ANY(%s)", lambda types: [event_type.pk for event_type in types]),
    "country": ("country = ANY(%s)", list),
    "admin1": ("admin1 = ANY(%s)", list),
    "precision": ("location_precision = ANY(%s)", lambda codes: [int(code) for code in codes]),
    "sub_event_type": ("sub_type = ANY(%s)", lambda sub_types: [sub_type.pk for sub_type in sub_types]),
    # An unknown estimate is kept as -1: no threshold reaches it. A threshold of 2.5 deaths keeps 3 and more.
    "fatalities_min": ("fatalities_best >= %s", math.ceil),
    "q": ("term_id = %s", int),  # the MapTerm that `q` is (map_term_id), in MapTermCell
}
# Actors (with or without a side): the signed reads of the actor tables, by the columns naming actor and side. An
# incident naming m of the chosen actors is in m of MapActorCell's sums and m(m-1)/2 of MapActorPairCell's: it counts
# m - m(m-1)/2 times, once for one or two actors; an incident naming three or more (`multiple`) is set right live.
_ACTOR_READS = [
    ("incidents_mapactorcell", 1, [("actor_id", "side")]),
    ("incidents_mapactorpaircell", -1, [("actor_low_id", "side_low"), ("actor_high_id", "side_high")]),
]
_COUNTED = "({m} - {m} * ({m} - 1) / 2)"  # how many times the actor tables count an incident naming m chosen actors
_MULTIPLE_SQL = """multiple AS (
    SELECT incident_id, count(*) AS m FROM incidents_incidentactor WHERE actor_id = ANY(%s) {side}
     GROUP BY incident_id HAVING count(*) > 2),"""
# Margin (degrees) by which the live queries' boxes overreach the cell edges they stand for: the exact test is the
# cell functions' own, in SQL, so the boxes need only hold every point that test can select.
_EDGE_MARGIN = 1e-6


def _cell_row_latitude(row):
    """Latitude of the southern edge of a MapCell row."""
    return math.degrees(2 * math.atan(math.exp(row * MAP_CELL_HEIGHT)) - math.pi / 2)


def _month_start(day):
    return day.replace(day=1)


def _month_end(day):
    following = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


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
    SELECT floor(conflictmap_cell_x(x) / %s::float8) AS gx, floor(conflictmap_cell_y(y) / %s::float8) AS gy,
           sum(sign) AS count, coalesce(sum(sign * fatalities_best), 0) AS fatalities,
           sum(sign * x) AS sum_x, sum(sign * y) AS sum_y,
           min(x) FILTER (WHERE sign > 0) AS west, min(y) FILTER (WHERE sign > 0) AS south,
           max(x) FILTER (WHERE sign > 0) AS east, max(y) FILTER (WHERE sign > 0) AS north,
           min(start_date) FILTER (WHERE sign > 0) AS first, max(start_date) FILTER (WHERE sign > 0) AS last
      FROM live GROUP BY 1, 2
    UNION ALL
    SELECT floor(cell_x / %s::float8), floor(cell_y / %s::float8), sum(incidents), sum(fatalities), sum(sum_x),
           sum(sum_y),
           -- the extent of the cells (their members' own extent is not kept: it cannot shrink on a delete)
           min(cell_x) * %s::float8, degrees(2 * atan(exp(min(cell_y) * %s::float8)) - pi() / 2),
           (max(cell_x) + 1) * %s::float8, degrees(2 * atan(exp((max(cell_y) + 1) * %s::float8)) - pi() / 2),
           -- month bounds; the feed makes the first and last dates exact with one more query
           min(start_month), (max(start_month) + interval '1 month' - interval '1 day')::date
      FROM ({cell_rows}) AS cells GROUP BY 1, 2)
SELECT sum(count)::bigint AS count, sum(fatalities)::bigint AS fatalities, sum(sum_x) / sum(count) AS lon,
       sum(sum_y) / sum(count) AS lat, min(west) AS west, min(south) AS south, max(east) AS east,
       max(north) AS north, min(first) AS first, max(last) AS last
  FROM parts GROUP BY gx, gy HAVING sum(count) > 0 ORDER BY count DESC, lon, lat"""

_INNER_CELL = (
    "conflictmap_cell_x({x}) > conflictmap_cell_x(%s) AND conflictmap_cell_x({x}) < conflictmap_cell_x(%s) "
    "AND conflictmap_cell_y({y}) > conflictmap_cell_y(%s) AND conflictmap_cell_y({y}) < conflictmap_cell_y(%s)"
)


# The MapTerm that `q` is: its lower case, giving the same words query and the same upper-cased substring as the
# term, so that the filter on `q` and the term's cells select the same incidents. Normalised by PostgreSQL, like the
# filter. A text of several words, or anything websearch_to_tsquery reads otherwise, finds none.
_MAP_TERM_SQL = """SELECT id FROM incidents_mapterm
 WHERE term = lower(%s) AND upper(term) = upper(%s)
   AND websearch_to_tsquery('simple', term) = websearch_to_tsquery('simple', %s)"""


def map_term_id(*, text, using):
    """The id of the MapTerm whose cells hold exactly the published incidents `q=text` finds, or None."""
    text = text.strip()  # as IncidentFilterSet.filter_text strips it
    with connections[using].cursor() as cursor:
        cursor.execute(_MAP_TERM_SQL, [text, text, text])
        row = cursor.fetchone()
    return row[0] if row else None


def incident_map_cell_clusters(
    *, filters, viewport, zoom, points_max=None, exact_dates=True, cell_pixels=64, max_cells=1024
):
    """Grid clusters like incident_map_clusters, read from the MapCell table: {"clusters", "totals"}, or None when
    it cannot answer exactly. The totals' first and last dates are exact unless the total is at most `points_max`
    (the caller then draws points and takes the dates from them) or `exact_dates` is false (they are then only
    right to the month).

    It can when every given filter is one MapCell keeps (MAP_CELL_FILTERS) or one of MAP_DETAIL_FILTERS (a
    sub-type or a fatality threshold: MapDetailCell is read instead; actors, with or without `side`, and any of
    the others: MapActorCell, less MapActorPairCell for several), or `q` on a word MapTerm keeps with only MapCell's
    filters (MapTermCell; `q` with a sub-type, a fatality threshold or an actor is counted live, as is `q` on any
    other text); when the view is one box (not split at the antimeridian); and when the cluster cells are blocks of
    MapCell cells: up to zoom 11 (at 11 the cells are MapCell's own, 128 pixels rather than 64).
    Cost: the table rows of the inner cells plus the incidents of the edge cells and edge months (and, for three
    actors or more, their links), instead of every incident in view.
    """
    given = {name for name in filters.filters if _given(filters.data, name)}
    cleaned = filters.form.cleaned_data
    # Actors (on either side or one) are in MapActorCell, a sub-type or a fatality threshold in MapDetailCell (and in
    # MapActorCell), each with the filters MapCell keeps; `side` without an actor filters nothing. A kept word of `q`
    # is in MapTermCell, with MapCell's filters only.
    if MAP_TERM_FILTER in given:
        if not given - {MAP_TERM_FILTER} <= MAP_CELL_FILTERS:
            return None
    elif not given - MAP_DETAIL_FILTERS <= MAP_CELL_FILTERS:
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
    inner_south, inner_north = (
        math.floor(_mercator_y(max(-MERCATOR_MAX_LATITUDE, min(MERCATOR_MAX_LATITUDE, lat))) / MAP_CELL_HEIGHT)
        for lat in (south, north)
    )
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
    y0, y1 = _cell_row_latitude(inner_south + 1), _cell_row_latitude(inner_north)
    edge_boxes = [
        (west, south, min(east, x0 + _EDGE_MARGIN), north),
        (max(west, x1 - _EDGE_MARGIN), south, east, north),
        (west, south, east, min(north, y0 + _EDGE_MARGIN)),
        (west, max(south, y1 - _EDGE_MARGIN), east, north),
    ]
    inner_box = (x0 - _EDGE_MARGIN, y0 - _EDGE_MARGIN, x1 + _EDGE_MARGIN, y1 + _EDGE_MARGIN)
    view_edges = [west, east, south, north]

    edge_cells = Q()
    for box in edge_boxes:
        edge_cells |= Q(location__bboverlaps=Polygon.from_bbox(box))
    # (incidents, the cells they are counted in, their weight, what the weight joins)
    live_parts = [(in_view.filter(edge_cells), f"NOT ({_INNER_CELL})", "1", "")]
    cells, cell_params = ["conflictmap_cell_x(%s) < cell_x", "cell_x < conflictmap_cell_x(%s)"], [west, east]
    cells += ["conflictmap_cell_y(%s) < cell_y", "cell_y < conflictmap_cell_y(%s)"]
    cell_params += [south, north]
    for name, (condition, value) in _CELL_CONDITIONS.items():
        if name in given:
            cells.append(condition)
            cell_params.append(value(values[name]))
    outside = Q()
    if cleaned.get("start"):
        cells.append("end_month >= %s")
        cell_params.append(_month_start(cleaned["start"]))
        outside |= Q(end_date__gte=_month_start(cleaned["start"]), end_date__lt=cleaned["start"])
    if cleaned.get("end"):
        cells.append("start_month <= %s")
        cell_params.append(_month_start(cleaned["end"]))
        outside |= Q(start_date__gt=cleaned["end"], start_date__lte=_month_end(cleaned["end"]))
    reads, multiple, multiple_params = _cell_reads(given, cleaned)
    if multiple:
        # Read by primary key from `multiple` (few incidents), not by scanning the view: PostgreSQL cannot tell how
        # few pass HAVING, and would. `multiple` names the actors already.
        any_actor = incident_filter(params=_params_without(filters.data, "actor", "side")).in_view(viewport)
        inner_in_range = any_actor.filter(location__bboverlaps=Polygon.from_bbox(inner_box)).filter(
            RawSQL("incidents_incident.id = ANY(ARRAY(SELECT incident_id FROM multiple))", [], BooleanField())
        )
        join = "JOIN multiple ON multiple.incident_id = id"
        live_parts.append((inner_in_range, _INNER_CELL, "1 - " + _COUNTED.format(m="multiple.m"), join))
    if outside:
        # The same filters but the dates, for what the edge months hold outside the range.
        undated = incident_filter(params=_params_without(filters.data, "start", "end"))
        inner = undated.in_view(viewport).filter(location__bboverlaps=Polygon.from_bbox(inner_box)).filter(outside)
        if multiple:  # an incident not in `multiple` names one or two of the actors: the tables count it once
            weight = "-" + _COUNTED.format(m="coalesce(multiple.m, 1)")
            live_parts.append((inner, _INNER_CELL, weight, "LEFT JOIN multiple ON incident_id = id"))
        else:
            live_parts.append((inner, _INNER_CELL, "-1", ""))

    try:
        live_sql, live_params = _live_parts_sql(live_parts, view_edges)
    except EmptyResultSet:  # Django proved the filters match nothing (an empty IN list): the live path says so
        return None
    cell_rows, read_params = [], []
    for read_table, sign, conditions, params in reads:
        minus = "-" if sign < 0 else ""
        cell_rows.append(
            f"SELECT cell_x, cell_y, start_month, {minus}incidents AS incidents, {minus}fatalities AS fatalities, "
            f"{minus}sum_x AS sum_x, {minus}sum_y AS sum_y FROM {read_table} WHERE " + " AND ".join(cells + conditions)
        )
        read_params += [*cell_params, *params]
    query = MAP_CELL_CLUSTERS_SQL.format(multiple=multiple, live=live_sql, cell_rows=" UNION ALL ".join(cell_rows))
    params = [
        *multiple_params,
        *live_params,
        block,
        block,
        block,
        block,
        MAP_CELL_WIDTH,
        MAP_CELL_HEIGHT,
        MAP_CELL_WIDTH,
        MAP_CELL_HEIGHT,
        *read_params,
    ]
    with _map_read(in_view) as cursor:
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


def _live_parts_sql(live_parts, view_edges):
    """The live parts (incidents, the cells they count in, their weight, what the weight joins) as one UNION ALL of
    (x, y, fatalities_best, start_date, sign) rows, and its parameters. EmptyResultSet if Django proves one empty."""
    parts, params = [], []
    for incidents, condition, weight, join in live_parts:
        columns = incidents.order_by().annotate(x=_point_x, y=_point_y)
        sql, part_params = columns.values("id", "x", "y", "fatalities_best", "start_date").query.sql_with_params()
        parts.append(
            f"SELECT x, y, fatalities_best, start_date, {weight} AS sign FROM ({sql}) AS part {join} WHERE "
            + condition.format(x="x", y="y")
        )
        params += [*part_params, *view_edges]
    return " UNION ALL ".join(parts), params


def _cell_reads(given, cleaned):
    """The signed reads of the map-cell tables for the given filters: [(table, sign, conditions, parameters)],
    `multiple` and its parameters (three actors or more; else "" and [])."""
    if "actor" in given:
        return _actor_reads(cleaned["actor"], cleaned.get("side"))
    if MAP_TERM_FILTER in given:
        table = "incidents_maptermcell"
    elif given & {"sub_event_type", "fatalities_min"}:
        table = "incidents_mapdetailcell"
    else:
        table = "incidents_mapcell"
    return [(table, 1, [], [])], "", []


def _actor_reads(actors, side):
    """The actor tables' signed reads for the chosen actors (and side), and `multiple` with its parameters when three
    or more are chosen (an incident may then name more than two of them)."""
    ids = [actor.pk for actor in actors]
    reads = []
    for table, sign, columns in _ACTOR_READS[: 1 if len(ids) == 1 else 2]:
        conditions, params = [], []
        for actor_column, side_column in columns:
            conditions.append(f"{actor_column} = ANY(%s)")
            params.append(ids)
            if side:
                conditions.append(f"{side_column} = %s")
                params.append(side)
        reads.append((table, sign, conditions, params))
    if len(ids) < 3:
        return reads, "", []
    multiple = _MULTIPLE_SQL.format(side="AND side = %s" if side else "")
    return reads, multiple, [ids, *([side] if side else [])]


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
    ends = []
    for order, days in (("start_date", {"start_date__gte": first}), ("-start_date", {"start_date__lte": last})):
        edge = in_view.filter(**days).order_by(order).values("start_date")[:1]
        ends.append(edge.query.sql_with_params())
    cursor.execute(f"SELECT ({ends[0][0]}), ({ends[1][0]})", [*ends[0][1], *ends[1][1]])
    exact_first, exact_last = cursor.fetchone()
    return {"first": exact_first, "last": exact_last}


@contextmanager
def _map_read(queryset):
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


def map_filter_choices():
    """The choices the map's filter panel offers: only actors, countries and regions that published incidents have.

    Read from small tables the database keeps current (PublishedActor, PublishedRegion), never from the incidents.
    """
    regions = PublishedRegion.objects.order_by()
    return {
        "event_types": list(EventType.objects.all()),
        "sub_event_types": list(SubEventType.objects.select_related("event_type")),
        "actors": [usage.actor for usage in PublishedActor.objects.select_related("actor").order_by("actor__name")],
        "country_codes": list(regions.exclude(country="").values_list("country", flat=True).distinct()),
        "admin1_choices": _admin1_choices(regions),
    }


def _admin1_choices(regions):
    """(value, label) per region with published incidents: the English name is the filter value (as in the
    downloads), the label is the region's name in the active language."""
    pairs = regions.exclude(admin1="").values_list("country", "admin1").distinct()
    labels = admin_area_labels(pairs)
    by_name = {}
    for (_country, name), label in sorted(labels.items()):
        by_name.setdefault(name, label)  # the same text in two countries is one filter value
    return sorted(by_name.items(), key=lambda choice: choice[1])
