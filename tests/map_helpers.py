"""What the map tests share: views, the feed and list, the meaning of the filters and of the map-cell tables' keys,
worked out in Python.
"""

import pytest
from django.urls import reverse

from incidents.aggregates.registry import MAP_CELL, MAP_DETAIL_CELL

# The map tests draw markers for up to this many incidents, clusters above (the `map_thresholds` fixture).
POINTS_MAX = 100


FEED = reverse("incidents:map-feed")
LIST = reverse("incidents:map-list")


def inside(incident, bbox):
    west, south, east, north = bbox
    lon, lat = incident.public_location.x, incident.public_location.y  # where the public sees it
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


# The kept tables' keys, and each key's value for an incident, worked out in Python from the registry's declaration
# (the SQL the triggers run is the declaration's other half).
STORED_KEY = tuple(MAP_CELL.columns)
DETAIL_STORED_KEY = tuple(MAP_DETAIL_CELL.columns)


def incident_key(incident):
    """The MapCell key of an incident, worked out here."""
    return tuple(column.python(incident) for column in MAP_CELL.key)


def detail_key(incident):
    """The MapDetailCell key of an incident (MapCell's, its sub-type and its best fatality estimate)."""
    return tuple(column.python(incident) for column in MAP_DETAIL_CELL.key)


def assert_cells_equal(live, stored, message):
    """Kept rows (incidents, fatalities, sum of x, sum of y) equal to those worked out here, the sums to rounding."""
    assert stored.keys() == live.keys(), message
    for key, (n, f, x, y) in live.items():
        assert stored[key][:2] == (n, f), (message, key)
        assert stored[key][2:] == pytest.approx((x, y)), (message, key)
