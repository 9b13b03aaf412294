"""Every gazetteer access of the extraction package goes through here (the `places` app), so a change in how the
gazetteer is reached is one module to change.

`name_index()` is the gazetteer's names as folded keys, for finding place names in running text without a query
per word; `geocode()` turns the report's wording around a name into coordinates, admin1 and country.
"""

import threading
from contextlib import contextmanager
from functools import lru_cache
from typing import NamedTuple

from places.geocoding import GazetteerGeocoder, GeocodeQueryError
from places.models import Place, PlaceKind
from places.names import name_key, skeleton_key

__all__ = ["GazetteerName", "geocode", "name_index", "name_key", "skeleton_key"]


class GazetteerName(NamedTuple):
    place_id: int
    kind: str
    population: int
    country: str


_cache = {"stamp": None, "index": None}
# A report read while the index is being built (at a web process's start) waits for that build, not a second one.
_building = threading.Lock()


def name_index():
    """{True: {name key: [GazetteerName, …]}, False: {skeleton key: […]}}: exact spellings and transliteration
    skeletons. Rebuilt when the Place table changes; one tuple per place, shared by its keys."""
    last = Place.objects.order_by("-pk").values_list("pk", flat=True).first()
    stamp = (last, Place.objects.count())
    if _cache["stamp"] != stamp:
        with _building:
            if _cache["stamp"] != stamp:
                _build(stamp)
    return _cache["index"]


def _build(stamp):
    exact, skeletons = {}, {}
    rows = Place.objects.values_list("pk", "kind", "population", "country", "name_keys", "skeleton_keys")
    for pk, kind, population, country, name_keys, skeleton_keys in rows:
        place = GazetteerName(pk, kind, population or 0, str(country))
        for key in name_keys:
            exact.setdefault(key, []).append(place)
        for key in skeleton_keys:
            # One- to three-consonant one-word skeletons ("hm", "rk") match half the dictionary; two words
            # ("n s" for Ain Issa) are kept, and the reader asks for place wording before trusting them.
            if len(key) >= 4 or " " in key:
                skeletons.setdefault(key, []).append(place)
    _cache.update(stamp=stamp, index={True: exact, False: skeletons})


def is_region(names):
    return any(name.kind == PlaceKind.ADMIN1 for name in names)


_memo = threading.local()


@contextmanager
def report_memo():
    """Within it, one look-up per wording: a report names its places again and again, and a look-up is a query or
    two. Per thread and per report, so a changed gazetteer is read by the next report."""
    _memo.found = {}
    try:
        yield
    finally:
        _memo.found = None


@lru_cache(maxsize=2)
def _geocoder(refresh_index=True):
    # geopy's Geocoder builds an SSL context on creation (tens of ms); the gazetteer one never uses it, so one will do.
    return GazetteerGeocoder(refresh_index=refresh_index)


def geocode(phrase, *, countries=None, admin1=None, consistent_with=None):
    """The gazetteer's best candidate dict for report wording ("north of Palmyra", "Deir Ezzor province"), or None.

    `admin1` is the governorate the sentence names ("… in the Idlib countryside"): the geocoder ranks places in it
    first. `consistent_with` (a predicate on candidates) keeps only the readings that agree with the other places
    the sentence names: the Hadaj "south of Mosul", not the Hadaj in Hasakah. This is the extraction's one call
    into the geocoder, so what places/ learns about context and spelling reaches the assistant from here."""
    limit = 8 if consistent_with or admin1 else 1
    memo = getattr(_memo, "found", None)
    key = (phrase, tuple(countries or ()), admin1, limit)
    if memo is not None and key in memo:
        candidates = memo[key]
    else:
        # The geocoder checks its index against the table on every look-up (a query); once per report is enough.
        geocoder = _geocoder(refresh_index=memo is None or not memo.get("refreshed"))
        if memo is not None:
            memo["refreshed"] = True
        try:
            candidates = geocoder.candidates(phrase, countries=countries, admin1=admin1, limit=limit)
        except GeocodeQueryError:
            candidates = []
        if memo is not None:
            memo[key] = candidates
    if consistent_with is not None:
        candidates = [candidate for candidate in candidates if consistent_with(candidate)]
    return candidates[0] if candidates else None
