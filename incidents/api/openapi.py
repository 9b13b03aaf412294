"""OpenAPI 3.0 documents for /api/ and for the OGC API, written out by hand: the parameters are the FilterSet's."""

from django.conf import settings

GEOJSON = "application/geo+json"


def _query(name, schema, description, **extra):
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema, **extra}


def _list(items):
    return {"type": "array", "items": items}


# The FilterSet's parameters, as the map, the downloads and OGC API all accept them.
FILTER_PARAMETERS = [
    _query("start", {"type": "string", "format": "date"}, "Incidents ending on or after this day (YYYY-MM-DD)."),
    _query("end", {"type": "string", "format": "date"}, "Incidents starting on or before this day (YYYY-MM-DD)."),
    _query("event_type", _list({"type": "string"}), "Event type slug(s), e.g. battles.", explode=True),
    _query("sub_event_type", _list({"type": "string"}), "Sub-event type slug(s).", explode=True),
    _query("actor", _list({"type": "integer"}), "Actor id(s).", explode=True),
    _query("side", {"type": "string", "enum": ["a", "b"]}, "Only count `actor` on this side."),
    _query("country", {"type": "string"}, "ISO 3166 alpha-2 code(s), comma-separated."),
    _query("admin1", {"type": "string"}, "Region name(s), comma-separated."),
    _query("fatalities_min", {"type": "integer", "minimum": 0}, "Minimum best fatality estimate."),
    _query("precision", _list({"type": "integer", "enum": [1, 2, 3]}), "Location precision code(s).", explode=True),
    _query("q", {"type": "string", "maxLength": 200}, "Text search in title, description and place."),
]

BBOX = _query(
    "bbox",
    _list({"type": "number"}),
    "minLon,minLat,maxLon,maxLat (WGS 84).",
    style="form",
    explode=False,
)


def _limit():
    return _query(
        "limit",
        {"type": "integer", "minimum": 1, "default": settings.API_DEFAULT_LIMIT},
        f"Features per page; above {settings.API_MAX_LIMIT} it is clamped and the response says so.",
    )


CURSOR = _query("cursor", {"type": "string"}, "Opaque position from a `next` link.")

ERROR = {
    "type": "object",
    "required": ["code", "description"],
    "properties": {
        "code": {"type": "string"},
        "description": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": _list({"type": "string"})},
    },
}
LINK = {
    "type": "object",
    "required": ["href", "rel"],
    "properties": {"href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"}},
}
FEATURE = {
    "type": "object",
    "required": ["type", "id", "geometry", "properties"],
    "properties": {
        "type": {"enum": ["Feature"]},
        "id": {"type": "integer"},
        "geometry": {
            "type": "object",
            "required": ["type", "coordinates"],
            "properties": {
                "type": {"enum": ["Point"]},
                "coordinates": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
            },
        },
        "properties": {
            "type": "object",
            "required": ["title", "start_date", "end_date", "event_type", "actors", "sources", "updated_at"],
            "properties": {
                "title": {"type": "string"},
                "start_date": {"type": "string", "format": "date"},
                "end_date": {"type": "string", "format": "date"},
                "date_precision": {"type": "integer", "enum": [1, 2, 3]},
                "date_precision_label": {"type": "string", "enum": ["day", "week", "month"]},
                "location_precision": {"type": "integer", "enum": [1, 2, 3]},
                "location_precision_label": {"type": "string", "enum": ["exact", "near", "region"]},
                "event_type": {"type": "string"},
                "fatalities_best": {"type": "integer", "nullable": True},
                "actors": _list(
                    {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string"},
                            "side": {"enum": ["a", "b"]},
                            "associated": {"type": "boolean"},
                        },
                    }
                ),
                "sources": _list({"type": "object", "properties": {"publisher": {"type": "string"}}}),
                "updated_at": {"type": "string"},
            },
        },
    },
}
FEATURE_COLLECTION = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"enum": ["FeatureCollection"]},
        "features": _list(FEATURE),
        "numberMatched": {"type": "integer", "minimum": 0},
        "numberReturned": {"type": "integer", "minimum": 0},
        "links": _list(LINK),
        "next": {"type": "string", "nullable": True},
        "warnings": _list({"type": "string"}),
    },
}
CSV_DESCRIPTION = (
    "One row per incident. A text cell (title, notes, location, place_reported, actors, source, admin1, admin2, "
    "external_id, …) that begins with =, +, -, @, a tab or a carriage return is written with a leading single "
    "quote ('), so that spreadsheet programs do not run it as a formula; numeric columns are never changed."
)
CONDITIONAL = {"304": {"description": "Not modified since the ETag / Last-Modified the client sent."}}


