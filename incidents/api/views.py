"""Public, read-only data endpoints of /api/: each a PublicDataView that only says how it renders."""

import csv
import io
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.http import HttpResponse, JsonResponse, QueryDict, StreamingHttpResponse
from django.urls import reverse

from .. import regional, selectors
from . import downloads, openapi, sql
from .http import (
    GEOJSON,
    BadParameter,
    PublicDataView,
    PublicGetMixin,
    PublicGetView,
    make_change_token,
    make_cursor,
    page_url,
    parse_change_token,
    parse_cursor,
    parse_flag,
    parse_limit,
)

# The map views (incidents/views.py) import the mixin from here until they are PublicDataViews themselves.
__all__ = ["PublicGetMixin", "PublicGetView"]


def feature_collection_stream(rows, *, limit=None, head=None, tail=None):
    """A FeatureCollection as text chunks; `tail(count, last_row, has_more)` adds members after the features."""
    yield '{"type":"FeatureCollection"' + "".join(f",{json.dumps(k)}:{json.dumps(v)}" for k, v in (head or {}).items())
    yield ',"features":['
    batch, count, last_row, has_more = [], 0, None, False
    for row in rows:
        if limit is not None and count == limit:
            has_more = True  # the page asked for one row more than it shows, to know whether a next page exists
            break
        batch.append(row[0])
        count, last_row = count + 1, row
        if len(batch) == sql.CHUNK_SIZE:
            yield ("," if count > len(batch) else "") + ",".join(batch)
            batch = []
    if batch:
        yield ("," if count > len(batch) else "") + ",".join(batch)
    yield "]"
    members = tail(count, last_row, has_more) if tail else {}
    yield "".join(f",{json.dumps(k)}:{json.dumps(v)}" for k, v in members.items()) + "}"


def feature_collection_download(batches):
    """The full download as text chunks: one chunk per fetched batch of features, joined in one call.

    The paged stream above counts rows one by one to stop at the limit and remember the last row's keyset; the
    download needs neither, so it handles a few dozen lists instead of 100,000 tuples.
    """
    yield '{"type":"FeatureCollection","features":['
    separator = ""
    for features in batches:
        yield separator + ",".join(features)
        separator = ","
    yield "]}"


def page_members(*, number_matched, count, limit=None):
    """numberMatched only when the aggregates know it exactly (OGC API makes it optional), then numberReturned."""
    members = {} if number_matched is None else {"numberMatched": number_matched}
    return members | {"numberReturned": count} | ({"limit": limit} if limit is not None else {})


