"""Read paths. The public side starts from Incident.objects.published() and nowhere else.

The map's reads are in incidents/map/; here: the public list, the filter entry points, the timeline and the exports."""

from django.conf import settings
from django.contrib.gis.db.models import Extent
from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import Count, DateField, Func, IntegerField, Max, Min, Prefetch, Q, Sum
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.http import QueryDict

from places.models import Region

from .cql import with_queryable_aliases
from .filters import IncidentFilterSet
from .models import (
    DataVersion,
    Incident,
    IncidentActor,
    IncidentChange,
    IncidentMedia,
    PublishedRegion,
    Release,
    ReleaseFeature,
    SourceCapture,
    TimelineCell,
    TimelineDay,
)
from .public import independent_sources


def demo_data_loaded() -> bool:
    return Incident.objects.demo().exists()


def published_incidents():
    """The one door of every public read: the map, the pages, the API, the downloads, the counts."""
    return Incident.objects.published()


def incident_public_list():
    return (
        published_incidents()
        .annotate(independent_sources=independent_sources())
        .select_related("event_type", "sub_event_type", "place")
        .prefetch_related(
            Prefetch("incident_actors", queryset=IncidentActor.objects.select_related("actor")),
            "sources",
        )
    )


def incident_public_get(*, pk):
    """A published incident, or Incident.DoesNotExist (drafts and retractions are not public)."""
    return incident_public_list().get(pk=pk)


def source_capture_public_get(*, pk):
    """A successful capture of a source a published incident cites, or SourceCapture.DoesNotExist."""
    return SourceCapture.objects.public().select_related("source").get(pk=pk)


def sources_archived_copies_set(*, sources):
    """Give each source its `archived_copy`: its newest successful capture, or None (one query)."""
    sources = list(sources)
    latest = SourceCapture.objects.captured().filter(source__in=sources).latest_per_source()
    copies = {capture.source_id: capture for capture in latest}
    for source in sources:
        source.archived_copy = copies.get(source.pk)
    return sources


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

    Database triggers (incidents/aggregates/triggers.py) bump it on every write to a published or retracted incident
    or to what one shows (its actors, sources, types); writes that only touch drafts leave it alone.
    """
    row = DataVersion.objects.filter(pk=1).values_list("version", "changed_at").first()
    return row or (0, None)


# Filters the pre-aggregated tables can answer exactly: they keep start day, end day, event type, country and region.
AGGREGATE_FILTERS = {"start", "end", "event_type", "country", "admin1"}


def filters_given(filterset):
    """The names of the filters the query string gives a value."""
    return {name for name in filterset.filters if _given(filterset.data, name)}


def _given(data, name):
    """Whether the query string gives the parameter a value (an empty `?country=` filters nothing)."""
    values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
    return any(value is not None and str(value).strip() for value in values)


def params_without(data, *names):
    """The query-string filters (a QueryDict or a dict) less some of them, as a QueryDict."""
    params = QueryDict(mutable=True)
    for name in data:
        if name not in names:
            params.setlist(name, data.getlist(name) if hasattr(data, "getlist") else [data[name]])
    return params


def _aggregate_cells(filterset):
    """The timeline cells matching the validated filters (a FilterSet), or None when a filter needs the incidents themselves."""
    given = filters_given(filterset)
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
    given = filters_given(filters)
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


def incident_meeting(*, queryset, condition):
    """Of the given incidents (the published ones under the query-string filters), those that meet a CQL2 filter's
    condition (incidents/cql.py): a filter narrows the public set, never widens it."""
    # The queryables that are expressions (cql.QUERYABLE_ALIASES) for `filter` and `sortby` alike; unused, they cost
    # nothing (alias, not annotate).
    queryset = with_queryable_aliases(queryset)
    return queryset if condition is None else queryset.filter(condition)


def incident_sorted_ids(*, queryset, ordering, offset, limit):
    """Ids of one page of the filtered incidents in an analyst's order (OGC sortby: ordering expressions ending with
    the id, so incidents with equal keys keep their places from page to page)."""
    return list(queryset.order_by(*ordering).values_list("pk", flat=True)[offset : offset + limit])


def incident_extent(*, queryset):
    """Bounding box [minLon, minLat, maxLon, maxLat] (or None) and first start / last end date of the incidents."""
    extent = queryset.order_by().aggregate(box=Extent("public_location"), first=Min("start_date"), last=Max("end_date"))
    return {"bbox": list(extent["box"]) if extent["box"] else None, "first": extent["first"], "last": extent["last"]}


def incident_recently_changed(*, filters, limit):
    """The published incidents under the filters whose public record changed last (published, edited), newest first:
    the Atom feeds of the map's filters."""
    return list(
        filters.qs.select_related("event_type", "sub_event_type")
        .prefetch_related("sources")
        .order_by("-updated_at", "-id")[:limit]
    )


