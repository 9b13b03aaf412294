"""The full gazetteer (GeoNames + Who's On First), loaded once per test session: counts, idempotence, one place
per GeoNames id, and reverse geocoding by containment."""

import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from places.geocoding import GazetteerGeocoder
from places.loaders import wof_places_load
from places.models import District, Place, PlaceKind, Region

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("gazetteer")]


def test_the_gazetteer_has_the_villages():
    assert Place.objects.count() >= 35_000
    assert Place.objects.filter(country="SY").count() >= 10_000
    assert Place.objects.filter(country="IQ").count() >= 22_000
    assert Place.objects.filter(country="TR").count() > 1_000  # GeoNames still serves the other countries
    # WOF's Arabic names come along: Nayrab, the village the old gazetteer lacked, by its Arabic name.
    assert Place.objects.filter(country="SY", name_keys__contains=["النيرب"]).exists()


def test_one_place_per_geonames_id():
    deir_ez_zor = Place.objects.get(source="geonames:170794")
    assert deir_ez_zor.wof_id is not None  # GeoNames' row, merged with WOF's record of the same town
    assert "دير الزور" in deir_ez_zor.alternate_names
    sources = Place.objects.filter(source__startswith="geonames:").values_list("source", flat=True)
    assert len(sources) == len(set(sources))
    assert Place.objects.filter(country="SY", name="Deir ez-Zor", kind=PlaceKind.POPULATED).count() == 1


def test_loading_again_changes_nothing():
    before = (Place.objects.count(), Region.objects.count(), District.objects.count())
    out = io.StringIO()
    call_command("load_gazetteer", stdout=out)
    assert "Who's On First: 0 places added, 0 merged" in out.getvalue()
    assert (Place.objects.count(), Region.objects.count(), District.objects.count()) == before
    assert wof_places_load() == (0, 0)


def test_places_in_syria_and_iraq_carry_their_region_and_district_names():
    names = set(Region.objects.values_list("name", flat=True))
    admin1s = set(Place.objects.filter(country__in=["SY", "IQ"]).values_list("admin1", flat=True))
    assert admin1s - {""} <= names
    tadmur = Place.objects.get(source="geonames:163808")
    assert (tadmur.admin1, tadmur.admin2) == ("Homs", "Tadmor")


def test_each_region_is_a_place_the_geocoder_finds_by_the_region_s_spellings():
    for spelling, region in [("Ninewa province", "Nineveh"), ("Thi-Qar", "Dhi Qar"), ("Idleb", "Idlib")]:
        regions = [c for c in GazetteerGeocoder().candidates(spelling, limit=10) if c["precision"] == "region"]
        assert regions and regions[0]["admin1"] == region, spelling
    halabja = Place.objects.get(kind=PlaceKind.ADMIN1, country="IQ", name="Halabja")  # WOF's, GeoNames lacks it
    assert halabja.source.startswith("wof:")


@pytest.mark.parametrize(
    ("latitude", "longitude", "admin1", "admin2"),
    [
        (34.556, 38.2673, "Homs", "Tadmor"),
        (35.3359, 40.1408, "Deir ez-Zor", "Deir-ez-Zor"),
        (36.335, 43.1189, "Nineveh", "Mosul"),
    ],
)
def test_reverse_names_region_district_and_the_nearest_village(latitude, longitude, admin1, admin2):
    result = GazetteerGeocoder().reverse_candidate(latitude, longitude)
    assert (result["admin1"], result["admin2"]) == (admin1, admin2)
    assert result["distance_km"] < 3  # on a town, the nearest locality is right there


def test_reverse_at_sea_names_the_country_only():
    result = GazetteerGeocoder().reverse_candidate(35.0, 35.5)
    assert (result["admin1"], result["admin2"], result["country"]) == ("", "", "SY")
    assert result["distance_km"] > 20


def test_geocode_command_reverse_has_admin2():
    out = io.StringIO()
    call_command("geocode", "--reverse", "34.556", "38.2673", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert (result["admin1"], result["admin2"], result["country"]) == ("Homs", "Tadmor", "SY")


def test_a_place_search_never_writes(client, editor):
    client.force_login(editor)
    before = Place.objects.count()
    for query in ["Nayrab", "Palmyra", "Qwxzyplorp"]:
        assert client.get(reverse("incidents:place-search"), {"q": query}).status_code == 200
    assert client.get(reverse("incidents:place-reverse"), {"lat": "34.5", "lon": "38.3"}).status_code == 200
    assert Place.objects.count() == before
