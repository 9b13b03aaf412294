"""A database outage: 503 with Retry-After (JSON on data endpoints, a plain page elsewhere), /healthz says so, and the
site recovers by itself once the database answers again."""

import json

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def database_down():
    """The next connection goes to a database that does not exist: PostgreSQL refuses it, as during an outage."""
    real_name = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = real_name + "_is_down"
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = real_name


@pytest.mark.django_db  # the database stays up: no need to flush the tables after it
def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize(
    "url", ["/api/incidents.geojson", "/map/incidents.json", "/ogcapi/collections/incidents/items"]
)
def test_data_endpoints_answer_503_json_while_the_database_is_down(client, database_down, url):
    response = client.get(url)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json()["code"] == "ServiceUnavailable"


def test_an_incident_json_outside_the_rate_limited_paths_answers_503_json(client, database_down):
    response = client.get("/incidents/1.json")
    assert response.status_code == 503
    assert response.json()["code"] == "ServiceUnavailable"


def test_pages_answer_a_plain_503_page_and_healthz_says_unreachable(client, database_down):
    page = client.get("/")
    assert page.status_code == 503
    assert page["Content-Type"].startswith("text/html")
    assert "The database is unreachable" in page.content.decode()
    assert page["Retry-After"] == "30"
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json() == {"status": "unavailable", "database": "unreachable"}


def test_the_site_recovers_when_the_database_is_back(client, export_incidents):
    real_name = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = real_name + "_is_down"
    try:
        assert client.get("/api/incidents.geojson").status_code == 503
    finally:
        connection.close()
        connection.settings_dict["NAME"] = real_name
    back = client.get("/api/incidents.geojson")
    assert back.status_code == 200
    titles = [feature["properties"]["title"] for feature in json.loads(b"".join(back.streaming_content))["features"]]
    assert titles == [incident.title for incident in export_incidents]
    assert client.get("/healthz").status_code == 200
