"""Geocoding built on geopy: the offline gazetteer (Place) first, an online geopy provider when one is configured.

The rest of the code speaks geopy: `GazetteerGeocoder` is a geopy Geocoder returning geopy Locations whose `.raw`
is a candidate dict (name, latitude, longitude, admin1, country, precision, score, provider, …).
`geocoder_chain()` is what callers use: gazetteer, then the online provider behind geopy's RateLimiter. Looking up
never writes; an online hit becomes a place only when an editor saves a record coded to it
(places.services.place_remember), so the next lookup is offline.
"""

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.contrib.gis.db.models.functions import Distance, GeometryDistance
from django.contrib.gis.geos import Point
from django.contrib.postgres.search import TrigramWordSimilarity
from django.db.models import Q
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_countries import countries as country_names
from geopy.exc import GeocoderServiceError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import get_geocoder_for_service
from geopy.geocoders.base import Geocoder
from geopy.location import Location
from geopy.point import Point as GeopyPoint

from .models import LocationPrecision, Place, PlaceKind
from .names import (
    loose_agrees,
    loose_head_keys,
    loose_keys,
    name_key,
    place_transliteration_keys,
    query_transliteration_keys,
    transliteration_keys,
)
from .regions import admin_areas_at, country_has_regions

logger = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 300
PRECISION_NAMES = {LocationPrecision.EXACT: "exact", LocationPrecision.NEAR: "near", LocationPrecision.REGION: "region"}
# Below this score the gazetteer only has a fuzzy guess, and an online provider (if any) is asked.
CONFIDENT_SCORE = 0.7
REVERSE_MAX_KM = 150
# Beyond a town's edge the nearest place alone misplaces points near governorate lines (desert, few towns):
# admin1 is voted by this many nearest places of the same country, weighted by 1 / distance.
REVERSE_EXACT_KM = 2
REVERSE_NEIGHBOURS = 6

# Report wording around a place name (already passed through name_key: lower case, no punctuation).
# Arabic: محافظة governorate, ريف countryside; قرب / بالقرب من near; شمال… north…; اطراف outskirts; محيط / ضواحي around.
REGION_SUFFIX = re.compile(r"^(.+?)\s+(province|governorate|gov|region|countryside|rural areas|muhafazah)$")
REGION_PREFIX = re.compile(
    r"^(?:(?:northern|southern|eastern|western|north|south|east|west)\s+)?"
    r"(?:province of|governorate of|countryside of|rural|countryside|محافظه|ريف)\s+(.+)$"
)
NEAR_SUFFIX = re.compile(r"^(.+?)\s+(outskirts|desert|area|district|suburbs|surroundings|environs|vicinity)$")
NEAR_PREFIX = re.compile(
    r"^(?:near(?:by)?|outside(?: of)?|around|close to|by|just outside|قرب|بالقرب من|قريب من|اطراف|محيط|ضواحي|"
    r"(?:شمال|جنوب|شرق|غرب)(?:ي|ي شرق|ي غرب| شرق| غرب)?)\s+(.+)$"
)
EXACT_PREFIX = re.compile(
    r"^(?:in|at|the|city of|town of|village of|the city of|the town of|the village of|مدينه|بلده|قريه)\s+(.+)$"
)
EXACT_SUFFIX = re.compile(r"^(.+?)\s+(city|town|village|locality|settlement|neighbourhood|neighborhood|quarter)$")
# Named features the gazetteer has no point for: the place they are named after, with precision "near"
# ("Bayji Oil Refinery" → near Bayji, "Jabal Sinjar" → near Sinjar). Tried only after the whole wording as a name.
FEATURE_SUFFIX = re.compile(
    r"^(.+?)\s+(air ?base|airport|airfield|(?:military )?base|(?:military )?prison|camp|(?:gas|oil) field|"
    r"(?:oil )?refinery|dam lake|dam|lake|plains?|mountains?|mountians|hills?|valley|river|bridge|checkpoint|"
    r"(?:railroad |railway )?station|island|junction|crossing)$"
)
# Feature words for an air base, and the words the gazetteer's air bases (WOF campuses) are named with.
AERODROME_FEATURES = {"airbase", "air base", "airport", "airfield", "base", "military base"}
AERODROME_WORDS = ("airport", "airbase", "air base", "airfield")
# A wording that calls the place a settlement names the settlement, even when its name begins like a feature.
SETTLEMENT_WORDS = {"town", "village", "locality", "settlement", "city"}
FEATURE_PREFIX = re.compile(r"^(camp|jabal|jebel|jabel|mount|mt|wadi|lake|sahl)\s+(.+)$")
# "Road between X and Y", "the highway between X and Y", "between X and Y": near X (or else Y), never a third place.
BETWEEN = re.compile(r"^(?:(?:the\s+)?(?:road|highway|route|area)\s+)?between\s+(.+?)\s+and\s+(.+)$", re.IGNORECASE)
# UCDP's "Qaḑā’ al Mawşil": a district (admin2), located at its largest place with precision "region".
DISTRICT_PREFIX = re.compile(r"^(?:qada|qadaa|qadha|kaza)\s+(.+)$")


class GeocodeQueryError(ValueError):
    """Input no geocoder can use; the message is meant for the person who typed it."""


@dataclass(frozen=True)
class PlacePhrase:
    """The place name inside a piece of report wording, and how precisely the wording locates the event."""

    text: str
    precision: int = LocationPrecision.EXACT
    wording: str = ""  # the part before report words were taken off ("rural damascus" for "damascus")
    feature: str = ""  # what the wording calls the place: "town", "village", "district", "air base", "camp", …
    within: str = ""  # the city a neighbourhood is of ("Baghdad - Al Adhamiyah"): only places near it are meant


@dataclass
class GeocodeResult:
    candidates: list
    warnings: list = field(default_factory=list)


def query_clean(query):
    """The query with control characters and extra spaces removed; GeocodeQueryError when nothing usable is left."""
    text = " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", query or "").split())
    if not text:
        raise GeocodeQueryError(_("Type a place name to look up."))
    if len(text) > MAX_QUERY_LENGTH:
        raise GeocodeQueryError(
            _("A place query is at most %(max)d characters (this one has %(length)d).")
            % {"max": MAX_QUERY_LENGTH, "length": len(text)}
        )
    return text


