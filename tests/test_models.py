import datetime

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from incidents.models import Actor, EventType, Incident, IncidentSource, Source, Status
from tests.factories import ActorFactory, IncidentFactory, SourceFactory

pytestmark = pytest.mark.django_db


def check_deferred_constraints():
    """pytest-django never commits, so deferred triggers are checked by hand."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.parametrize(
    "fields, constraint",
    [
        (
            {"start_date": datetime.date(2019, 4, 20), "end_date": datetime.date(2019, 4, 18)},
            "incident_end_after_start",
        ),
        ({"fatalities_low": 10, "fatalities_best": 5}, "incident_fatalities_low_le_best"),
        ({"fatalities_best": 10, "fatalities_high": 5}, "incident_fatalities_best_le_high"),
        ({"fatalities_low": 10, "fatalities_high": 5}, "incident_fatalities_low_le_high"),
        ({"location": Point(38.2, 95.0, srid=4326)}, "incident_location_in_range"),
        ({"location": Point(181.0, 34.0, srid=4326)}, "incident_location_in_range"),
        ({"status": Status.PUBLISHED, "location": None}, "incident_published_has_location"),
        ({"status": Status.RETRACTED, "retraction_reason": ""}, "incident_retracted_has_reason"),
    ],
)
def test_database_refuses_broken_invariants(fields, constraint):
    incident = IncidentFactory()
    Incident.objects.filter(pk=incident.pk).update(end_date=incident.start_date)
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        Incident.objects.filter(pk=incident.pk).update(**fields)


def test_database_refuses_a_published_incident_without_source():
    incident = IncidentFactory()
    with pytest.raises(IntegrityError, match="cites no source"), transaction.atomic():
        Incident.objects.filter(pk=incident.pk).update(status=Status.PUBLISHED)
        check_deferred_constraints()


def test_database_refuses_removing_the_last_source_of_a_published_incident():
    incident = IncidentFactory(published=True)
    with pytest.raises(IntegrityError, match="cites no source"), transaction.atomic():
        IncidentSource.objects.filter(incident=incident).delete()
        check_deferred_constraints()


def test_a_published_incident_may_lose_one_of_two_sources():
    incident = IncidentFactory(published=True, sources=[SourceFactory(), SourceFactory()])
    IncidentSource.objects.filter(incident=incident).first().delete()
    check_deferred_constraints()
    assert incident.incident_sources.count() == 1


def test_database_refuses_non_http_source_urls():
    with pytest.raises(IntegrityError, match="source_url_http"), transaction.atomic():
        Source.objects.create(publisher="X", title="Y", url="javascript:alert(1)")


def test_fatality_range_with_open_upper_bound_is_allowed():
    incident = IncidentFactory(fatalities_low=35, fatalities_best=35, fatalities_high=None)
    incident.refresh_from_db()
    assert (incident.fatalities_low, incident.fatalities_best, incident.fatalities_high) == (35, 35, None)


def test_end_date_defaults_to_start_date():
    incident = IncidentFactory(start_date=datetime.date(2019, 4, 20), end_date=None)
    incident.refresh_from_db()
    assert incident.end_date == datetime.date(2019, 4, 20)


def test_published_excludes_drafts_and_retractions():
    shown = IncidentFactory(published=True)
    IncidentFactory(status=Status.DRAFT)
    IncidentFactory(status=Status.RETRACTED, retraction_reason="Duplicate of another report")
    assert list(Incident.objects.published()) == [shown]


def test_between_keeps_incidents_overlapping_the_range():
    IncidentFactory(title="March", start_date=datetime.date(2019, 3, 30), end_date=datetime.date(2019, 3, 31))
    IncidentFactory(title="Spans into April", start_date=datetime.date(2019, 3, 30), end_date=datetime.date(2019, 4, 2))
    IncidentFactory(title="April", start_date=datetime.date(2019, 4, 18), end_date=datetime.date(2019, 4, 20))
    IncidentFactory(title="May", start_date=datetime.date(2019, 5, 1))
    april = Incident.objects.between(datetime.date(2019, 4, 1), datetime.date(2019, 4, 30))
    assert sorted(april.values_list("title", flat=True)) == ["April", "Spans into April"]


def test_actor_found_by_alias_in_any_case():
    islamic_state = ActorFactory(name="Islamic State", aliases=["IS", "ISIS", "ISIL", "Daesh"])
    ActorFactory(name="Syrian Arab Army", aliases=["SAA"])
    assert list(Actor.objects.matching("daesh")) == [islamic_state]
    assert list(Actor.objects.matching("Islamic")) == [islamic_state]


def test_changes_are_recorded_with_who_made_them(editor):
    incident = IncidentFactory()
    incident._history_user = editor
    incident.title = "Renamed"
    incident.save()
    latest = incident.history.first()
    assert latest.title == "Renamed"
    assert latest.history_user == editor
    assert incident.history.count() == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"start_date": datetime.date(2019, 4, 20), "end_date": datetime.date(2019, 4, 18)},
        {"fatalities_low": 10, "fatalities_best": 5},
        {"fatalities_best": 10, "fatalities_high": 5},
        {"fatalities_low": 10, "fatalities_high": 5},
        {"location": Point(200, 95, srid=4326)},
        {"status": Status.PUBLISHED, "location": None},
        {"status": Status.RETRACTED, "retraction_reason": ""},
    ],
)
def test_a_form_error_says_what_the_database_constraint_says(fields):
    """An editor reads the same sentence whether the form or PostgreSQL catches the mistake."""
    constraint_messages = {str(constraint.violation_error_message) for constraint in Incident._meta.constraints}
    incident = Incident(
        title="Checked",
        event_type=EventType.objects.get(name="Battles"),
        **{"start_date": datetime.date(2019, 4, 18), "location": Point(38.2, 34.5, srid=4326), **fields},
    )
    with pytest.raises(ValidationError) as error:
        incident.clean()
    assert error.value.messages
    assert set(error.value.messages) <= constraint_messages


def test_an_incident_inserted_in_sql_with_the_first_columns_only_gets_the_later_columns_defaults():
    # The benchmark generators and set-based loaders name only the columns they fill.
    event_type = EventType.objects.first()
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO incidents_incident (title, description, start_date, end_date, date_precision, location,
                   place_reported, place_name, admin1, admin2, country, location_precision, event_type_id,
                   notable_casualties, status, retraction_reason, is_demo, created_at, updated_at)
               VALUES ('Loaded in SQL', '', '2020-05-09', '2020-05-09', 1, ST_SetSRID(ST_MakePoint(38.27, 34.55), 4326),
                   'Palmyra', 'Palmyra', 'Homs', '', 'SY', 1, %s, '', 'draft', '', false, now(), now())
               RETURNING id""",
            [event_type.pk],
        )
        (pk,) = cursor.fetchone()
    incident = Incident.objects.get(pk=pk)
    assert (incident.version, incident.dataset, incident.event_id, incident.import_record) == (1, "", "", {})
    assert (incident.fatalities_as_published, incident.import_warnings) == (False, [])
