"""OpenAPI 3.0 documents for /api/ and for the OGC API; the filter parameters are generated from the FilterSet."""

from django.conf import settings

from ..cql import QUERYABLES
from ..filters import IncidentFilterSet
from ..map import tiles

GEOJSON = "application/geo+json"


def _query(name, schema, description, **extra):
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema, **extra}


def _list(items):
    return {"type": "array", "items": items}


_MOMENT = r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2}))?"
# An instant, or an interval whose open end is `..` or empty (OGC API – Features, Part 1).
DATETIME_INTERVAL = rf"^({_MOMENT}|({_MOMENT}|\.\.|)/({_MOMENT}|\.\.|))$"


def filter_parameters():
    """The query parameters of the one FilterSet, as each filter documents itself (incidents/filters.py)."""
    parameters = []
    for name, query_filter in IncidentFilterSet.base_filters.items():
        doc = dict(query_filter.openapi)
        schema = doc.pop("schema")
        parameters.append(_query(name, schema() if callable(schema) else schema, doc.pop("description"), **doc))
    return parameters


def _sort_keys():
    names = [name for name, queryable in QUERYABLES.items() if queryable.sortable]
    return [f"{sign}{name}" for name in names for sign in ("", "+", "-")]


def cql2_parameters():
    """OGC API – Features Part 3's `filter` and its language and CRS, and `sortby` (incidents/cql.py)."""
    return [
        _query(
            "filter",
            {"type": "string"},
            "A CQL2 filter on the queryables (/collections/incidents/queryables), e.g. "
            "`event_type = 'battles' AND fatalities_best >= 10`; repeated filters must all hold.",
            allowEmptyValue=True,
        ),
        _query(
            "filter-lang",
            # `cql-text` is the draft's name for CQL2 text, which GDAL before 3.7 looks for here before it sends
            # an OGR -where to the server.
            {"type": "string", "enum": ["cql2-text", "cql2-json", "cql-text"], "default": "cql2-text"},
            "The language of `filter`; given empty, the default.",
            allowEmptyValue=True,
        ),
        _query(
            "filter-crs",
            {"type": "string", "enum": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]},
            "The coordinate reference system of the filter's geometries (longitude, then latitude); given empty, "
            "the same.",
            allowEmptyValue=True,
        ),
        _query(
            "sortby",
            {**_list({"type": "string", "enum": _sort_keys()}), "uniqueItems": True},
            "Sort keys, `+name` (or `name`) ascending and `-name` descending, over the sortable queryables; "
            "incidents with equal keys are in id order.",
            style="form",
            explode=False,
            allowEmptyValue=True,
        ),
    ]


def _limit():
    return _query(
        "limit",
        {"type": "integer", "minimum": 1, "default": settings.API_DEFAULT_LIMIT},
        f"Features per page; above {settings.API_MAX_LIMIT} it is clamped and the response says so.",
        allowEmptyValue=True,
    )