def country_clean(country):
    if not country:
        return None
    code = country.strip().upper()
    if code not in dict(country_names):
        raise GeocodeQueryError(_("“%(code)s” is not an ISO 3166-1 country code such as SY or IQ.") % {"code": country})
    return code


@lru_cache(maxsize=1)
def _country_name_keys():
    """Country names in English and Arabic (django-countries' translations) → ISO code, for "Mosul, Iraq"."""
    names = {}
    for code in settings.GAZETTEER_COUNTRIES:
        for language in ("en", "ar"):
            with translation.override(language):
                names[name_key(str(country_names.name(code)))] = code
        names[name_key(code)] = code
    names.update({"syria": "SY", "turkey": "TR"})  # the names reports use beside the official ones
    return names


def phrase_parse(text):
    """The place phrases in report wording, most precise first, and the country it names if any.

    "the desert east of Homs province, north of Palmyra" gives [near Palmyra, region Homs]: the event is coded
    to the named town with precision "near", as ACLED does, never to an invented offset.
    """
    phrases, country = [], None
    if between := BETWEEN.match(text):
        # "Road between Bayji town and X town": the event is near the first place named, then the second.
        for part in between.groups():
            phrase = _phrase_from_part(name_key(part))
            phrases.append(
                PlacePhrase(phrase.text, max(phrase.precision, LocationPrecision.NEAR), phrase.wording, phrase.feature)
            )
        return phrases, country
    for part in re.split(r"[,;،؛]|\s+(?:and|in|و)\s+(?=\S)", text):
        # "Baghdad - Al Adhamiyah": a neighbourhood of the city, found only near it; else the city, precision near.
        head, _dash, quarter = part.partition(" - ") if " - " in part else part.partition(" – ")
        if quarter and name_key(head) and name_key(quarter):
            city = _phrase_from_part(name_key(head))
            phrases.append(PlacePhrase(name_key(quarter), LocationPrecision.EXACT, name_key(quarter), "", city.text))
            phrases.append(PlacePhrase(city.text, max(city.precision, LocationPrecision.NEAR), city.wording, "city"))
            continue
        key = name_key(part)
        if not key:
            continue
        if key in _country_name_keys():
            country = _country_name_keys()[key]
            continue
        phrases.append(_phrase_from_part(key))
    phrases.sort(key=lambda phrase: phrase.precision)  # stable: report order among equals
    return phrases, country


def _phrase_from_part(key):
    wording, precision = key, LocationPrecision.EXACT
    # "desert east of Homs province": what follows the last "of"/"from" is the place, the rest says "near".
    relation = re.match(r"^(.*)\b(?:of|from)\s+(.+)$", key)
    if relation and not re.fullmatch(r"(?:the\s+)?(?:city|town|village)\s*", relation.group(1)):
        head, key = relation.groups()
        precision = (
            LocationPrecision.REGION
            if re.search(r"\b(?:province|governorate|countryside)\s*$", head)
            else LocationPrecision.NEAR
        )
    feature = ""
    for _round in range(3):  # "near the town of X", "outskirts of X city"
        if match := DISTRICT_PREFIX.match(key):
            key, precision, feature = match.group(1), LocationPrecision.REGION, "district"
        elif match := REGION_PREFIX.match(key) or REGION_SUFFIX.match(key):
            key, precision = match.group(1), LocationPrecision.REGION
        elif match := NEAR_PREFIX.match(key) or NEAR_SUFFIX.match(key):
            key, precision = match.group(1), max(precision, LocationPrecision.NEAR)
        elif match := EXACT_SUFFIX.match(key):
            key, feature = match.group(1), feature or match.group(2)
        elif match := EXACT_PREFIX.match(key):
            key = match.group(1)
        # "Sahl al Milhah village" is a village of that name, not the plain of a place called al Milhah.
        elif feature in SETTLEMENT_WORDS:
            continue
        elif match := FEATURE_SUFFIX.match(key):
            key, precision, feature = match.group(1), max(precision, LocationPrecision.NEAR), match.group(2)
        elif match := FEATURE_PREFIX.match(key):
            key, precision, feature = match.group(2), max(precision, LocationPrecision.NEAR), match.group(1)
    return PlacePhrase(key, precision, wording, feature)


def _candidate(place, *, precision, score, provider="gazetteer", match="", ambiguous=False, **extra):
    return {
        **extra,
        "name": place.name,
        "latitude": round(place.point.y, 6),
        "longitude": round(place.point.x, 6),
        "admin1": place.admin1,
        "admin2": place.admin2,
        "country": str(place.country),
        "precision": PRECISION_NAMES[precision],
        "location_precision": int(precision),
        "score": round(min(max(score, 0.0), 1.0), 3),
        "provider": provider,
        "place_id": place.pk,
        "match": match,
        "ambiguous": ambiguous,
    }


# How a name matched, and how much that alone says. A fuzzy match is a suggestion: it never reaches
# CONFIDENT_SCORE, so a report's point is never taken from a look-alike.
MATCH_QUALITY = {"exact": 1.0, "alternate": 0.95, "transliteration": 0.85}
FUZZY_QUALITY = 0.5
RANK_QUALITY = {"exact": 1.0, "alternate": 1.0, "transliteration": 0.85}
# Below this trigram likeness a name is not even a suggestion: "al-Tanf" must not offer Al-Tabqa 300 km away.
FUZZY_MIN_SIMILARITY = 0.86
# Same-named places further apart than this are different places, not one place recorded twice.
SAME_PLACE_KM = 10
# Namesakes inside the caller's area all this close to one another: answering the first is never further off than
# this from the other, so it is answered rather than left "ambiguous".
NAMESAKE_CLUSTER_KM = 20
# A place this many times more populous than its namesakes is the one reports mean ("Kut", not Kut village).
DOMINANT_POPULATION_RATIO = 5
DOMINANT_POPULATION_MIN = 1000
DOMINANT_SPELLINGS_RATIO = 2
DOMINANT_SPELLINGS_MIN = 5
# A spelling of a place's own name ranks just above the same spelling of another place's alternate name.
OWN_NAME_BONUS = 0.02
# Places in the region the wording or the caller names rank above every place outside it.
CONTEXT_BONUS = 0.3
# A place outside the admin1 / admin2 the caller gives is listed (marked), never ranked above one inside, and never
# scored as an answer.
OUTSIDE_PENALTY = 10.0
OUTSIDE_MAX_SCORE = 0.3
# Coders and the gazetteer's simplified polygons disagree about lines: a place this close to the given area counts
# as inside it (Kalak, on the Great Zab between Erbil and Nineveh).
BORDER_BAND_KM = 5
# A neighbourhood named with its city ("Mosul - Al Zuhur") is at most this far from the city's point.
NEIGHBOURHOOD_KM = 15
# A spelling by ear matched on consonants (names.loose_keys) inside the caller's admin1 / admin2: an answer, but
# below a real spelling of the name.
LOOSE_QUALITY = 0.8
# The loose index files the head of a many-word name (names.loose_head_keys) under this prefix.
HEAD_KEY_PREFIX = "^"


