"""What the map tests share: views, the feed and list, the meaning of the filters and of the map-cell tables' keys,
worked out in Python.
"""

import math

import pytest
from django.urls import reverse

# The map tests draw markers for up to this many incidents, clusters above (the `map_thresholds` fixture).
POINTS_MAX = 100


FEED = reverse("incidents:map-feed")
LIST = reverse("incidents:map-list")


def inside(incident, bbox):
    west, south, east, north = bbox
    lon, lat = incident.location.x, incident.location.y
    return south <= lat <= north and (west <= lon <= east if west <= east else lon >= west or lon <= east)


def expected(incidents, bbox, keep=lambda incident: True):
    chosen = [incident for incident in incidents if inside(incident, bbox) and keep(incident)]
    return len(chosen), sum(incident.fatalities_best or 0 for incident in chosen), chosen


def overlaps(incident, start=None, end=None):
    """The date filters' meaning: the incident's span meets [start, end]."""
    return (start is None or incident.end_date.isoformat() >= start) and (
        end is None or incident.start_date.isoformat() <= end
    )


def get_feed(client, bbox, zoom, **filters):
    response = client.get(FEED, {"bbox": ",".join(map(str, bbox)), "zoom": zoom, **filters})
    assert response.status_code == 200, response.content
    return response.json()


SYRIA_AND_IRAQ = (35.0, 32.0, 46.0, 38.0)
NORTH_SYRIA = (36.0, 35.5, 39.5, 37.0)
WORLD = (-180, -90, 180, 90)


def cell_of(lon, lat):
    """A point's MapCell cell, worked out here (as models.MAP_CELL_LEVEL documents it), not by the SQL functions."""
    lat = max(-85.0511, min(85.0511, lat))
    mercator_y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return math.floor(lon / (360 / 4096)), math.floor(mercator_y / (2 * math.pi / 4096))


STORED_KEY = ("cell_x", "cell_y", "start_month", "end_month", "event_type_id", "country", "admin1",
              "location_precision")  # fmt: skip


def incident_key(incident):
    """The MapCell key of an incident, worked out here."""
    return (
        *cell_of(incident.location.x, incident.location.y),
        incident.start_date.replace(day=1),
        incident.end_date.replace(day=1),
        incident.event_type_id,
        incident.country,
        incident.admin1,
        incident.location_precision,
    )


def toll(incident):
    return -1 if incident.fatalities_best is None else incident.fatalities_best


def assert_cells_equal(live, stored, message):
    """Kept rows (incidents, fatalities, sum of x, sum of y) equal to those worked out here, the sums to rounding."""
    assert stored.keys() == live.keys(), message
    for key, (n, f, x, y) in live.items():
        assert stored[key][:2] == (n, f), (message, key)
        assert stored[key][2:] == pytest.approx((x, y)), (message, key)
