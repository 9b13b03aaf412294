"""Public, read-only data endpoints. Each validates its query string with the one FilterSet (via selectors)."""

import csv
import datetime
import hashlib
import io
import json

from django.conf import settings
from django.core import signing
from django.http import JsonResponse, StreamingHttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.utils.translation import get_language
from django.views import View

from .. import selectors
from . import downloads, openapi, sql

CURSOR_SALT = "incidents.api.cursor"
GEOJSON = "application/geo+json"


class BadParameter(Exception):
    """One query parameter is malformed; becomes a 400 naming it."""

    def __init__(self, name, message):
        super().__init__(f"{name}: {message}")
        self.errors = {name: [message]}


def parameter_errors(errors, status=400):
    """400 with a body naming each bad parameter and what is wrong with it."""
    return JsonResponse(
        {
            "code": "InvalidParameterValue",
            "description": "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items()),
            "errors": errors,
        },
        status=status,
    )


def parse_limit(params):
    """(limit applied, warning or None): a missing limit is the default, one above the maximum is clamped."""
    text = params.get("limit")
    if text in (None, ""):
        return settings.API_DEFAULT_LIMIT, None
    try:
        limit = int(text)
    except ValueError:
        raise BadParameter("limit", "must be a whole number.") from None
    if limit < 1:
        raise BadParameter("limit", "must be at least 1.")
    if limit > settings.API_MAX_LIMIT:
        return settings.API_MAX_LIMIT, (
            f"limit {limit} is above the maximum of {settings.API_MAX_LIMIT}; "
            f"at most {settings.API_MAX_LIMIT} features are returned per page."
        )
    return limit, None


def make_cursor(start_date, pk):
    return signing.dumps([start_date.isoformat(), pk], salt=CURSOR_SALT, compress=True)


def parse_cursor(params):
    """The keyset position a signed `cursor` points after; a tampered or foreign cursor is refused."""
    text = params.get("cursor")
    if not text:
        return None
    try:
        start_date, pk = signing.loads(text, salt=CURSOR_SALT)
        return datetime.date.fromisoformat(start_date), int(pk)
    except (signing.BadSignature, ValueError, TypeError):
        raise BadParameter("cursor", "is not a cursor this server issued; follow the `next` link as given.") from None


def parse_flag(params, name):
    value = params.get(name, "").lower()
    if value not in ("", "0", "1", "true", "false"):
        raise BadParameter(name, "must be 1 or 0.")
    return value in ("1", "true")


class PublicGetMixin:
    """GET-only, public, cross-origin readable; malformed parameters become 400s instead of exceptions.

    Every successful GET carries an ETag and answers a conditional GET with 304: data views call not_modified()
    (count and last change of their incidents, so Last-Modified too, and no body is built for a 304); any other
    200 document gets an ETag from a hash of its body.
    """

    http_method_names = ["get", "head", "options"]

    def dispatch(self, request, *args, **kwargs):
        try:
            response = super().dispatch(request, *args, **kwargs)
        except selectors.InvalidFilters as invalid:
            response = parameter_errors(invalid.errors)
        except BadParameter as bad:
            response = parameter_errors(bad.errors)
        response = self.content_validated(response)
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Expose-Headers"] = "ETag, Last-Modified, Link, Content-Disposition"
        if request.method == "OPTIONS":
            # Conditional GETs send If-None-Match, which is not CORS-safelisted, so browsers preflight them.
            response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            response["Access-Control-Allow-Headers"] = "Accept, If-None-Match, If-Modified-Since"
            response["Access-Control-Max-Age"] = "86400"
        return response

    def not_modified(self, queryset, *, variant=""):
        """304 if the client's copy is current, else None; sets self.validators and self.number_matched."""
        count, changed = selectors.incident_freshness(queryset=queryset)
        self.number_matched = count
        # The absolute URL (links in the body carry the host) and the language (the map feed's labels) are part of it.
        fingerprint = (
            f"{self.request.build_absolute_uri()}|{get_language()}|{variant}|{count}|{changed and changed.isoformat()}"
        )
        etag = '"' + hashlib.sha256(fingerprint.encode()).hexdigest()[:32] + '"'
        last_modified = int(changed.timestamp()) if changed else None  # HTTP dates have whole seconds
        self.validators = {"ETag": etag, **({"Last-Modified": http_date(last_modified)} if last_modified else {})}
        response = get_conditional_response(self.request, etag=etag, last_modified=last_modified)
        if response is not None:
            for header, value in self.validators.items():
                response[header] = value
        return response

    def with_validators(self, response):
        for header, value in getattr(self, "validators", {}).items():
            response[header] = value
        return response

    def content_validated(self, response):
        """A 200 document without validators gets an ETag hashed from its body (and 304 if the client has it)."""
        if (
            self.request.method not in ("GET", "HEAD")
            or response.status_code != 200
            or response.streaming
            or response.has_header("ETag")
        ):
            return response
        etag = '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
        response["ETag"] = etag
        not_modified = get_conditional_response(self.request, etag=etag, response=response)
        if not_modified is not response:
            not_modified["ETag"] = etag
            for header in ("Vary", "Content-Language"):
                if response.has_header(header):
                    not_modified[header] = response[header]
        return not_modified


