"""Incident text in both languages, in a real Chromium: the map's list, popups and the incident page show Arabic on
/ar/ and English on /, an English-only incident shows English marked as the original on /ar/, and a draft's text
appears nowhere. Each test leaves a screenshot."""

import datetime
import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib.gis.geos import Point
from django.db import transaction
from playwright.sync_api import expect

from incidents.models import EventType
from places.models import Place
from tests.factories import ActorFactory, IncidentFactory
from tests.test_browser_map import (  # noqa: F401 -- orm_beside_playwright: that module's fixture, used here too
    RECORD_CSP_VIOLATIONS,
    ROWS,
    assert_nothing_ran,
    orm_beside_playwright,
    screenshot,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

MAARAT_AR = "قصف مدفعي على معرة النعمان"
DRAFT_AR = "مسودة لا يراها أحد"
ENGLISH_MARK_AR = "الأصل بالإنجليزية"


@pytest.fixture
def bilingual(transactional_db):
    if not EventType.objects.exists():
        importlib.import_module("incidents.migrations.0002_acled_taxonomy").add_taxonomy(django_apps, None)
    maarat = Place.objects.create(
        name="Maarat al-Numan",
        alternate_names=["مەعەڕە", "معرة النعمان"],
        point=Point(36.68, 35.64, srid=4326),
        admin1="Idlib",
        country="SY",
    )
    with transaction.atomic():
        both = IncidentFactory(
            published=True,
            title="Shelling of Maarat al-Numan",
            title_ar=MAARAT_AR,
            description="Artillery hit the market.",
            description_ar="أصابت المدفعية السوق.",
            start_date=datetime.date(2019, 4, 19),
            location=Point(36.68, 35.64, srid=4326),
            place=maarat,
            place_name="Maarat al-Numan",
            place_reported="Maarat al-Numan",
            admin1="Idlib",
            actors=[(ActorFactory(name="Syrian Arab Army", aliases=["SAA", "الجيش العربي السوري"]), "a")],
        )
    with transaction.atomic():
        english = IncidentFactory(
            published=True,
            title="Airstrike on Khan Shaykhun",
            start_date=datetime.date(2019, 4, 18),
            location=Point(36.65, 35.44, srid=4326),
        )
    IncidentFactory(title="Unpublished draft", title_ar=DRAFT_AR, location=Point(36.6, 35.5, srid=4326))
    return {"both": both, "english": english}


@pytest.fixture(autouse=True)
def requests_answered(page):
    """The map asks the live server for the view again after a row is clicked: let those answers arrive before the
    test ends, or the flush that follows a transactional test can deadlock with a query still running."""
    yield
    if not page.is_closed():
        page.wait_for_load_state("networkidle")


def open_map(page, live_server, path):
    page.goto(live_server.url + path)
    expect(page.locator(ROWS)).to_have_count(2)
    return page


def test_arabic_map_shows_arabic_titles_places_and_marks_english_originals(page, live_server, bilingual):
    open_map(page, live_server, "/ar/")
    rows = page.locator("#incident-rows")
    both_row = rows.locator(f'tr[data-id="{bilingual["both"].pk}"]')
    expect(both_row.locator(".row-link")).to_have_text(MAARAT_AR)
    expect(both_row.locator(".row-link")).to_have_attribute("lang", "ar")
    expect(both_row).to_contain_text("معرة النعمان")
    expect(both_row.locator(".original-mark")).to_have_count(0)
    english_row = rows.locator(f'tr[data-id="{bilingual["english"].pk}"]')
    expect(english_row.locator(".row-link")).to_have_text("Airstrike on Khan Shaykhun")
    expect(english_row.locator(".row-link")).to_have_attribute("lang", "en")
    expect(english_row.locator(".original-mark")).to_have_text(ENGLISH_MARK_AR)
    expect(rows).not_to_contain_text(DRAFT_AR)

    both_row.locator(".row-link").click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup.locator("h3")).to_have_text(MAARAT_AR)
    expect(popup).to_contain_text("معرة النعمان")
    expect(popup).to_contain_text("الجيش العربي السوري")
    where = popup.locator(".popup-where")
    expect(where).to_contain_text("معرة النعمان — ")
    expect(where).to_contain_text("، ")  # region and country joined by the Arabic comma
    expect(where).not_to_contain_text(", ")
    screenshot(page, "bilingual-map-arabic-popup")

    english_row.locator(".row-link").click()
    # The first popup fades out while this one opens: take this one by its title.
    popup = page.locator(".leaflet-popup-content", has=page.locator("h3", has_text="Airstrike on Khan Shaykhun"))
    expect(popup.locator("h3")).to_have_attribute("lang", "en")
    expect(popup.locator(".original-mark")).to_have_text(ENGLISH_MARK_AR)
    screenshot(page, "bilingual-map-arabic-english-original")


