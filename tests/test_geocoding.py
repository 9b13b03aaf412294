"""The geocoder against the real gazetteer (GeoNames for SY, IQ, TR, LB, JO), loaded once per test session."""

import csv
import io
import json
import logging
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from django.core.management import CommandError, call_command
from geopy.distance import geodesic
from geopy.exc import GeocoderTimedOut, GeocoderUnavailable
from geopy.location import Location

from incidents.models import Incident
from incidents.seeding import DEMO_PLACES, SEEDS_DIR
from places.geocoding import GazetteerGeocoder, GeocodeQueryError, GeocoderChain, _online_geocode
from places.models import LocationPrecision, Place, PlaceKind
from places.names import (
    admin1_clean,
    name_key,
    place_transliteration_keys,
    skeleton_key,
    transliteration_keys,
)
from tests.factories import IncidentFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("gazetteer")]

PLACE_NAMES = Path(__file__).parent / "data" / "place_names_syria_iraq.csv"
OUTPUT_KEYS = {
    *("name", "latitude", "longitude", "admin1", "country", "precision", "score", "provider"),
    *("admin2", "match", "ambiguous"),  # added with match kinds; the keys above are unchanged
    *("outside_admin1", "feature"),  # added with the admin1 / admin2 context (issue 17)
}


def km(candidate, latitude, longitude):
    return geodesic((candidate["latitude"], candidate["longitude"]), (latitude, longitude)).km


def top(query, **kwargs):
    candidates = GazetteerGeocoder().candidates(query, limit=5, **kwargs)
    assert candidates, f"nothing found for {query!r}"
    return candidates[0]


# --- the gazetteer --------------------------------------------------------------------------------------------


def test_gazetteer_has_each_configured_country_with_arabic_names_and_regions():
    for country in ["SY", "IQ", "TR", "LB", "JO"]:
        assert Place.objects.filter(country=country, kind=PlaceKind.POPULATED).count() > 40
        assert Place.objects.filter(country=country, kind=PlaceKind.ADMIN1).exists()
    deir_ez_zor = Place.objects.get(source="geonames:170794")
    assert "دير الزور" in deir_ez_zor.alternate_names
    assert deir_ez_zor.admin1 == "Deir ez-Zor"
    assert set(Place.objects.filter(country="SY", kind=PlaceKind.ADMIN1).values_list("name", flat=True)) >= {
        "Aleppo",
        "Homs",
        "Idlib",
        "Deir ez-Zor",
        "Ar-Raqqah",
        "Al-Hasakah",
    }


def test_second_load_is_a_quick_no_op():
    before = Place.objects.count()
    out = io.StringIO()
    call_command("load_gazetteer", stdout=out)
    assert "already loaded" in out.getvalue()
    assert Place.objects.count() == before


@pytest.mark.parametrize(
    ("geonames", "clean"),
    [
        ("Diyālá", "Diyala"),
        ("Karbalāʼ", "Karbala"),
        ("Wāsiţ", "Wasit"),
        ("Bābil", "Babil"),
        ("Al Qādisīyah", "Al Qadisiyah"),
        ("Al Muthanna Governorate", "Al Muthanna"),
        ("Rif-dimashq", "Rif Dimashq"),
        ("Deir ez-Zor", "Deir ez-Zor"),
        ("Ar-Raqqah", "Ar-Raqqah"),
        ("Şanlıurfa", "Sanliurfa"),
    ],
)
def test_admin1_names_are_cleaned_by_rule(geonames, clean):
    assert admin1_clean(geonames) == clean


def test_gazetteer_admin1_names_are_plain_and_the_geonames_spellings_still_found():
    admin1s = set(Place.objects.values_list("admin1", flat=True))
    assert all(name.isascii() and not name.endswith(("Governorate", "Province")) for name in admin1s)
    assert {"Diyala", "Karbala", "Wasit", "Babil", "Al Qadisiyah", "Al Muthanna", "Rif Dimashq", "Damascus"} <= admin1s
    for query, region in [("Diyālá province", "Diyala"), ("Rif-dimashq", "Rif Dimashq"), ("Wāsiţ", "Wasit")]:
        best = top(query)
        assert (best["name"], best["admin1"], best["precision"]) == (region, region, "region"), query


