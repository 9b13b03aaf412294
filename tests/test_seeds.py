import datetime

import pytest
from django.contrib.gis.geos import Point
from django.contrib.gis.measure import D
from django.core.management import call_command

from incidents.models import Actor, Incident, IncidentActor, IncidentSource, LocationPrecision, Source, Status

pytestmark = pytest.mark.django_db

# Where the real places are (GeoNames), to check the seeds' points against.
PALMYRA = Point(38.2684, 34.5503, srid=4326)
DEIR_EZZOR = Point(40.1408, 35.3359, srid=4326)
ALEPPO = Point(37.1612, 36.2012, srid=4326)
DAMASCUS = Point(36.2765, 33.5102, srid=4326)


@pytest.fixture
def seeded(db):
    call_command("load_seeds", stdout=open("/dev/null", "w"))


def snapshot():
    return {
        model.__name__: sorted(model.objects.values_list("pk", flat=True))
        for model in [Incident, Actor, Source, IncidentActor, IncidentSource]
    } | {"history": Incident.history.count()}


def test_load_seeds_twice_leaves_the_same_rows(seeded):
    first = snapshot()
    call_command("load_seeds", stdout=open("/dev/null", "w"))
    assert snapshot() == first
    assert len(first["Incident"]) == 4


@pytest.mark.parametrize(
    "external_id, place, km",
    [
        ("seed-2019-04-18-palmyra", PALMYRA, 3),
        ("seed-2019-04-18-deir-ezzor", DEIR_EZZOR, 5),
        ("seed-2019-04-20-aleppo", ALEPPO, 5),
        ("seed-2019-04-20-damascus", DAMASCUS, 5),
    ],
)
def test_seed_points_are_at_the_real_places(seeded, external_id, place, km):
    assert Incident.objects.filter(external_id=external_id, location__distance_lte=(place, D(km=km))).exists()


def test_palmyra_desert_assault_as_reported(seeded):
    incident = Incident.objects.get(external_id="seed-2019-04-18-palmyra")
    assert (incident.start_date, incident.end_date) == (datetime.date(2019, 4, 18), datetime.date(2019, 4, 20))
    assert (incident.fatalities_low, incident.fatalities_best, incident.fatalities_high) == (35, 35, None)
    assert "four senior army officers" in incident.notable_casualties.lower()
    assert incident.location_precision == LocationPrecision.NEAR
    assert incident.admin1 == "Homs" and incident.country == "SY"
    assert "Palmyra" in incident.place_reported and "Homs" in incident.place_reported
    sides = {(role.actor.name, role.side, role.is_associated) for role in incident.incident_actors.all()}
    assert ("Islamic State", "a", False) in sides
    assert ("Syrian Arab Army", "b", False) in sides
    assert ("Pro-government militias (Syria)", "b", True) in sides
    citation = incident.incident_sources.get()
    assert citation.source.publisher.startswith("DW")
    assert citation.source.published_on == datetime.date(2019, 4, 20)
    assert "Observatory" in citation.original_reporter


def test_the_other_seed_incidents(seeded):
    deir_ezzor = Incident.objects.get(external_id="seed-2019-04-18-deir-ezzor")
    assert deir_ezzor.start_date == datetime.date(2019, 4, 18)
    assert deir_ezzor.location_precision == LocationPrecision.REGION
    assert deir_ezzor.fatalities_best is None

    aleppo = Incident.objects.get(external_id="seed-2019-04-20-aleppo")
    assert aleppo.start_date == datetime.date(2019, 4, 20)
    assert aleppo.fatalities_best == 13
    assert aleppo.incident_actors.get(side="a").actor.name == "Hay'at Tahrir al-Sham"

    damascus = Incident.objects.get(external_id="seed-2019-04-20-damascus")
    assert damascus.event_type.name == "Strategic developments"
    assert damascus.fatalities_best == 0
    assert {role.actor.name for role in damascus.incident_actors.all()} == {
        "Government of Russia",
        "Government of Syria",
    }


def test_seed_incidents_are_published_with_sources(seeded):
    assert Incident.objects.published().count() == 4
    assert not Incident.objects.filter(status=Status.PUBLISHED, incident_sources__isnull=True).exists()


def test_islamic_state_is_known_by_its_aliases(seeded):
    islamic_state = Actor.objects.get(name="Islamic State")
    assert {"IS", "ISIS", "ISIL", "Daesh"} <= set(islamic_state.aliases)
    assert islamic_state.kind == "jihadist_group"


def test_reloading_seeds_keeps_every_editorial_decision(seeded, publisher):
    """Seeds run on every `make run` and `make test`: what publishers decided since must survive them."""
    from incidents import services
    from tests.factories import SourceFactory

    retracted = Incident.objects.get(external_id="seed-2019-04-18-deir-ezzor")
    services.incident_retract(incident=retracted, reason="Duplicate of the Palmyra report", user=publisher)
    corrected = Incident.objects.get(external_id="seed-2019-04-18-palmyra")
    corrected.title = "IS assault north of Palmyra (corrected)"
    corrected.fatalities_best = 41
    corrected.save()
    added = SourceFactory(publisher="SANA", title="Army statement on Palmyra")
    IncidentSource.objects.create(incident=corrected, source=added, original_reporter="SANA")
    removed_role = corrected.incident_actors.get(actor__name="Pro-government militias (Syria)")
    removed_role.delete()
    islamic_state = Actor.objects.get(name="Islamic State")
    islamic_state.aliases = ["IS", "Daesh"]
    islamic_state.save()

    call_command("load_seeds", stdout=open("/dev/null", "w"))

    retracted.refresh_from_db()
    assert retracted.status == Status.RETRACTED
    assert retracted.retraction_reason == "Duplicate of the Palmyra report"
    corrected.refresh_from_db()
    assert (corrected.title, corrected.fatalities_best) == ("IS assault north of Palmyra (corrected)", 41)
    assert {citation.source.publisher for citation in corrected.incident_sources.all()} == {
        "DW (Deutsche Welle)",
        "SANA",
    }
    assert not corrected.incident_actors.filter(actor__name="Pro-government militias (Syria)").exists()
    islamic_state.refresh_from_db()
    assert islamic_state.aliases == ["IS", "Daesh"]
    assert Incident.objects.published().count() == 3


def test_seeds_recreate_what_is_missing(seeded):
    Incident.objects.filter(external_id="seed-2019-04-20-aleppo").delete()
    call_command("load_seeds", stdout=open("/dev/null", "w"))
    aleppo = Incident.objects.get(external_id="seed-2019-04-20-aleppo")
    assert aleppo.fatalities_best == 13
    assert aleppo.incident_sources.count() == 1
    assert Incident.objects.count() == 4


def test_a_renamed_seed_actor_that_keeps_its_old_name_as_alias_is_not_duplicated(seeded):
    islamic_state = Actor.objects.get(name="Islamic State")
    islamic_state.name = "Islamic State (IS)"
    islamic_state.aliases = [*islamic_state.aliases, "Islamic State"]
    islamic_state.save()
    Incident.objects.filter(external_id="seed-2019-04-18-palmyra").delete()
    call_command("load_seeds", stdout=open("/dev/null", "w"))
    assert not Actor.objects.filter(name="Islamic State").exists()
    palmyra = Incident.objects.get(external_id="seed-2019-04-18-palmyra")
    assert palmyra.incident_actors.get(side="a").actor == islamic_state
