"""Governorates and districts as records: containment of real points, every spelling, and how incidents use them.

The regions come with the migrations (from the committed Who's On First extract), so no gazetteer load is needed.
"""

import importlib

import pytest
from django.apps import apps
from django.contrib.gis.geos import Point
from django.urls import reverse
from django.utils import translation

from incidents import services
from incidents.map import feed as map_feed
from incidents.models import Incident, LocationPrecision
from incidents.seeding import actors_load, incidents_load
from places.models import District, Place, Region
from places.regions import admin_areas_at, region_named
from places.services import place_remember
from tests.factories import IncidentFactory

PALMYRA = Point(38.2673, 34.5560, srid=4326)
DEIR_EZ_ZOR = Point(40.1408, 35.3359, srid=4326)
MOSUL = Point(43.1189, 36.3350, srid=4326)
IDLIB = Point(36.6339, 35.9306, srid=4326)
MEDITERRANEAN = Point(35.5, 35.0, srid=4326)  # 30 km off Baniyas


@pytest.mark.django_db
def test_every_governorate_of_syria_and_iraq_is_a_region_with_its_districts():
    assert Region.objects.filter(country="SY").count() == 14
    assert Region.objects.filter(country="IQ").count() == 19  # 18 governorates and Halabja
    assert District.objects.count() == 171
    assert not District.objects.filter(region__isnull=True).exists()
    homs = Region.objects.get(country="SY", name="Homs")
    assert (homs.name_ar, homs.boundary.geom_type, homs.boundary.srid) == ("حمص", "MultiPolygon", 4326)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("point", "region", "region_ar", "district"),
    [
        (PALMYRA, "Homs", "حمص", "Tadmor"),
        (DEIR_EZ_ZOR, "Deir ez-Zor", "دير الزور", "Deir-ez-Zor"),
        (MOSUL, "Nineveh", "نينوى", "Mosul"),
        (IDLIB, "Idlib", "إدلب", "Idleb"),
    ],
)
def test_a_point_is_in_the_governorate_and_district_that_contain_it(point, region, region_ar, district):
    areas = admin_areas_at(point)
    assert (areas.admin1, areas.region.name_ar, areas.admin2) == (region, region_ar, district)
    assert areas.district.region == areas.region


@pytest.mark.django_db
def test_a_point_at_sea_is_in_no_region():
    areas = admin_areas_at(MEDITERRANEAN)
    assert (areas.region, areas.district, areas.admin1, areas.admin2) == (None, None, "", "")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("spelling", "region"),
    [
        # ACLED's admin1
        ("Deir-ez-Zor", "Deir ez-Zor"),
        ("Idleb", "Idlib"),
        ("Rural Damascus", "Rif Dimashq"),
        ("Al-Hasakeh", "Al-Hasakah"),
        ("Dar'a", "Daraa"),
        ("Ar-Raqqa", "Ar-Raqqah"),
        ("Quneitra", "Quneitra"),
        ("Tartous", "Tartus"),
        ("Lattakia", "Latakia"),
        ("Homs", "Homs"),
        ("Hama", "Hama"),
        ("Aleppo", "Aleppo"),
        ("As-Sweida", "As-Suwayda"),
        ("Damascus", "Damascus"),
        ("Ninewa", "Nineveh"),
        ("Anbar", "Al Anbar"),
        ("Salah al-Din", "Salah ad Din"),
        ("Kirkuk", "Kirkuk"),
        ("Diyala", "Diyala"),
        ("Baghdad", "Baghdad"),
        ("Babil", "Babil"),
        ("Basrah", "Basra"),
        ("Erbil", "Erbil"),
        ("Duhok", "Duhok"),
        ("Sulaymaniyah", "Sulaymaniyah"),
        ("Wassit", "Wasit"),
        ("Missan", "Maysan"),
        ("Thi-Qar", "Dhi Qar"),
        ("Muthanna", "Al Muthanna"),
        ("Qadissiya", "Al Qadisiyah"),
        ("Kerbala", "Karbala"),
        ("Najaf", "An Najaf"),
        # UCDP's adm_1
        ("Dayr az Zawr governorate", "Deir ez-Zor"),
        ("Şalāḩ ad Dīn province", "Salah ad Din"),
        # GeoNames', WOF's and Arabic
        ("Rif-dimashq", "Rif Dimashq"),
        ("Days Az Zawr", "Deir ez-Zor"),
        ("دير الزور", "Deir ez-Zor"),
        ("محافظة الأنبار", "Al Anbar"),
        ("ريف دمشق", "Rif Dimashq"),
    ],
)
def test_every_source_spelling_names_its_region(spelling, region):
    assert region_named(spelling).name == region