class GeoJSONView(PublicDataView):
    """An RFC 7946 FeatureCollection: one page (`limit`, signed `cursor`, `next` link) or, with download=1, all."""

    def parse(self, request):
        self.download = parse_flag(request.GET, "download")
        # Checked in every mode, so a malformed value is never silently ignored.
        self.limit, self.warning = parse_limit(request.GET)
        self.after = parse_cursor(request.GET)
        if self.download:
            for name in ("limit", "cursor"):
                if request.GET.get(name):
                    raise BadParameter(name, "download=1 streams the whole set; leave out limit and cursor.")
        return request.GET

    download_filename = "incidents.geojson"
    download_content_type = GEOJSON

    def download_chunks(self):
        return feature_collection_download(
            sql.feature_batches(selectors.incident_export_queryset(queryset=self.filterset.qs))
        )

    def render(self, request):
        exported = selectors.incident_export_queryset(queryset=self.filterset.qs, after=self.after)
        if self.download:
            response = StreamingHttpResponse(
                feature_collection_download(sql.feature_batches(exported)), content_type=GEOJSON
            )
            response["Content-Disposition"] = 'attachment; filename="incidents.geojson"'
            return response
        number_matched = selectors.incident_count_if_cheap(filters=self.filterset)
        return self.page_response(request, sql.feature_page(exported[: self.limit + 1]), number_matched)

    release_readable = True

    def render_release(self, request):
        """A page of the release's incidents as they were (`download=1` without filters is its file, see get())."""
        if self.download:
            others = sorted(set(request.GET) - {"release", "download"})
            raise BadParameter(others[0], "a release's file is served whole: give no other parameter.")
        rows = selectors.release_feature_filter(release=self.release, filters=self.filterset)
        page = selectors.release_feature_page(rows=rows, after=self.after, limit=self.limit)
        number_matched = self.release.incidents if not selectors.filters_given(self.filterset) else None
        return self.page_response(request, page, number_matched)

    def page_response(self, request, rows, number_matched):
        """One page of (feature text, start_date, id) rows, with `next` when more follow."""
        limit, warning = self.limit, self.warning

        def tail(count, last_row, has_more):
            next_url = (
                page_url(request, cursor=make_cursor(last_row[1], last_row[2]), limit=limit) if has_more else None
            )
            links = [{"rel": "self", "type": GEOJSON, "href": request.build_absolute_uri()}]
            if next_url:
                links.append({"rel": "next", "type": GEOJSON, "href": next_url})
            members = page_members(number_matched=number_matched, count=count, limit=limit)
            members |= {"next": next_url, "links": links}
            return members | ({"warnings": [warning]} if warning else {})

        return StreamingHttpResponse(feature_collection_stream(rows, limit=limit, tail=tail), content_type=GEOJSON)


def csv_stream(rows, *, hxl=False):
    """The header (and with `hxl` the HXL hashtag row), then the rows in batches: each yielded chunk is a few
    thousand lines of text."""
    batch = io.StringIO()
    writer = csv.writer(batch)
    writer.writerow(sql.CSV_HEADER)
    if hxl:
        writer.writerow(sql.CSV_HXL_TAGS)
    # The header goes out at once: a download that then fails is visibly cut (no final chunk), not an empty 500.
    yield batch.getvalue()
    batch.seek(0)
    batch.truncate()
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % sql.CHUNK_SIZE == 0:
            yield batch.getvalue()
            batch.seek(0)
            batch.truncate()
    yield batch.getvalue()


