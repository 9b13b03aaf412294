# ruff: noqa: F811 -- the map fixtures are imported from tests/test_browser_map.py and named as arguments
"""The map page as a visitor sees it at 1366×768 and on a 390×844 phone, in English and Arabic: one selection behind
the summary, list, histogram and downloads; a legend, list, panel button and popups that cover nothing they should
not; a histogram that reads with one incident. Each test leaves screenshots in test-artifacts/."""

import datetime
import json
import re
from urllib.parse import urljoin

import pytest
from django.contrib.gis.geos import Point
from django.db import transaction
from playwright.sync_api import expect

from incidents.models import EventType
from tests.factories import IncidentFactory
from tests.test_browser_map import (  # noqa: F401 -- fixtures
    crowded_syria,
    incidents,
    map_page,
    orm_beside_playwright,
    screenshot,
    totals_agree,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def overlap(a, b):
    """Area in px² where two bounding boxes overlap (0 when apart or when either is not shown)."""
    if not a or not b:
        return 0
    width = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    height = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    return max(0, width) * max(0, height)


def histogram_total(page):
    page.wait_for_function("() => document.querySelector('#timeline-chart svg')?.dataset.total")
    return int(page.locator("#timeline-chart svg").get_attribute("data-total"))


def selection_agrees(page):
    """Summary, list, histogram and the GeoJSON download count the same incidents; returns that number."""
    summary = totals_agree(page)
    page.wait_for_function(
        "n => document.querySelector('#timeline-chart svg')?.dataset.total === String(n)", arg=summary
    )
    href = page.locator("#download-geojson").get_attribute("href")
    downloaded = json.loads(page.request.get(urljoin(page.url, href)).text())["features"]
    assert len(downloaded) == summary, href
    return summary, href


def drag_map(page, dx):
    box = page.locator("#incident-map").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y, steps=8)
    page.mouse.up()


def test_summary_list_histogram_and_download_describe_one_selection(map_page, crowded_syria, page):
    page.set_viewport_size(DESKTOP)
    page = map_page("/?at=9/36.2000/37.1500")
    expect(page.get_by_label("this map view (as the summary and the list)")).to_be_checked()
    in_aleppo, href = selection_agrees(page)
    assert 10 <= in_aleppo < 70 and "bbox=" in href
    screenshot(page, "selection-aleppo")

    drag_map(page, -600)  # east, past Aleppo: its ten leave the view
    expect(page).not_to_have_url(re.compile(r"at=9/36\.2000/37\.1500"))
    page.wait_for_function("n => document.getElementById('summary').dataset.total !== String(n)", arg=in_aleppo)
    moved, moved_href = selection_agrees(page)
    assert moved != in_aleppo and moved_href != href
    screenshot(page, "selection-moved")

    # The permalink opens the same view with the same four counts.
    page = map_page(page.url.removeprefix(page.url.split("/?")[0]))
    assert selection_agrees(page)[0] == moved

    # "The whole area": histogram and downloads count every incident under the filters; the map still its view.
    page.get_by_label("the whole area").check()
    expect(page).to_have_url(re.compile(r"scope=all"))
    page.wait_for_function("() => document.querySelector('#timeline-chart svg').dataset.total === '70'")
    expect(page.locator("#download-geojson")).not_to_have_attribute("href", re.compile("bbox="))
    assert int(page.locator("#summary").get_attribute("data-total")) == moved
    screenshot(page, "selection-whole-area")
    page.reload()
    expect(page.get_by_label("the whole area")).to_be_checked()
    assert histogram_total(page) == 70


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("path", ["/", "/ar/"])
def test_legend_list_and_panel_button_cover_nothing(map_page, crowded_syria, page, size, path):
    page.set_viewport_size(DESKTOP if size == "desktop" else PHONE)
    page = map_page(f"{path}?at=6/35.0000/39.0000")
    map_box = page.locator("#incident-map").bounding_box()
    legend = page.locator("#legend")
    assert overlap(legend.bounding_box(), map_box) == 0  # never over the clusters, never in the way of a click
    for cluster in page.locator(".incident-cluster").all():
        assert overlap(cluster.bounding_box(), legend.bounding_box()) == 0
    if size == "phone":
        expect(legend).not_to_have_attribute("open", "")
        assert legend.bounding_box()["height"] < 40  # folded to one line until asked for
        assert map_box["height"] > PHONE["height"] / 3
        page.get_by_role("button", name=re.compile("Filters and list|المرشحات والقائمة")).click()
    else:
        expect(legend).to_have_attribute("open", "")
    expect(page.locator("#list-count")).to_have_attribute("data-total", re.compile(r"^\d+$"))
    panel = page.locator("#side-panel")
    panel_box = panel.bounding_box()
    table = page.locator(".incident-table")
    assert page.evaluate("() => document.querySelector('.incident-table').scrollWidth") <= table.bounding_box()["width"]
    for header in table.locator("th").all():  # every column, Fatalities and Place included, inside the panel
        box = header.bounding_box()
        assert panel_box["x"] - 1 <= box["x"] and box["x"] + box["width"] <= panel_box["x"] + panel_box["width"] + 1
    assert page.evaluate("() => document.getElementById('side-panel').scrollWidth") <= panel_box["width"] + 1
    if size == "phone":
        csv = page.locator("#download-csv")
        csv.scroll_into_view_if_needed()
        toggle = page.locator(".panel-toggle").bounding_box()
        assert overlap(csv.bounding_box(), toggle) == 0
        # What a tap on the link's centre reaches is the link itself.
        assert page.evaluate(
            """() => { const link = document.getElementById('download-csv'); const box = link.getBoundingClientRect();
                       return document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2) === link; }"""
        )
    screenshot(page, f"layout-{size}-{'ar' if path == '/ar/' else 'en'}")