@lru_cache(maxsize=256)
def _area_boundary(model_name, pk):
    """An area's boundary, kept in memory: the border band is checked for a few candidates per lookup."""
    from .models import District, Region

    model = {"region": Region, "district": District}[model_name]
    return model.objects.only("boundary").get(pk=pk).boundary


@dataclass(frozen=True)
class AreaContext:
    """The admin1 (and admin2) a caller gives: the area an answer must lie in."""

    regions: frozenset  # (country, region name): the region given, and the regions carved out of it since
    districts: frozenset = frozenset()  # (country, district name); empty: anywhere in the regions
    boundaries: tuple = ()  # (model name, pk) of the areas, for the border band

    def covers(self, place):
        return self.level(place) > 0

    def level(self, place):
        """2 inside the area by its gazetteer admin1 / admin2, 1 within BORDER_BAND_KM of its boundary, 0 outside:
        a place inside ranks above one on the border band, and only places of one level are namesakes."""
        country = str(place.country)
        if (country, place.admin1) in self.regions and (
            not self.districts or (country, place.admin2) in self.districts
        ):
            return 2
        near = any(_area_boundary(*area).distance(place.point) * 111.0 <= BORDER_BAND_KM for area in self.boundaries)
        return 1 if near else 0

    @classmethod
    def named(cls, *, admin1, admin2=None, countries=None):
        """The area `admin1` / `admin2` name in any spelling (None when admin1 names no region: the caller's text is
        then only a hint, as before)."""
        from .models import District, Region
        from .regions import FORMER_PARTS, area_loosely_named

        country = countries[0] if countries and len(countries) == 1 else None
        region = area_loosely_named(Region, admin1, country=country) if admin1 else None
        if region is None:
            return None
        names = [region.name, *FORMER_PARTS.get((str(region.country), region.name), ())]
        regions = list(Region.objects.filter(country=region.country, name__in=names).defer("boundary"))
        district = None
        if admin2:
            district = area_loosely_named(District.objects.filter(region__in=regions), admin2)
        if district is not None:
            return cls(
                frozenset({(str(region.country), district.region.name)}),
                frozenset({(str(district.country), district.name)}),
                (("district", district.pk),),
            )
        return cls(
            frozenset((str(area.country), area.name) for area in regions),
            boundaries=tuple(("region", area.pk) for area in regions),
        )


class _TransliterationIndex:
    """name key or transliteration key → place ids, in memory: the keys come from Python (names.place_transliteration_keys),
    and a dictionary look-up is what keeps a lookup well under 10 ms on 35,000 places.

    Rebuilt when the newest place id or the newest history row changes (an insert, or a save that may rename);
    only changed places are re-keyed. A deleted place needs no rebuild: its id simply finds no row.
    """

    def __init__(self):
        self.stamp = None
        self.place_keys = {}  # pk → (name_keys, keys)
        self.ids = {}
        self.regions = {}  # governorate places by pk: context and "… province" are matched against them
        self.loose_ids = None  # names.loose_keys → place ids, built on the first lookup with a context
        self.place_loose_keys = {}  # pk → (name_keys, loose keys, head keys) of the last loose index built

    def lookup(self, keys):
        if self.stamp is None:
            self.refresh()
        found = set()
        for key in keys:
            found.update(self.ids.get(key, ()))
        return found

    def loose_lookup(self, keys):
        """Place ids under any of these loose keys (names.loose_keys), country-wide: the caller confines them."""
        if self.stamp is None:
            self.refresh()
        if self.loose_ids is None:
            loose_ids, place_loose_keys = {}, {}
            for pk, (name_keys, _keys) in self.place_keys.items():
                # Only changed places are re-keyed: computing the keys is the cost (seconds for the whole gazetteer),
                # filling the dictionary from them is not.
                known = self.place_loose_keys.get(pk)
                if not known or known[0] != name_keys:
                    known = (
                        name_keys,
                        {key for name in name_keys for key in loose_keys(name)},
                        # Heads of many-word names, under their own prefix: a second tier (see _loose_matches).
                        {HEAD_KEY_PREFIX + key for name in name_keys for key in loose_head_keys(name)},
                    )
                place_loose_keys[pk] = known
                for key in known[1]:
                    loose_ids.setdefault(key, []).append(pk)
                for key in known[2]:
                    loose_ids.setdefault(key, []).append(pk)
            self.loose_ids, self.place_loose_keys = loose_ids, place_loose_keys
        found = set()
        for key in keys:
            found.update(self.loose_ids.get(key, ()))
        return found

    def refresh(self):
        """Catch up with the table (two index-only queries when nothing changed)."""
        from django.db import connection

        with connection.cursor() as cursor:  # one round trip: this runs before every lookup
            cursor.execute(
                f"SELECT (SELECT max(id) FROM {Place._meta.db_table}),"
                f" (SELECT max(history_id) FROM {Place.history.model._meta.db_table})"
            )
            stamp = cursor.fetchone()
        if stamp == self.stamp:
            return
        place_keys, ids, regions = {}, {}, []
        rows = Place.objects.values_list("pk", "name_keys", "kind").iterator(chunk_size=5000)
        for pk, name_keys, kind in rows:
            if kind == PlaceKind.ADMIN1:
                regions.append(pk)
            known = self.place_keys.get(pk)
            entry = (
                known
                if known and known[0] == name_keys
                else (name_keys, list(dict.fromkeys([*name_keys, *place_transliteration_keys(name_keys)])))
            )
            place_keys[pk] = entry
            for key in entry[1]:
                ids.setdefault(key, []).append(pk)
        self.regions = Place.objects.in_bulk(regions)  # few, and wanted by most lookups: kept in memory
        self.place_keys, self.ids, self.stamp, self.loose_ids = place_keys, ids, stamp, None