def test_seeds_and_demo_places_use_the_gazetteer_admin1_names():
    """One vocabulary: the map's region filter must not split a governorate between two spellings."""
    gazetteer_admin1 = set(Place.objects.exclude(admin1="").values_list("country", "admin1").distinct())
    gazetteer_admin1 = {(str(country), admin1) for country, admin1 in gazetteer_admin1}
    seeds = json.loads((SEEDS_DIR / "incidents.geojson").read_text(encoding="utf-8"))["features"]
    used = {(feature["properties"]["country"], feature["properties"]["admin1"]) for feature in seeds}
    used |= {(country, admin1) for _name, admin1, country, _latitude, _longitude in DEMO_PLACES}
    assert used - gazetteer_admin1 == set()
    geocoder = GazetteerGeocoder()
    for name, admin1, _country, latitude, longitude in DEMO_PLACES:  # each town is in the region it is filed under
        assert geocoder.reverse_candidate(latitude, longitude)["admin1"] == admin1, name


def test_transliterations_share_a_skeleton():
    assert skeleton_key("Dayr az Zawr") == skeleton_key("Deir ez-Zor") == skeleton_key("Dair al-Zour")
    assert skeleton_key("Ar Raqqah") == skeleton_key("Raqqa") == skeleton_key("al-Raqqa")
    assert name_key("Ḩamāh") == "hamah"
    assert name_key("إدلب") == name_key("ادلب")


# --- accuracy on real report spellings ------------------------------------------------------------------------


def test_place_name_set_hit_rate(capsys):
    """Top-1 within 10 km (regions: within their admin1) with the expected precision, for ≥ 95 % of the set."""
    rows = list(csv.DictReader(PLACE_NAMES.open(encoding="utf-8")))
    assert len(rows) >= 80
    assert sum(1 for row in rows if any("\u0600" <= char <= "\u06ff" for char in row["query"])) >= 10
    assert {row["country"] for row in rows} == {"SY", "IQ"}
    misses, geocoder = [], GazetteerGeocoder()
    for row in rows:
        candidates = geocoder.candidates(row["query"], limit=1)
        best = candidates[0] if candidates else None
        if best is None:
            misses.append(f"{row['query']}: nothing")
            continue
        if row["precision"] == "region":
            hit = name_key(best["admin1"]) == name_key(row["admin1"])
            where = best["admin1"]
        else:
            distance = km(best, float(row["latitude"]), float(row["longitude"]))
            hit = distance <= 10
            where = f"{distance:.1f} km off"
        if not hit or best["precision"] != row["precision"] or best["country"] != row["country"]:
            misses.append(f"{row['query']}: {best['name']} ({where}, {best['precision']}, {best['country']})")
    rate = 1 - len(misses) / len(rows)
    with capsys.disabled():
        print(f"\nGeocoder hit rate: {rate:.1%} ({len(rows) - len(misses)}/{len(rows)}); misses: {misses}")
    assert rate >= 0.95, misses


# --- wording, ranking, precision ------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["Deir Ezzor", "Dayr az Zawr", "دير الزور", "Deir al-Zour", "DEIR EZ-ZOR"])
def test_spellings_of_deir_ez_zor(query):
    best = top(query)
    assert (best["name"], best["admin1"], best["country"], best["precision"]) == (
        "Deir ez-Zor",
        "Deir ez-Zor",
        "SY",
        "exact",
    )
    assert km(best, 35.336, 40.141) < 3


def test_near_phrase_codes_to_the_town_without_offset():
    best = top("the desert east of Homs province, north of Palmyra")
    assert best["name"] == "Tadmur"
    assert best["precision"] == "near"
    assert best["location_precision"] == LocationPrecision.NEAR
    assert (best["latitude"], best["longitude"]) == (
        round(Place.objects.get(source="geonames:163808").point.y, 6),
        round(Place.objects.get(source="geonames:163808").point.x, 6),
    )


@pytest.mark.parametrize("query", ["Homs province", "Homs governorate", "province of Homs", "محافظة حمص"])
def test_province_phrases_give_the_region(query):
    best = top(query)
    assert (best["admin1"], best["country"], best["precision"]) == ("Homs", "SY", "region")
    assert best["location_precision"] == LocationPrecision.REGION


def test_bare_town_name_beats_its_governorate():
    candidates = GazetteerGeocoder().candidates("Hama", limit=5)
    assert (candidates[0]["name"], candidates[0]["precision"]) == ("Ḩamāh", "exact")
    assert ("Hama", "region") in [(candidate["name"], candidate["precision"]) for candidate in candidates[1:]]


