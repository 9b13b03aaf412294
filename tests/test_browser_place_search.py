"""The admin's place search in a real Chromium: same-named villages are offered side by side with their region and
district, marked as sharing the name, and the editor is told to choose."""

import os

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from playwright.sync_api import expect

from places.models import Place

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(scope="module", autouse=True)
def orm_beside_playwright():
    """As in test_browser_map: ORM calls in fixtures while Playwright's loop runs in this thread."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def namesakes(transactional_db):
    for admin1, admin2, longitude, latitude in [("Idlib", "Ariha", 36.60, 35.80), ("Hama", "Masyaf", 36.34, 35.06)]:
        Place.objects.create(
            name="Tall Zaytunah Kabirah",
            point=Point(longitude, latitude, srid=4326),
            admin1=admin1,
            admin2=admin2,
            country="SY",
        )


def test_suggestions_show_region_and_district_of_same_named_villages(page, live_server, namesakes):
    User.objects.create_superuser("chief", "chief@example.org", "pw")
    page.goto(live_server.url + "/admin/login/?next=/admin/incidents/incident/add/")
    page.fill("#id_username", "chief")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    search = page.locator("#id_place_search")
    # The widget starts on django-leaflet's map:init; typing before that would be typed into a box not yet wired.
    expect(page.locator("#id_place_search-listbox")).to_be_attached()
    search.fill("Tel Zeitouneh Kabireh")  # another spelling: found by transliteration
    options = page.locator("[role=option]")
    expect(options).to_have_count(2)
    texts = sorted(options.all_inner_texts())
    assert "Ariha, Idlib, SY" in texts[0] and "same name" in texts[0]
    assert "Masyaf, Hama, SY" in texts[1] and "same name" in texts[1]
    expect(page.get_by_text("Several places have this name: choose by region and district.")).to_be_visible()
    options.filter(has_text="Masyaf").click()
    expect(page.locator("#id_admin1")).to_have_value("Hama")
    expect(page.locator("#id_admin2")).to_have_value("Masyaf")