_transliteration_index = _TransliterationIndex()


def name_indexes_build():
    """Build the in-memory name indexes now, the loose-spelling one included (a few seconds of CPU), rather than on
    the first lookup that needs them: a web process calls this as it starts, so no editor waits."""
    _transliteration_index.loose_lookup(())


def _match_of(place, key, keys):
    if place.name_keys and place.name_keys[0] == key:
        return "exact"
    if key in place.name_keys:
        return "alternate"
    return "transliteration"


def _place_matches(key, *, countries=None, kinds=None, limit=60, fuzzy=True, places_by_pk=None):
    """(place, match, quality) for places named `key`: exactly, by an alternate name, by a transliteration of
    one (see names.transliteration_keys) or, only when none of those exists, by a similar name (trigram).

    `places_by_pk` holds places a batch fetched beforehand (GazetteerGeocoder.prefetch); the index is then enough
    and only a fuzzy fallback reaches the database.
    """
    keys = query_transliteration_keys(key)
    ids = _transliteration_index.lookup([key, *keys])
    if places_by_pk is not None and ids <= places_by_pk.keys():
        same = [
            place
            for place in map(places_by_pk.get, ids)
            if (not countries or str(place.country) in countries) and (not kinds or place.kind in kinds)
        ]
        same = sorted(same, key=lambda place: (-place.population, place.pk))[:limit]
    else:
        places = Place.objects.filter(pk__in=ids)
        if countries:
            places = places.filter(country__in=countries)
        if kinds:
            places = places.filter(kind__in=kinds)
        same = places.order_by("-population", "pk")[:limit]
    matches = []
    for place in same:
        match = _match_of(place, key, keys)
        matches.append((place, match, MATCH_QUALITY[match]))
    if matches or not fuzzy or len(key) < 3:
        return matches
    places = Place.objects.all()
    if countries:
        places = places.filter(country__in=countries)
    if kinds:
        places = places.filter(kind__in=kinds)
    similar = (
        places.filter(Q(search_text__trigram_word_similar=key) | Q(search_text__contains=key))
        .annotate(similarity=TrigramWordSimilarity(key, "search_text"))
        .order_by("-similarity", "-population")[:limit]
    )
    for place in similar:
        # A name being typed ("Deir e") is a better suggestion than a mere likeness, but still only a suggestion.
        typed = any(name.startswith(key) for name in place.name_keys)
        quality = FUZZY_QUALITY * (1.0 if typed else place.similarity)
        if typed or place.similarity >= FUZZY_MIN_SIMILARITY:
            matches.append((place, "fuzzy", quality))
    return matches


def _km(first, second):
    """Kilometres between two places, on a local flat projection: a degree of longitude is cos(latitude) of a
    degree of latitude (at 36° N plain degrees made 17 km east-west look like 21 km, over NAMESAKE_CLUSTER_KM)."""
    cos_latitude = math.cos(math.radians((first.point.y + second.point.y) / 2))
    return math.hypot(first.point.y - second.point.y, (first.point.x - second.point.x) * cos_latitude) * 111.2