def _errors(*codes):
    return {
        code: {
            "description": "A malformed parameter, named in the body.",
            "content": {"application/json": {"schema": ERROR}},
        }
        for code in codes
    }


def _ok(content_type, schema, description="OK"):
    return {"200": {"description": description, "content": {content_type: {"schema": schema}}}}


def api_document(*, server):
    timeline = {
        "type": "object",
        "required": ["bucket", "buckets", "total"],
        "properties": {
            "bucket": {"enum": ["day", "week", "month", "year"]},
            "buckets": _list({"type": "object"}),
            "total": {"type": "integer"},
            "total_fatalities": {"type": "integer"},
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "conflictmap data API", "version": "1.0", "description": "Published incidents only."},
        "servers": [{"url": server}],
        "paths": {
            "/api/incidents.geojson": {
                "get": {
                    "operationId": "incidentsGeoJSON",
                    "summary": "A page of incidents, or all of them with download=1, as GeoJSON.",
                    "parameters": [
                        *FILTER_PARAMETERS,
                        BBOX,
                        _limit(),
                        CURSOR,
                        _query("download", {"type": "integer", "enum": [0, 1]}, "1: the whole set as a file."),
                    ],
                    "responses": {**_ok(GEOJSON, FEATURE_COLLECTION), **CONDITIONAL, **_errors("400")},
                }
            },
            "/api/incidents.csv": {
                "get": {
                    "operationId": "incidentsCSV",
                    "summary": "All incidents under the filters, ACLED-compatible columns, UTF-8.",
                    "description": CSV_DESCRIPTION,
                    "parameters": [*FILTER_PARAMETERS, BBOX],
                    "responses": {**_ok("text/csv", {"type": "string"}), **CONDITIONAL, **_errors("400")},
                }
            },
            "/api/timeline": {
                "get": {
                    "operationId": "timeline",
                    "summary": "Incidents and fatalities per time bucket and event type.",
                    "parameters": [
                        *FILTER_PARAMETERS,
                        BBOX,
                        _query("bucket", {"type": "string", "enum": ["day", "week", "month", "year"]}, "Bucket."),
                    ],
                    "responses": {**_ok("application/json", timeline), **CONDITIONAL, **_errors("400")},
                }
            },
        },
    }


def ogc_document(*, server):
    f_param = _query("f", {"type": "string", "enum": ["json", "html"]}, "Response format.")
    json_object = {"type": "object"}

    def document(operation_id, summary, schema, content_type="application/json", parameters=(), errors=("400",)):
        return {
            "get": {
                "operationId": operation_id,
                "summary": summary,
                "parameters": [*parameters, f_param],
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {content_type: {"schema": schema}, "text/html": {"schema": {"type": "string"}}},
                    },
                    **_errors(*errors),
                },
            }
        }

    items = document(
        "getIncidents",
        "Incidents under bbox, datetime and our filters, paged.",
        FEATURE_COLLECTION,
        GEOJSON,
        [
            BBOX,
            _query("datetime", {"type": "string"}, "An instant or interval (RFC 3339), open ends as `..`."),
            _limit(),
            CURSOR,
            *FILTER_PARAMETERS,
        ],
    )
    items["get"]["responses"].update(CONDITIONAL)
    item = document(
        "getIncident",
        "One incident.",
        FEATURE,
        GEOJSON,
        [{"name": "featureId", "in": "path", "required": True, "schema": {"type": "integer"}}],
        ("400", "404"),
    )
    return {
        "openapi": "3.0.3",
        "info": {"title": "conflictmap OGC API – Features", "version": "1.0"},
        "servers": [{"url": f"{server}/ogcapi"}],
        "paths": {
            "/": document("getLandingPage", "Landing page.", json_object),
            "/conformance": document("getConformance", "Conformance classes.", json_object),
            "/collections": document("getCollections", "Collections.", json_object),
            "/collections/incidents": document("describeIncidents", "The incidents collection.", json_object),
            "/collections/incidents/items": items,
            "/collections/incidents/items/{featureId}": item,
        },
    }
