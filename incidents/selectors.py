"""Read paths. The public side starts from Incident.objects.published() and nowhere else."""

from django.contrib.gis.db.models import Extent
from django.db.models import Count, DateField, Exists, FloatField, Func, Max, Min, OuterRef, Prefetch, Q, Sum
from django.db.models.functions import Coalesce, Trunc

from places.regions import admin_area_labels

from .filters import IncidentFilterSet
from .models import Actor, EventType, Incident, IncidentActor, Source, SubEventType


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


def incident_map_points(*, queryset, limit):
    """Up to `limit` + 1 rows of what a marker and a list row need, newest first (one more tells the caller it cut)."""
    return list(
        queryset.annotate(
            lon=Func("location", function="ST_X", output_field=FloatField()),
            lat=Func("location", function="ST_Y", output_field=FloatField()),
        )
        .order_by("-start_date", "-id")
        .values(
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
        )[: limit + 1]
    )


def incident_totals(*, queryset):
    """How many incidents, their fatalities (best estimates) and their first and last start date."""
    return queryset.aggregate(
        total=Count("id"),
        total_fatalities=Coalesce(Sum("fatalities_best"), 0),
        first=Min("start_date"),
        last=Max("start_date"),
    )


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
        "admin1_choices": _admin1_choices(published),
    }


def _admin1_choices(published):
    """(value, label) per region with published incidents: the English name is the filter value (as in the
    downloads), the label is the region's name in the active language."""
    pairs = published.exclude(admin1="").order_by().values_list("country", "admin1").distinct()
    labels = admin_area_labels(pairs)
    by_name = {}
    for (_country, name), label in sorted(labels.items()):
        by_name.setdefault(name, label)  # the same text in two countries is one filter value
    return sorted(by_name.items(), key=lambda choice: choice[1])