def test_english_map_shows_english_titles(page, live_server, bilingual):
    open_map(page, live_server, "/")
    rows = page.locator("#incident-rows")
    expect(rows.locator(f'tr[data-id="{bilingual["both"].pk}"] .row-link')).to_have_text("Shelling of Maarat al-Numan")
    expect(rows.locator(".original-mark")).to_have_count(0)
    expect(rows).not_to_contain_text(MAARAT_AR)
    rows.locator(".row-link", has_text="Shelling").click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup.locator("h3")).to_have_text("Shelling of Maarat al-Numan")
    expect(popup).to_contain_text("Maarat al-Numan — Idlib, Syria")
    screenshot(page, "bilingual-map-english-popup")


def test_incident_page_in_each_language(page, live_server, bilingual):
    both, english = bilingual["both"], bilingual["english"]
    page.goto(f"{live_server.url}/ar/incidents/{both.pk}/")
    expect(page.locator("h1")).to_have_text(MAARAT_AR)
    expect(page.locator(".incident-facts")).to_contain_text("أصابت المدفعية السوق.")
    expect(page.locator(".incident-facts")).to_contain_text("معرة النعمان")
    expect(page.locator(".original-mark")).to_have_count(0)
    screenshot(page, "bilingual-incident-arabic")
    page.goto(f"{live_server.url}/incidents/{both.pk}/")
    expect(page.locator("h1")).to_have_text("Shelling of Maarat al-Numan")
    expect(page.locator(".incident-facts")).to_contain_text("Artillery hit the market.")
    page.goto(f"{live_server.url}/ar/incidents/{english.pk}/")
    expect(page.locator("h1")).to_have_text("Airstrike on Khan Shaykhun")
    expect(page.locator(".original-mark")).to_have_text(ENGLISH_MARK_AR)
    screenshot(page, "bilingual-incident-english-original")


def test_arabic_text_with_html_shows_as_text_and_runs_nothing(page, live_server, bilingual):
    hostile_title = '<img src=x onerror=window.__xss="title_ar">عنوان'
    hostile_description = '<img src=x onerror=window.__xss="description_ar">وصف'
    with transaction.atomic():
        hostile = IncidentFactory(
            published=True,
            title="",
            title_ar=hostile_title,
            description_ar=hostile_description,
            original_language="ar",
            start_date=datetime.date(2019, 4, 20),
            location=Point(36.7, 35.6, srid=4326),
        )
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    page.goto(live_server.url + "/ar/")
    row = page.locator(f'#incident-rows tr[data-id="{hostile.pk}"] .row-link')
    expect(row).to_have_text(hostile_title)
    row.click()
    expect(page.locator(".leaflet-popup-content h3")).to_have_text(hostile_title)
    assert_nothing_ran(page)
    page.goto(f"{live_server.url}/incidents/{hostile.pk}/")  # the English page shows the Arabic original, marked
    expect(page.locator("h1")).to_have_text(hostile_title)
    expect(page.locator(".original-mark").first).to_have_text("Arabic original")
    expect(page.locator(".incident-facts")).to_contain_text(hostile_description)
    assert_nothing_ran(page)
    screenshot(page, "bilingual-incident-escaped")
