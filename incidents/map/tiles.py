"""Vector tiles (Mapbox Vector Tile, encoded by PostGIS's ST_AsMVT) of what the map draws for a tile's area.

A tile holds one of two layers, decided as the map feed decides for a view (feed.incident_view_clusters):
- `clusters`: the feed's own clusters (the kept map-cell tables with the edges counted live, or counted live), so a
  tile's counts are the feed's for the same area; always below TILE_POINTS_MIN_ZOOM, and from it on when the area
  holds more than MAP_POINTS_MAX incidents;
- `incidents`: one point per published incident, with the geometry and properties of its public GeoJSON feature
  (IncidentFeature, public.py), so a tile shows exactly what the downloads and the OGC API show.

Each tile is read over its area widened by TILE_BUFFER_PIXELS on every side (a whole cluster cell, so the clusters
there are whole too): a marker or circle near an edge is drawn by both tiles. Counted in the tile's own area (its
pixels 0 to 4096, half-open), the clusters are the feed's for that area.
"""

import math

from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db import connections

from ..models import IncidentFeature, MapCell
from .feed import incident_view_clusters
from .grid import MAP_CELL_HEIGHT, MAP_CELL_WIDTH, MERCATOR_MAX_LATITUDE, TILE_PIXELS, cell_row_latitude
from .live import bind, map_read

TILE_EXTENT = 4096  # MVT coordinates per tile side (the format's usual resolution)
TILE_MAX_ZOOM = 16  # clients over-zoom beyond it; at 16 a tile is about 600 m wide
TILE_POINTS_MIN_ZOOM = 8  # below: clusters only, whatever the count (a light tile for the country-wide views)
CLUSTER_PIXELS = 64  # the map feed's cluster cells (incident_map_clusters' cell_pixels)
TILE_BUFFER_PIXELS = CLUSTER_PIXELS
MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"

# The incidents layer's attributes, from the public feature (with the MVT type TileJSON's vector_layers names).
INCIDENT_FIELDS = {
    "title": ("String", "Title in English (may be empty when only the Arabic one was written)."),
    "title_ar": ("String", "Title in Arabic (may be empty)."),
    "start_date": ("String", "First day, YYYY-MM-DD."),
    "end_date": ("String", "Last day, YYYY-MM-DD."),
    "event_type": ("String", "ACLED event type slug (battles, explosions, …)."),
    "fatalities_best": ("Number", "Best estimate of fatalities; absent when unknown."),
    "location_precision": ("Number", "1 exact, 2 near a named place, 3 region only."),
}
CLUSTER_FIELDS = {
    "count": ("Number", "Incidents in the cluster under the filters: the map feed's count."),
    "fatalities": ("Number", "Sum of their best fatality estimates."),
}

# The published features of the incidents chosen by `{chosen}` (a query of incident ids), their point as the feature
# gives it; ST_AsMVTGeom clips to the tile and its buffer, so a feature placed elsewhere than its row is never drawn
# outside its own area.
_INCIDENTS_MVT_SQL = """
SELECT ST_AsMVT(tile, 'incidents', %(extent)s, 'geom', 'id') FROM (
    SELECT feature.incident_id AS id,
           ST_AsMVTGeom(ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON(feature.body -> 'geometry'), 4326), 3857),
                        ST_TileEnvelope(%(z)s, %(x)s, %(y)s), %(extent)s, %(buffer)s, true) AS geom,
           NULLIF(feature.body #>> '{properties,title}', '') AS title,
           NULLIF(feature.body #>> '{properties,title_ar}', '') AS title_ar,
           feature.body #>> '{properties,start_date}' AS start_date,
           feature.body #>> '{properties,end_date}' AS end_date,
           feature.body #>> '{properties,event_type}' AS event_type,
           (feature.body #>> '{properties,fatalities_best}')::integer AS fatalities_best,
           (feature.body #>> '{properties,location_precision}')::integer AS location_precision
      FROM (SELECT incident_id, feature::jsonb AS body FROM {features}
             WHERE incident_id IN ({chosen}) AND feature::jsonb -> 'geometry' <> 'null'::jsonb) AS feature
) AS tile WHERE geom IS NOT NULL"""

_CLUSTERS_MVT_SQL = """
SELECT ST_AsMVT(tile, 'clusters', %(extent)s, 'geom') FROM (
    SELECT ST_AsMVTGeom(ST_Transform(ST_SetSRID(ST_MakePoint(lon, lat), 4326), 3857),
                        ST_TileEnvelope(%(z)s, %(x)s, %(y)s), %(extent)s, %(buffer)s, true) AS geom,
           count, fatalities
      FROM unnest(%(lon)s::float8[], %(lat)s::float8[], %(count)s::bigint[], %(fatalities)s::bigint[])
           AS cluster(lon, lat, count, fatalities)
) AS tile WHERE geom IS NOT NULL"""


