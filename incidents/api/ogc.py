"""OGC API – Features, Part 1 (Core, GeoJSON, HTML, OpenAPI 3.0) and Part 3 (queryables, CQL2 `filter`, `sortby`)
over the published incidents.

The items are the same SQL-built features as /api/incidents.geojson, under the same FilterSet; `bbox`, `datetime`,
`limit` and paging are OGC's names for what the map already filters on. A CQL2 filter (incidents/cql.py) narrows
the FilterSet's incidents further; `sortby` orders them.
"""

import datetime
import json
from urllib.parse import urlencode

from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers

from .. import cql, selectors
from ..filters import IncidentFilterSet
from ..models import ShownText
from . import docs, openapi, sql
from .http import (
    GEOJSON,
    BadParameter,
    NotFound,
    PublicDataView,
    PublicGetView,
    make_cursor,
    make_position_cursor,
    page_url,
    parse_cursor,
    parse_limit,
    parse_position_cursor,
)
from .views import feature_collection_stream, page_members

COLLECTION_ID = "incidents"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    # Part 3: the queryables, and `filter` on the items in CQL2 text and JSON.
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    # CQL2: what incidents/cql.py translates (not arithmetic, arrays, ACCENTI or custom functions).
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
]
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA = "application/schema+json"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
FILTER_PARAMETERS = {"filter", "filter-lang", "filter-crs", "sortby"}
# Part 1 asks servers to refuse query parameters they do not define, so a typo is not silently ignored.
ITEMS_PARAMETERS = {*IncidentFilterSet.base_filters, "datetime", "limit", "cursor", "f", "release", *FILTER_PARAMETERS}


def parse_moment(text, *, end):
    """An RFC 3339 date-time or a plain date → aware UTC datetime (a date's end is the last instant of the day)."""
    try:
        if len(text) == 10:
            day = datetime.date.fromisoformat(text)
            moment = datetime.datetime.combine(day, datetime.time.max if end else datetime.time.min)
            return moment.replace(tzinfo=datetime.UTC)
        moment = datetime.datetime.fromisoformat(text)
        return moment.replace(tzinfo=datetime.UTC) if moment.tzinfo is None else moment.astimezone(datetime.UTC)
    except ValueError:
        raise BadParameter("datetime", f"“{text}” is not an RFC 3339 date-time or date.") from None
    except OverflowError:  # 0001-01-01T00:00+01:00 is still in year 0 once moved to UTC
        raise BadParameter("datetime", f"“{text}” is outside the years 1 to 9999 in UTC.") from None


def parse_datetime_interval(text):
    """OGC `datetime`: an instant, or start/end with either end open (`..` or empty) → (start day, end day)."""
    parts = text.split("/")
    if len(parts) == 1:
        if text in ("", ".."):
            raise BadParameter("datetime", "an instant cannot be open; use an interval such as 2019-01-01/..")
        start, end = parse_moment(text, end=False), parse_moment(text, end=True)
    elif len(parts) == 2:
        start = None if parts[0] in ("", "..") else parse_moment(parts[0], end=False)
        end = None if parts[1] in ("", "..") else parse_moment(parts[1], end=True)
        if start is None and end is None:
            raise BadParameter("datetime", "an interval needs at least one bounded end, such as 2019-01-01/..")
        if start and end and end < start:
            raise BadParameter("datetime", "the interval ends before it starts.")
    else:
        raise BadParameter("datetime", "use one instant or one start/end interval.")
    return (start.date() if start else None), (end.date() if end else None)


def render(request, document, *, title, content_type="application/json"):
    """JSON, or the same document as a plain HTML page, by `f=` or else by the Accept header."""
    fmt = request.GET.get("f")
    if fmt not in (None, "json", "html"):
        raise BadParameter("f", "must be json or html.")
    wants_html = fmt == "html" or (
        fmt is None and request.get_preferred_type(["application/json", content_type, "text/html"]) == "text/html"
    )
    if wants_html:
        response = HttpResponse(
            # No request: no context processors, so no session or cookie read (the page is public, like the JSON).
            render_to_string("ogcapi/page.html", html_context(request, document, title=title)),
            content_type="text/html; charset=utf-8",
        )
    else:
        response = JsonResponse(document, content_type=content_type, json_dumps_params={"ensure_ascii": False})
    patch_vary_headers(response, ["Accept"])
    return response


def _shown(value):
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value


