"""OWSLib, the OGC client library of QGIS's Python side, reads the queryables and filters and sorts the incidents of
a live server (tests/test_ogc_filter.py holds the filters' own tests; tests/test_gdal.py GDAL's OAPIF driver)."""

import json

import pytest
from django.db import transaction

from incidents.models import EventType
from tests.test_ogc_filter import make_incidents

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def committed_incidents(transactional_db):
    """test_ogc_filter's incidents, committed, for the live server's own connection to read."""
    with transaction.atomic():  # the deferred "a published incident cites a source" check
        return make_incidents()


def test_owslib_reads_the_queryables_and_filters_and_sorts_on_a_live_server(
    live_server, committed_incidents, monkeypatch
):
    from owslib.ogcapi.features import Features

    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(proxy, raising=False)
    api = Features(f"{live_server.url}/ogcapi/")
    queryables = api.collection_queryables("incidents")
    assert queryables["properties"]["event_type"]["enum"] == sorted(EventType.objects.values_list("slug", flat=True))
    found = api.collection_items("incidents", filter="country = 'IQ'", sortby=("fatalities_best", "desc"), limit=100)
    iraq = [i for i in committed_incidents if i.country == "IQ"]
    wanted = sorted(iraq, key=lambda i: (i.fatalities_best is None, -(i.fatalities_best or 0), i.pk))
    assert [feature["id"] for feature in found["features"]] == [i.pk for i in wanted]
    as_json = json.dumps({"op": "=", "args": [{"property": "country"}, "IQ"]})
    found = api.collection_items("incidents", filter=as_json, limit=100, **{"filter-lang": "cql2-json"})
    assert {feature["id"] for feature in found["features"]} == {i.pk for i in iraq}