class PublicGetView(PublicGetMixin, View):
    """A public data view: see PublicGetMixin."""


def page_url(request, **replace):
    params = request.GET.copy()
    for name, value in replace.items():
        params[name] = value
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


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


class GeoJSONView(PublicGetView):
    """An RFC 7946 FeatureCollection: one page (`limit`, signed `cursor`, `next` link) or, with download=1, all."""

    def get(self, request):
        incidents = selectors.incident_filter(params=request.GET)
        download = parse_flag(request.GET, "download")
        # Checked in every mode, so a malformed value is never silently ignored.
        limit, warning = parse_limit(request.GET)
        after = parse_cursor(request.GET)
        if download:
            for name in ("limit", "cursor"):
                if request.GET.get(name):
                    raise BadParameter(name, "download=1 streams the whole set; leave out limit and cursor.")
        if downloads.is_full_download(request.GET, flag_required=True):
            return downloads.full_download_response(
                request,
                queryset=incidents,
                filename="incidents.geojson",
                content_type=GEOJSON,
                chunks=lambda: feature_collection_download(
                    sql.feature_batches(selectors.incident_export_queryset(queryset=incidents))
                ),
            )
        if (response := self.not_modified(incidents)) is not None:
            return response
        exported = selectors.incident_export_queryset(queryset=incidents, after=after)
        if download:
            response = StreamingHttpResponse(
                feature_collection_download(sql.feature_batches(exported)), content_type=GEOJSON
            )
            response["Content-Disposition"] = 'attachment; filename="incidents.geojson"'
            return self.with_validators(response)

        def tail(count, last_row, has_more):
            next_url = (
                page_url(request, cursor=make_cursor(last_row[1], last_row[2]), limit=limit) if has_more else None
            )
            links = [{"rel": "self", "type": GEOJSON, "href": request.build_absolute_uri()}]
            if next_url:
                links.append({"rel": "next", "type": GEOJSON, "href": next_url})
            members = {"numberMatched": self.number_matched, "numberReturned": count, "limit": limit}
            members |= {"next": next_url, "links": links}
            return members | ({"warnings": [warning]} if warning else {})

        rows = sql.feature_rows(exported[: limit + 1])
        response = StreamingHttpResponse(feature_collection_stream(rows, limit=limit, tail=tail), content_type=GEOJSON)
        return self.with_validators(response)


def csv_stream(rows):
    """The header, then the rows in batches: each yielded chunk is a few thousand lines of text."""
    batch = io.StringIO()
    writer = csv.writer(batch)
    writer.writerow(sql.CSV_HEADER)
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


class CSVView(PublicGetView):
    """One row per incident, ACLED column names first, the whole filtered set streamed."""

    def get(self, request):
        incidents = selectors.incident_filter(params=request.GET)
        if downloads.is_full_download(request.GET, flag_required=False):
            return downloads.full_download_response(
                request,
                queryset=incidents,
                filename="incidents.csv",
                content_type="text/csv; charset=utf-8",
                chunks=lambda: csv_stream(sql.csv_rows(selectors.incident_export_queryset(queryset=incidents))),
            )
        if (response := self.not_modified(incidents)) is not None:
            return response
        exported = selectors.incident_export_queryset(queryset=incidents)
        response = StreamingHttpResponse(csv_stream(sql.csv_rows(exported)), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="incidents.csv"'
        return self.with_validators(response)


class TimelineView(PublicGetView):
    """Counts and fatalities per bucket and event type: the data behind the map's histogram."""

    def get(self, request):
        bucket = request.GET.get("bucket") or None
        if bucket is not None and bucket not in selectors.TIMELINE_BUCKETS:
            return parameter_errors({"bucket": [f"must be one of {', '.join(selectors.TIMELINE_BUCKETS)}."]})
        incidents = selectors.incident_filter(params=request.GET)
        if (response := self.not_modified(incidents)) is not None:
            return response
        return self.with_validators(JsonResponse(selectors.timeline_counts(queryset=incidents, bucket=bucket)))


class OpenAPIView(PublicGetView):
    """The OpenAPI 3 document of /api/ (the OGC API has its own at /ogcapi/api)."""

    def get(self, request):
        document = openapi.api_document(server=request.build_absolute_uri("/").rstrip("/"))
        return JsonResponse(document, content_type="application/vnd.oai.openapi+json;version=3.0")