# --- The change feed (/api/changes): the log the feature table's triggers write (aggregates/triggers.py), whose ids
# are handed out in commit order. Each change is sent as JSON text built by PostgreSQL; a created or updated change
# carries the incident's public feature as it is *now* (models.IncidentFeature, public.py's feature, nothing more),
# or null once it has left the public set again, so no content that was retracted, unpublished or corrected (a
# location made vaguer) is ever sent again, and applying a change twice or late does no harm.
CHANGE_PAGE_SQL = """
SELECT c.id,
       '{"change":' || to_json(c.kind) || ',"incident":' || c.incident_id || ',"data_version":' || c.data_version
       || ',"changed_at":' || to_json(c.changed_at)
       || CASE c.kind WHEN 'updated' THEN ',"fields":' || to_json(c.fields) ELSE '' END
       || CASE c.kind WHEN 'retracted' THEN ',"note":' || to_json(c.note)
                                            || ',"duplicate_of":' || COALESCE(c.duplicate_of::text, 'null') ELSE '' END
       || CASE WHEN c.kind IN ('created', 'updated') THEN ',"feature":' || COALESCE(f.feature, 'null') ELSE '' END
       || '}',
       (SELECT version FROM incidents_dataversion WHERE id = 1)
  FROM incidents_incidentchange c
  LEFT JOIN incidents_incidentfeature f ON f.incident_id = c.incident_id AND c.kind IN ('created', 'updated')
 WHERE c.id > %(after)s
 ORDER BY c.id
 LIMIT %(limit)s"""


def incident_change_after_version(*, version):
    """The last change a copy of the public data at data version `version` has seen (0 for none).

    Ids and versions grow together (both in commit order): the last change at or before the version, by its index."""
    with connections[router.db_for_read(IncidentChange)].cursor() as cursor:
        cursor.execute(
            "SELECT id FROM incidents_incidentchange WHERE data_version <= %s ORDER BY data_version DESC, id DESC"
            " LIMIT 1",
            [version],
        )
        row = cursor.fetchone()
    return row[0] if row else 0


def incident_change_page(*, after, limit):
    """(changes as JSON texts, the last one's id or None, whether more follow, the data version once they are
    applied) of the public changes after change `after`, in commit order, at most `limit`, read in one statement."""
    with connections[router.db_for_read(IncidentChange)].cursor() as cursor:
        cursor.execute(CHANGE_PAGE_SQL, {"after": after, "limit": limit + 1})
        rows = cursor.fetchall()
    if not rows:
        return [], None, False, public_data_version()[0]
    shown = rows[:limit]
    return [text for _id, text, _version in shown], shown[-1][0], len(rows) > limit, shown[-1][2] or 0


def incident_change_rows(*, after, limit):
    """[(change id, its kind, its incident, the change feed's JSON text of it)] after change `after`, in commit
    order, at most `limit`: the webhooks' deliveries carry exactly what the feed shows."""
    with connections[router.db_for_read(IncidentChange)].cursor() as cursor:
        cursor.execute(
            f"SELECT q.id, c.kind, c.incident_id, q.text FROM ({CHANGE_PAGE_SQL}) q(id, text, version)"
            " JOIN incidents_incidentchange c ON c.id = q.id ORDER BY q.id",
            {"after": after, "limit": limit},
        )
        return cursor.fetchall()


def region_get(*, pk):
    """A governorate of the gazetteer (its boundary left in the database), or Region.DoesNotExist."""
    return Region.objects.defer("boundary").get(pk=pk)


# --- Releases (incidents/releases.py writes them). ---


def release_list():
    return list(Release.objects.order_by("-number"))


def release_latest_number():
    """The newest release's number (0 before the first): what tells a cached list of releases it is stale."""
    return Release.objects.order_by("-number").values_list("number", flat=True).first() or 0


def release_get(*, name):
    """The release of that name, or Release.DoesNotExist."""
    return Release.objects.get(name=name)


# --- Media attached to incidents.


def incident_media_shown(*, incident):
    """The media the incident page shows (published page or staff preview): those with a public copy, in order."""
    return IncidentMedia.objects.filter(incident=incident).exclude(public_copy="").order_by("id")