def test_country_filter_and_country_named_in_the_text():
    assert top("Mosul, Iraq")["country"] == "IQ"
    assert {candidate["country"] for candidate in GazetteerGeocoder().candidates("Mosul", countries=["SY"])} <= {"SY"}


def test_candidates_are_ranked_best_first():
    candidates = GazetteerGeocoder().candidates("Raqqa", limit=5)
    scores = [candidate["score"] for candidate in candidates]
    assert scores == sorted(scores, reverse=True)
    assert candidates[0]["name"] == "Ar Raqqah"


def test_place_added_by_an_editor_is_found_like_any_other():
    # A name no gazetteer has (an invented farm), as an editor would add a new camp or checkpoint.
    assert not Place.objects.filter(name_keys__contains=["khirbet jawzafa"]).exists()
    Place.objects.create(
        name="Khirbet Jawzafa",
        alternate_names=["Kherbet Jozafa", "خربة جوزفا"],
        point=Point(40.9386, 34.4622, srid=4326),
        admin1="Deir ez-Zor",
        country="SY",
    )
    for query in ["Khirbet Jawzafa", "Kherbet Jozafa", "خربة جوزفا", "near Khirbet Jawzafa"]:
        best = top(query)
        assert (best["name"], best["admin1"]) == ("Khirbet Jawzafa", "Deir ez-Zor"), query
    assert top("near Khirbet Jawzafa")["precision"] == "near"


@pytest.mark.parametrize(
    "query", ["Khirbet Jawzafa", "near Zahrat al-Mudawwara", "the outskirts of Khirbet Jawzafa", "Tell Xurbanik"]
)
def test_places_the_gazetteer_lacks_give_nothing_rather_than_a_guess(query):
    assert not Place.objects.filter(skeleton_keys__overlap=["khrbt jwzf", "zhrt mdwr", "tl xrbnk"]).exists()
    assert GazetteerGeocoder().candidates(query) == []
    assert json.loads(run_geocode(query, "--json")) == []


def test_villages_only_who_s_on_first_has_are_found():
    """GeoNames' list stopped at 500 people; Baghuz and al-Tanf are in the WOF villages, in their governorates."""
    assert (top("al-Baghuz")["name"], top("al-Baghuz")["admin1"]) == ("Baghuz Fawqani", "Deir ez-Zor")
    assert {(candidate["name"], candidate["country"]) for candidate in GazetteerGeocoder().candidates("al-Tanf")} >= {
        ("At Tanf", "SY")
    }


@pytest.mark.parametrize(("query", "wrong"), [("Baghouz", "Bughaz"), ("Qaryat al-Mawhuma", "Qaryat Umm al Hamam")])
def test_a_bigger_gazetteer_gives_no_consonant_look_alike(query, wrong):
    assert wrong not in [candidate["name"] for candidate in GazetteerGeocoder().candidates(query)]


def test_an_exact_name_drops_its_consonant_look_alikes():
    candidates = GazetteerGeocoder().candidates("north of Palmyra", limit=5)
    assert [candidate["name"] for candidate in candidates] == ["Tadmur"]  # not Pulumer (TR), same consonants


@pytest.mark.parametrize(
    "query", ["Palmira", "Deir e", "Raqqa", "Qusayr", "Manbij", "Tal", "Hamah", "Albukamal", "Kobani"]
)
def test_a_candidate_is_exact_only_when_a_name_matched(query):
    key = name_key(query)
    for candidate in GazetteerGeocoder().candidates(query, limit=10):
        place = Place.objects.get(pk=candidate["place_id"])
        matched = any(name.startswith(key) for name in place.name_keys) or bool(
            set(transliteration_keys(key)) & set(place_transliteration_keys(place.name_keys))
        )
        assert candidate["precision"] != "exact" or matched, (query, candidate["name"])


def test_typing_a_prefix_suggests_the_place():
    names = [candidate["name"] for candidate in GazetteerGeocoder().candidates("Deir e", limit=5)]
    assert "Deir ez-Zor" in names[:3]


# --- geopy interface ------------------------------------------------------------------------------------------


