"""The map's grid, once: Web Mercator, the fine map cells the kept tables count by (models.MAP_CELL_LEVEL) and the
cluster cells of a zoom level. The SQL functions conflictmap_cell_x/_y (incidents/aggregates) are written from these
constants, so a point placed here and a point placed by the database land in the same cell."""

import math

from django.db.models import FloatField, Func

from ..models import MAP_CELL_LEVEL

# Web Mercator ends here; the clamp keeps ln(tan(...)) finite for a point at a pole.
MERCATOR_MAX_LATITUDE = 85.0511
TILE_PIXELS = 256

MAP_CELL_COLUMNS = 2**MAP_CELL_LEVEL
MAP_CELL_WIDTH = 360 / MAP_CELL_COLUMNS  # degrees of longitude
MAP_CELL_HEIGHT = 2 * math.pi / MAP_CELL_COLUMNS  # Web Mercator y (radians)

# An incident's public longitude and latitude, for annotating a queryset: the map never reads the exact point.
point_x = Func("public_location", function="ST_X", output_field=FloatField())
point_y = Func("public_location", function="ST_Y", output_field=FloatField())


def clamp_latitude(latitude):
    return max(-MERCATOR_MAX_LATITUDE, min(MERCATOR_MAX_LATITUDE, latitude))


def mercator_y(latitude):
    return math.log(math.tan(math.pi / 4 + math.radians(latitude) / 2))


def cell_of(lon, lat):
    """A point's fine map cell (column, row), as the SQL functions conflictmap_cell_x/_y place it."""
    return math.floor(lon / MAP_CELL_WIDTH), math.floor(mercator_y(clamp_latitude(lat)) / MAP_CELL_HEIGHT)


def cell_row_latitude(row):
    """Latitude of the southern edge of a map-cell row."""
    return math.degrees(2 * math.atan(math.exp(row * MAP_CELL_HEIGHT)) - math.pi / 2)


def cluster_cell(*, zoom, viewport, cell_pixels, max_cells):
    """(cell width in degrees of longitude, cell height in Web Mercator y) for a zoom level.

    A cell covers about `cell_pixels` on screen, in Web Mercator like the map itself, so a cluster looks the same
    size at any latitude. Cells double (staying aligned: they divide 360°) until the view holds at most `max_cells`,
    which bounds the response whatever zoom a client claims.
    """
    scale = cell_pixels / (TILE_PIXELS * 2**zoom)
    _, south, _, north = viewport.extent
    south, north = (clamp_latitude(lat) for lat in (south, north))
    mercator_height = abs(mercator_y(north) - mercator_y(south))
    # Boxes of a view split at the antimeridian: their longitudes add up (the extent would span the whole world).
    width = sum(polygon.extent[2] - polygon.extent[0] for polygon in viewport)
    while (width / (360 * scale) + 1) * (mercator_height / (2 * math.pi * scale) + 1) > max_cells:
        scale *= 2
    return 360 * scale, 2 * math.pi * scale


# The SQL twins of mercator_y (of a latitude clamped like clamp_latitude's) and of cell_row_latitude.
_LIMIT = f"{MERCATOR_MAX_LATITUDE}::double precision"
MERCATOR_Y_SQL = "ln(tan(pi() / 4 + radians(least(greatest({lat}, -" + _LIMIT + "),\n" + " " * 51 + _LIMIT + ")) / 2))"
ROW_LATITUDE_SQL = "degrees(2 * atan(exp({row} * {height})) - pi() / 2)"

# The SQL twins of cell_of: inlined SQL functions, so the triggers, the fill and the live queries place a point alike.
CELL_FUNCTIONS_SQL = f"""
CREATE OR REPLACE FUNCTION conflictmap_cell_x(lon double precision) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN floor(lon / (360.0::double precision / {MAP_CELL_COLUMNS}))::integer;
CREATE OR REPLACE FUNCTION conflictmap_cell_y(lat double precision) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN floor({MERCATOR_Y_SQL.format(lat="lat")}
                 / (2 * pi() / {MAP_CELL_COLUMNS}))::integer;
"""