def media_public_get(*, pk):
    """A media item a visitor may fetch: its incident published, its public copy made; else DoesNotExist."""
    return IncidentMedia.objects.public().select_related("incident").get(pk=pk)


def media_staff_preview_get(*, pk, user):
    """A draft's media item for staff who may view media (the preview page), or IncidentMedia.DoesNotExist."""
    if not user.is_staff or not user.has_perm("incidents.view_incidentmedia"):
        raise IncidentMedia.DoesNotExist
    return IncidentMedia.objects.exclude(public_copy="").get(pk=pk)


def media_duplicates(*, media):
    """Other media items holding the same file (same SHA-256) or, for an image, the same picture re-encoded or
    resized (perceptual hashes within settings.MEDIA_NEAR_DUPLICATE_BITS bits), nearest first, each with
    `distance` (bits; 0 for the same file) and `exact`."""
    if media.pk is None or not media.sha256:
        return []
    others = IncidentMedia.objects.exclude(pk=media.pk).select_related("incident")
    if media.perceptual_hash is None:
        return [{"media": other, "distance": 0, "exact": True} for other in others.filter(sha256=media.sha256)]
    # `#` is XOR on bigints; bit_count of the 64 bits counts the bits that differ (PostgreSQL 14+).
    distance = RawSQL(
        "bit_count((perceptual_hash # %s)::bit(64))", (media.perceptual_hash,), output_field=IntegerField()
    )
    found = (
        others.annotate(distance=distance)
        .filter(Q(sha256=media.sha256) | Q(distance__lte=settings.MEDIA_NEAR_DUPLICATE_BITS))
        .order_by("distance", "id")
    )
    return [{"media": other, "distance": other.distance, "exact": other.sha256 == media.sha256} for other in found]


# The filters a release can apply: those on the columns ReleaseFeature keeps. Text search and actors would need each
# release's text and actor links frozen as well; under a release they are refused (a 400 naming them), never ignored.
RELEASE_FILTERS = frozenset(
    {"start", "end", "event_type", "sub_event_type", "country", "admin1", "fatalities_min", "precision", "bbox"}
)


def release_feature_filter(*, release, filters):
    """The incidents of `release` as they were, under the query-string filters (a validated IncidentFilterSet), in
    export order; raises InvalidFilters naming a filter a release cannot apply."""
    refused = sorted(filters_given(filters) - RELEASE_FILTERS)
    if refused:
        message = "cannot be applied to a release (it keeps dates, types, places, fatalities and precision)."
        raise InvalidFilters({name: [message] for name in refused})
    given = filters.form.cleaned_data
    rows = ReleaseFeature.objects.filter(release=release)
    if given.get("start"):
        rows = rows.filter(end_date__gte=given["start"])
    if given.get("end"):
        rows = rows.filter(start_date__lte=given["end"])
    if given.get("event_type"):
        rows = rows.filter(event_type__in=[event_type.slug for event_type in given["event_type"]])
    if given.get("sub_event_type"):
        rows = rows.filter(sub_event_type__in=[sub_type.slug for sub_type in given["sub_event_type"]])
    if given.get("country"):
        rows = rows.filter(country__in=given["country"])
    if given.get("admin1"):
        rows = rows.filter(admin1__in=given["admin1"])
    if given.get("fatalities_min") is not None:
        rows = rows.filter(fatalities_best__gte=given["fatalities_min"])
    if given.get("precision"):
        rows = rows.filter(location_precision__in=given["precision"])
    if given.get("bbox"):
        rows = rows.filter(location__intersects=given["bbox"])
    return rows


def release_feature_page(*, rows, after=None, limit):
    """(feature JSON text, start_date, incident id) of one page of release rows, newest first, after a keyset
    position (the live API's cursor) if given; one row more than `limit`, so the caller knows a next page exists."""
    if after is not None:
        start_date, pk = after
        rows = rows.filter(Q(start_date__lt=start_date) | Q(start_date=start_date, incident_id__lt=pk))
    rows = rows.order_by("-start_date", "-incident_id")
    return list(rows.values_list("feature", "start_date", "incident_id")[: limit + 1])


def release_feature_get(*, release, incident_id):
    """The frozen feature text of one incident of the release, or None if the release does not hold it."""
    return (
        ReleaseFeature.objects.filter(release=release, incident_id=incident_id)
        .values_list("feature", flat=True)
        .first()
    )