@pytest.mark.django_db
def test_a_spelling_that_names_no_region_gives_none():
    assert region_named("Atlantis") is None
    assert region_named("") is None


# --- incidents ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_saving_a_point_derives_admin1_admin2_whatever_was_typed():
    incident = IncidentFactory.build(location=DEIR_EZ_ZOR, admin1="Deir Ezzor province", admin2="", country="SY")
    services.incident_admin_areas_set(incident=incident)
    assert (incident.admin1, incident.admin2, incident.country) == ("Deir ez-Zor", "Deir-ez-Zor", "SY")


@pytest.mark.django_db
def test_a_region_only_incident_gets_its_region_but_no_district():
    incident = IncidentFactory.build(location=MOSUL, location_precision=LocationPrecision.REGION, admin2="Mosul")
    services.incident_admin_areas_set(incident=incident)
    assert (incident.admin1, incident.admin2, incident.country) == ("Nineveh", "", "IQ")


@pytest.mark.django_db
def test_a_point_at_sea_keeps_the_country_only():
    incident = IncidentFactory.build(location=MEDITERRANEAN, admin1="Tartus", admin2="Baniyas", country="SY")
    services.incident_admin_areas_set(incident=incident)
    assert (incident.admin1, incident.admin2, str(incident.country)) == ("", "", "SY")


@pytest.mark.django_db
def test_coding_to_a_candidate_uses_the_polygons():
    incident = IncidentFactory(location=None, admin1="", admin2="")
    candidate = {"latitude": 36.335, "longitude": 43.1189, "place_id": None, "name": "Mosul", "admin1": "Ninawa"}
    candidate |= {"admin2": "", "country": "IQ", "location_precision": LocationPrecision.EXACT}
    services.incident_code_to_candidate(incident=incident, candidate=candidate)
    incident.refresh_from_db()
    assert (incident.admin1, incident.admin2) == ("Nineveh", "Mosul")


MIGRATION = importlib.import_module("incidents.migrations.0008_incident_admin_areas")


@pytest.mark.django_db
def test_the_data_migration_maps_existing_admin1_and_keeps_what_it_cannot_match():
    by_point = IncidentFactory(location=IDLIB, admin1="Idleb", admin2="")
    by_name = IncidentFactory(location=None, admin1="Dayr az Zawr governorate", admin2="", country="SY")
    by_name_and_district = IncidentFactory(location=None, admin1="Ninewa", admin2="Mosul", country="IQ")
    at_sea = IncidentFactory(location=MEDITERRANEAN, admin1="Lattakia", admin2="Jableh", country="SY")
    unknown = IncidentFactory(location=None, admin1="Eastern desert", admin2="Wadi X", country="SY")
    abroad = IncidentFactory(location=Point(32.86, 39.93, srid=4326), admin1="Ankara", admin2="Cankaya", country="TR")
    region_only = IncidentFactory(location=PALMYRA, location_precision=3, admin1="Homs", admin2="")
    before = Incident.history.count()

    MIGRATION.incidents_admin_areas(apps, schema_editor=None)

    def admin(incident):
        incident.refresh_from_db()
        return incident.admin1, incident.admin2

    assert admin(by_point) == ("Idlib", "Idleb")
    assert admin(by_name) == ("Deir ez-Zor", "")
    assert admin(by_name_and_district) == ("Nineveh", "Mosul")
    assert admin(at_sea) == ("Latakia", "Jableh")  # the name is known; the typed district is kept as is
    assert admin(unknown) == ("Eastern desert", "Wadi X")  # nothing matched: kept, not blanked
    assert admin(abroad) == ("Ankara", "Cankaya")  # no polygons for Turkey
    assert admin(region_only) == ("Homs", "")
    assert Incident.history.count() == before  # the vocabulary changed, not the records: no history rows