CURSOR = _query("cursor", {"type": "string"}, "Opaque position from a `next` link.", allowEmptyValue=True)

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
                "title": {
                    "type": "string",
                    "description": "In English; empty when the incident is written in Arabic only.",
                },
                "description": {"type": "string", "description": "In English (may be empty)."},
                "title_ar": {"type": "string", "description": "In Arabic; empty when not written."},
                "description_ar": {"type": "string", "description": "In Arabic (may be empty)."},
                "original_language": {
                    "enum": ["en", "ar"],
                    "description": "The language the incident was first written in; its title is never empty.",
                },
                "start_date": {"type": "string", "format": "date"},
                "end_date": {"type": "string", "format": "date"},
                "date_precision": {"type": "integer", "enum": [1, 2, 3]},
                "date_precision_label": {"type": "string", "enum": ["day", "week", "month"]},
                "location_precision": {
                    "type": "integer",
                    "enum": [1, 2, 3],
                    "description": "Of the public location (the geometry): 3 also when it is generalised to a "
                    "district's centre or a grid cell to protect people, whatever the editors know.",
                },
                "location_precision_label": {"type": "string", "enum": ["exact", "near", "region"]},
                "event_type": {"type": "string"},
                "fatalities_best": {"type": "integer", "nullable": True},
                "actors": _list(
                    {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string"},
                            "name_ar": {"type": "string", "nullable": True},
                            "side": {"enum": ["a", "b"]},
                            "associated": {"type": "boolean"},
                        },
                    }
                ),
                "sources": _list({"type": "object", "properties": {"publisher": {"type": "string"}}}),
                "media": {
                    **_list(
                        {
                            "type": "object",
                            "properties": {
                                "url": {"type": "string", "description": "Site-relative path of the public copy."},
                                "type": {"enum": ["image/jpeg", "image/png", "image/webp", "video/mp4", "video/webm"]},
                                "caption": {"type": "string"},
                                "caption_ar": {"type": "string"},
                                "credit": {"type": "string"},
                            },
                        }
                    ),
                    "description": "Images and videos previews may show: never those marked graphic or identifying "
                    "(the incident page alone shows them, blurred until a visitor asks).",
                },
                "independent_sources": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Distinct outlets cited; a dataset's own citation counts only when it is all.",
                },
                "event_clarity": {
                    "type": "integer",
                    "enum": [1, 2],
                    "nullable": True,
                    "description": "UCDP's event_clarity: 1 clear, 2 lower clarity; null when not graded.",
                },
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
CHANGE = {
    "type": "object",
    "required": ["change", "incident", "data_version", "changed_at"],
    "properties": {
        "change": {"enum": ["created", "updated", "unpublished", "retracted", "deleted"]},
        "incident": {"type": "integer"},
        "data_version": {"type": "integer"},
        "changed_at": {"type": "string", "format": "date-time"},
        "fields": _list({"type": "string"}),
        "note": {"type": "string"},
        "duplicate_of": {"type": "integer", "nullable": True},
        "feature": {**FEATURE, "nullable": True},
    },
}
CHANGES = {
    "type": "object",
    "required": ["changes", "numberReturned", "data_version", "next", "resume", "links"],
    "properties": {
        "changes": _list(CHANGE),
        "numberReturned": {"type": "integer", "minimum": 0},
        "limit": {"type": "integer"},
        "data_version": {"type": "integer"},
        "next": {"type": "string", "nullable": True},
        "resume": {"type": "string"},
        "links": _list(LINK),
        "warnings": _list({"type": "string"}),
    },
}
CHANGES_DESCRIPTION = (
    "Every change to the published set, in commit order: `created` (published, or published again), `updated` "
    "(`fields`: the feature's members that changed), `unpublished` (back to draft), `retracted` (`note`: the "
    "retraction note) and `deleted`. A created or updated change carries the incident's feature as it is now, or "
    "null once it has left the published set again; the others carry none. Apply them in order to a copy of the full "
    'download (whose `Link` header, rel="changes", gives the first URL): put each feature in, take out the incident '
    "of every other change (or of a null feature); follow `next` while there is one, then keep `resume` for later."
)
CSV_DESCRIPTION = (
    "One row per incident; title_ar and notes_ar hold the Arabic title and description beside the English title "
    "and notes, original_language (en or ar) which was written first. A text cell (title, notes, location, place_reported, actors, source, admin1, admin2, "
    "external_id, …) that begins with =, +, -, @ (or their fullwidth and small forms ＝ ＋ － ＠ ﹦ ﹢ ﹣ ﹫), a tab "
    "or a carriage return is written with a leading single "
    "quote ('), so that spreadsheet programs do not run it as a formula; numeric columns are never changed."
)
RELEASE = _query(
    "release",
    {"type": "string"},
    "A release's name (/api/releases.json lists them): the answer as it was when the release was made, whatever "
    "changed since. With no other parameter (download=1 aside) the release's file; the GeoJSON pages and OGC items "
    "also take limit, cursor and the filters start, end (datetime), event_type, sub_event_type, country, admin1, "
    "fatalities_min, precision and bbox (q, actor, side, CQL2 filter and sortby are refused with a 400).",
    allowEmptyValue=True,
)
RELEASES = {
    "type": "object",
    "required": ["releases"],
    "properties": {
        "releases": _list(
            {
                "type": "object",
                "required": ["name", "number", "created_at", "data_version", "incidents", "files", "citation", "urls"],
                "properties": {
                    "name": {"type": "string"},
                    "number": {"type": "integer"},
                    "created_at": {"type": "string", "format": "date-time"},
                    "data_version": {"type": "integer"},
                    "incidents": {"type": "integer"},
                    "files": {"type": "object"},
                    "citation": {"type": "string"},
                    "urls": {"type": "object"},
                    "pages": {"type": "object"},
                },
            }
        )
    },
}
CONDITIONAL = {"304": {"description": "Not modified since the ETag / Last-Modified the client sent."}}


