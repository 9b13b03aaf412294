"""Vector tiles and their TileJSON: decoded by mapbox-vector-tile and by GDAL's MVT driver, a tile's clusters count
what the map feed counts for the same area, points carry the public feature's properties, drafts never appear, the
filters apply, bad z/x/y or filters are 400s naming them, and conditional GETs answer 304.

Expected numbers are worked out in Python from the rows the test made."""

import datetime
import json
import math
import random
import subprocess

import mapbox_vector_tile
import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse

from incidents.map.tiles import TILE_EXTENT, tile_bounds
from incidents.models import EventType, Incident
from incidents.services import incident_unpublish
from tests.factories import incidents_bulk_create
from tests.map_helpers import expected, get_feed
from tests.shared_rows import fresh_copy, rows_for_the_module

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("map_thresholds")]

MVT = "application/vnd.mapbox-vector-tile"
ALEPPO = (37.1343, 36.2021)


def tile_of(lon, lat, z):
    """(x, y) of the tile holding a point at zoom z (XYZ scheme), worked out here."""
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return math.floor((lon + 180) / 360 * n), math.floor(y)


def tile_url(z, x, y):
    return reverse("incidents:tile", kwargs={"z": z, "x": x, "y": y})


def get_tile(client, z, x, y, **filters):
    response = client.get(tile_url(z, x, y), filters)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == MVT
    return mapbox_vector_tile.decode(response.content, default_options={"y_coord_down": True}), response


def own(features):
    """The features of a decoded layer that lie in the tile's own area (not in the buffer its neighbours also draw)."""
    return [
        feature
        for feature in features
        if 0 <= feature["geometry"]["coordinates"][0] < TILE_EXTENT
        and 0 <= feature["geometry"]["coordinates"][1] < TILE_EXTENT
    ]


def make_spread():
    """2,000 published incidents over Syria and Iraq (a tenth stacked on Aleppo's centre), 200 drafts among them and
    20 drafts alone near Mosul. Made once for the module."""
    rng = random.Random(24)
    kinds = list(EventType.objects.order_by("slug"))

    def row(number):
        lon, lat = (
            ALEPPO if number % 10 == 0 else (round(rng.uniform(35.7, 45.0), 5), round(rng.uniform(32.3, 37.2), 5))
        )
        start = datetime.date(2012, 1, 1) + datetime.timedelta(days=rng.randrange(0, 4000))
        return {
            "location": Point(lon, lat, srid=4326),
            "start_date": start,
            "end_date": start + datetime.timedelta(days=rng.choice([0, 0, 3, 40])),
            "event_type": kinds[number % len(kinds)],
            "fatalities_best": rng.choice([None, 0, 2, 9, 30]),
            "country": "IQ" if lon > 42.0 else "SY",
            "admin1": rng.choice(["Aleppo", "Homs", ""]) if lon <= 42.0 else "Ninewa",
        }

    published = incidents_bulk_create(row(number) for number in range(2000))
    drafts = incidents_bulk_create((row(number) for number in range(200)), published=False)
    mosul = incidents_bulk_create(
        ({"location": Point(43.13 + number / 1000, 36.34, srid=4326)} for number in range(20)), published=False
    )
    return {"published": published, "drafts": drafts + mosul}


@pytest.fixture(scope="module")
def spread_once(django_db_setup, django_db_blocker):
    yield from rows_for_the_module(django_db_blocker, make_spread)


@pytest.fixture
def spread(spread_once, db):
    return fresh_copy(spread_once)


# Tiles over Syria and Iraq at zooms read from the kept tables (up to 11) and live (12), with many incidents each.
CLUSTER_TILES = [(3, *tile_of(*ALEPPO, 3)), (5, *tile_of(40.0, 35.0, 5)), (6, *tile_of(*ALEPPO, 6)),
                 (6, *tile_of(39.0, 34.0, 6)), (9, *tile_of(*ALEPPO, 9)), (12, *tile_of(*ALEPPO, 12))]  # fmt: skip