@pytest.mark.django_db
def test_seeds_carry_the_region_names_of_their_points():
    actors_load()
    incidents_load()
    for incident in Incident.objects.exclude(location=None):
        areas = admin_areas_at(incident.location)
        assert incident.admin1 == areas.admin1, incident.title
    assert set(Incident.objects.values_list("admin1", flat=True)) >= {"Damascus", "Homs"}


# --- the public side: one vocabulary, shown in Arabic on /ar/ -------------------------------------------------


@pytest.mark.django_db
def test_map_filter_offers_regions_with_published_incidents_only():
    Incident.objects.all().delete()
    IncidentFactory(published=True, location=PALMYRA, admin1="Homs")
    IncidentFactory(published=True, location=Point(32.86, 39.93, srid=4326), admin1="Ankara", country="TR")
    IncidentFactory(location=MOSUL, admin1="Nineveh", country="IQ")  # a draft: its region is not offered
    with translation.override("en"):
        assert map_feed.map_filter_choices()["admin1_choices"] == [("Ankara", "Ankara"), ("Homs", "Homs")]
    with translation.override("ar"):
        assert map_feed.map_filter_choices()["admin1_choices"] == [("Ankara", "Ankara"), ("Homs", "حمص")]


@pytest.mark.django_db
def test_arabic_pages_show_the_arabic_region_names(client):
    Incident.objects.all().delete()
    incident = IncidentFactory(published=True, location=PALMYRA, admin1="Homs", place_reported="north of Palmyra")
    IncidentFactory(published=True, location=DEIR_EZ_ZOR, admin1="Deir ez-Zor")

    home = client.get("/ar/").content.decode()
    assert '<option value="Homs">حمص</option>' in home
    assert '<option value="Deir ez-Zor">دير الزور</option>' in home
    assert '<option value="Homs">Homs</option>' in client.get("/").content.decode()

    detail_url = reverse("incidents:detail", args=[incident.pk])
    assert "<bdi>حمص</bdi>" in client.get(f"/ar{detail_url}").content.decode()
    assert "<bdi>Homs</bdi>" in client.get(detail_url).content.decode()
    popup = client.get(f"/ar{reverse('incidents:detail-json', args=[incident.pk])}").json()
    assert popup["region"].startswith("حمص")
    # Downloads keep the English name: one column value whatever the visitor's language.
    csv = b"".join(client.get("/api/incidents.csv", HTTP_ACCEPT_LANGUAGE="ar").streaming_content).decode()
    assert csv.count(",Homs,") == 1 and "حمص" not in csv


@pytest.mark.django_db
def test_an_online_answer_is_kept_as_a_place_once_when_an_editor_saves_it():
    before = Place.objects.count()
    point = Point(38.6517, 33.4954, srid=4326)
    kept = place_remember(name="Al-Tanf", query="al-Tanf garrison", point=point, provider="nominatim", country="SY")
    again = place_remember(name="Al-Tanf", query="al-Tanf  garrison", point=point, provider="nominatim", country="SY")
    assert kept.pk == again.pk and Place.objects.count() == before + 1
    assert (kept.source, kept.kind, kept.alternate_names) == (
        "nominatim:al tanf garrison",
        "other",
        ["al-Tanf garrison"],
    )
    assert place_remember(name="Nowhere", query="x", point=point, provider="nominatim", country="") is None


@pytest.mark.django_db
def test_admin_lists_regions_found_by_any_spelling(client, superuser):
    client.force_login(superuser)
    page = client.get(reverse("admin:places_region_changelist"), {"q": "Dayr az Zawr governorate"}).content.decode()
    assert "دير الزور" in page and "Aleppo" not in page
    region = Region.objects.get(name="Homs")
    assert client.get(reverse("admin:places_region_change", args=[region.pk])).status_code == 200
    assert client.get(reverse("admin:places_district_changelist"), {"q": "Tadmor"}).status_code == 200