class GazetteerGeocoder(Geocoder):
    """A geopy geocoder backed by the Place table: offline, and aware of report wording."""

    provider = "gazetteer"

    def __init__(self, *, countries=None, country_bias=None, refresh_index=True):
        super().__init__()
        self.countries = countries
        # A batch of thousands of lookups checks for gazetteer edits once, not once a name.
        self.refresh_index = refresh_index
        self.places_by_pk = None
        self._areas = {}  # (admin1, admin2, countries) → AreaContext: a batch names few areas, many times
        self.country_bias = set(settings.GEOCODER_COUNTRY_BIAS if country_bias is None else country_bias)

    def geocode(self, query, *, exactly_one=True, limit=None, country_codes=None):
        candidates = self.candidates(query, countries=country_codes, limit=limit or 10)
        locations = [self._location(candidate) for candidate in candidates]
        if exactly_one:
            return locations[0] if locations else None
        return locations

    def reverse(self, query, *, exactly_one=True):
        point = GeopyPoint(query)
        candidate = self.reverse_candidate(point.latitude, point.longitude)
        location = self._location(candidate) if candidate else None
        return location if exactly_one else ([location] if location else [])

    @staticmethod
    def _location(candidate):
        address = ", ".join(part for part in (candidate["name"], candidate["admin1"], candidate["country"]) if part)
        return Location(address, (candidate["latitude"], candidate["longitude"]), candidate)

    def candidates(self, query, *, countries=None, admin1=None, limit=10, admin2=None):
        """Candidate dicts, best first. Raises GeocodeQueryError for empty or over-long input.

        `admin1` (a governorate in any spelling: "Al Başrah  province", "Ninawa", "At-Ta'mim") and `admin2` (a
        district: "Qaḑā’ al Mawşil") confine the answer: a place outside them is listed last, marked
        `outside_admin1`, with a score no caller takes as an answer; inside them, a spelling by ear is matched on
        its consonants (match "loose"). An admin1 that names no region only narrows, like "…, Idleb" in the text.
        When several places carry the name and nothing tells them apart, they come back together, each marked
        `ambiguous`, with a confidence shared between them.
        """
        text = query_clean(query)
        if self.places_by_pk is not None:  # a batch fetched its places beforehand
            return self._candidates(text, countries=countries, admin1=admin1, admin2=admin2, limit=limit)
        if self.refresh_index:
            _transliteration_index.refresh()
        # One query for every place any reading of the wording names; the matching itself runs in memory.
        self.places_by_pk = self._places_for([text, *([admin1] if admin1 else [])])
        try:
            return self._candidates(text, countries=countries, admin1=admin1, admin2=admin2, limit=limit)
        finally:
            self.places_by_pk = None

    def _area(self, admin1, admin2, countries):
        key = (admin1, admin2, tuple(countries or ()))
        if key not in self._areas:
            self._areas[key] = AreaContext.named(admin1=admin1, admin2=admin2, countries=countries)
        return self._areas[key]

    def _candidates(self, text, *, countries, admin1, limit, admin2=None):
        countries = [countries] if isinstance(countries, str) else countries or self.countries
        whole = name_key(text)  # a place whose full name is the query ("Ras al-Ain") beats reading it as a phrase
        phrases, named_country = phrase_parse(text)
        if named_country and not countries:
            countries = [named_country]
        if not phrases:
            return []
        area = self._area(admin1, admin2, countries) if admin1 else None
        context = self._context_regions(phrases, admin1, countries)

        def in_context(place):
            return area.level(place) if area is not None else (str(place.country), place.admin1) in context

        if context and len(phrases) > 1:
            # "Nayrab, Idleb": the trailing governorate is context, unless nothing else is found.
            named = [
                phrase for phrase in phrases[1:] if phrase.feature != "city" and self._names_region(phrase, countries)
            ]
            if len(named) < len(phrases):
                phrases = [phrase for phrase in phrases if phrase not in named or phrase is phrases[0]]
        scored, features = {}, {}
        for rank, phrase in enumerate(phrases):
            matches = list(self._good_matches(self._phrase_matches(phrase, whole, countries, area)))
            if phrase.within:
                matches = self._near_city(matches, phrase.within, countries)
            if area is not None and rank == 0 and phrase.feature != "district":
                matches += self._loose_matches(phrase, whole, matches, area)
            for place, match, quality, precision in matches:
                if precision == LocationPrecision.EXACT and match == "fuzzy":
                    precision = LocationPrecision.NEAR  # a similar name is not the place: never claim "exact"
                # A place's own name and its alternates rank alike: which one GeoNames made the label says nothing
                # about which place a report means ("Hama": the town Ḩamāh, not the governorate labelled Hama).
                tier = RANK_QUALITY.get(match, quality) + (OWN_NAME_BONUS if self._own_name(place, phrase) else 0)
                rank_score = tier + self._bonus(place) - 0.02 * rank
                if level := in_context(place):
                    rank_score += CONTEXT_BONUS - (0.1 if level == 1 and level is not True else 0)
                elif area is not None:
                    rank_score -= OUTSIDE_PENALTY
                if precision == LocationPrecision.REGION and phrase.precision != LocationPrecision.REGION:
                    rank_score -= 0.05  # a bare name is more likely the town than its governorate
                best = scored.get(place.pk)
                if best is None or rank_score > best[0]:
                    scored[place.pk] = (rank_score, place, precision, match, quality)
                    features[place.pk] = phrase.feature
        self._towns_before_their_governorate(scored, phrases)
        ranked = self._one_per_place(
            sorted(
                scored.values(),
                key=lambda item: (-item[0], -item[1].population, -len(item[1].name_keys), item[1].pk),
            )
        )
        namesakes, places_named, standout = self._namesakes(ranked, in_context, phrases[0], area_given=area is not None)
        if standout is not None:
            ranked.sort(key=lambda item: item[1].pk != standout)  # stable: the rest keep their order
        candidates = []
        for _score, place, precision, match, quality in ranked[:limit]:
            ambiguous = place.pk in namesakes
            confidence = quality / places_named if ambiguous else quality
            extra = {"feature": features.get(place.pk, "")}
            if area is not None:
                extra["outside_admin1"] = not area.covers(place)
                if extra["outside_admin1"]:
                    confidence = min(confidence, OUTSIDE_MAX_SCORE)
            candidates.append(
                _candidate(place, precision=precision, score=confidence, match=match, ambiguous=ambiguous, **extra)
            )
        return candidates

    def _near_city(self, matches, city, countries):
        """The matches within NEIGHBOURHOOD_KM of a place named `city`."""
        cities = [place for place, match, _quality in self._matches(city, countries=countries, fuzzy=False)]
        return [item for item in matches if any(_km(item[0], town) <= NEIGHBOURHOOD_KM for town in cities)]

    def _loose_matches(self, phrase, whole, matches, area):
        """Places inside `area` whose names share the phrase's consonants (names.loose_keys), when no spelling of
        the name is a place there: "Sakrana village" is the gazetteer's "Qaryat Sakranat" in the same district."""
        if any(
            match != "fuzzy" and place.kind != PlaceKind.ADMIN1 and area.covers(place)
            for place, match, _quality, _precision in matches
        ):
            return []
        keys = {key for text in dict.fromkeys([phrase.text, whole]) for key in loose_keys(text)}
        found = self._places_inside(_transliteration_index.loose_lookup(keys), area)
        if not found and " " not in phrase.text and phrase.precision == LocationPrecision.EXACT:
            # A one-word name may be a village's head alone ("Sakrana" for "Qaryat Sakran an Namudhajiyah"): tried
            # only when no place in the area shares the whole name's consonants, and never for a feature ("Camp
            # Ashraf" names the camp, not a village whose name begins like it).
            head_keys = {HEAD_KEY_PREFIX + key for key in keys if " " not in key}
            found = self._places_inside(_transliteration_index.loose_lookup(head_keys), area)
        written = [text for text in dict.fromkeys([phrase.text, whole])]
        return [
            (place, "loose", LOOSE_QUALITY, phrase.precision)
            for place in found
            if any(loose_agrees(text, place.name_keys) for text in written)
        ]

    def _places_inside(self, ids, area):
        known = self.places_by_pk or {}
        places = [known[pk] for pk in ids if pk in known]
        missing = [pk for pk in ids if pk not in known]
        if missing:
            places += Place.objects.filter(pk__in=missing).exclude(kind=PlaceKind.ADMIN1)
        return [place for place in places if place.kind != PlaceKind.ADMIN1 and area.covers(place)]

    @staticmethod
    def _one_per_place(ranked):
        """One row per real place: a GeoNames and a Who's On First record of one village ("Al Qāmishlī", "Al
        Qamishli") sharing a spelling within SAME_PLACE_KM are one candidate, the better ranked one."""
        kept = []
        for item in ranked:
            place = item[1]
            keys = set(place_transliteration_keys(place.name_keys)) | set(place.name_keys)
            if any(
                other.kind == place.kind
                and _km(other, place) <= SAME_PLACE_KM
                and keys & (set(place_transliteration_keys(other.name_keys)) | set(other.name_keys))
                for _score, other, *_rest in kept
            ):
                continue
            kept.append(item)
        return kept

    @staticmethod
    def _own_name(place, phrase):
        """Whether the wording is a spelling of the place's own name, not only of one of its alternates."""
        own = place_transliteration_keys(place.name_keys[:1])
        return bool(set(transliteration_keys(phrase.text)) & set(own)) or phrase.text in place.name_keys[:1]

    @staticmethod
    def _towns_before_their_governorate(scored, phrases):
        """A bare name ("Deir Ezzor", "Idlib") is the town when a town of that governorate matched it, however the
        governorate's own spellings compare; "Deir ez-Zor province" keeps the region first."""
        if any(phrase.precision == LocationPrecision.REGION for phrase in phrases):
            return
        towns = {}
        for score, place, precision, match, _quality in scored.values():
            # A town, not a village that shares the governorate's name ("Wasit" the governorate, not Wasit village).
            if (
                precision != LocationPrecision.REGION
                and match != "fuzzy"
                and place.population >= DOMINANT_POPULATION_MIN
            ):
                region = (str(place.country), place.admin1)
                towns[region] = max(towns.get(region, score), score)
        for pk, (score, place, precision, match, quality) in list(scored.items()):
            region = (str(place.country), place.admin1)
            if precision == LocationPrecision.REGION and region in towns and score >= towns[region]:
                scored[pk] = (towns[region] - 0.01, place, precision, match, quality)

    def _context_regions(self, phrases, admin1, countries):
        """(country, admin1) pairs the caller or the wording names: --admin1, "…, Idleb", "… in Idleb countryside";
        a trailing town ("Nayrab, Saraqib") stands for its own governorate."""
        context = set()
        if admin1:
            context |= self._names_region(PlacePhrase(name_key(admin1), LocationPrecision.REGION), countries)
        for phrase in phrases[1:] if len(phrases) > 1 else []:
            regions = self._names_region(phrase, countries)
            if not regions:
                towns = self._matches(phrase.text, countries=countries, fuzzy=False, limit=5)
                regions = {(str(place.country), place.admin1) for place, _match, _quality in towns[:1] if place.admin1}
            context |= regions
        return context

    def _matches(self, key, **kwargs):
        return _place_matches(key, places_by_pk=self.places_by_pk, **kwargs)

    def prefetch(self, wordings):
        """Fetch, in a few queries, every place the index names for these wordings: a batch then matches in
        memory. Places an editor adds meanwhile are found by the next batch."""
        _transliteration_index.refresh()
        self.places_by_pk = self._places_for(wordings)

    @staticmethod
    def _places_for(wordings):
        ids = set()
        for wording in wordings:
            try:
                text = query_clean(wording)
            except GeocodeQueryError:
                continue
            phrases, _country = phrase_parse(text)
            for key in {name_key(text), *(phrase.text for phrase in phrases), *(phrase.wording for phrase in phrases)}:
                ids |= _transliteration_index.lookup([key, *query_transliteration_keys(key)])
        places = dict(_transliteration_index.regions)
        ordered = sorted(ids - places.keys())
        for start in range(0, len(ordered), 5000):
            places.update(Place.objects.in_bulk(ordered[start : start + 5000]))
        return places

    def _names_region(self, phrase, countries):
        regions = self._matches(phrase.text, countries=countries, kinds=[PlaceKind.ADMIN1], fuzzy=False)
        return {(str(place.country), place.admin1) for place, _match, _quality in regions}

    @classmethod
    def _namesakes(cls, ranked, in_context, phrase=None, *, area_given=False):
        """The pks of same-named records the top candidate cannot be told apart from (empty when it can), how
        many distinct places (more than SAME_PLACE_KM apart) they are, and the pk of the one that stands out among
        them (the town of the name: see _standout), if any."""
        if not ranked:
            return set(), 1, None
        _score, top, precision, match, _quality = ranked[0]
        if match == "fuzzy" or precision == LocationPrecision.REGION:
            return set(), 1, None
        top_in_context = in_context(top)
        # Inside the caller's area, the name as written (or one of its recorded spellings) outranks a
        # transliteration of it, and that a consonant look-alike: only namesakes of the top's kind of match count.
        tiers = {"exact": 0, "alternate": 0, "transliteration": 1, "loose": 2}
        same_area = [
            (place, place_match)
            for _score, place, place_precision, place_match, _quality in ranked[1:]
            if place_match != "fuzzy"
            and place_precision != LocationPrecision.REGION
            and place.kind != PlaceKind.ADMIN1
            and in_context(place) == top_in_context
            and place.country == top.country
        ]
        if area_given and same_area:
            # A town far more populous than its namesakes is meant, however the coder spelt it ("Al Majar al Kabir").
            standout = cls._standout([top, *(place for place, _match in same_area)], phrase, in_area=True)
            if standout is not None:
                return set(), 1, standout.pk
        peers = [
            place
            for place, place_match in same_area
            if (tiers.get(place_match) == tiers.get(match) if area_given else place_match != "loose")
        ]
        # One village can be recorded twice a few hundred metres apart: count places, not records. Inside the
        # caller's area, namesakes all within NAMESAKE_CLUSTER_KM of the top are one answer to within that distance
        # (often one place that two sources put apart): the better documented one, ranked first, is answered.
        same_km = SAME_PLACE_KM
        if area_given and top_in_context and all(_km(place, top) <= NAMESAKE_CLUSTER_KM for place in peers):
            same_km = NAMESAKE_CLUSTER_KM
        distinct = [top]
        for place in peers:
            if all(_km(place, kept) > same_km for kept in distinct):
                distinct.append(place)
        if len(distinct) == 1:
            return set(), 1, None
        standout = cls._standout([top, *peers], phrase, in_area=bool(top_in_context))
        if standout is not None:
            return set(), 1, standout.pk
        return {top.pk, *(place.pk for place in peers)}, len(distinct), None

    @staticmethod
    def _standout(namesakes, phrase, *, in_area):
        """The one namesake a report means, when one stands out: far more populous than the rest; the only one
        with a recorded population when the wording calls it a town; far more spellings (a town the world writes
        about); or, inside the caller's admin1, the seat of the sub-district named after it ("Nahiyat al
        Latifiyah" for "al Latifiyah town")."""
        by_population = sorted(namesakes, key=lambda place: -place.population)
        first, rest = by_population[0], by_population[1:]
        largest = max(place.population for place in rest)
        if first.population >= max(DOMINANT_POPULATION_RATIO * largest, DOMINANT_POPULATION_MIN):
            return first
        if phrase is not None and phrase.feature in ("town", "city") and first.population and not largest:
            return first
        by_spellings = sorted(namesakes, key=lambda place: -len(place.name_keys))
        first, rest = by_spellings[0], by_spellings[1:]
        spellings = max(len(place.name_keys) for place in rest)
        if namesakes[0] is first and len(first.name_keys) >= max(
            DOMINANT_SPELLINGS_RATIO * spellings, DOMINANT_SPELLINGS_MIN
        ):
            return first
        if in_area:
            seats = [place for place in namesakes if place.name_keys and place.name_keys[0].startswith("nahiyat ")]
            if len(seats) == 1:
                return seats[0]
            # The seat of a district is named like it (Choman in Choman district, among Chawman and Chome).
            seats = [
                place
                for place in namesakes
                if place.admin2
                and set(transliteration_keys(place.admin2)) & set(place_transliteration_keys(place.name_keys))
            ]
            if len(seats) == 1:
                return seats[0]
        return None

    def _phrase_matches(self, phrase, whole, countries, area=None):
        """(place, match, quality, precision) for one phrase of the wording."""
        if phrase.feature == "district":
            yield from self._district_matches(phrase, countries, area)
            return
        if phrase.precision != LocationPrecision.REGION:
            matches = []
            if whole != phrase.text:
                matches = [
                    item for item in self._matches(whole, countries=countries, fuzzy=False) if item[1] != "fuzzy"
                ]
            if not matches and phrase.feature in AERODROME_FEATURES:
                # "Al-Asad military base" is the base the gazetteer calls "Al Asad Airport" or "Al Asad Airbase".
                for word in AERODROME_WORDS:
                    named = self._matches(f"{phrase.text} {word}", countries=countries, fuzzy=False)
                    matches += [item for item in named if item[0].kind == PlaceKind.OTHER]
            for place, match, quality in matches or self._matches(phrase.text, countries=countries):
                kind_precision = LocationPrecision.REGION if place.kind == PlaceKind.ADMIN1 else phrase.precision
                if matches and place.kind == PlaceKind.OTHER:
                    kind_precision = LocationPrecision.EXACT  # the feature itself, by its own name
                yield place, match, quality, kind_precision
            return
        regions = []
        if phrase.wording and phrase.wording != phrase.text:  # "Rural Damascus" is a governorate's own name
            regions = self._matches(phrase.wording, countries=countries, kinds=[PlaceKind.ADMIN1], fuzzy=False)
        regions = regions or self._matches(phrase.text, countries=countries, kinds=[PlaceKind.ADMIN1])
        for place, match, quality in regions:
            yield place, match, quality, LocationPrecision.REGION
        if not any(match != "fuzzy" for _place, match, _quality in regions):
            # "محافظة حمص": no region carries that spelling, but the town does; its governorate is meant.
            for place, match, quality in self._matches(phrase.text, countries=countries, fuzzy=False):
                region = self._region_of(place)
                if region is not None:
                    yield region, match, quality - 0.05, LocationPrecision.REGION

    @staticmethod
    def _district_matches(phrase, countries, area):
        """UCDP's "Qaḑā’ al Mawşil": the district's largest place, with precision "region" (the district is all we know)."""
        from .models import District
        from .regions import area_loosely_named

        districts = District.objects.all()
        if countries:
            districts = districts.filter(country__in=countries)
        if area is not None:
            districts = districts.filter(region__name__in=[name for _country, name in area.regions])
        district = area_loosely_named(districts, phrase.text)
        if district is None:
            return
        seat = (
            Place.objects.filter(country=district.country, admin2=district.name)
            .exclude(kind=PlaceKind.ADMIN1)
            .order_by("-population", "pk")
            .first()
        )
        if seat is not None:
            yield seat, "exact", 1.0, LocationPrecision.REGION

    @staticmethod
    def _good_matches(matches):
        """No look-alikes once the phrase names a place by its name or a spelling of it ("Palmyra": Tadmur, not
        Turkish Pulumer), except that place's own governorate."""
        matches = list(matches)
        if not any(match != "fuzzy" for _place, match, _quality, _precision in matches):
            return matches
        return [item for item in matches if item[1] != "fuzzy"]

    @staticmethod
    def _region_of(place):
        if place.kind == PlaceKind.ADMIN1:
            return place
        return Place.objects.filter(kind=PlaceKind.ADMIN1, country=place.country, admin1=place.admin1).first()

    def _bonus(self, place):
        # A governorate counts as populous: "Hama" the region outranks a Turkish village also called Hama.
        population = 0.08 if place.kind == PlaceKind.ADMIN1 else 0.08 * min(math.log10(place.population + 1) / 7, 1)
        return population + (0.08 if str(place.country) in self.country_bias else 0.0)

    def reverse_candidate(self, latitude, longitude):
        """The nearest gazetteer place (within REVERSE_MAX_KM) and its distance; admin1 / admin2 and the country
        from the region and district polygons covering the point, or, outside them, voted by the nearest places."""
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise GeocodeQueryError(_("Latitude must be within ±90 and longitude within ±180."))
        point = Point(longitude, latitude, srid=4326)
        areas = admin_areas_at(point)
        # <-> uses the GiST index to find the nearest few by degrees; the exact distance then orders them (a degree
        # of longitude is shorter than one of latitude). Inside a governorate no neighbours need to vote on admin1.
        nearest = sorted(
            Place.objects.exclude(kind=PlaceKind.ADMIN1)
            .only("name", "point", "admin1", "admin2", "country", "kind")
            .order_by(GeometryDistance("point", point))
            .annotate(distance=Distance("point", point))[: 4 if areas.region else REVERSE_NEIGHBOURS * 2],
            key=lambda place: place.distance.m,
        )
        if not nearest or nearest[0].distance.km > REVERSE_MAX_KM:
            return None
        place, km = nearest[0], nearest[0].distance.km
        precision = (
            LocationPrecision.EXACT
            if km <= REVERSE_EXACT_KM
            else LocationPrecision.NEAR
            if km <= 25
            else LocationPrecision.REGION
        )
        candidate = _candidate(place, precision=precision, score=max(0.0, 1 - km / REVERSE_MAX_KM))
        if areas.region is not None:
            admin = {"admin1": areas.admin1, "admin2": areas.admin2, "country": str(areas.region.country)}
        else:
            admin = {"admin1": place.admin1, "admin2": place.admin2, "country": str(place.country)}
            if country_has_regions(place.country):
                admin.update(admin1="", admin2="")  # at sea off a country with polygons: the country only
            elif km > REVERSE_EXACT_KM:  # on a town, its own admin1 (Damascus city among Rif Dimashq suburbs)
                votes = Counter()
                neighbours = [near for near in nearest if near.country == place.country and near.admin1]
                for near in neighbours[:REVERSE_NEIGHBOURS]:
                    votes[near.admin1] += 1 / max(near.distance.km, 1)
                admin1 = votes.most_common(1)[0][0] if votes else place.admin1
                # the nearest town's district is in its admin1
                admin.update(admin1=admin1, admin2=place.admin2 if admin1 == place.admin1 else "")
        return {**candidate, **admin, "distance_km": round(km, 2)}