def _errors(*codes):
    return {
        code: {
            "description": "A malformed parameter, named in the body.",
            "content": {"application/json": {"schema": ERROR}},
        }
        for code in codes
    }


# What conflictmap/middleware.py answers on any public path, whatever the parameters.
SERVICE_RESPONSES = {
    code: {
        "description": description,
        "headers": {
            "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}
        },
        "content": {"application/json": {"schema": ERROR}},
    }
    for code, description in (
        ("429", "Too many requests from this address (rate limit); try again after Retry-After seconds."),
        ("503", "The database is unreachable for the moment; try again after Retry-After seconds."),
    )
}


def _with_service_responses(document):
    """Every operation may also meet the rate limit or a database outage (the middleware, before any view)."""
    for operations in document["paths"].values():
        for operation in operations.values():
            operation["responses"].update(SERVICE_RESPONSES)
    return document


def _ok(content_type, schema, description="OK"):
    return {"200": {"description": description, "content": {content_type: {"schema": schema}}}}


def api_document(*, server):
    return _with_service_responses(_api_document(server=server))


_SUMS_SCHEMA = {
    name: {"type": "integer"} for name in ("incidents", "fatalities_low", "fatalities_best", "fatalities_high")
}
_LEVEL = _query(
    "level",
    {"type": "string", "enum": ["admin1", "admin2"]},
    "admin1: governorates / provinces (the default); admin2: districts.",
    allowEmptyValue=True,
)
REGION_COUNTS = {
    "type": "object",
    "required": ["level", "total", "regions"],
    "properties": {
        "level": {"enum": ["admin1", "admin2"]},
        "total": {"type": "integer"},
        "total_fatalities": {"type": "integer"},
        "regions": _list(
            {
                "type": "object",
                "required": ["key", "country", "admin1", "name", "incidents"],
                "properties": {
                    "key": {"type": "string"},
                    "country": {"type": "string"},
                    "admin1": {"type": "string"},
                    "admin2": {"type": "string"},
                    "name": {"type": "string"},
                    "name_ar": {"type": "string"},
                    "region_id": {"type": "integer", "nullable": True},
                    "lat": {"type": "number", "nullable": True},
                    "lon": {"type": "number", "nullable": True},
                    **_SUMS_SCHEMA,
                },
            }
        ),
    },
}
BOUNDARIES = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"enum": ["FeatureCollection"]},
        "features": _list(
            {
                "type": "object",
                "required": ["type", "id", "properties", "geometry"],
                "properties": {
                    "type": {"enum": ["Feature"]},
                    "id": {"type": "string", "description": "country/admin1 (/admin2): the key of /api/regions.json"},
                    "properties": {"type": "object"},
                    "geometry": {"type": "object", "description": "Polygon or MultiPolygon, simplified"},
                },
            }
        ),
    },
}
TRENDS = {
    "type": "object",
    "required": ["by", "period", "series"],
    "properties": {
        "by": {"enum": ["event_type", "actor"]},
        "period": {"enum": ["week", "month", "year"]},
        "series": _list(
            {
                "type": "object",
                "required": ["key", "label", "points"],
                "properties": {
                    "key": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                    "label": {"type": "string"},
                    "label_ar": {"type": "string"},
                    "incidents": {"type": "integer"},
                    "fatalities_best": {"type": "integer"},
                    "points": _list(
                        {
                            "type": "object",
                            "properties": {"period": {"type": "string", "format": "date"}, **_SUMS_SCHEMA},
                        }
                    ),
                },
            }
        ),
    },
}
TRENDS_PARAMETERS = [
    _query(
        "by",
        {"type": "string", "enum": ["event_type", "actor"]},
        "Group by event type (the default) or by actor (an incident counts once for each actor it names).",
        allowEmptyValue=True,
    ),
    _query(
        "period",
        {"type": "string", "enum": ["week", "month", "year"]},
        "Period of the start date: ISO week (from Monday), month (the default) or year.",
        allowEmptyValue=True,
    ),
    _query(
        "top",
        {"type": "integer", "minimum": 1, "maximum": 20},
        "How many groups to show (most incidents first, default 5); the rest are summed as `other`.",
        allowEmptyValue=True,
    ),
]
AGGREGATED = {
    "type": "object",
    "required": ["period", "level", "columns", "rows"],
    "properties": {
        "period": {"enum": ["week", "month"]},
        "level": {"enum": ["admin1", "admin2"]},
        "columns": _list({"type": "string"}),
        "rows": _list({"type": "object"}),
    },
}
AGGREGATED_PARAMETERS = [
    _query(
        "period",
        {"type": "string", "enum": ["week", "month"]},
        "ISO week from Monday (the default, as ACLED's aggregated files) or month, of the start date.",
        allowEmptyValue=True,
    ),
    _LEVEL,
    _query(
        "sub_event_types",
        {"type": "integer", "enum": [0, 1]},
        "1 (the default): a row per sub-event type too; 0: per event type only.",
        allowEmptyValue=True,
    ),
]
AGGREGATED_DESCRIPTION = (
    "ACLED's aggregated shape: one row per period × country × admin1 (× admin2) × event type (× sub-event type) with "
    "the number of events, the sums of the low, best and high fatality estimates (an unknown low or high counts as "
    "the best) and the region's centroid (empty when the gazetteer has no boundary for it)."
)


