"""Rate limits: too many requests from one address get 429 with Retry-After, counted in PostgreSQL."""

import time

import pytest

from conflictmap.settings import base

pytestmark = pytest.mark.django_db

FEED = "/map/incidents.json"


def test_the_fourth_map_request_in_a_minute_is_refused_with_retry_after(client, export_incidents, settings):
    settings.RATE_LIMITS = {"api": "3/60", "download": "1/600"}
    for _request in range(3):
        assert client.get(FEED, REMOTE_ADDR="203.0.113.5").status_code == 200
    refused = client.get(FEED, REMOTE_ADDR="203.0.113.5")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused["Content-Type"] == "application/json"
    assert refused.json()["code"] == "TooManyRequests"
    assert "More than 3 requests in 60 seconds" in refused.json()["description"]
    # The API and the OGC API count in the same scope; another address has its own count.
    assert client.get("/ogcapi/collections", REMOTE_ADDR="203.0.113.5").status_code == 429
    assert client.get("/api/timeline", REMOTE_ADDR="203.0.113.5").status_code == 429
    assert client.get(FEED, REMOTE_ADDR="198.51.100.7").status_code == 200
    # Pages are not rate limited.
    assert client.get("/", REMOTE_ADDR="203.0.113.5").status_code == 200


def test_downloads_have_their_own_stricter_limit(client, export_incidents, tmp_path, settings):
    # The pytest-django `settings` fixture only: mixed with override_settings, its teardown would restore these.
    settings.RATE_LIMITS = {"api": "100/60", "download": "1/600"}
    settings.DOWNLOAD_CACHE_DIR = tmp_path
    assert client.get("/api/incidents.csv", REMOTE_ADDR="203.0.113.5").status_code == 200
    refused = client.get("/api/incidents.geojson", {"download": "1"}, REMOTE_ADDR="203.0.113.5")
    assert refused.status_code == 429
    assert 540 < int(refused["Retry-After"]) <= 600
    # A page of the paged GeoJSON is not a download.
    assert client.get("/api/incidents.geojson", {"limit": "2"}, REMOTE_ADDR="203.0.113.5").status_code == 200


def test_the_count_starts_again_when_the_window_ends(client, export_incidents, settings):
    settings.RATE_LIMITS = {"api": "1/1", "download": "1/600"}
    assert client.get(FEED, REMOTE_ADDR="203.0.113.5").status_code == 200
    assert client.get(FEED, REMOTE_ADDR="203.0.113.5").status_code == 429
    time.sleep(1.1)
    assert client.get(FEED, REMOTE_ADDR="203.0.113.5").status_code == 200


def test_default_limits_leave_room_for_the_map():
    requests, seconds = (int(part) for part in base.RATE_LIMITS["api"].split("/"))
    # The map page makes a handful of requests per filter change: a visitor clicking every second stays under it.
    assert requests / seconds >= 5


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(client, export_incidents, settings):
    settings.RATE_LIMITS = {"api": "1/60", "download": "1/600"}
    settings.TRUSTED_PROXIES = ["unix"]  # gunicorn on a Unix socket: the peer has no address
    behind_proxy = {"REMOTE_ADDR": "", "HTTP_X_FORWARDED_FOR": "203.0.113.5"}
    assert client.get(FEED, **behind_proxy).status_code == 200
    assert client.get(FEED, **behind_proxy).status_code == 429
    assert client.get(FEED, REMOTE_ADDR="", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 200
    # The proxy's own entry is the last one: whatever a client wrote before it is not believed.
    assert client.get(FEED, REMOTE_ADDR="", HTTP_X_FORWARDED_FOR="198.51.100.99, 203.0.113.5").status_code == 429


def test_a_client_not_behind_the_proxy_cannot_choose_its_address(client, export_incidents, settings):
    settings.RATE_LIMITS = {"api": "1/60", "download": "1/600"}
    settings.TRUSTED_PROXIES = ["unix"]
    assert client.get(FEED, REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 200
    assert client.get(FEED, REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 429
