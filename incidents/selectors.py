"""Read paths. The public side starts from Incident.objects.published() and nowhere else."""

from django.db.models import Count, DateField, Max, Min, Prefetch, Sum
from django.db.models.functions import Coalesce, Trunc

from .filters import IncidentFilterSet
from .models import Incident, IncidentActor


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