@pytest.mark.parametrize("path", ["/", "/ar/"])
def test_phone_popup_opens_clear_of_the_zoom_buttons(map_page, incidents, page, path):
    page.set_viewport_size(PHONE)
    # The marker sits right under the zoom buttons at this view: the popup must pan down to show its title.
    page = map_page(f"{path}?at=7/34.0000/39.4000")
    page.locator(".incident-marker").first.click()
    popup = page.locator(".leaflet-popup")
    expect(popup.locator("h3")).to_be_visible()
    page.wait_for_function("() => !document.querySelector('.leaflet-pan-anim')")
    page.wait_for_timeout(400)
    popup_box = popup.bounding_box()
    map_box = page.locator("#incident-map").bounding_box()
    for control in (".leaflet-control-zoom", ".panel-toggle"):
        assert overlap(popup_box, page.locator(control).bounding_box()) == 0, control
    close = page.locator(".leaflet-popup-close-button").bounding_box()
    assert map_box["y"] <= close["y"] and close["x"] + close["width"] <= map_box["x"] + map_box["width"]
    screenshot(page, f"phone-popup-{'ar' if path == '/ar/' else 'en'}")


def test_popup_region_uses_the_arabic_comma(map_page, incidents, page):
    page = map_page("/ar/")
    page.locator(".row-link").first.click()
    where = page.locator(".leaflet-popup-content .popup-where")
    expect(where).to_contain_text("، ")
    expect(where).not_to_contain_text(", ")


def test_histogram_of_one_incident_has_axes_and_a_narrow_bar(map_page, transactional_db, page):
    page.set_viewport_size(DESKTOP)
    if not EventType.objects.exists():
        import importlib

        from django.apps import apps as django_apps

        importlib.import_module("incidents.migrations.0002_acled_taxonomy").add_taxonomy(django_apps, None)
    with transaction.atomic():
        IncidentFactory(published=True, start_date=datetime.date(2024, 11, 7), location=Point(38.3, 34.5, srid=4326))
    page = map_page()
    bars = page.locator("#timeline-chart svg .bars rect")
    expect(bars).to_have_count(1)
    chart_width = page.locator("#timeline-chart svg").bounding_box()["width"]
    assert bars.first.bounding_box()["width"] < chart_width / 5
    expect(page.locator("#timeline-chart .y-tick").first).to_have_text("1")
    expect(page.locator("#timeline-bucket")).to_have_text("Bars: incidents per day")
    ticks = page.locator("#timeline-chart .tick").all()
    labels = [tick.text_content() for tick in ticks]
    assert len(labels) == len(set(labels)) >= 2
    boxes = [tick.bounding_box() for tick in ticks]
    assert all(overlap(a, b) == 0 for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    screenshot(page, "histogram-one-incident")
