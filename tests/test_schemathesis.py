"""schemathesis fuzzes both OpenAPI documents in-process (WSGI, no network): no 5xx, nothing outside the schema."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# Real WSGI requests close the test's connection between requests, which only works outside a test transaction;
# serialized_rollback brings back the migrations' event types after the flush.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ = settings(
    max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
)


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
        "GET /api/timeline",
    ]


def test_ogc_api_holds_to_its_openapi_document(export_incidents):
    assert len(fuzz("/ogcapi/api")) == 6
