# ruff: noqa: F811 -- the map fixtures are imported from tests/test_browser_map.py and named as arguments
"""A publisher's round trip on one incident's own admin page, in Chromium: preview the draft, publish it, see it on
the public site, retract it with a reason. Screenshots of each page in test-artifacts/."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.db import transaction
from playwright.sync_api import expect

from incidents.models import Incident, Status
from tests.factories import IncidentFactory, SourceFactory, UserFactory
from tests.test_browser_map import incidents, orm_beside_playwright, screenshot  # noqa: F401 -- fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def groups(transactional_db):
    """The Editors and Publishers groups: an earlier transactional test's flush took the migration's."""
    if not Group.objects.filter(name="Publishers").exists():
        importlib.import_module("incidents.migrations.0003_editorial_groups").add_groups(django_apps, None)


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.locator("input[type=submit]").click()


def test_publisher_previews_publishes_and_retracts_from_the_incident_page(page, live_server, incidents, groups):
    UserFactory(username="pub", group="Publishers")
    with transaction.atomic():
        draft = IncidentFactory(title="Clash at the Tishrin dam", sources=[SourceFactory()])
    sign_in(page, live_server, "pub")
    change = f"{live_server.url}/admin/incidents/incident/{draft.pk}/change/"
    page.goto(change)
    screenshot(page, "editor-change-draft")

    # "View on site" of a draft opens the staff preview, not a 404.
    page.get_by_role("link", name="View on site").click()
    expect(page).to_have_url(f"{live_server.url}/admin/incidents/incident/{draft.pk}/preview/")
    expect(page.locator(".preview-notice")).to_contain_text("Preview for editors")
    expect(page.locator("h1")).to_have_text("Clash at the Tishrin dam")
    screenshot(page, "editor-preview-draft")
    page.get_by_role("link", name="Back to editing").click()
    assert page.request.get(f"{live_server.url}/incidents/{draft.pk}/").status == 404  # still not public

    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".messagelist")).to_contain_text("“Clash at the Tishrin dam” is published.")
    assert Incident.objects.get(pk=draft.pk).status == Status.PUBLISHED
    assert page.request.get(f"{live_server.url}/incidents/{draft.pk}/").status == 200
    screenshot(page, "editor-published")

    page.get_by_role("link", name="Retract…").click()
    page.get_by_label("Reason for retraction").fill("Double-counted with the report of 12 May")
    page.get_by_role("button", name="Retract").click()
    expect(page).to_have_url(change)
    expect(page.locator(".messagelist")).to_contain_text("is retracted")
    incident = Incident.objects.get(pk=draft.pk)
    assert (incident.status, incident.retraction_reason) == (
        Status.RETRACTED,
        "Double-counted with the report of 12 May",
    )
    assert page.request.get(f"{live_server.url}/incidents/{draft.pk}/").status == 404
    screenshot(page, "editor-retracted")


def test_editor_sees_preview_but_no_publishing_buttons(page, live_server, incidents, groups):
    UserFactory(username="ed", group="Editors")
    with transaction.atomic():
        draft = IncidentFactory(title="Draft for an editor")
    sign_in(page, live_server, "ed")
    page.goto(f"{live_server.url}/admin/incidents/incident/{draft.pk}/change/")
    expect(page.get_by_role("link", name="Preview")).to_be_visible()
    expect(page.get_by_role("button", name="Publish")).to_have_count(0)
    expect(page.get_by_role("link", name="Retract…")).to_have_count(0)
    screenshot(page, "editor-change-as-editor")
