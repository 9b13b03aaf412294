"""What the map page's views call: the feed (markers or clusters) of a view, a page of its list, and the filter
panel's choices."""

from django.db.models import BooleanField, ExpressionWrapper, Q

from places.regions import admin_area_labels

from ..models import EventType, PublishedActor, PublishedRegion, SubEventType
from .cells import incident_map_cell_clusters
from .grid import point_x, point_y
from .live import incident_cluster_totals, incident_map_clusters, map_read

MAP_POINT_FIELDS = (
    "id",
    "title",
    "title_ar",
    "start_date",
    "end_date",
    "date_precision",
    "public_location_precision",
    "place_reported",
    "place_name",
    "place__alternate_names",  # the place's Arabic name on /ar/ (Place.name_ar), or by its name in its country:
    "country",
    "admin1",
    "admin2",
    "shown_generalised",
    "lat",
    "lon",
    "event_type__slug",
    "fatalities_low",
    "fatalities_best",
    "fatalities_high",
)


# Whether the public sees an incident at a generalised location (its place names are then withheld).
SHOWN_GENERALISED = ExpressionWrapper(Q(generalised_location__isnull=False), output_field=BooleanField())

# A marker needs less than a list row (no dates in words, no place): the feed stays small with many markers.
MAP_MARKER_FIELDS = (
    "id",
    "title",
    "title_ar",
    "start_date",
    "public_location_precision",
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
    view = incident_view_clusters(filters=filters, viewport=viewport, zoom=zoom, points_max=points_max)
    if view["totals"]["total"] > points_max:
        return {"mode": "clusters", **view}
    if not view["totals"]["total"]:
        return {"mode": "points", "rows": [], "totals": incident_point_totals(rows=[])}
    rows = list(in_view.annotate(lon=point_x, lat=point_y).order_by("-start_date", "-id").values(*MAP_MARKER_FIELDS))
    return {"mode": "points", "rows": rows, "totals": incident_point_totals(rows=rows)}


def incident_view_clusters(*, filters, viewport, zoom, points_max=None, exact_dates=True):
    """The clusters of a view and their totals ({"clusters", "totals"}), as the feed and the vector tiles count them:
    from the kept map-cell tables when they can answer (their total then says at once whether the view needs
    clusters, with no count first), else counted live. Live, the clusters come first since they are the count too:
    a view with many matches (a common word in `q`: 97 k rows at 1 M) is read once, not once to count up to the
    threshold and again to cluster; a view with few costs a GROUP BY over those few before its points."""
    from_cells = incident_map_cell_clusters(
        filters=filters, viewport=viewport, zoom=zoom, points_max=points_max, exact_dates=exact_dates
    )
    if from_cells is not None:
        return from_cells
    clusters = incident_map_clusters(queryset=filters.qs.in_view(viewport), viewport=viewport, zoom=zoom)
    return {"clusters": clusters, "totals": incident_cluster_totals(clusters=clusters)}


def incident_map_points(*, queryset):
    """What a marker and a list row need, newest first, as dicts (a lazy QuerySet: slice it for a page)."""
    return (
        queryset.annotate(lon=point_x, lat=point_y, shown_generalised=SHOWN_GENERALISED)
        .order_by("-start_date", "-id")
        .values(*MAP_POINT_FIELDS)
    )


def incident_map_page(*, filters, viewport, page, page_size):
    """One page (1-based) of the incidents in view, newest first, and how many there are in all.

    `filters`: the validated FilterSet. The total comes from the MapCell table when it can answer (the same sum
    as the feed's clusters), else from a count over the incidents.
    """
    in_view = filters.qs.in_view(viewport)
    from_cells = incident_map_cell_clusters(filters=filters, viewport=viewport, zoom=0, exact_dates=False)
    with map_read(in_view):
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
