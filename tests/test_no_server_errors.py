"""No input gives a 500: the map feeds and the other filtered outputs at the calendar's extremes, and the editors'
add form with crafted values in every related-object field (the incident's and its inlines')."""

import datetime

import pytest
from django import forms
from django.contrib import admin
from django.test import RequestFactory
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from incidents.models import Incident
from tests.test_admin import ADD_URL, incident_form

pytestmark = pytest.mark.django_db


FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
)
DATED = [
    "/map/incidents.json",
    "/map/list.json",
    "/ar/map/incidents.json",
    "/api/timeline",
    "/api/incidents.geojson",
    "/api/incidents.csv",
    "/ogcapi/collections/incidents/items",
]


@pytest.mark.parametrize("path", DATED)
def test_any_dates_get_an_answer_or_a_400_naming_them(client, export_incidents, path):
    @FUZZ
    @given(start=st.none() | st.dates(), end=st.none() | st.dates())
    @example(start=None, end=datetime.date.max)
    @example(start=datetime.date.min, end=datetime.date.max)
    @example(start=datetime.date.max, end=None)
    @example(start=datetime.date(9999, 12, 1), end=datetime.date(9999, 12, 31))
    @example(start=datetime.date.min, end=datetime.date.min)
    def answers(start, end):
        query = {name: day.isoformat() for name, day in (("start", start), ("end", end)) if day}
        response = client.get(path, query)
        if start and end and end < start:
            assert response.status_code == 400, (query, response.content[:300])
            assert b"end" in response.content
        else:
            assert response.status_code == 200, (query, response.content[:300])

    answers()


def test_an_end_far_in_the_future_finds_what_no_end_finds(client, export_incidents):
    for path in ("/map/incidents.json", "/map/list.json"):
        assert client.get(path, {"end": "9999-12-31"}).json()["total"] == client.get(path).json()["total"] == 3


CRAFTED = ["abc", "-1", "0", "1.5", "99999999999999999999", "１", "1 OR 1=1", "\u202e7", "\x00"]


def related_fields(editor):
    """Every related-object field of the add form and its inlines, by the name the browser posts."""
    model_admin = admin.site._registry[Incident]
    request = RequestFactory().get(ADD_URL)
    request.user = editor
    names = [
        name
        for name, field in model_admin.get_form(request)().fields.items()
        if isinstance(field, forms.ModelChoiceField)
    ]
    for formset_class, _inline in model_admin.get_formsets_with_inlines(request):
        prefix = formset_class.get_default_prefix()
        names += [
            f"{prefix}-0-{name}"
            for name, field in formset_class.form.base_fields.items()
            if isinstance(field, forms.ModelChoiceField)
        ]
    return names


def test_crafted_related_values_on_the_add_form_get_a_form_error(client, editor):
    client.force_login(editor)
    names = related_fields(editor)
    assert {"event_type", "sub_event_type", "incident_actors-0-actor", "incident_sources-0-source"} <= set(names)
    for name in names:
        for value in CRAFTED:
            inlines = {"incident_actors-TOTAL_FORMS": "1", "incident_sources-TOTAL_FORMS": "1"}
            response = client.post(ADD_URL, incident_form(**inlines, **{name: value}))
            # A form error, or (for "１", which Python reads as 1) a saved draft: never a 500.
            assert response.status_code in (200, 302), (name, value, response.status_code)
            if response.status_code == 200:
                assert "errornote" in response.content.decode(), (name, value)