@lru_cache(maxsize=4)
def _online_geocode(provider, options_items, timeout, min_delay):
    """The provider's geocode behind one RateLimiter per process, so concurrent editors share its quota."""
    geocoder_class = import_string(provider) if "." in provider else get_geocoder_for_service(provider)
    geocoder = geocoder_class(timeout=timeout, **dict(options_items))
    return RateLimiter(geocoder.geocode, min_delay_seconds=min_delay, max_retries=0, swallow_exceptions=False)


class GeocoderChain:
    """The gazetteer, then (when configured and the gazetteer is unsure) the online provider."""

    def __init__(self, *, gazetteer=None, provider=None):
        self.gazetteer = gazetteer or GazetteerGeocoder()
        self.provider = settings.GEOCODER_ONLINE_PROVIDER if provider is None else provider

    def geocode(self, query, *, country=None, admin1=None, limit=5, admin2=None):
        countries = [country] if country else None
        candidates = self.gazetteer.candidates(query, countries=countries, admin1=admin1, admin2=admin2, limit=limit)
        result = GeocodeResult(candidates)
        if self.provider and not any(candidate["score"] >= CONFIDENT_SCORE for candidate in candidates):
            online = self._online(query, country=country, warnings=result.warnings)
            ranked = sorted(candidates + online, key=lambda candidate: -candidate["score"])
            result.candidates = ranked[:limit]
        return result

    def reverse(self, latitude, longitude):
        return self.gazetteer.reverse_candidate(latitude, longitude)

    def _online(self, query, *, country, warnings):
        phrases, _named = phrase_parse(query_clean(query))
        phrase = phrases[0] if phrases else PlacePhrase(query_clean(query))
        geocode = _online_geocode(
            self.provider,
            tuple(sorted(settings.GEOCODER_ONLINE_OPTIONS.items())),
            settings.GEOCODER_ONLINE_TIMEOUT,
            settings.GEOCODER_ONLINE_MIN_DELAY_SECONDS,
        )
        try:
            locations = geocode(phrase.text, exactly_one=False) or []
        except GeocoderServiceError as error:  # timeouts, unavailability, quota, refused requests
            message = _("The online geocoder (%(provider)s) failed (%(error)s); showing gazetteer results only.") % {
                "provider": self.provider,
                "error": type(error).__name__,
            }
            logger.warning(message)
            warnings.append(message)
            return []
        candidates = []
        for location in locations:
            region = self._region_from_address(location.address) or (
                self.gazetteer.reverse_candidate(location.latitude, location.longitude) or {}
            )
            if country and region.get("country") != country:
                continue
            name = location.address.split(",")[0].strip() or phrase.text
            candidates.append(
                {
                    "name": name,
                    "latitude": round(location.latitude, 6),
                    "longitude": round(location.longitude, 6),
                    "admin1": region.get("admin1", ""),
                    "admin2": region.get("admin2", ""),
                    "country": region.get("country", ""),
                    "precision": PRECISION_NAMES[phrase.precision],
                    "location_precision": int(phrase.precision),
                    "score": 0.7,
                    "provider": self.provider.rsplit(".", 1)[-1].lower(),
                    "place_id": None,
                }
            )
        # Not stored here: a search is a GET. The editor's save keeps the answer (places.services.place_remember).
        return candidates

    @staticmethod
    def _region_from_address(address):
        """Country and admin1 named in the provider's address ("Al-Tanf, Homs Governorate, Syria"), if both are.

        Near a border the nearest gazetteer place can be across it; the provider's own address knows better.
        """
        parts = [name_key(part) for part in address.split(",")]
        country = next((_country_name_keys()[part] for part in reversed(parts) if part in _country_name_keys()), None)
        if country is None:
            return None
        for part in parts[1:]:
            phrase = _phrase_from_part(part)
            for place, match, _quality in _place_matches(phrase.text, countries=[country], kinds=[PlaceKind.ADMIN1]):
                if match != "fuzzy":
                    return {"admin1": place.admin1, "admin2": "", "country": country}
        return None


def geocoder_chain():
    return GeocoderChain()