def _json_and_csv(path, operation_id, summary, parameters, schema, description=""):
    """The JSON document and its CSV twin: the same parameters and numbers."""
    operations = {}
    for suffix, content_type, response_schema in (("json", "application/json", schema), ("csv", "text/csv", None)):
        operations[f"{path}.{suffix}"] = {
            "get": {
                "operationId": f"{operation_id}{suffix.upper()}",
                "summary": f"{summary} ({suffix.upper()})",
                **({"description": description} if description else {}),
                "parameters": [*filter_parameters(), *parameters],
                "responses": {
                    **_ok(content_type, response_schema or {"type": "string"}),
                    **CONDITIONAL,
                    **_errors("400"),
                },
            }
        }
    return operations


def _api_document(*, server):
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
                        *filter_parameters(),
                        _limit(),
                        CURSOR,
                        _query(
                            "download",
                            {"type": "integer", "enum": [0, 1]},
                            "1: the whole set as a file (then without limit and cursor).",
                            allowEmptyValue=True,
                        ),
                        RELEASE,
                    ],
                    "responses": {**_ok(GEOJSON, FEATURE_COLLECTION), **CONDITIONAL, **_errors("400")},
                }
            },
            "/api/incidents.csv": {
                "get": {
                    "operationId": "incidentsCSV",
                    "summary": "All incidents under the filters, ACLED-compatible columns, UTF-8.",
                    "description": CSV_DESCRIPTION,
                    "parameters": [
                        *filter_parameters(),
                        _query(
                            "hxl",
                            {"type": "integer", "enum": [0, 1]},
                            "1: an HXL hashtag row (#date, #event+type, #adm1+name, #geo+lat, #affected+killed, …) "
                            "right under the header, for humanitarian tools; the rows are the same.",
                            allowEmptyValue=True,
                        ),
                        RELEASE,
                    ],
                    "responses": {**_ok("text/csv", {"type": "string"}), **CONDITIONAL, **_errors("400")},
                }
            },
            "/api/changes": {
                "get": {
                    "operationId": "changes",
                    "summary": "The changes to the published incidents since a token, in commit order.",
                    "description": CHANGES_DESCRIPTION,
                    "parameters": [
                        _query(
                            "since",
                            {"type": "string"},
                            "Opaque token from a `next` or `resume` link or a full download's Link header; "
                            "without it, from the first change.",
                            allowEmptyValue=True,
                        ),
                        _limit(),
                    ],
                    "responses": {**_ok("application/json", CHANGES), **CONDITIONAL, **_errors("400")},
                }
            },
            "/api/releases.json": {
                "get": {
                    "operationId": "releases",
                    "summary": "Every release: its manifest (counts, SHA-256 checksums, data version), citation and files.",
                    "responses": {**_ok("application/json", RELEASES), **CONDITIONAL},
                }
            },
            "/api/timeline": {
                "get": {
                    "operationId": "timeline",
                    "summary": "Incidents and fatalities per time bucket and event type.",
                    "parameters": [
                        *filter_parameters(),
                        _query(
                            "bucket",
                            {"type": "string", "enum": ["day", "week", "month", "year"]},
                            "Bucket; by default one that gives tens to a few hundred bars.",
                            allowEmptyValue=True,
                        ),
                    ],
                    "responses": {**_ok("application/json", timeline), **CONDITIONAL, **_errors("400")},
                }
            },
            **_json_and_csv(
                "/api/regions",
                "regions",
                "Incidents and fatalities per governorate or district under the filters",
                [_LEVEL],
                REGION_COUNTS,
            ),
            "/api/regions/boundaries.geojson": {
                "get": {
                    "operationId": "regionBoundaries",
                    "summary": "The governorates' or districts' boundaries, simplified, keyed as in /api/regions.json.",
                    "parameters": [_LEVEL],
                    "responses": {**_ok(GEOJSON, BOUNDARIES), **CONDITIONAL, **_errors("400")},
                }
            },
            **_json_and_csv(
                "/api/trends",
                "trends",
                "Incidents and fatalities per period by event type or actor, the top groups and `other`",
                TRENDS_PARAMETERS,
                TRENDS,
            ),
            **_json_and_csv(
                "/api/aggregated",
                "aggregated",
                "Events and fatalities per week or month, region and event type (ACLED's aggregated shape)",
                AGGREGATED_PARAMETERS,
                AGGREGATED,
                AGGREGATED_DESCRIPTION,
            ),
            **_tile_paths(),
        },
    }