@pytest.mark.parametrize("filters", [{}, {"event_type": "battles"}, {"start": "2014-03-15", "end": "2017-06-20"}])
def test_a_tiles_clusters_count_what_the_map_feed_counts_for_its_area(client, spread, filters):
    for z, x, y in CLUSTER_TILES:
        bounds = tile_bounds(z, x, y)
        feed = get_feed(client, bounds, z, **filters)
        tile, response = get_tile(client, z, x, y, **filters)
        if feed["mode"] == "points":  # few enough from zoom 8 on: the same incidents, one point each
            assert z >= 8 and set(tile) == {"incidents"}, (z, x, y, filters)
            points = own(tile["incidents"]["features"])
            assert sorted(point["id"] for point in points) == sorted(marker["id"] for marker in feed["incidents"])
            continue
        assert response["X-Tile-Layer"] == "clusters"
        assert set(tile) == {"clusters"}
        clusters = own(tile["clusters"]["features"])
        # Cluster by cluster, the feed's numbers: the same cells, the same exact counts and fatalities.
        assert sorted((c["properties"]["count"], c["properties"]["fatalities"]) for c in clusters) == sorted(
            (c["count"], c["fatalities"]) for c in feed["clusters"]
        ), (z, x, y, filters)
        keep = {
            "event_type": lambda incident: incident.event_type.slug == "battles",
            "start": lambda incident: (
                incident.end_date.isoformat() >= "2014-03-15" and incident.start_date.isoformat() <= "2017-06-20"
            ),
        }.get(next(iter(filters), None), lambda incident: True)
        total, fatalities, _ = expected(spread["published"], bounds, keep)
        assert sum(c["properties"]["count"] for c in clusters) == feed["total"] == total
        assert sum(c["properties"]["fatalities"] for c in clusters) == fatalities


def test_a_tile_draws_the_clusters_just_beyond_its_edges_whole(client, spread):
    z, x, y = 6, *tile_of(39.0, 34.0, 6)
    tile, _ = get_tile(client, z, x, y)
    beyond = [c for c in tile["clusters"]["features"] if c not in own(tile["clusters"]["features"])]
    assert beyond  # the buffer: circles near the edge are drawn whole by both tiles
    east, _ = get_tile(client, z, x + 1, y)
    counts_east = sorted(c["properties"]["count"] for c in own(east["clusters"]["features"]))
    for cluster in beyond:
        if cluster["geometry"]["coordinates"][0] >= TILE_EXTENT and 0 <= cluster["geometry"]["coordinates"][1] < 4096:
            assert cluster["properties"]["count"] in counts_east


def test_points_replace_clusters_where_a_tile_holds_few_and_carry_the_public_feature(client, spread):
    # Zoom 10 around a spot with few incidents; the stacked centre of Aleppo stays clustered below zoom 8.
    lonely = next(i for i in spread["published"] if i.location.x > 40 and i.location.y < 34)
    z = 10
    x, y = tile_of(lonely.location.x, lonely.location.y, z)
    tile, response = get_tile(client, z, x, y)
    assert response["X-Tile-Layer"] == "incidents"
    points = own(tile["incidents"]["features"])
    _, _, chosen = expected(spread["published"], tile_bounds(z, x, y))
    assert sorted(point["id"] for point in points) == sorted(incident.pk for incident in chosen)
    shown = next(point for point in points if point["id"] == lonely.pk)
    lonely.refresh_from_db()
    expected_properties = {
        "title": lonely.title,
        "start_date": lonely.start_date.isoformat(),
        "end_date": lonely.end_date.isoformat(),
        "event_type": lonely.event_type.slug,
        "location_precision": lonely.location_precision,
    }
    if lonely.fatalities_best is not None:
        expected_properties["fatalities_best"] = lonely.fatalities_best
    assert shown["properties"] == expected_properties
    # The point is where the public feature puts it (within the tile grid's resolution).
    west, south, east, north = tile_bounds(z, x, y)
    px, py = shown["geometry"]["coordinates"]
    assert abs(west + (east - west) * px / TILE_EXTENT - lonely.location.x) < (east - west) / TILE_EXTENT
    assert south <= lonely.location.y <= north and 0 <= py < TILE_EXTENT
    # Below the points zoom, the same incidents are a cluster even when few.
    low, _ = get_tile(client, 7, *tile_of(lonely.location.x, lonely.location.y, 7))
    assert set(low) == {"clusters"}


def test_drafts_never_appear_in_any_tile(client, spread):
    draft = spread["drafts"][-1]  # near Mosul, where no published incident is
    for z in (5, 8, 11, 14):
        x, y = tile_of(draft.location.x, draft.location.y, z)
        tile, _ = get_tile(client, z, x, y)
        features = [feature for layer in tile.values() for feature in layer["features"]]
        drafts_here = {d.pk for d in spread["drafts"]}
        assert not drafts_here & {feature.get("id") for feature in tile.get("incidents", {}).get("features", [])}
        total, _, _ = expected(spread["published"], tile_bounds(z, x, y))
        assert sum(f["properties"].get("count", 1) for f in own(features)) == total, z


