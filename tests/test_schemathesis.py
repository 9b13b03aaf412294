"""schemathesis fuzzes both OpenAPI documents in-process (WSGI, no network): no 5xx, nothing outside the schema."""

import datetime

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.django_db

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ = settings(
    max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
)


@pytest.fixture(autouse=True)
def connection_kept_between_requests():
    """The WSGI requests run inside the test's transaction: Django must not close the connection at each request's
    start and end, as its own test client makes sure (and rolling back is far cheaper than flushing the tables)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def fuzz(document_path):
    """Every operation of the document, each with FUZZ's examples. (schemathesis' own pytest plugin does not run
    under pytest 9 yet, so the operations are driven with hypothesis directly.)"""
    schema = schemathesis.openapi.from_wsgi(document_path, get_wsgi_application())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations
    for operation in operations:

        @FUZZ
        @given(case=operation.as_strategy())
        def holds_to_the_document(case):
            case.call_and_validate(checks=CHECKS)

        holds_to_the_document()
    return [operation.label for operation in operations]


def test_api_endpoints_hold_to_their_openapi_document(export_incidents):
    assert fuzz("/api/openapi.json") == [
        "GET /api/incidents.geojson",
        "GET /api/incidents.csv",
        "GET /api/changes",
        "GET /api/releases.json",
        "GET /api/timeline",
        "GET /api/regions.json",
        "GET /api/regions.csv",
        "GET /api/regions/boundaries.geojson",
        "GET /api/trends.json",
        "GET /api/trends.csv",
        "GET /api/aggregated.json",
        "GET /api/aggregated.csv",
        "GET /tiles/tiles.json",
        "GET /tiles/{z}/{x}/{y}.mvt",
    ]


def test_ogc_api_holds_to_its_openapi_document(export_incidents):
    assert len(fuzz("/ogcapi/api")) == 7


# The documents must say exactly what the validators accept: every request the schema allows gets a 2xx, every
# request it forbids a 4xx. Three rules join two parameters, which OpenAPI 3.0 cannot express; the documents state
# them in words, and the positive run leaves out the requests that break them (the negative run still sends them).
def breaks_a_stated_rule(case):
    query = case.query or {}
    tile = case.path_parameters or {}
    if "z" in tile and any(int(tile[name]) >= 2 ** int(tile["z"]) for name in ("x", "y")):
        return True  # a vector tile's "x and y must be below 2^z"
    start, end = query.get("start"), query.get("end")
    if start and end and str(end) < str(start):
        return True  # "end: not before start"
    bbox = query.get("bbox")
    if isinstance(bbox, str):
        bbox = [float(part) for part in bbox.split(",")] if bbox.count(",") == 3 else None
    if isinstance(bbox, list) and len(bbox) == 4:
        min_lon, min_lat, max_lon, max_lat = bbox
        if not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90) or min_lon > max_lon or min_lat > max_lat:
            return True  # "latitudes within ±90; min not above max"
    if str(query.get("download")) == "1" and query.get("limit") not in (None, ""):
        return True  # "download=1: then without limit and cursor"
    if query.get("datetime") and not a_real_interval(query["datetime"], query):
        return True
    if query.get("filter"):
        return True  # "a CQL2 filter on the queryables": which strings are CQL2 takes a grammar, not a pattern
    sortby = query.get("sortby")
    keys = sortby.split(",") if isinstance(sortby, str) else sortby or []
    if len({key.lstrip("+-") for key in keys}) < len(keys):
        return True  # "-start_date,start_date": one property twice, which uniqueItems cannot see
    # "opaque position from a next link", "opaque token from a next or resume link": only the server makes valid ones
    # and "a release's name": only /api/releases.json lists valid ones
    return bool(query.get("cursor")) or bool(query.get("since")) or query.get("release") not in (None, "")


def a_real_interval(text, query):
    """datetime: "not with start/end", days that exist, at least one bounded end, the end not before the start."""
    if query.get("start") or query.get("end"):
        return False
    moments = []
    for part in text.split("/"):
        if part in ("", ".."):
            moments.append(None)
            continue
        try:
            moment = datetime.datetime.fromisoformat(part.replace("z", "Z"))
        except ValueError:
            return False
        moments.append(moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC))
    bounded = [moment for moment in moments if moment is not None]
    try:
        bounded = [moment.astimezone(datetime.UTC) for moment in bounded]
    except OverflowError:
        return False
    return bool(bounded) and (len(bounded) < 2 or bounded[0].date() <= bounded[1].date())


def fuzz_exactness(document_path, mode):
    schema = schemathesis.openapi.from_wsgi(document_path, get_wsgi_application())
    check = positive_data_acceptance if mode is GenerationMode.POSITIVE else negative_data_rejection
    sent = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if mode is GenerationMode.NEGATIVE and not list(operation.query):
            continue  # no parameter (the list of releases): no request to get wrong

        @FUZZ
        @given(case=operation.as_strategy(generation_mode=mode))
        def exactly_as_documented(case):
            nonlocal sent
            if mode is GenerationMode.POSITIVE and breaks_a_stated_rule(case):
                return
            sent += 1
            case.call_and_validate(checks=[not_a_server_error, check])

        exactly_as_documented()
    return sent


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("document_path", ["/api/openapi.json", "/ogcapi/api"])
def test_the_documents_describe_exactly_what_the_validators_accept(export_incidents, document_path, mode):
    assert fuzz_exactness(document_path, mode) > 30
