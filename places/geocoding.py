"""Geocoding built on geopy: the offline gazetteer (Place) first, an online geopy provider when one is configured.

The rest of the code speaks geopy: `GazetteerGeocoder` is a geopy Geocoder returning geopy Locations whose `.raw`
is a candidate dict (name, latitude, longitude, admin1, country, precision, score, provider, …).
`geocoder_chain()` is what callers use: gazetteer, then the online provider behind geopy's RateLimiter, whose
hits are saved as places so the next lookup is offline.
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
from django.db import IntegrityError, transaction
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
from .names import name_key, skeleton_key

logger = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 300
PRECISION_NAMES = {LocationPrecision.EXACT: "exact", LocationPrecision.NEAR: "near", LocationPrecision.REGION: "region"}
# Below this score the gazetteer only has a fuzzy guess, and an online provider (if any) is asked.
CONFIDENT_SCORE = 0.7
# A name match at least this good (transliteration-equivalent or better) is taken as meaning that place.
CONFIDENT_QUALITY = 0.75
# Below this a trigram likeness is a guess, not the place: "al-Tanf" must not come back as Al-Tabqa 300 km away.
MIN_QUALITY = 0.6
# A phrase matching a name exactly drops its mere consonant look-alikes ("Palmyra" → Tadmur, not Turkish Pulumer).
NAME_QUALITY = 0.98
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
EXACT_SUFFIX = re.compile(r"^(.+?)\s+(city|town|village)$")


class GeocodeQueryError(ValueError):
    """Input no geocoder can use; the message is meant for the person who typed it."""


@dataclass(frozen=True)
class PlacePhrase:
    """The place name inside a piece of report wording, and how precisely the wording locates the event."""

    text: str
    precision: int = LocationPrecision.EXACT


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
    for part in re.split(r"[,;،؛]|\s+(?:and|in|و)\s+(?=\S)", text):
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
    precision = LocationPrecision.EXACT
    # "desert east of Homs province": what follows the last "of"/"from" is the place, the rest says "near".
    relation = re.match(r"^(.*)\b(?:of|from)\s+(.+)$", key)
    if relation and not re.fullmatch(r"(?:the\s+)?(?:city|town|village)\s*", relation.group(1)):
        head, key = relation.groups()
        precision = (
            LocationPrecision.REGION
            if re.search(r"\b(?:province|governorate|countryside)\s*$", head)
            else LocationPrecision.NEAR
        )
    for _round in range(3):  # "near the town of X", "outskirts of X city"
        if match := REGION_PREFIX.match(key) or REGION_SUFFIX.match(key):
            key, precision = match.group(1), LocationPrecision.REGION
        elif match := NEAR_PREFIX.match(key) or NEAR_SUFFIX.match(key):
            key, precision = match.group(1), max(precision, LocationPrecision.NEAR)
        elif match := EXACT_PREFIX.match(key) or EXACT_SUFFIX.match(key):
            key = match.group(1)
    return PlacePhrase(key, precision)


def _candidate(place, *, precision, score, provider="gazetteer"):
    return {
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
    }


def _match_quality(place, key, skeleton):
    if key in place.name_keys:
        return 1.0 if place.name_keys[0] != key else 0.98
    if any(name.startswith(key) for name in place.name_keys):
        return 0.9  # a name being typed: "Deir e" → Deir ez-Zor
    if {skeleton, skeleton.replace(" ", ""), key.replace(" ", "")} & set(place.skeleton_keys):
        # One or two consonants ("rk") say little: many names share them.
        return 0.88 if len(skeleton.replace(" ", "")) > 2 else 0.75
    return 0.7 * getattr(place, "similarity", 0.0)  # similar is not the same: never confident on its own


def _place_matches(key, *, countries=None, kinds=None, limit=30, fuzzy=True):
    """Places whose names match `key`: exact or transliteration-equivalent (GIN on keys) or similar (trigram)."""
    places = Place.objects.all()
    if countries:
        places = places.filter(country__in=countries)
    if kinds:
        places = places.filter(kind__in=kinds)
    skeleton = skeleton_key(key)
    # Joined forms too: "البوكمال" is the gazetteer's "البو كمال" (whose short "البو" keeps its article).
    joined = [skeleton, skeleton.replace(" ", ""), key.replace(" ", "")]
    same = Q(name_keys__contains=[key]) | Q(skeleton_keys__overlap=joined)
    found = {place.pk: place for place in places.filter(same)[:limit]}
    if fuzzy and len(key) >= 3:
        similar = (
            places.filter(Q(search_text__trigram_word_similar=key) | Q(search_text__contains=key))
            .annotate(similarity=TrigramWordSimilarity(key, "search_text"))
            .order_by("-similarity", "-population")[:limit]
        )
        for place in similar:
            found.setdefault(place.pk, place)
    return [(place, _match_quality(place, key, skeleton)) for place in found.values()]


def _good_matches(matches):
    """(place, quality, precision) triples worth showing: no weak guesses, and when the phrase names a place
    exactly, no look-alikes ("Palmyra": Tadmur, not Turkish Pulumer) except that place's own governorate."""
    best = max((quality for _place, quality, _precision in matches), default=0.0)
    if best < NAME_QUALITY:
        return [match for match in matches if match[1] >= MIN_QUALITY]
    named = {(place.country, place.admin1) for place, quality, _precision in matches if quality >= NAME_QUALITY}
    return [
        (place, quality, precision)
        for place, quality, precision in matches
        if quality >= NAME_QUALITY or (place.kind == PlaceKind.ADMIN1 and (place.country, place.admin1) in named)
    ]