def _tile_paths():
    """The vector tiles and their TileJSON (incidents/api/tiles.py, incidents/map/tiles.py)."""

    def place(name, maximum, description):
        schema = {"type": "integer", "minimum": 0, "maximum": maximum}
        return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}

    last = 2**tiles.TILE_MAX_ZOOM - 1
    return {
        "/tiles/tiles.json": {
            "get": {
                "operationId": "tileJSON",
                "summary": "TileJSON 3.0.0 of the vector tiles, with these filters carried into its tile URL.",
                "parameters": filter_parameters(),
                "responses": {**_ok("application/json", {"type": "object"}), **CONDITIONAL, **_errors("400")},
            }
        },
        "/tiles/{z}/{x}/{y}.mvt": {
            "get": {
                "operationId": "vectorTile",
                "summary": "A Mapbox Vector Tile of the incidents under the filters: layer `clusters` (the map's "
                f"exact counts) below zoom {tiles.TILE_POINTS_MIN_ZOOM} or where the tile's area holds more than "
                "MAP_POINTS_MAX incidents, else layer `incidents` (one point each).",
                "description": "x and y must be below 2^z (XYZ scheme, y from the north). Cache-Control allows "
                "reuse for a minute; revalidate with If-None-Match.",
                "parameters": [
                    place("z", tiles.TILE_MAX_ZOOM, "Zoom level."),
                    place("x", last, "Tile column, 0 to 2^z − 1."),
                    place("y", last, "Tile row from the north, 0 to 2^z − 1."),
                    *filter_parameters(),
                ],
                "responses": {
                    **_ok(tiles.MVT_MEDIA_TYPE, {"type": "string", "format": "binary"}),
                    **CONDITIONAL,
                    **_errors("400"),
                },
            }
        },
    }


def ogc_document(*, server):
    return _with_service_responses(_ogc_document(server=server))


def _ogc_document(*, server):
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
            _query(
                "datetime",
                {"type": "string", "pattern": DATETIME_INTERVAL},
                "An instant or interval (RFC 3339), open ends as `..`; not with start/end.",
                allowEmptyValue=True,
            ),
            _limit(),
            CURSOR,
            *filter_parameters(),
            *cql2_parameters(),
            RELEASE,
        ],
    )
    items["get"]["responses"].update(CONDITIONAL)
    queryables = document(
        "getIncidentQueryables",
        "What a CQL2 filter may test: a JSON Schema of the queryable properties.",
        json_object,
        "application/schema+json",
        errors=("400", "404"),
    )
    item = document(
        "getIncident",
        "One incident.",
        FEATURE,
        GEOJSON,
        [{"name": "featureId", "in": "path", "required": True, "schema": {"type": "integer"}}, RELEASE],
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
            "/collections/incidents/queryables": queryables,
            "/collections/incidents/items/{featureId}": item,
        },
    }