def test_an_unpublished_incident_leaves_its_tile_and_the_etag_changes(client, spread, publisher):
    incident = next(i for i in spread["published"] if i.location.x > 40 and i.location.y < 34)
    z = 12
    x, y = tile_of(incident.location.x, incident.location.y, z)
    before, first = get_tile(client, z, x, y)
    assert incident.pk in {feature["id"] for feature in before["incidents"]["features"]}
    assert first["Cache-Control"] == "public, max-age=60"
    again = client.get(tile_url(z, x, y), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"] and again["Cache-Control"] == "public, max-age=60"
    incident_unpublish(incident=Incident.objects.get(pk=incident.pk), user=publisher)
    after = client.get(tile_url(z, x, y), HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200
    assert after["ETag"] != first["ETag"]
    decoded = mapbox_vector_tile.decode(after.content)
    assert incident.pk not in {feature["id"] for feature in decoded.get("incidents", {}).get("features", [])}


@pytest.mark.parametrize(
    ("path", "query", "parameter"),
    [
        ((17, 0, 0), {}, "z"),
        (("-1", 0, 0), {}, "z"),
        (("abc", 0, 0), {}, "z"),
        ((3, 8, 0), {}, "x"),
        ((3, 0, 8), {}, "y"),
        ((3, "1.5", 0), {}, "x"),
        ((0, 0, 0), {"event_type": "not-a-type"}, "event_type"),
        ((0, 0, 0), {"end": "9999-99-99"}, "end"),
    ],
)
def test_bad_tile_coordinates_and_filters_are_400s_naming_them(client, path, query, parameter):
    response = client.get(tile_url(*path), query)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [parameter]


def test_tilejson_carries_the_filters_into_its_tile_urls(client, spread):
    filters = {"event_type": ["battles", "riots"], "country": "SY"}
    response = client.get(reverse("incidents:tilejson"), filters)
    assert response.status_code == 200
    document = response.json()
    assert document["tilejson"] == "3.0.0"
    assert document["tiles"] == [
        "http://testserver/tiles/{z}/{x}/{y}.mvt?event_type=battles&event_type=riots&country=SY"
    ]
    assert (document["minzoom"], document["maxzoom"]) == (0, 16)
    assert {layer["id"] for layer in document["vector_layers"]} == {"clusters", "incidents"}
    west, south, east, north = document["bounds"]
    for incident in spread["published"]:
        assert west <= incident.location.x <= east and south <= incident.location.y <= north
    assert east - west < 12 and north - south < 8  # the incidents' area, not the world
    assert "conflictmap" in document["attribution"]
    assert client.get(reverse("incidents:tilejson"), filters, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    bad = client.get(reverse("incidents:tilejson"), {"fatalities_min": "-3"})
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["fatalities_min"]


def test_gdal_reads_a_tile_with_the_counts_and_properties(client, spread, tmp_path):
    """GDAL's MVT driver (what QGIS reads vector tiles with) opens a saved tile as layers of features."""
    z = 6
    x, y = tile_of(*ALEPPO, z)
    tile, response = get_tile(client, z, x, y)
    path = tmp_path / f"{z}" / f"{x}" / f"{y}.mvt"  # the driver reads z/x/y from the path
    path.parent.mkdir(parents=True)
    path.write_bytes(response.content)
    result = subprocess.run(
        ["ogr2ogr", "-f", "GeoJSON", "-t_srs", "EPSG:4326", "-oo", "CLIP=NO", "/vsistdout/", str(path), "clusters"],
        capture_output=True,
        text=True,
        check=True,
    )
    features = json.loads(result.stdout)["features"]
    assert sorted(f["properties"]["count"] for f in features) == sorted(
        c["properties"]["count"] for c in tile["clusters"]["features"]
    )
    total, _, _ = expected(spread["published"], tile_bounds(z, x, y))
    west, south, east, north = tile_bounds(z, x, y)
    inside = [
        f
        for f in features
        if west <= f["geometry"]["coordinates"][0] < east and south < f["geometry"]["coordinates"][1] <= north
    ]
    assert sum(f["properties"]["count"] for f in inside) == total
    # Geographic coordinates: the stacked centre of Aleppo is one cluster's centroid, within a pixel or so.
    biggest = max(features, key=lambda f: f["properties"]["count"])
    assert biggest["geometry"]["coordinates"] == pytest.approx(ALEPPO, abs=0.2)


def test_tiles_count_against_their_own_rate_limit(client, settings):
    settings.RATE_LIMITS = {"api": "1/60", "download": "1/600", "tiles": "3/60"}
    address = {"REMOTE_ADDR": "203.0.113.24"}
    assert [client.get(tile_url(1, x, 0), **address).status_code for x in (0, 1, 0)] == [200, 200, 200]
    refused = client.get(tile_url(1, 1, 1), **address)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    # The map feed's limit is its own: the tiles did not use it up.
    assert client.get(reverse("incidents:map-feed"), **address).status_code == 200
