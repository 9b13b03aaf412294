"""Every gazetteer access of the extraction package goes through here, so moving the gazetteer (to `places/`) is
one import to change.

`name_index()` is the gazetteer's names as folded keys, for finding place names in running text without a query
per word; `geocode()` turns the report's wording around a name into coordinates, admin1 and country.
"""

from dataclasses import dataclass
from functools import lru_cache

from ..gazetteer import name_key, skeleton_key
from ..geocoding import GazetteerGeocoder, GeocodeQueryError
from ..models import Place, PlaceKind

__all__ = ["GazetteerName", "geocode", "name_index", "name_key", "skeleton_key"]


@dataclass(frozen=True)
class GazetteerName:
    place_id: int
    kind: str
    population: int
    country: str
    exact: bool  # matched the spelling itself, not only its consonant skeleton


_cache = {"stamp": None, "index": None}


def name_index():
    """{name key or skeleton key: [GazetteerName, …]}, rebuilt when the Place table changes."""
    stamp = (*tuple(Place.objects.order_by().values_list("pk", flat=True).order_by("-pk")[:1]), Place.objects.count())
    if _cache["stamp"] != stamp:
        index = {}
        rows = Place.objects.values_list("pk", "kind", "population", "country", "name_keys", "skeleton_keys")
        for pk, kind, population, country, name_keys, skeleton_keys in rows.iterator(chunk_size=5000):
            for keys, exact in ((name_keys, True), (skeleton_keys, False)):
                for key in keys:
                    # One- and two-consonant skeletons ("hm", "rk") match half the dictionary.
                    if exact or len(key.replace(" ", "")) >= 4:
                        index.setdefault((exact, key), []).append(
                            GazetteerName(pk, kind, population or 0, str(country), exact)
                        )
        _cache.update(stamp=stamp, index=index)
    return _cache["index"]


def is_region(names):
    return any(name.kind == PlaceKind.ADMIN1 for name in names)


@lru_cache(maxsize=1)
def _geocoder():
    # geopy's Geocoder builds an SSL context on creation (tens of ms); the gazetteer one never uses it, so one will do.
    return GazetteerGeocoder()


def geocode(phrase, *, countries=None):
    """The gazetteer's best candidate dict for report wording ("north of Palmyra", "Deir Ezzor province"), or None."""
    try:
        candidates = _geocoder().candidates(phrase, countries=countries, limit=1)
    except GeocodeQueryError:
        return None
    return candidates[0] if candidates else None
