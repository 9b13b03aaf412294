"""Vector tiles of the published incidents and their TileJSON document, for MapLibre, QGIS and GDAL.

Both are PublicDataViews: the map's one FilterSet (a bad filter is a 400 naming it), ETags from the data version and
the URL (304 on If-None-Match), CORS. What a tile holds is decided in incidents/map/tiles.py.
"""

import re

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.urls import reverse

from ..map import tiles
from .http import BadParameter, PublicDataView

_WHOLE_NUMBER = re.compile(r"^[0-9]{1,9}$")
ATTRIBUTION = (
    '<a href="{about}#sources">conflictmap</a>: incidents under CC BY 4.0 or their dataset\'s terms '
    "(ACLED, UCDP GED), each citing its sources"
)


def _tile_number(name, text, *, below, meaning):
    if not _WHOLE_NUMBER.match(text):
        raise BadParameter(name, "must be a whole number.")
    number = int(text)
    if number >= below:
        raise BadParameter(name, f"must be between 0 and {below - 1} ({meaning}).")
    return number


class CachedForAMinute:
    """Tiles are asked for by the dozen per view: a client may reuse one for TILES_MAX_AGE seconds, then revalidates
    it with its ETag (a 304 costs one primary-key read)."""

    def dispatch(self, request, *args, **kwargs):
        response = super().dispatch(request, *args, **kwargs)
        if response.status_code in (200, 304):
            response["Cache-Control"] = f"public, max-age={settings.TILES_MAX_AGE}"
        return response


class TileView(CachedForAMinute, PublicDataView):
    """/tiles/{z}/{x}/{y}.mvt: the `clusters` or the `incidents` layer of a tile under the filters."""

    def parse(self, request):
        z = _tile_number("z", self.kwargs["z"], below=tiles.TILE_MAX_ZOOM + 1, meaning="the zoom level")
        self.tile = {
            "z": z,
            "x": _tile_number("x", self.kwargs["x"], below=2**z, meaning=f"the tile column at zoom {z}"),
            "y": _tile_number("y", self.kwargs["y"], below=2**z, meaning=f"the tile row at zoom {z}"),
        }
        return request.GET

    def render(self, request, *args, **kwargs):
        tile = tiles.incident_map_tile(filters=self.filterset, points_max=settings.MAP_POINTS_MAX, **self.tile)
        response = HttpResponse(tile["body"], content_type=tiles.MVT_MEDIA_TYPE)
        response["X-Tile-Layer"] = tile["layer"]
        return response


def tile_url_template(request):
    """The absolute tile URL with {z}/{x}/{y} placeholders and this request's filters."""
    # Braces appended after build_absolute_uri(), which would percent-escape them.
    prefix = reverse("incidents:tile", kwargs={"z": "0", "x": "0", "y": "0"}).removesuffix("0/0/0.mvt")
    query = request.GET.urlencode()
    return request.build_absolute_uri(prefix) + "{z}/{x}/{y}.mvt" + (f"?{query}" if query else "")


def _fields(fields):
    return {name: kind for name, (kind, _description) in fields.items()}


class TileJSONView(CachedForAMinute, PublicDataView):
    """/tiles/tiles.json: TileJSON 3.0.0 for the tiles under the same filters (they are carried into `tiles`)."""

    def render(self, request, *args, **kwargs):
        bounds = tiles.published_bounds() or (-180.0, -85.0511, 180.0, 85.0511)
        west, south, east, north = (round(edge, 4) for edge in bounds)
        about = request.build_absolute_uri(reverse("incidents:about"))
        return JsonResponse(
            {
                "tilejson": "3.0.0",
                "name": "conflictmap incidents",
                "description": "Published conflict incidents: clusters with the map's exact counts below zoom "
                f"{tiles.TILE_POINTS_MIN_ZOOM} and where a tile's area holds more than {settings.MAP_POINTS_MAX} "
                "incidents, one point per incident otherwise.",
                "version": "1.0.0",
                "attribution": ATTRIBUTION.format(about=about),
                "scheme": "xyz",
                "tiles": [tile_url_template(request)],
                "minzoom": 0,
                "maxzoom": tiles.TILE_MAX_ZOOM,
                "bounds": [west, south, east, north],
                "center": [round((west + east) / 2, 4), round((south + north) / 2, 4), 6],
                "vector_layers": [
                    {
                        "id": "clusters",
                        "description": "Grid clusters (64 pixels) of the incidents under the filters.",
                        "minzoom": 0,
                        "maxzoom": tiles.TILE_MAX_ZOOM,
                        "fields": _fields(tiles.CLUSTER_FIELDS),
                    },
                    {
                        "id": "incidents",
                        "description": "One point per published incident (its public feature); the feature id is "
                        "the incident's id, /incidents/<id>/ its page.",
                        "minzoom": tiles.TILE_POINTS_MIN_ZOOM,
                        "maxzoom": tiles.TILE_MAX_ZOOM,
                        "fields": _fields(tiles.INCIDENT_FIELDS),
                    },
                ],
            }
        )
