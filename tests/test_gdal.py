"""GDAL's own ogrinfo (the drivers QGIS uses) reads our GeoJSON and OGC API from a live server on 127.0.0.1."""

import os
import re
import shutil
import subprocess

import pytest

pytestmark = [
    # serialized_rollback: the flush after each test would otherwise take the migrations' event types with it.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="gdal-bin is not installed (scripts/setup.sh)"),
]

FIELDS = ["title", "start_date", "end_date", "date_precision", "country", "event_type", "fatalities_best"]


def ogrinfo(*args):
    environment = {
        **os.environ,
        "GDAL_HTTP_TIMEOUT": "30",
        "GDAL_HTTP_MAX_RETRY": "0",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": "",
    }
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "GDAL_HTTP_PROXY"):
        environment.pop(proxy, None)
    result = subprocess.run(
        ["ogrinfo", "-ro", "-so", *args], capture_output=True, text=True, timeout=120, env=environment, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def feature_count(output):
    return int(re.search(r"^Feature Count: (\d+)$", output, re.MULTILINE).group(1))


def field_names(output):
    return set(re.findall(r"^(\w+): (?:String|Integer|Integer64|Real|Date|DateTime|Time)", output, re.MULTILINE))


def test_ogrinfo_reads_the_geojson_download(live_server, export_incidents):
    output = ogrinfo(f"GeoJSON:{live_server.url}/api/incidents.geojson?download=1", "-al")
    assert feature_count(output) == 3
    assert "Geometry: Point" in output
    assert set(FIELDS) <= field_names(output)


def test_ogrinfo_reads_a_filtered_geojson_page(live_server, export_incidents):
    output = ogrinfo(f"GeoJSON:{live_server.url}/api/incidents.geojson?country=SY&limit=10", "-al")
    assert feature_count(output) == 2


def test_ogrinfo_reads_the_ogc_api_and_pages_through_it(live_server, export_incidents, settings):
    settings.API_DEFAULT_LIMIT = 2  # so GDAL has to follow a `next` link
    output = ogrinfo(f"OAPIF:{live_server.url}/ogcapi/", "incidents")
    assert feature_count(output) == 3
    assert set(FIELDS) <= field_names(output)
    assert re.search(r"Extent: \(37\.129\d*, 34\.556\d*\) - \(43\.118\d*, 36\.34\d*\)", output)


def test_gdal_sends_a_where_clause_to_the_server_as_a_cql2_filter(live_server, export_incidents):
    """QGIS's route: GDAL's OAPIF driver lists the collection, finds in the API definition that the items take a
    CQL text filter, and sends an OGR -where to the server instead of fetching every feature."""
    environment = {
        **os.environ,
        "GDAL_HTTP_TIMEOUT": "30",
        "GDAL_HTTP_MAX_RETRY": "0",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "GDAL_HTTP_PROXY"):
        environment.pop(proxy, None)
    listed = subprocess.run(
        ["ogrinfo", "-ro", "-q", f"OAPIF:{live_server.url}/ogcapi/"],
        capture_output=True, text=True, timeout=120, env=environment, check=False,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"^1: incidents\b", listed.stdout, re.MULTILINE), listed.stdout
    result = subprocess.run(
        ["ogrinfo", "-ro", "-al", "--debug", "on", "-where", "country = 'IQ'", f"OAPIF:{live_server.url}/ogcapi/"],
        capture_output=True, text=True, timeout=120, env=environment, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert feature_count(result.stdout) == 1
    assert "title (String) = Protest in Mosul" in result.stdout
    fetched = re.findall(r"Fetch\((\S+)\)", result.stderr)
    assert any("filter=country" in url and "filter-lang=cql-text" in url for url in fetched), fetched
