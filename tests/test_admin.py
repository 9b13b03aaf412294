import json
import re

import pytest
from django.urls import reverse

from incidents.models import EventType, Incident, Source, Status, SubEventType
from tests.factories import ActorFactory, IncidentFactory, SourceFactory

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:incidents_incident_add")


def incident_form(**overrides):
    """The POST an editor's browser sends from the admin's add page, inlines included."""
    battles = EventType.objects.get(name="Battles")
    data = {
        "title": "Clash north of Palmyra",
        "description": "",
        "event_type": battles.pk,
        "sub_event_type": SubEventType.objects.get(event_type=battles, name="Armed clash").pk,
        "start_date": "2019-04-18",
        "end_date": "2019-04-20",
        "date_precision": 1,
        "time_of_day": "",
        "place_reported": "desert north of Palmyra",
        "location": json.dumps({"type": "Point", "coordinates": [38.2673, 34.556]}),
        "latitude": "",
        "longitude": "",
        "place_name": "Palmyra",
        "location_precision": 2,
        "admin1": "Homs",
        "admin2": "",
        "country": "SY",
        "fatalities_low": "35",
        "fatalities_best": "35",
        "fatalities_high": "",
        "notable_casualties": "four senior army officers",
        "external_id": "",
        "incident_actors-TOTAL_FORMS": "0",
        "incident_actors-INITIAL_FORMS": "0",
        "incident_sources-TOTAL_FORMS": "0",
        "incident_sources-INITIAL_FORMS": "0",
        "media-TOTAL_FORMS": "0",
        "media-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_add_page_has_the_leaflet_map_and_typed_coordinates(client, editor):
    client.force_login(editor)
    page = client.get(ADD_URL).content.decode()
    assert 'id="id_location"' in page
    assert "leaflet" in page
    assert 'name="latitude"' in page and 'name="longitude"' in page
    assert 'name="incident_actors-TOTAL_FORMS"' in page and 'name="incident_sources-TOTAL_FORMS"' in page


def test_editor_adds_a_draft_with_a_point_from_the_map(client, editor):
    client.force_login(editor)
    actor = ActorFactory(name="Islamic State")
    source = SourceFactory()
    response = client.post(
        ADD_URL,
        incident_form(
            **{
                "incident_actors-TOTAL_FORMS": "1",
                "incident_actors-0-actor": actor.pk,
                "incident_actors-0-side": "a",
                "incident_sources-TOTAL_FORMS": "1",
                "incident_sources-0-source": source.pk,
                "incident_sources-0-original_reporter": "SOHR",
            }
        ),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    incident = Incident.objects.get(title="Clash north of Palmyra")
    assert (round(incident.location.x, 4), round(incident.location.y, 4)) == (38.2673, 34.556)
    assert incident.location.srid == 4326
    assert incident.status == Status.DRAFT
    assert incident.created_by == editor
    assert [(role.actor.name, role.side) for role in incident.incident_actors.all()] == [("Islamic State", "a")]
    assert incident.incident_sources.get().original_reporter == "SOHR"
    assert incident.history.first().history_user == editor


def test_typed_coordinates_set_the_point(client, editor):
    client.force_login(editor)
    response = client.post(ADD_URL, incident_form(location="", latitude="35.3359", longitude="40.1408"))
    assert response.status_code == 302
    point = Incident.objects.get().location
    assert (point.x, point.y) == (40.1408, 35.3359)


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"latitude": "95", "longitude": "38"}, "latitude", "Latitude must be between −90 and 90"),
        ({"latitude": "34", "longitude": "-200"}, "longitude", "Longitude must be between −180 and 180"),
        ({"latitude": "34", "longitude": ""}, "longitude", "Give both latitude and longitude"),
        (
            {"location": json.dumps({"type": "Point", "coordinates": [38.2, 95.0]})},
            "location",
            "Latitude must be within ±90",
        ),
        ({"start_date": "2019-04-20", "end_date": "2019-04-18"}, "end_date", "cannot be before the start date"),
        (
            {"fatalities_low": "10", "fatalities_best": "5"},
            "fatalities_best",
            "The low fatality estimate cannot exceed the best estimate.",
        ),
        (
            {"fatalities_low": "", "fatalities_best": "10", "fatalities_high": "5"},
            "fatalities_high",
            "The best fatality estimate cannot exceed the high estimate.",
        ),
        ({"start_date": "2019-02-30"}, "start_date", "Enter a valid date"),
        (
            {"sub_event_type": lambda: SubEventType.objects.get(name="Peaceful protest").pk},
            "sub_event_type",
            "is not a sub-type of",
        ),
    ],
)
def test_bad_input_gets_an_error_on_the_field_and_saves_nothing(client, editor, overrides, field, message):
    client.force_login(editor)
    overrides = {key: value() if callable(value) else value for key, value in overrides.items()}
    response = client.post(ADD_URL, incident_form(**overrides))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert message in response.content.decode()
    assert not Incident.objects.exists()


