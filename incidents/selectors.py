"""Read paths. The public side starts from Incident.objects.published() and nowhere else."""

import math
from contextlib import contextmanager

from django.contrib.gis.db.models import Extent
from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import Count, DateField, Exists, FloatField, Func, Max, Min, OuterRef, Prefetch, Q, Sum
from django.db.models.functions import Coalesce, Trunc

from .filters import IncidentFilterSet
from .models import Actor, EventType, Incident, IncidentActor, Source, SubEventType

_point_x = Func("location", function="ST_X", output_field=FloatField())
_point_y = Func("location", function="ST_Y", output_field=FloatField())


def demo_data_loaded() -> bool:
    return Incident.objects.demo().exists()


def incident_public_list():
    return (
        Incident.objects.published()
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


def incident_filter(*, params, queryset=None):
    """Published incidents under the query-string filters; raises InvalidFilters for a bad query string."""
    filterset = IncidentFilterSet(params, queryset=queryset if queryset is not None else Incident.objects.published())
    if not filterset.is_valid():
        raise InvalidFilters(filterset.error_dict())
    return filterset.qs


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


def timeline_counts(*, queryset, bucket=None):
    """Incidents and fatalities (best estimate) per bucket of start date and per event type, counted in SQL."""
    span = queryset.aggregate(first=Min("start_date"), last=Max("start_date"))
    bucket = bucket or timeline_bucket_for(span["first"], span["last"])
    rows = (
        queryset.annotate(bucket=Trunc("start_date", bucket, output_field=DateField()))
        .values("bucket", "event_type__slug")
        .annotate(incidents=Count("id"), fatalities=Coalesce(Sum("fatalities_best"), 0))
        .order_by("bucket", "event_type__slug")
    )
    buckets = {}
    for row in rows:
        entry = buckets.setdefault(row["bucket"], {"date": row["bucket"], "counts": {}, "fatalities": {}})
        entry["counts"][row["event_type__slug"]] = row["incidents"]
        entry["fatalities"][row["event_type__slug"]] = row["fatalities"]
    series = []
    for entry in buckets.values():
        entry["total"] = sum(entry["counts"].values())
        entry["total_fatalities"] = sum(entry["fatalities"].values())
        series.append(entry)
    return {
        "bucket": bucket,
        "first": span["first"],
        "last": span["last"],
        "buckets": series,
        "total": sum(entry["total"] for entry in series),
        "total_fatalities": sum(entry["total_fatalities"] for entry in series),
    }


# --- Analysts' exports (GeoJSON, CSV, OGC API): reads over a filtered queryset, ordered for keyset paging. ---


def incident_export_queryset(*, queryset, after=None):
    """The filtered incidents in export order (newest first, id breaking ties), after a keyset position if given.

    The filters are applied in a pk subquery, so the exported rows never carry the FilterSet's DISTINCT or
    annotations (PostgreSQL cannot DISTINCT over json).
    """
    exported = Incident.objects.filter(pk__in=queryset.values("pk")).order_by("-start_date", "-id")
    if after is not None:
        start_date, pk = after
        exported = exported.filter(Q(start_date__lt=start_date) | Q(start_date=start_date, pk__lt=pk))
    return exported


def incident_freshness(*, queryset):
    """(count, last change) of the filtered incidents and of the actors and sources they show, for ETag/Last-Modified."""
    incidents = queryset.order_by().aggregate(count=Count("pk", distinct=True), changed=Max("updated_at"))
    # Renaming an actor or correcting a source changes the export without touching the incident rows.
    changed = [
        incidents["changed"],
        Actor.history.aggregate(changed=Max("history_date"))["changed"],
        Source.history.aggregate(changed=Max("history_date"))["changed"],
    ]
    return incidents["count"], max((moment for moment in changed if moment), default=None)


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


def incident_map_feed(*, queryset, viewport, zoom, points_max):
    """What the map draws for a view: every incident in it when there are at most `points_max`, else clusters.

    {"mode": "points", "rows": [...]} or {"mode": "clusters", "clusters": [...]}, with "totals" computed from the
    same rows or clusters, so the summary and what is drawn always agree. A count that stops at points_max + 1,
    then the points, or JIT off and the clusters.
    """
    in_view = queryset.in_view(viewport)
    # Counting ids only: the FilterSet's DISTINCT would otherwise compare whole rows (and the text filter's vector).
    if in_view.order_by().values("pk")[: points_max + 1].count() <= points_max:
        rows = list(
            in_view.annotate(lon=_point_x, lat=_point_y).order_by("-start_date", "-id").values(*MAP_MARKER_FIELDS)
        )
        return {"mode": "points", "rows": rows, "totals": incident_point_totals(rows=rows)}
    clusters = incident_map_clusters(queryset=in_view, viewport=viewport, zoom=zoom)
    return {"mode": "clusters", "clusters": clusters, "totals": incident_cluster_totals(clusters=clusters)}


def incident_map_points(*, queryset):
    """What a marker and a list row need, newest first, as dicts (a lazy QuerySet: slice it for a page)."""
    return queryset.annotate(lon=_point_x, lat=_point_y).order_by("-start_date", "-id").values(*MAP_POINT_FIELDS)


def incident_map_page(*, queryset, viewport, page, page_size):
    """One page (1-based) of the incidents in view, newest first, and how many there are in all."""
    in_view = queryset.in_view(viewport)
    with _map_read(in_view):
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


@contextmanager
def _map_read(queryset):
    """A cursor in a transaction with JIT off: a map aggregate is cheap per row but estimated as costly, and past a
    few hundred thousand rows PostgreSQL would spend seconds (2.9 s of 3.3 s at 800 k) compiling it with LLVM."""
    connection = connections[queryset.db]
    # Inside a caller's transaction no savepoint is needed: SET LOCAL lasts until that transaction ends.
    with transaction.atomic(using=queryset.db, savepoint=False), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
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
    """The choices the map's filter panel offers: only actors, countries and regions that published incidents have."""
    published = Incident.objects.published()
    return {
        "event_types": list(EventType.objects.all()),
        "sub_event_types": list(SubEventType.objects.select_related("event_type")),
        "actors": list(
            Actor.objects.filter(Exists(IncidentActor.objects.filter(actor=OuterRef("pk"), incident__in=published)))
        ),
        # order_by() first: the model's default ordering would otherwise enter the DISTINCT and repeat each code.
        "country_codes": list(published.exclude(country="").order_by().values_list("country", flat=True).distinct()),
        "admin1_names": list(
            published.exclude(admin1="").values_list("admin1", flat=True).distinct().order_by("admin1")
        ),
    }