def test_gazetteer_geocoder_speaks_geopy():
    location = GazetteerGeocoder().geocode("Mosul")
    assert isinstance(location, Location)
    assert abs(location.latitude - 36.34) < 0.05 and abs(location.longitude - 43.13) < 0.05
    assert location.raw["admin1"] == "Nineveh"
    assert location.address == "Mosul, Nineveh, IQ"
    assert GazetteerGeocoder().geocode("Qwxzyplorp") is None
    raqqa = GazetteerGeocoder().geocode("Raqqa", exactly_one=False, limit=3)
    # The city, then its governorate; a village whose alternate name spells like it ("Reka") may follow.
    assert [(location.raw["name"], location.raw["precision"]) for location in raqqa][:2] == [
        ("Ar Raqqah", "exact"),
        ("Ar-Raqqah", "region"),
    ]
    assert all(location.raw["match"] == "transliteration" for location in raqqa[2:])


def test_reverse_geocoding_names_the_nearest_place_admin1_and_country():
    location = GazetteerGeocoder().reverse("34.55, 38.30")
    tadmur = Place.objects.get(name="Tadmur", country="SY")
    # The nearest locality (a village now that WOF's are loaded) is no further than Tadmur itself.
    assert location.raw["distance_km"] <= km({"latitude": tadmur.point.y, "longitude": tadmur.point.x}, 34.55, 38.30)
    assert (location.raw["admin1"], location.raw["admin2"], location.raw["country"]) == ("Homs", "Tadmor", "SY")
    assert GazetteerGeocoder().reverse("35.0, 20.0") is None  # the Ionian Sea


@pytest.mark.parametrize(
    ("latitude", "longitude", "admin1"),
    [
        (34.0, 38.0, "Homs"),  # the desert east of Homs province, whatever village is nearest
        (34.9, 38.3, "Homs"),  # the seed assault's desert north of Palmyra
        (33.51, 36.29, "Damascus"),  # the city, not its Rif Dimashq suburbs
    ],
)
def test_reverse_admin1_is_the_governorate_containing_the_point(latitude, longitude, admin1):
    place = GazetteerGeocoder().reverse_candidate(latitude, longitude)
    assert (place["admin1"], place["country"]) == (admin1, "SY")
    assert place["distance_km"] == pytest.approx(km(place, latitude, longitude), abs=0.5)


# --- bad input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "   ", "\x00\n"])
def test_empty_query_is_refused_with_a_message(query):
    with pytest.raises(GeocodeQueryError, match="Type a place name"):
        GazetteerGeocoder().candidates(query)


def test_ten_thousand_characters_are_refused_with_a_message():
    with pytest.raises(GeocodeQueryError, match="at most 300 characters"):
        GazetteerGeocoder().candidates("Raqqa " * 2000)


@pytest.mark.parametrize(
    "query", ["'; DROP TABLE incidents_place; --", "%", "_%_", "\\", "Homs' OR '1'='1", "{}[]()*+?", "🙂🙂", "a" * 300]
)
def test_sql_and_regex_metacharacters_are_just_text(query):
    before = Place.objects.count()
    candidates = GazetteerGeocoder().candidates(query)
    assert isinstance(candidates, list)
    assert Place.objects.count() == before


def test_reverse_refuses_out_of_range_coordinates():
    with pytest.raises(GeocodeQueryError, match="Latitude must be within"):
        GazetteerGeocoder().reverse_candidate(91, 10)


# --- the online provider ---------------------------------------------------------------------------------------


class FakeOnlineGeocoder:
    """Stands in for a geopy geocoder such as Nominatim; never touches the network."""

    calls = 0
    error = None

    def __init__(self, **options):
        self.options = options

    def geocode(self, query, exactly_one=True):
        type(self).calls += 1
        if self.error:
            raise self.error("the service is down")
        return [Location("Al-Tanf, Homs Governorate, Syria", (33.4954, 38.6517), {"osm_id": 1})]


@pytest.fixture
def online(settings):
    _online_geocode.cache_clear()
    FakeOnlineGeocoder.calls, FakeOnlineGeocoder.error = 0, None
    settings.GEOCODER_ONLINE_PROVIDER = "tests.test_geocoding.FakeOnlineGeocoder"
    settings.GEOCODER_ONLINE_MIN_DELAY_SECONDS = 0
    yield FakeOnlineGeocoder
    _online_geocode.cache_clear()


@pytest.mark.parametrize("error", [GeocoderTimedOut, GeocoderUnavailable])
def test_provider_down_falls_back_to_the_gazetteer_with_a_warning(online, error, caplog):
    online.error = error
    with caplog.at_level(logging.WARNING, logger="places.geocoding"):
        result = GeocoderChain().geocode("Khirbet Jawzafa garrison")
    assert result.candidates == []  # not in the gazetteer, and the provider gave nothing
    assert result.warnings and "failed" in result.warnings[0] and error.__name__ in result.warnings[0]
    assert error.__name__ in caplog.text
    assert online.calls == 1


