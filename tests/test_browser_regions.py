# ruff: noqa: F811 -- the map fixtures are imported from tests/test_browser_map.py and named as arguments
"""The map's region view and the trends in a real Chromium: shaded areas whose numbers add up to the point view's,
a legend stating its classes, a table reachable by keyboard, no axe-core violation, in English and Arabic, on a
desktop and a phone. Each step leaves a screenshot."""

import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.contrib.gis.geos import Point
from django.db import transaction
from playwright.sync_api import expect

from incidents.models import EventType
from places.loaders import admin_areas_load
from places.models import District, Region
from places.regions import admin_areas_at
from tests.factories import incidents_bulk_create
from tests.test_browser_a11y import SIZES, axe_violations
from tests.test_browser_map import map_page, orm_beside_playwright, screenshot  # noqa: F401 -- fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Aleppo city (Jebel Saman district) twelve times, Homs, Hama, Deir ez-Zor and Raqqa fewer, and one at sea.
PLACES = [(37.16, 36.20)] * 12 + [(36.72, 34.73)] * 6 + [(36.75, 35.13)] * 3 + [(40.14, 35.33)] * 2 + [(39.0, 35.95)]


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "bypass_csp": True}  # axe-core is injected by the test (tests/test_browser_a11y.py)


@pytest.fixture
def by_region(transactional_db):
    if not EventType.objects.exists():  # a transactional test before this one flushed the migrations' rows
        importlib.import_module("incidents.migrations.0002_acled_taxonomy").add_taxonomy(django_apps, None)
    if not Region.objects.exists():  # the same for the governorates and districts
        admin_areas_load(region_model=Region, district_model=District)
    rows = []
    for number, (lon, lat) in enumerate(PLACES):
        areas = admin_areas_at(Point(lon, lat, srid=4326))
        rows.append(
            {
                "location": Point(lon + number / 1000, lat, srid=4326),
                "admin1": areas.admin1,
                "admin2": areas.admin2,
                "fatalities_best": number % 5,
                "title": f"Regional incident {number}",
            }
        )
    with transaction.atomic():
        incidents_bulk_create(rows)
        incidents_bulk_create([{"location": Point(37.17, 36.21, srid=4326), "admin1": "Aleppo"}], published=False)


def western(text):
    """Arabic pages write numbers in Arabic-Indic digits (Intl.NumberFormat("ar")): the same numbers in 0-9."""
    return text.strip().translate(str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789"))


def show_regions(page):
    page.locator("label", has=page.locator("#region-toggle")).click()
    expect(page.locator("#region-view")).to_be_visible()
    expect(page.locator("#region-view")).to_have_attribute("data-total", re.compile(r"\d+"))
    expect(page.locator(".leaflet-regions-pane path").first).to_be_attached()


@pytest.mark.parametrize("prefix", ["", "/ar"])
def test_region_view_adds_up_states_its_classes_and_is_reachable_by_keyboard(map_page, by_region, page, prefix):
    page = map_page(f"{prefix}/?at=6/35.0000/39.0000")
    total = int(page.locator("#summary").get_attribute("data-total"))
    assert total == len(PLACES)
    show_regions(page)
    region_view = page.locator("#region-view")
    # The areas' numbers add up to what the point view counts, the draft left out.
    expect(region_view).to_have_attribute("data-total", str(total))
    expect(region_view).to_have_attribute("data-region-sum", str(total))
    expect(page.locator("#incident-map .incident-cluster, #incident-map .incident-marker")).to_have_count(0)
    # Governorates of Syria and Iraq drawn; the legend says what its classes are, with the numbers.
    assert page.locator(".leaflet-regions-pane path").count() >= 14
    legend = page.locator("#region-legend")
    expect(legend.locator("li")).not_to_have_count(0)
    expect(legend.locator("li")).to_have_count(6)
    classes = [western(text) for text in legend.locator("li").all_inner_texts()]
    assert classes == ["0", "1", "2", "3", "4–6", "7–12"]  # quantiles of the areas' 1, 2, 3, 6 and 12
    expect(legend.locator("p")).to_contain_text("quantile" if not prefix else "كمّية")
    rows = page.locator("#region-rows tr")
    expect(rows).to_have_count(5)  # four governorates and the incident with no region
    expect(rows.first.locator("th button")).to_have_text("Aleppo" if not prefix else "حلب")
    assert western(rows.first.locator("td").first.inner_text()) == "12"
    screenshot(page, f"regions-governorates{'-ar' if prefix else ''}")

    # Keyboard: Tab from the shading choice reaches the table's first area, Enter zooms the map to it.
    page.locator("#region-measure").focus()
    for _ in range(4):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('#region-rows') !== null"):
            break
    assert page.evaluate("document.activeElement.textContent") in ("Aleppo", "حلب")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"at=(7|8|9)/36\.2"))
    assert axe_violations(page) == []

    # The region view is in the address bar: a link to it opens it, here zoomed in to districts, still adding up.
    assert "show=regions" in page.url
    page.goto(page.url.replace(re.search(r"at=[^&]+", page.url).group(0), "at=9/36.2000/37.1600"))
    expect(region_view).to_be_visible()
    expect(region_view).to_have_attribute("data-level", "admin2")
    expect(page.locator(".leaflet-regions-pane path").first).to_be_attached()
    expect(page.locator("#region-rows tr").first.locator("th")).to_contain_text(re.compile("Jebel Saman|جبل سمعان"))
    expect(region_view).to_have_attribute("data-region-sum", str(total))
    screenshot(page, f"regions-districts{'-ar' if prefix else ''}")


def test_a_governorates_page_shows_its_trends(map_page, by_region, page):
    page = map_page("/?at=6/35.0000/39.0000&show=regions")
    page.locator("#region-rows a.region-page").first.click()
    expect(page.locator("h1")).to_have_text("Aleppo")
    expect(page.locator("#main")).to_contain_text("12 published incidents in this governorate")
    chart = page.locator("#trends .trend svg[role=img]")
    expect(chart).to_have_count(1)
    expect(chart).to_have_attribute("aria-label", re.compile(r"Battles: 12 incidents"))
    screenshot(page, "region-page")
    assert axe_violations(page) == []


def test_trends_draw_a_chart_and_a_table_per_event_type(map_page, by_region, page):
    page = map_page("/?at=6/35.0000/39.0000")
    page.locator("#trends summary").click()
    charts = page.locator("#trends .trend")
    expect(charts).to_have_count(1)  # every incident here is a battle
    expect(charts.first.locator("svg[role=img]")).to_have_attribute("aria-label", re.compile(r"24 incidents"))
    page.locator("#trends [name=trends_by]").select_option("actor")
    expect(page.locator("#trends .trend-none")).to_be_visible()  # no actor named: nothing to draw
    csv_link = page.locator("#trends .trends-csv")
    expect(csv_link).to_have_attribute("href", re.compile(r"/api/trends\.csv\?.*by=actor"))
    screenshot(page, "trends")
    assert axe_violations(page) == []


def test_region_view_on_a_phone(map_page, by_region, page):
    page.set_viewport_size(SIZES["phone"])
    page = map_page("/ar/?at=6/35.0000/39.0000")
    page.locator(".panel-toggle").click()
    show_regions(page)
    expect(page.locator("#region-view")).to_have_attribute("data-region-sum", str(len(PLACES)))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= SIZES["phone"]["width"]  # nothing runs off the side of the phone
    screenshot(page, "regions-phone-ar")
    assert axe_violations(page) == []