class GazetteerGeocoder(Geocoder):
    """A geopy geocoder backed by the Place table: offline, and aware of report wording."""

    provider = "gazetteer"

    def __init__(self, *, countries=None, country_bias=None):
        super().__init__()
        self.countries = countries
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

    def candidates(self, query, *, countries=None, limit=10):
        """Candidate dicts, best first. Raises GeocodeQueryError for empty or over-long input."""
        text = query_clean(query)
        countries = [countries] if isinstance(countries, str) else countries or self.countries
        # A place whose full name is the query ("Ras al-Ain", "Bab al-Hawa") beats reading it as a phrase.
        whole = name_key(text)
        phrases, named_country = phrase_parse(text)
        if named_country and not countries:
            countries = [named_country]
        if not phrases:
            return []
        region_hints = set()
        scored = {}
        for rank, phrase in enumerate(phrases):
            for place, quality, precision in _good_matches(list(self._phrase_matches(phrase, whole, countries))):
                if precision == LocationPrecision.EXACT and quality < CONFIDENT_QUALITY:
                    precision = LocationPrecision.NEAR  # a similar name is not the place: never claim "exact"
                if precision == LocationPrecision.REGION:
                    region_hints.add((str(place.country), name_key(place.admin1)))
                # Match quality dominates; population and country bias (≤ 0.16) order equally good matches.
                score = quality * (0.84 + self._bonus(place)) - 0.02 * rank
                if precision == LocationPrecision.REGION and phrase.precision != LocationPrecision.REGION:
                    score -= 0.05  # a bare name is more likely the town than its governorate
                best = scored.get(place.pk)
                if best is None or score > best[0]:
                    scored[place.pk] = (score, place, precision)
        if len(phrases) > 1 and region_hints:
            # "north of Palmyra, Homs province": the Palmyra in Homs.
            for pk, (score, place, precision) in scored.items():
                if (
                    precision != LocationPrecision.REGION
                    and (str(place.country), name_key(place.admin1)) in region_hints
                ):
                    scored[pk] = (score + 0.1, place, precision)
        ranked = sorted(scored.values(), key=lambda item: (-item[0], -item[1].population, item[1].pk))
        return [_candidate(place, precision=precision, score=score) for score, place, precision in ranked[:limit]]

    def _phrase_matches(self, phrase, whole, countries):
        if phrase.precision != LocationPrecision.REGION:
            exact = []
            if whole != phrase.text:
                exact = [(place, 1.0) for place, quality in _place_matches(whole, countries=countries, fuzzy=False)]
                exact = [(place, quality) for place, quality in exact if whole in place.name_keys]
            matches = exact or _place_matches(phrase.text, countries=countries)
            for place, quality in matches:
                if place.kind == PlaceKind.ADMIN1:
                    yield place, quality, LocationPrecision.REGION
                else:
                    yield place, quality, phrase.precision
            return
        regions = _place_matches(phrase.text, countries=countries, kinds=[PlaceKind.ADMIN1])
        for place, quality in regions:
            yield place, quality, LocationPrecision.REGION
        if not any(quality >= CONFIDENT_QUALITY for _place, quality in regions):
            # "محافظة حمص": no region carries that spelling, but the town does; its governorate is meant.
            for place, quality in _place_matches(phrase.text, countries=countries):
                region = self._region_of(place)
                if region is not None and quality >= CONFIDENT_QUALITY:
                    yield region, quality - 0.05, LocationPrecision.REGION

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
        """The nearest gazetteer place (within REVERSE_MAX_KM), its distance, admin1 (voted) and country, or None."""
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise GeocodeQueryError(_("Latitude must be within ±90 and longitude within ±180."))
        point = Point(longitude, latitude, srid=4326)
        # <-> uses the GiST index to find the nearest few by degrees; the exact distance then orders them.
        nearest = sorted(
            Place.objects.exclude(kind=PlaceKind.ADMIN1)
            .order_by(GeometryDistance("point", point))
            .annotate(distance=Distance("point", point))[: REVERSE_NEIGHBOURS * 2],
            key=lambda place: place.distance.m,
        )
        if not nearest or nearest[0].distance.km > REVERSE_MAX_KM:
            return None
        place, km = nearest[0], nearest[0].distance.km
        admin1 = place.admin1
        if km > REVERSE_EXACT_KM:  # on a town, its own admin1 (Damascus city among Rif Dimashq suburbs)
            votes = Counter()
            neighbours = [near for near in nearest if near.country == place.country and near.admin1]
            for near in neighbours[:REVERSE_NEIGHBOURS]:
                votes[near.admin1] += 1 / max(near.distance.km, 1)
            admin1 = votes.most_common(1)[0][0] if votes else admin1
        precision = (
            LocationPrecision.EXACT
            if km <= REVERSE_EXACT_KM
            else LocationPrecision.NEAR
            if km <= 25
            else LocationPrecision.REGION
        )
        candidate = _candidate(place, precision=precision, score=max(0.0, 1 - km / REVERSE_MAX_KM))
        admin2 = place.admin2 if admin1 == place.admin1 else ""  # the nearest town's district is in its admin1
        return {**candidate, "admin1": admin1, "admin2": admin2, "distance_km": round(km, 2)}


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

    def geocode(self, query, *, country=None, limit=5):
        countries = [country] if country else None
        candidates = self.gazetteer.candidates(query, countries=countries, limit=limit)
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
        if candidates and candidates[0]["country"]:
            candidates[0]["place_id"] = self._cache(phrase, candidates[0])
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
            for place, quality in _place_matches(phrase.text, countries=[country], kinds=[PlaceKind.ADMIN1]):
                if quality >= CONFIDENT_QUALITY:
                    return {"admin1": place.admin1, "admin2": "", "country": country}
        return None

    def _cache(self, phrase, candidate):
        """Keep the online answer as a place named by the query, so the same wording is found offline next time."""
        source = f"{candidate['provider']}:{phrase.text}"[:100]
        try:
            with transaction.atomic():
                place, _created = Place.objects.get_or_create(
                    source=source,
                    defaults={
                        "name": candidate["name"][:200],
                        "alternate_names": [phrase.text[:200]],
                        "point": Point(candidate["longitude"], candidate["latitude"], srid=4326),
                        "kind": PlaceKind.OTHER,
                        "admin1": candidate["admin1"],
                        "admin2": candidate["admin2"],
                        "country": candidate["country"],
                    },
                )
        except IntegrityError:
            return None
        return place.pk


def geocoder_chain():
    return GeocoderChain()