def test_javascript_source_url_is_refused_in_the_form(client, editor):
    client.force_login(editor)
    response = client.post(
        reverse("admin:incidents_source_add"),
        {"publisher": "Evil", "title": "Click me", "url": "javascript:alert(1)", "published_on": ""},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["url"] == [
        "Enter a web address starting with http:// or https://."
    ]
    assert not Source.objects.exists()


def test_publisher_cannot_remove_the_last_source_of_a_published_incident(client, publisher):
    client.force_login(publisher)
    incident = IncidentFactory(published=True)
    citation = incident.incident_sources.get()
    data = incident_form(
        **{
            "incident_sources-TOTAL_FORMS": "1",
            "incident_sources-INITIAL_FORMS": "1",
            "incident_sources-0-id": citation.pk,
            "incident_sources-0-incident": incident.pk,
            "incident_sources-0-source": citation.source_id,
            "incident_sources-0-DELETE": "on",
            "edit_version": incident.version,
        }
    )
    response = client.post(reverse("admin:incidents_incident_change", args=[incident.pk]), data)
    assert response.status_code == 200
    assert "must cite at least one source" in response.content.decode()
    assert incident.incident_sources.count() == 1


def test_changelist_filters_by_status_and_searches_aliases(client, editor):
    client.force_login(editor)
    IncidentFactory(title="A draft")
    IncidentFactory(title="Out there", published=True)
    url = reverse("admin:incidents_incident_changelist")
    page = client.get(url, {"status": "published"}).content.decode()
    assert "Out there" in page and "A draft" not in page
    islamic_state = ActorFactory(name="Islamic State", aliases=["Daesh"])
    page = client.get(reverse("admin:incidents_actor_changelist"), {"q": "daesh"}).content.decode()
    assert islamic_state.name in page


def test_change_history_is_visible_in_the_admin(client, editor):
    client.force_login(editor)
    client.post(ADD_URL, incident_form())
    incident = Incident.objects.get()
    client.post(
        reverse("admin:incidents_incident_change", args=[incident.pk]),
        incident_form(title="Retitled", edit_version=incident.version),
    )
    page = client.get(reverse("admin:incidents_incident_history", args=[incident.pk])).content.decode()
    assert page.count(editor.username) >= 2
    assert "Retitled" in page  # the change list names the new title


def test_every_inline_script_carries_the_csp_nonce(client, editor):
    """A strict Content-Security-Policy stays on: the map widget's inline script runs only with the nonce."""
    client.force_login(editor)
    response = client.get(ADD_URL)
    policy = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    inline_scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", response.content.decode())
    assert inline_scripts, "the leaflet widget should emit its set-up script"
    for attributes in inline_scripts:
        if "application/json" in attributes:
            continue  # json_script data, not code
        assert f'nonce="{nonce}"' in attributes