def _html_feature(request, feature):
    properties = feature.get("properties") or {}
    start, end = properties.get("start_date"), properties.get("end_date")
    item = reverse("incidents:ogc-item", args=[COLLECTION_ID, feature["id"]])
    if release := request.GET.get("release"):  # a release's page links to its items as they were
        item += "?" + urlencode({"release": release}) + "&"
    else:
        item += "?"
    with translation.override("en"):  # the pages are in English: an Arabic-only title is shown, marked as such
        title = ShownText.of(english=properties.get("title"), arabic=properties.get("title_ar"), language="en")
        title = {"text": title.text, "language": title.language, "mark": str(title.mark)}
    return {
        "id": feature["id"],
        "url": f"{item}f=html",
        "title": title,
        "dates": start if not end or end == start else f"{start} – {end}",
        "place": ", ".join(
            part
            for part in (
                properties.get("place_reported") or properties.get("place_name"),
                properties.get("country_name"),
            )
            if part
        ),
        "event_type": properties.get("event_type_name") or properties.get("event_type") or "",
        "fatalities": properties.get("fatalities_best"),
    }


def html_context(request, document, *, title):
    """What the HTML page of an OGC document shows: the same members as its JSON, as headings, lists and tables."""
    context = {
        "title": title,
        "description": document.get("description", ""),
        "links": document.get("links", []),
        "conforms_to": document.get("conformsTo", []),
        "warnings": document.get("warnings", []),
    }
    collections = document.get("collections") or ([document] if "extent" in document else [])
    context["collections"] = [
        {
            "id": collection["id"],
            "title": collection.get("title", collection["id"]),
            "description": collection.get("description", ""),
            "bbox": collection["extent"]["spatial"]["bbox"][0],
            "interval": [moment or ".." for moment in collection["extent"]["temporal"]["interval"][0]],
            "crs": collection.get("crs", []),
        }
        for collection in collections
    ]
    if document.get("type") == "FeatureCollection":
        context["features"] = [_html_feature(request, feature) for feature in document.get("features", [])]
        context["number_matched"] = document.get("numberMatched")
    if document.get("type") == "Feature":
        context["properties"] = [(name, _shown(value)) for name, value in (document.get("properties") or {}).items()]
        context["geometry"] = _shown(document.get("geometry"))
    if "paths" in document:
        context["operations"] = docs.operations(document)
    if "$schema" in document:
        context["queryables"] = [_html_queryable(name, schema) for name, schema in document["properties"].items()]
        context["links"] = [
            {"href": document["$id"], "rel": "self", "type": SCHEMA, "title": "This document as JSON Schema"},
            _link(request, "ogc-collection", "collection", "text/html", "The collection", query="?f=html",
                  collection_id=COLLECTION_ID),
        ]  # fmt: skip
    if document.get("type") == "FeatureCollection" and not request.GET.get("release"):  # CQL2 reads live data only
        context["filter_form"] = {
            "action": reverse("incidents:ogc-items", args=[COLLECTION_ID]),
            "filter": request.GET.get("filter", ""),
            "filter_lang": request.GET.get("filter-lang", "cql2-text"),
            "sortby": request.GET.get("sortby", ""),
            "queryables": reverse("incidents:ogc-queryables", args=[COLLECTION_ID]) + "?f=html",
        }
    return context


def _html_queryable(name, schema):
    kind = schema.get("type", "")
    kind = " or ".join(kind) if isinstance(kind, list) else kind
    return {
        "name": name,
        "title": schema.get("title", ""),
        "type": ", ".join(part for part in (kind, schema.get("format", "")) if part),
        "values": ", ".join(str(value) for value in schema.get("enum", [])),
        "role": schema.get("x-ogc-role", ""),
        "sortable": schema.get("x-sortable", False),
    }


def _link(request, name, rel, content_type, title="", query="", **kwargs):
    href = request.build_absolute_uri(reverse(f"incidents:{name}", kwargs=kwargs or None)) + query
    return {"href": href, "rel": rel, "type": content_type, **({"title": title} if title else {})}


def _self_links(request, name, content_type="application/json", **kwargs):
    return [
        _link(request, name, "self", content_type, "This document", **kwargs),
        _link(request, name, "alternate", "text/html", "This document as HTML", query="?f=html", **kwargs),
    ]