def test_provider_is_not_asked_when_the_gazetteer_is_sure(online):
    result = GeocoderChain().geocode("Mosul")
    assert result.candidates[0]["provider"] == "gazetteer"
    assert online.calls == 0


def test_online_hit_is_coded_like_a_gazetteer_hit_and_a_lookup_stores_nothing(online):
    before = Place.objects.count()
    best = GeocoderChain().geocode("Khirbet Jawzafa").candidates[0]
    assert (best["name"], best["provider"], best["country"]) == ("Al-Tanf", "fakeonlinegeocoder", "SY")
    assert best["admin1"] == "Homs"  # the region the provider's address names
    assert best["place_id"] is None and Place.objects.count() == before  # a lookup never writes
    GeocoderChain().geocode("Khirbet Jawzafa")
    assert online.calls == 2  # nothing kept, so asked again


# --- management commands --------------------------------------------------------------------------------------


def run_geocode(*args):
    out = io.StringIO()
    call_command("geocode", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_geocode_command_prints_json_candidates():
    candidates = json.loads(run_geocode("north of Palmyra", "--json", "--limit", "3"))
    assert 1 <= len(candidates) <= 3
    assert set(candidates[0]) == OUTPUT_KEYS
    assert candidates[0]["name"] == "Tadmur"
    assert (candidates[0]["precision"], candidates[0]["provider"], candidates[0]["country"]) == (
        "near",
        "gazetteer",
        "SY",
    )
    assert json.loads(run_geocode("Homs province", "--country", "SY", "--json"))[0]["precision"] == "region"


def test_geocode_command_unknown_place_prints_empty_array():
    assert json.loads(run_geocode("Qwxzyplorp", "--json")) == []


def test_geocode_command_reverse_prints_one_object():
    place = json.loads(run_geocode("--reverse", "36.34", "43.13", "--json"))
    assert OUTPUT_KEYS <= set(place)
    assert (place["name"], place["admin1"], place["country"]) == ("Mosul", "Nineveh", "IQ")
    assert place["admin2"] == "Mosul"
    desert = json.loads(run_geocode("--reverse", "34", "38", "--json"))
    assert (desert["admin1"], desert["country"]) == ("Homs", "SY")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([""], "Type a place name"),
        ([], "Give a place to look up"),
        (["x" * 10_000], "at most 300 characters"),
        (["Homs", "--country", "ZZ"], "not an ISO 3166-1 country code"),
        (["Homs", "--limit", "0"], "--limit must be between 1 and 50"),
        (["--reverse", "120", "10"], "Latitude must be within"),
    ],
)
def test_geocode_command_refuses_bad_input(args, message):
    with pytest.raises(CommandError, match=message):
        run_geocode(*args)


def test_geocode_incidents_command_codes_what_it_can_and_reports_the_rest():
    coded = IncidentFactory(location=None, place_reported="near Raqqa", admin1="", country="")
    unknown = IncidentFactory(location=None, place_reported="Qwxzyplorp crossroads", admin1="", country="")
    untouched = IncidentFactory(place_reported="Mosul")  # has a point already
    out, err = io.StringIO(), io.StringIO()
    call_command("geocode_incidents", stdout=out, stderr=err)
    coded.refresh_from_db()
    assert (coded.place_name, coded.admin1, coded.country.code) == ("Ar Raqqah", "Ar-Raqqah", "SY")
    assert coded.location_precision == LocationPrecision.NEAR
    assert coded.place.name == "Ar Raqqah"
    assert geodesic((coded.location.y, coded.location.x), (35.95, 39.01)).km < 5
    assert Incident.objects.get(pk=unknown.pk).location is None
    assert f"#{unknown.pk}" in err.getvalue() and "Qwxzyplorp" in err.getvalue()
    assert "1 coded, 1 not resolved" in out.getvalue()
    untouched.refresh_from_db()
    assert untouched.admin1 == "Homs"


def test_geocode_incidents_dry_run_changes_nothing():
    incident = IncidentFactory(location=None, place_reported="Tikrit", country="IQ")
    out = io.StringIO()
    call_command("geocode_incidents", "--dry-run", stdout=out, stderr=io.StringIO())
    assert "1 coded, 0 not resolved (dry run)" in out.getvalue()
    assert Incident.objects.get(pk=incident.pk).location is None