class CSVView(PublicDataView):
    """One row per incident, ACLED column names first, the whole filtered set streamed."""

    download_filename = "incidents.csv"
    download_content_type = "text/csv; charset=utf-8"
    download_flag_required = False

    def parse(self, request):
        self.hxl = parse_flag(request.GET, "hxl")  # with it, never the whole-dataset file (not a bare query)
        return request.GET

    def download_chunks(self):
        return csv_stream(sql.csv_rows(selectors.incident_export_queryset(queryset=self.filterset.qs)))

    def render(self, request):
        exported = selectors.incident_export_queryset(queryset=self.filterset.qs)
        response = StreamingHttpResponse(
            csv_stream(sql.csv_rows(exported), hxl=self.hxl), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="incidents.csv"'
        return response


# The outputs whose unfiltered request is a file (incidents/api/downloads.py), written for each new data version.
FULL_DOWNLOAD_VIEWS = (GeoJSONView, CSVView)


def full_downloads_write():
    """Write the full-download files of the current data version that are not written yet; returns their paths."""
    paths = []
    for view_class in FULL_DOWNLOAD_VIEWS:
        # One snapshot for the file's name (the data version) and its content, whatever is committed meanwhile.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            view = view_class()
            view.filterset = selectors.incident_filterset(params=QueryDict())
            path, _version, _changed = downloads.full_download_file(filename=view.download_filename)
            downloads.materialise(path=path, chunks=view.download_chunks)
        paths.append(path)
    return paths


class TimelineView(PublicDataView):
    """Counts and fatalities per bucket and event type: the data behind the map's histogram."""

    def parse(self, request):
        self.bucket = request.GET.get("bucket") or None
        if self.bucket is not None and self.bucket not in selectors.TIMELINE_BUCKETS:
            raise BadParameter("bucket", f"must be one of {', '.join(selectors.TIMELINE_BUCKETS)}.")
        return request.GET

    def render(self, request):
        document = selectors.timeline_counts(filters=self.filterset, bucket=self.bucket)
        buckets = document.pop("buckets")
        # The buckets go out as PostgreSQL encoded them; only the few other members are encoded here.
        head = json.dumps(document, cls=DjangoJSONEncoder)
        return HttpResponse(f'{head[:-1]}, "buckets": {buckets}}}', content_type="application/json")


class ChangesView(PublicGetView):
    """The change feed: every public change in commit order after `since` (a token from a page's `next` or `resume`
    link, or a full download's Link header), `limit` at a time; without `since`, from the first."""

    def get(self, request):
        since = parse_change_token(request.GET)
        limit, warning = parse_limit(request.GET)
        if (response := self.not_modified()) is not None:
            return response
        after = 0
        if since is not None:
            kind, number = since
            after = number if kind == "c" else selectors.incident_change_after_version(version=number)
        changes, last, has_more, version = selectors.incident_change_page(after=after, limit=limit)
        resume = make_change_token("c", last if last is not None else after)
        next_url = page_url(request, since=resume, limit=limit) if has_more else None
        links = [{"rel": "self", "type": "application/json", "href": request.build_absolute_uri()}]
        if next_url:
            links.append({"rel": "next", "type": "application/json", "href": next_url})
        members = {
            "numberReturned": len(changes),
            "limit": limit,
            "data_version": version,
            "next": next_url,
            # Where to ask again later for what changes after this page (the same as `next` while more follow).
            "resume": page_url(request, since=resume, limit=limit),
            "links": links,
            **({"warnings": [warning]} if warning else {}),
        }
        head = json.dumps(members)
        body = f'{{"changes":[{",".join(changes)}],{head[1:]}'
        return self.with_validators(HttpResponse(body, content_type="application/json"))


class ReleasesView(PublicGetView):
    """Every release's manifest (counts, checksums, data version, citation) and the URLs of its files."""

    def get(self, request):
        releases = []
        for release in selectors.release_list():
            files = {
                name: request.build_absolute_uri(reverse(route) + query)
                for name, route, query in (
                    ("incidents.geojson", "incidents:api-geojson", f"?release={release.name}&download=1"),
                    ("incidents.csv", "incidents:api-csv", f"?release={release.name}"),
                )
            }
            # Where the release is read page by page and filtered, as the live data is.
            pages = {
                "api": request.build_absolute_uri(reverse("incidents:api-geojson") + f"?release={release.name}"),
                "ogcapi": request.build_absolute_uri(
                    reverse("incidents:ogc-items", args=["incidents"]) + f"?release={release.name}"
                ),
            }
            releases.append({**release.manifest, "urls": files, "pages": pages})
        return JsonResponse({"releases": releases})


class OpenAPIView(PublicGetView):
    """The OpenAPI 3 document of /api/ (the OGC API has its own at /ogcapi/api)."""

    def get(self, request):
        document = openapi.api_document(server=request.build_absolute_uri("/").rstrip("/"))
        return JsonResponse(document, content_type="application/vnd.oai.openapi+json;version=3.0")


# --- The analyst's views by region and period (incidents/regional.py): one view per document, JSON or CSV by the
# URL's suffix, the same FilterSet, 400s and ETags as every output.


def _choice(params, name, choices, default):
    """One value of a choice parameter; a repeated one must agree with itself (the map's URL may repeat it)."""
    values = [value for value in params.getlist(name) if value != ""]
    if not values:
        return default
    if len(set(values)) > 1 or values[0] not in choices:
        raise BadParameter(name, f"must be one of {', '.join(choices)}.")
    return values[0]


def _whole_number(params, name, *, default, low, high):
    values = [value for value in params.getlist(name) if value != ""]
    if not values:
        return default
    try:
        numbers = {int(value) for value in values}
    except ValueError:
        raise BadParameter(name, "must be a whole number.") from None
    number = numbers.pop()
    if numbers or not low <= number <= high:
        raise BadParameter(name, f"must be one whole number from {low} to {high}.")
    return number


def _csv_response(header, rows, filename):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _json_response(document):
    return HttpResponse(
        json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False), content_type="application/json"
    )