def tile_latitude(y, z):
    """Latitude of the northern edge of tile row y at zoom z (Web Mercator, XYZ scheme)."""
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / 2**z))))


def tile_bounds(z, x, y):
    """(west, south, east, north) of a tile in degrees."""
    return x / 2**z * 360 - 180, tile_latitude(y + 1, z), (x + 1) / 2**z * 360 - 180, tile_latitude(y, z)


def _read_area(z, x, y):
    """The tile's area widened by a whole cluster cell of the feed on every side (64 pixels, or at zoom 11 the
    kept tables' own cells, 128), within the Web Mercator world: a MultiPolygon like the map's viewport."""
    west, _south, east, _north = tile_bounds(z, x, y)
    margin_x = max((east - west) * TILE_BUFFER_PIXELS / TILE_PIXELS, MAP_CELL_WIDTH if z <= 11 else 0)
    tile_height = 2 * math.pi / 2**z  # in Web Mercator y (radians)
    margin_rows = max(tile_height * TILE_BUFFER_PIXELS / TILE_PIXELS, MAP_CELL_HEIGHT if z <= 11 else 0)
    north_y = math.pi - y * tile_height
    south_y = north_y - tile_height
    to_latitude = lambda mercator: math.degrees(2 * math.atan(math.exp(mercator)) - math.pi / 2)  # noqa: E731
    box = (
        max(-180.0, west - margin_x),
        max(-MERCATOR_MAX_LATITUDE, to_latitude(south_y - margin_rows)),
        min(180.0, east + margin_x),
        min(MERCATOR_MAX_LATITUDE, to_latitude(north_y + margin_rows)),
    )
    return MultiPolygon(Polygon.from_bbox(box), srid=4326), margin_x


def incident_map_tile(*, filters, z, x, y, points_max):
    """The MVT bytes of a tile under the validated FilterSet (selectors.incident_filterset): {"layer", "total",
    "body"}, `total` being the incidents counted in the tile's read area (its own and its buffer's)."""
    area, margin_x = _read_area(z, x, y)
    west, _south, east, _north = tile_bounds(z, x, y)
    buffer = round(TILE_EXTENT * margin_x / (east - west))
    view = incident_view_clusters(
        filters=filters,
        viewport=area,
        zoom=z,
        points_max=points_max if z >= TILE_POINTS_MIN_ZOOM else None,
        exact_dates=False,
    )
    place = {"z": z, "x": x, "y": y, "extent": TILE_EXTENT, "buffer": buffer}
    total = view["totals"]["total"]
    in_view = filters.qs.in_view(area)
    if z >= TILE_POINTS_MIN_ZOOM and total <= points_max:
        chosen = in_view.order_by().values("pk").query.sql_with_params() if total else ("SELECT NULL::integer", [])
        layer, (query, params) = (
            "incidents",
            bind(_INCIDENTS_MVT_SQL, features=(IncidentFeature._meta.db_table, []), chosen=chosen, **place),
        )
    else:
        clusters = view["clusters"]
        layer, (query, params) = (
            "clusters",
            bind(
                _CLUSTERS_MVT_SQL,
                lon=[cluster["lon"] for cluster in clusters],
                lat=[cluster["lat"] for cluster in clusters],
                count=[cluster["count"] for cluster in clusters],
                fatalities=[cluster["fatalities"] for cluster in clusters],
                **place,
            ),
        )
    with map_read(in_view) as cursor:
        cursor.execute(query, params)
        body = cursor.fetchone()[0]
    return {"layer": layer, "total": total, "body": bytes(body or b"")}


def published_bounds(*, using="default"):
    """(west, south, east, north) of the published incidents, to the kept map cells (about 8 km), for TileJSON;
    None when there are none. One pass over MapCell, never over the incidents."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT min(cell_x), min(cell_y), max(cell_x), max(cell_y) FROM {MapCell._meta.db_table}")
        west, south, east, north = cursor.fetchone()
    if west is None:
        return None
    return (
        max(-180.0, west * MAP_CELL_WIDTH),
        max(-MERCATOR_MAX_LATITUDE, cell_row_latitude(south)),
        min(180.0, (east + 1) * MAP_CELL_WIDTH),
        min(MERCATOR_MAX_LATITUDE, cell_row_latitude(north + 1)),
    )