class LandingView(PublicGetView):
    def get(self, request):
        document = {
            "title": "conflictmap",
            "description": "Published armed-conflict incidents, as OGC API – Features.",
            "links": [
                *_self_links(request, "ogc-landing"),
                _link(request, "ogc-openapi", "service-desc", OPENAPI, "The API definition"),
                _link(request, "ogc-conformance", "conformance", "application/json", "Conformance classes"),
                _link(request, "ogc-collections", "data", "application/json", "Collections"),
            ],
        }
        return render(request, document, title="conflictmap OGC API")


class ConformanceView(PublicGetView):
    def get(self, request):
        return render(
            request, {"conformsTo": CONFORMANCE, "links": _self_links(request, "ogc-conformance")}, title="Conformance"
        )


def collection_document(request):
    extent = selectors.incident_extent(queryset=selectors.incident_filter(params={}))
    interval = [extent["first"] and f"{extent['first']}T00:00:00Z", extent["last"] and f"{extent['last']}T23:59:59Z"]
    return {
        "id": COLLECTION_ID,
        "title": "Incidents",
        "description": (
            "Published armed-conflict incidents (ACLED-style coding). Each release is a frozen copy: its items answer "
            "?release=<name> (the links below), whatever changed since."
        ),
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {
            "spatial": {"bbox": [extent["bbox"] or [-180, -90, 180, 90]], "crs": CRS84},
            "temporal": {"interval": [interval], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"},
        },
        "links": [
            *_self_links(request, "ogc-collection", collection_id=COLLECTION_ID),
            _link(request, "ogc-items", "items", GEOJSON, "Incidents as GeoJSON", collection_id=COLLECTION_ID),
            _link(
                request,
                "ogc-items",
                "items",
                "text/html",
                "Incidents as HTML",
                query="?f=html",
                collection_id=COLLECTION_ID,
            ),
            _link(
                request,
                "ogc-queryables",
                QUERYABLES_REL,
                SCHEMA,
                "What a filter may test",
                collection_id=COLLECTION_ID,
            ),
            _link(
                request,
                "ogc-queryables",
                QUERYABLES_REL,
                "text/html",
                "What a filter may test, as HTML",
                query="?f=html",
                collection_id=COLLECTION_ID,
            ),
            *release_links(request),
        ],
    }


def release_links(request):
    """The releases (frozen, citable copies of the collection), newest first: their list, and each one's items."""
    links = [_link(request, "api-releases", "version-history", "application/json", "Releases: manifests and files")]
    for release in selectors.release_list():
        query = "?" + urlencode({"release": release.name})
        links.append(
            _link(request, "ogc-items", "related", GEOJSON, f"Release {release.number} “{release.name}”: its incidents as "
                  f"they were (data version {release.data_version})", query=query, collection_id=COLLECTION_ID)
        )  # fmt: skip
    return links


class OGCDataView(PublicDataView):
    """An OGC document that follows the published incidents; its body depends on the Accept header too."""

    def variant(self, request):
        return request.headers.get("Accept", "")


class OGCCollectionView(OGCDataView):
    """A collection document: it also lists the releases, which are made without a change of the data version."""

    def variant(self, request):
        return f"{super().variant(request)}|{selectors.release_latest_number()}"


def _collection_or_404(collection_id):
    if collection_id != COLLECTION_ID:
        raise NotFound(f"No collection “{collection_id}”.")


class CollectionsView(OGCCollectionView):
    def parse(self, request):
        return {}  # the collection's extent is over all published incidents

    def render(self, request):
        document = {"links": _self_links(request, "ogc-collections"), "collections": [collection_document(request)]}
        return render(request, document, title="Collections")


class CollectionView(OGCCollectionView):
    def parse(self, request):
        _collection_or_404(self.kwargs["collection_id"])
        return {}

    def render(self, request, collection_id):
        return render(request, collection_document(request), title="Incidents")


class QueryablesView(PublicGetView):
    """Part 3's queryables: a JSON Schema of what a filter may test, or the same as an HTML table."""

    def get(self, request, collection_id):
        _collection_or_404(collection_id)
        unknown = sorted(set(request.GET) - {"f"})
        if unknown:
            raise BadParameter(unknown[0], "is not a parameter of this API (see /ogcapi/api).")
        schema_id = _link(request, "ogc-queryables", "", SCHEMA, collection_id=COLLECTION_ID)["href"]
        document = cql.queryables_schema(schema_id=schema_id, title="Incidents")
        return render(request, document, title="Queryables of the incidents", content_type=SCHEMA)


def _one_value(params, name):
    """A single-valued parameter: repeating it with the same value is harmless, with another value is a 400."""
    values = {value for value in params.getlist(name) if value.strip()}
    if len(values) > 1:
        raise BadParameter(name, "is given more than once with different values.")
    return values.pop().strip() if values else None


def parse_filter(params):
    """`filter`, `filter-lang` and `filter-crs` → the condition the incidents must meet (a Q), or None.

    Repeated `filter` parameters must all hold, as two filters of the query string do.
    """
    language = _one_value(params, "filter-lang") or "cql2-text"
    language = cql.DRAFT_FILTER_LANGUAGES.get(language, language)
    if language not in cql.FILTER_LANGUAGES:
        raise BadParameter("filter-lang", "must be cql2-text or cql2-json.")
    crs = _one_value(params, "filter-crs")
    if crs not in (None, CRS84):
        raise BadParameter("filter-crs", f"only {CRS84} (longitude, then latitude) is supported.")
    texts = [text for text in params.getlist("filter") if text.strip()]
    if not texts:
        return None
    try:
        conditions = [cql.incident_condition(cql.parse_filter(text, language=language)) for text in texts]
    except cql.FilterError as error:
        raise BadParameter("filter", str(error)) from None
    condition = conditions[0]
    for other in conditions[1:]:
        condition &= other
    return condition


def parse_sortby(params):
    """`sortby` → (Django ordering, the order's key for cursors), or (None, None) for the default newest first."""
    keys = [key.strip() for value in params.getlist("sortby") for key in value.split(",") if key.strip()]
    if not keys:
        return None, None
    try:
        return cql.parse_sortby(keys), ",".join(keys)
    except cql.FilterError as error:
        raise BadParameter("sortby", str(error)) from None


class ItemsView(OGCDataView):
    def parse(self, request):
        _collection_or_404(self.kwargs["collection_id"])
        unknown = sorted(set(request.GET) - ITEMS_PARAMETERS)
        if unknown:
            raise BadParameter(unknown[0], "is not a parameter of this API (see /ogcapi/api).")
        if request.GET.get("f") not in (None, "json", "html"):
            raise BadParameter("f", "must be json or html.")
        params = request.GET.copy()
        for name in FILTER_PARAMETERS:
            params.pop(name, None)
        if request.GET.get("datetime"):
            if request.GET.get("start") or request.GET.get("end"):
                raise BadParameter("datetime", "give either datetime or start/end, not both.")
            start, end = parse_datetime_interval(request.GET["datetime"])
            params["start"], params["end"] = (start.isoformat() if start else ""), (end.isoformat() if end else "")
        self.limit, self.warning = parse_limit(request.GET)
        if self.release is not None:
            # A release keeps the columns of the query-string filters, not every queryable a CQL2 filter may test.
            for name in sorted(FILTER_PARAMETERS):
                if any(value.strip() for value in request.GET.getlist(name)):
                    raise BadParameter(name, "cannot be applied to a release; use the query-string filters.")
        self.condition = parse_filter(request.GET)
        self.ordering, self.ordering_key = parse_sortby(request.GET)
        if self.ordering is None:
            self.after = parse_cursor(request.GET)
        else:
            self.offset = parse_position_cursor(request.GET, self.ordering_key)
        return params

    release_readable = True

    def page_rows(self):
        """One row more than the page holds (so the stream knows whether a next page exists)."""
        if self.release is not None:
            rows = selectors.release_feature_filter(release=self.release, filters=self.filterset)
            return selectors.release_feature_page(rows=rows, after=self.after, limit=self.limit)
        matching = selectors.incident_meeting(queryset=self.filterset.qs, condition=self.condition)
        if self.ordering is None:
            exported = selectors.incident_export_queryset(queryset=matching, after=self.after)
            return sql.feature_page(exported[: self.limit + 1])
        ids = selectors.incident_sorted_ids(
            queryset=matching, ordering=self.ordering, offset=self.offset, limit=self.limit + 1
        )
        return sql.features_in_order(ids, using=matching.db)

    def page_links(self, request, last_row, has_more):
        """`next` (and, in a sortby order, `prev`) links: the same query with another cursor."""
        limit, links = self.limit, []
        if self.ordering is None:
            if has_more:
                links.append(("next", make_cursor(last_row[1], last_row[2])))
        else:
            if has_more:
                links.append(("next", make_position_cursor(self.offset + limit, self.ordering_key)))
            if self.offset > 0:
                links.append(("prev", make_position_cursor(max(0, self.offset - limit), self.ordering_key)))
        titles = {"next": "Next page", "prev": "Previous page"}
        return [
            {"href": page_url(request, cursor=cursor, limit=limit), "rel": rel, "type": GEOJSON, "title": titles[rel]}
            for rel, cursor in links
        ]

    def render(self, request, collection_id):
        limit, warning = self.limit, self.warning
        rows = self.page_rows()
        # numberMatched only from the aggregates, which know nothing of a CQL2 filter (or a release's manifest).
        if self.release is not None:
            number_matched = self.release.incidents if not selectors.filters_given(self.filterset) else None
        elif self.condition is None:
            number_matched = selectors.incident_count_if_cheap(filters=self.filterset)
        else:
            number_matched = None
        items_link = _link(request, "ogc-items", "", GEOJSON, collection_id=COLLECTION_ID)["href"]

        def tail(count, last_row, has_more):
            links = [
                {"href": request.build_absolute_uri(), "rel": "self", "type": GEOJSON, "title": "This page"},
                {"href": page_url(request, f="html"), "rel": "alternate", "type": "text/html", "title": "As HTML"},
                {"href": items_link.rsplit("/items", 1)[0], "rel": "collection", "type": "application/json"},
                *self.page_links(request, last_row, has_more),
            ]
            members = page_members(number_matched=number_matched, count=count) | {"links": links}
            return members | ({"warnings": [warning]} if warning else {})

        stream = feature_collection_stream(
            rows, limit=limit, head={"timeStamp": timezone.now().isoformat(timespec="seconds")}, tail=tail
        )
        if request.GET.get("f") == "html" or (
            "f" not in request.GET
            and request.get_preferred_type([GEOJSON, "application/json", "text/html"]) == "text/html"
        ):
            return render(request, json.loads("".join(stream)), title="Incidents")
        response = StreamingHttpResponse(stream, content_type=GEOJSON)
        patch_vary_headers(response, ["Accept"])
        return response

    render_release = render


class ItemView(OGCDataView):
    release_readable = True

    def parse(self, request):
        _collection_or_404(self.kwargs["collection_id"])
        feature_id = self.kwargs["feature_id"]
        # Path ids are checked here, not by a URL converter, so a bad id gets the API's JSON 404, not an HTML page.
        pk = int(feature_id) if feature_id.isascii() and feature_id.isdigit() and len(feature_id) < 19 else None
        if self.release is not None:
            # As it was in the release: one retracted or deleted since is still there, one created since is not.
            self.frozen = pk is not None and selectors.release_feature_get(release=self.release, incident_id=pk)
            if not self.frozen:
                raise NotFound(f"No incident “{feature_id}” in release {self.release.name}.")
        elif pk is None or not selectors.incident_filter(params={}).filter(pk=pk).exists():
            raise NotFound(f"No published incident “{feature_id}”.")
        self.pk = pk
        return {}

    def render(self, request, collection_id, feature_id):
        incident = self.filterset.qs.filter(pk=self.pk)
        (row,) = sql.feature_page(selectors.incident_export_queryset(queryset=incident))
        return self.feature_response(request, row[0], feature_id)

    def render_release(self, request, collection_id, feature_id):
        return self.feature_response(request, self.frozen, feature_id)

    def feature_response(self, request, text, feature_id):
        feature = json.loads(text)
        query = f"?release={self.release.name}" if self.release is not None else ""
        feature["links"] = [
            _link(request, "ogc-item", "self", GEOJSON, "This document", query=query,
                  collection_id=COLLECTION_ID, feature_id=feature_id),
            _link(request, "ogc-item", "alternate", "text/html", "This document as HTML",
                  query=f"{query}&f=html" if query else "?f=html", collection_id=COLLECTION_ID, feature_id=feature_id),
            _link(request, "ogc-collection", "collection", "application/json", collection_id=COLLECTION_ID),
        ]  # fmt: skip
        return render(
            request,
            feature,
            title=feature["properties"]["title"] or feature["properties"]["title_ar"],
            content_type=GEOJSON,
        )


class OGCOpenAPIView(PublicGetView):
    def get(self, request):
        if request.GET.get("f") == "html":
            document = openapi.ogc_document(server=request.build_absolute_uri("/").rstrip("/"))
            return render(request, document, title="API definition")
        if request.GET.get("f") not in (None, "json"):
            raise BadParameter("f", "must be json or html.")
        document = openapi.ogc_document(server=request.build_absolute_uri("/").rstrip("/"))
        return JsonResponse(document, content_type=OPENAPI)