# The parameters of these views beside the filters: a FilterSet ignores names it does not know.
class RegionCountsView(PublicDataView):
    """The region view's numbers: published incidents and fatalities (low, best, high sums) per governorate (admin1)
    or district (admin2) under the filters; the boundaries come once from RegionBoundariesView."""

    format = "json"

    def parse(self, request):
        self.level = _choice(request.GET, "level", regional.LEVELS, "admin1")
        return request.GET

    def render(self, request):
        rows = regional.region_counts(filters=self.filterset, level=self.level)
        if self.format == "csv":
            columns = ["country", "admin1", *(["admin2"] if self.level == "admin2" else []), "name_ar"]
            columns += [*regional.SUMS, "lat", "lon"]
            return _csv_response(
                columns, ([row[name] for name in columns] for row in rows), f"incidents-by-{self.level}.csv"
            )
        return _json_response(
            {
                "level": self.level,
                "total": sum(row["incidents"] for row in rows),
                "total_fatalities": sum(row["fatalities_best"] for row in rows),
                "regions": rows,
            }
        )


class RegionBoundariesView(PublicGetView):
    """The governorates' (or districts') boundaries, simplified, with their keys, names and centroids: fetched once
    by the map's region view (the counts change with the filters, the boundaries do not)."""

    def get(self, request):
        level = _choice(request.GET, "level", regional.LEVELS, "admin1")
        response = HttpResponse(regional.region_boundaries_geojson(level=level), content_type=GEOJSON)
        response["Cache-Control"] = "public, max-age=3600"
        return response


class TrendsView(PublicDataView):
    """Incidents and fatalities per week, month or year by event type or by actor: the top `top` and the rest as
    "other", under the filters."""

    format = "json"

    def parse(self, request):
        self.by = _choice(request.GET, "by", regional.TREND_GROUPS, "event_type")
        self.period = _choice(request.GET, "period", regional.TREND_PERIODS, "month")
        self.top = _whole_number(request.GET, "top", default=5, low=1, high=20)
        return request.GET

    def render(self, request):
        trends = regional.region_trends(filters=self.filterset, by=self.by, period=self.period, top=self.top)
        if self.format == "csv":
            rows = (
                [point["period"], series["key"], series["label"], *(point[name] for name in regional.SUMS)]
                for series in trends["series"]
                for point in series["points"]
            )
            header = [self.period, self.by, "label", *regional.SUMS]
            return _csv_response(header, rows, f"trends-by-{self.by}.csv")
        return _json_response(trends)


class AggregatedView(PublicDataView):
    """ACLED's aggregated shape: events and fatalities per week (or month) × admin1 (or admin2) × event type (and
    sub-type), with the region's centroid, under the filters."""

    format = "json"

    def parse(self, request):
        self.period = _choice(request.GET, "period", regional.AGGREGATE_PERIODS, "week")
        self.level = _choice(request.GET, "level", regional.LEVELS, "admin1")
        self.sub_types = _choice(request.GET, "sub_event_types", ("0", "1"), "1") == "1"
        return request.GET

    def render(self, request):
        body = regional.aggregated_export(
            filters=self.filterset, period=self.period, level=self.level, sub_types=self.sub_types, format=self.format
        )
        if self.format == "csv":
            response = HttpResponse(body, content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="aggregated-{self.period}-{self.level}.csv"'
            return response
        head = json.dumps({"period": self.period, "level": self.level, "columns": regional.AGGREGATE_COLUMNS})
        return HttpResponse(f'{head[:-1]}, "rows": {body}}}', content_type="application/json")
