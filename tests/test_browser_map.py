"""The timeline map in a real Chromium against a live server with PostGIS; each test leaves a screenshot."""

import datetime
import importlib
import os
import random
import re
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.contrib.gis.geos import Point
from django.db import transaction
from playwright.sync_api import expect

from incidents import seeding
from incidents.models import EventType, Incident, Side
from tests.factories import ActorFactory, IncidentFactory, SourceFactory, incidents_bulk_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
SEED_TITLES = 4
ROWS = "#incident-rows tr[data-id]"


def published_incident(**fields):
    # Outside a test transaction the "published cites a source" trigger fires at commit: create both in one.
    with transaction.atomic():
        return IncidentFactory(published=True, **fields)


@pytest.fixture(scope="module", autouse=True)
def orm_beside_playwright():
    """Playwright's sync API runs an event loop in this thread, and the ORM calls in fixtures are still plain sync
    code: allow them here only (a process-wide setting would leak into `check --deploy` subprocesses). Browser
    tests run last (see conftest.py), so nothing after them meets the emptied tables."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


def screenshot(page, name):
    # Let Leaflet finish panning to an opened popup, or the picture shows it half outside the map.
    page.wait_for_function("() => !document.querySelector('.leaflet-pan-anim, .leaflet-zoom-anim')")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png")


@pytest.fixture
def incidents(transactional_db):
    """The four seed incidents of 18–20 April 2019, one in March and one in May around them."""
    if not EventType.objects.exists():
        # An earlier transactional test's flush took the migration's taxonomy, and serialized_rollback cannot bring
        # it back here: with Playwright's loop running, Django hands out a connection that never held the snapshot.
        importlib.import_module("incidents.migrations.0002_acled_taxonomy").add_taxonomy(django_apps, None)
    seeding.actors_load()
    seeding.incidents_load()
    explosions = EventType.objects.get(slug="explosions-remote-violence")
    published_incident(
        title="Shelling of Maarat al-Numan",
        start_date=datetime.date(2019, 3, 28),
        event_type=explosions,
        fatalities_best=6,
        location=Point(36.68, 35.64, srid=4326),
    )
    published_incident(
        title="Airstrike on Khan Shaykhun",
        start_date=datetime.date(2019, 5, 6),
        event_type=explosions,
        fatalities_best=12,
        location=Point(36.65, 35.44, srid=4326),
    )


@pytest.fixture
def map_page(page, live_server):
    def open_map(path="/"):
        page.goto(live_server.url + path)
        expect(page.locator("#incident-map")).to_have_attribute("data-marker-count", re.compile(r"\d+"))
        expect(page.locator("#timeline-chart svg .bars rect").first).to_be_attached()
        return page

    return open_map


def test_seed_incidents_appear_with_markers_legend_and_summary(map_page, incidents):
    page = map_page()
    expect(page.locator(ROWS)).to_have_count(SEED_TITLES + 2)
    expect(page.locator("#incident-map")).to_have_attribute("data-marker-count", "6")
    expect(page.locator("#summary")).to_have_text("6 incidents, 66 fatalities, from 28 Mar 2019 to 6 May 2019")
    expect(page.locator(".leaflet-outlines-pane path").first).to_be_attached()  # offline country outlines
    page.locator(".row-link", has_text="IS assault").click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup.locator("h3")).to_contain_text("IS assault")
    expect(popup).to_contain_text("at least 35")
    expect(popup).to_contain_text("18–20 Apr 2019")
    screenshot(page, "map-seeds-popup")


def test_brushing_april_2019_leaves_exactly_the_april_incidents(map_page, incidents):
    page = map_page()
    # The drag below is in pixels of the chart as drawn: measure it once the page has stopped loading and moving.
    page.wait_for_load_state("networkidle")
    svg = page.locator("#timeline-chart svg")
    domain_start = datetime.date.fromisoformat(svg.get_attribute("data-domain-start"))
    domain_end = datetime.date.fromisoformat(svg.get_attribute("data-domain-end"))
    box = svg.bounding_box()
    span = (domain_end - domain_start).days

    def x_of(day):
        return box["x"] + (day - domain_start).days / span * box["width"]

    y = box["y"] + 40
    page.mouse.move(x_of(datetime.date(2019, 4, 1)) + 1, y)
    page.mouse.down()
    page.mouse.move(x_of(datetime.date(2019, 4, 15)), y, steps=3)
    page.mouse.move(x_of(datetime.date(2019, 5, 1)) - 1, y, steps=3)
    page.mouse.up()
    expect(page).to_have_url(re.compile(r"start=2019-04-01&end=2019-04-30"))
    expect(page.locator(ROWS)).to_have_count(SEED_TITLES)
    expect(page.locator("#incident-rows")).not_to_contain_text("Shelling of Maarat")
    expect(page.locator("#incident-map")).to_have_attribute("data-marker-count", str(SEED_TITLES))
    # The handles are keyboard-operable: one step left on the end handle ends the range on 29 April.
    page.locator(".handle-end").focus()
    page.keyboard.press("ArrowLeft")
    expect(page).to_have_url(re.compile(r"end=2019-04-29"))
    screenshot(page, "map-brushed-april")


def test_playing_slides_the_window_to_the_end_and_the_list_catches_up(map_page, incidents):
    page = map_page()
    svg = page.locator("#timeline-chart svg")
    domain_end = datetime.date.fromisoformat(svg.get_attribute("data-domain-end"))  # exclusive: 7 May 2019
    # Every count the summary shows while playing, however briefly.
    page.evaluate(
        """() => {
            window.summaryTotals = [];
            const summary = document.getElementById("summary");
            new MutationObserver(() => window.summaryTotals.push(Number(summary.dataset.total)))
                .observe(summary, { attributes: true, attributeFilter: ["data-total"] });
        }"""
    )
    page.locator("#play-speed").select_option("150")
    page.locator("#play").click()
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    # At the end it stops by itself, its last window (a tenth of the span) holding only the airstrike of 6 May.
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false", timeout=15_000)
    # On its way the map followed the steps: the window held the four seed incidents of 18–20 April.
    assert SEED_TITLES in page.evaluate("() => window.summaryTotals")
    last_day = domain_end - datetime.timedelta(days=1)
    expect(page).to_have_url(re.compile(rf"start=2019-05-0\d&end={last_day.isoformat()}"))
    expect(page.locator("#summary")).to_have_attribute("data-total", "1")
    # The list, left behind while the steps came fast, is brought up to date (and no longer dimmed) on the stop.
    expect(page.locator(ROWS)).to_have_count(1)
    expect(page.locator("#incident-rows")).to_contain_text("Airstrike on Khan Shaykhun")
    expect(page.locator(".incident-table")).not_to_have_attribute("aria-busy", "true")
    assert totals_agree(page) == 1


def test_unticking_an_event_type_removes_its_markers_and_rows(map_page, incidents):
    page = map_page()
    expect(page.locator(f'{ROWS}[data-type="explosions-remote-violence"]')).to_have_count(2)
    page.get_by_label("Explosions/Remote violence").uncheck()
    expect(page.locator(ROWS)).to_have_count(SEED_TITLES)
    expect(page.locator(f'{ROWS}[data-type="explosions-remote-violence"]')).to_have_count(0)
    expect(page.locator("#incident-map")).to_have_attribute("data-marker-count", str(SEED_TITLES))
    expect(page).to_have_url(re.compile(r"event_type=battles"))
    screenshot(page, "map-untick-explosions")
    page.go_back()  # back restores the ticked box and the rows
    expect(page.get_by_label("Explosions/Remote violence")).to_be_checked()
    expect(page.locator(ROWS)).to_have_count(SEED_TITLES + 2)


def test_permalink_restores_filters_range_and_view(map_page, incidents):
    page = map_page("/?event_type=battles&start=2019-04-18&end=2019-04-19&q=IS&at=8/34.9000/38.7000")
    expect(page.get_by_label("Battles")).to_be_checked()
    expect(page.get_by_label("Protests")).not_to_be_checked()
    expect(page.locator('input[name="start"]')).to_have_value("2019-04-18")
    expect(page.locator('input[name="q"]')).to_have_value("IS")
    expect(page.locator(".timeline-svg .selection")).to_be_attached()
    expect(page.locator("#timeline-range")).to_have_text("18–19 Apr 2019")
    expect(page).to_have_url(re.compile(r"at=8/34\.9000/38\.7000"))
    expect(page.locator("#list-count")).to_have_attribute("data-total", re.compile(r"^[1-9]"))  # the list's own answer
    titles = page.locator(f"{ROWS} .row-link").all_inner_texts()
    assert titles and all(title.startswith(("IS ", "Separate IS")) for title in titles), titles
    screenshot(page, "map-permalink")


def payload(field):
    return f'<img src=x onerror=window.__xss="{field}">{field}'


# Records what the Content-Security-Policy blocked: an injected inline handler would be refused (and so never set
# window.__xss), but it would still show up here.
RECORD_CSP_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => window.__violations.push(event.violatedDirective));
"""


def assert_nothing_ran(page):
    assert page.locator('img[src="x"]').count() == 0
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate("window.__violations") == []


def test_html_in_every_user_field_shows_as_text_and_runs_nothing(map_page, incidents, page):
    hostile_url = 'https://news.example.org/a"b\'c"><img src=x onerror=window.__xss="url">'
    with transaction.atomic():
        source = SourceFactory(publisher=payload("publisher"), title=payload("source title"), url=hostile_url)
        hostile = published_incident(
            title=payload("title"),
            place_reported=payload("place"),
            description=payload("description"),
            notable_casualties=payload("casualties"),
            start_date=datetime.date(2019, 4, 19),
            actors=[(ActorFactory(name=payload("actor")), Side.A)],
            sources=[source],
        )
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    map_page()
    row_button = page.locator(".row-link", has_text=hostile.title)
    expect(row_button).to_have_text(hostile.title)
    row_button.click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup.locator("h3")).to_have_text(hostile.title)
    expect(popup).to_contain_text(hostile.place_reported)
    expect(popup.locator(".popup-actors dd")).to_contain_text(payload("actor"))
    source_link = popup.locator(".popup-sources a")
    expect(source_link).to_have_text(f"{source.publisher}: {source.title}")
    expect(source_link).to_have_attribute("href", hostile_url)
    assert_nothing_ran(page)
    screenshot(page, "map-escaped-popup")

    # Opening the popup may pan the map, whose refreshed markers replace the popup: the link is followed once the
    # page is quiet, by a click on the element itself (dispatched, not at the point where it was a moment before: a
    # pointer click there was lost twice in parallel runs, the popup redrawn under it). The navigation is taken as
    # done once the page's answer arrives ("commit"); what follows waits for what it reads.
    page.wait_for_load_state("networkidle")
    link = popup.locator(".popup-link")
    expect(link).to_have_attribute("href", re.compile(rf"/incidents/{hostile.pk}/$"))
    with page.expect_navigation(wait_until="commit") as navigation:
        link.dispatch_event("click")
    source_html = navigation.value.text()
    expect(page.locator("h1")).to_have_text(hostile.title)
    facts = page.locator(".incident-facts")
    for text in (hostile.place_reported, hostile.description, hostile.notable_casualties, payload("actor")):
        expect(facts).to_contain_text(text)
    page_link = facts.locator("a", has_text=source.publisher)
    expect(page_link).to_have_text(f"{source.publisher}: {source.title}")
    expect(page_link).to_have_attribute("href", hostile_url)
    # OpenGraph and Twitter tags carry the text escaped once, as attribute values, in the HTML as served.
    escaped_title = "&lt;img src=x onerror=window.__xss=&quot;title&quot;&gt;title"
    assert f'<meta property="og:title" content="{escaped_title}">' in source_html
    assert f'<meta name="twitter:title" content="{escaped_title}">' in source_html
    assert "onerror=window.__xss=&quot;place&quot;" in source_html.split("</head>")[0]
    assert "<img" not in source_html
    for tag in ('meta[property="og:title"]', 'meta[name="twitter:title"]'):
        assert page.locator(tag).get_attribute("content") == hostile.title
    assert hostile.place_reported in page.locator('meta[property="og:description"]').get_attribute("content")
    assert_nothing_ran(page)
    assert dialogs == []
    screenshot(page, "incident-page-escaped")


def test_arabic_is_right_to_left(map_page, incidents):
    page = map_page("/ar/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator(ROWS)).to_have_count(SEED_TITLES + 2)
    screenshot(page, "map-arabic")


def test_phone_shows_the_map_and_opens_the_panel(map_page, incidents, page):
    page.set_viewport_size({"width": 390, "height": 780})
    map_page()
    expect(page.locator("#incident-map")).to_be_visible()
    expect(page.locator("#side-panel")).to_be_hidden()
    screenshot(page, "phone-map")
    page.get_by_role("button", name="Filters and list").click()
    expect(page.locator("#side-panel")).to_be_visible()
    expect(page.locator(ROWS).first).to_be_visible()
    screenshot(page, "phone-panel")


def test_incident_page_has_a_small_map(page, live_server, incidents):
    palmyra = Incident.objects.get(title__startswith="IS assault")
    page.goto(f"{live_server.url}/incidents/{palmyra.pk}/")
    expect(page.locator("h1")).to_have_text(palmyra.title)
    expect(page.locator("#incident-small-map path.leaflet-interactive").first).to_be_attached()
    expect(page.locator(".incident-facts")).to_contain_text("at least 35")
    screenshot(page, "incident-page")


@pytest.fixture
def crowded_syria(transactional_db, settings):
    """70 published incidents (ten of them in one Aleppo neighbourhood) and a draft beside them, with markers
    allowed for at most 25 in view: the whole country shows clusters, a city shows markers."""
    settings.MAP_POINTS_MAX = 25
    if not EventType.objects.exists():
        importlib.import_module("incidents.migrations.0002_acled_taxonomy").add_taxonomy(django_apps, None)
    rng = random.Random(7)
    spread = [(rng.uniform(35.8, 42.3), rng.uniform(32.4, 37.2)) for _ in range(60)]
    aleppo = [(37.13 + number / 500, 36.20 + number / 700) for number in range(10)]
    with transaction.atomic():
        incidents_bulk_create(
            {
                "location": Point(lon, lat, srid=4326),
                "fatalities_best": number % 4,
                "title": f"Crowded incident {number}",
            }
            for number, (lon, lat) in enumerate(spread + aleppo)
        )
        incidents_bulk_create([{"location": Point(37.14, 36.21, srid=4326)}], published=False)


def totals_agree(page):
    """The summary, the list's "N in view" and (while clusters show) the sum of the clusters, read off the page once
    both answers for the view are in (the list's comes separately); a lasting disagreement times out."""
    page.wait_for_function(
        """() => {
            const summary = document.getElementById("summary").dataset.total;
            return !document.querySelector("#incident-map[aria-busy]") && summary !== undefined
                && summary === document.getElementById("list-count").dataset.total;
        }"""
    )
    summary = int(page.locator("#summary").get_attribute("data-total"))
    listed = int(page.locator("#list-count").get_attribute("data-total"))
    assert page.locator("#summary").inner_text().startswith(f"{summary} incident")
    assert listed == summary
    if page.locator("#incident-map").get_attribute("data-mode") == "clusters":
        assert int(page.locator("#incident-map").get_attribute("data-cluster-sum")) == summary
        drawn = sum(int(text) for text in page.locator(".incident-cluster").all_inner_texts())
        assert drawn == summary
    return summary


def test_many_incidents_show_as_clusters_that_open_into_markers(map_page, crowded_syria, page):
    page = map_page("/?at=6/35.0000/39.0000")
    map_element = page.locator("#incident-map")
    expect(map_element).to_have_attribute("data-mode", "clusters")
    expect(page.locator("#cluster-notice")).to_be_visible()
    expect(page.locator("#list-count")).to_have_attribute("data-total", "70")
    assert totals_agree(page) == 70
    expect(page.locator(".incident-cluster").first).to_have_attribute("aria-label", re.compile(r"^\d+ incidents"))
    expect(page.locator(".incident-cluster").first).to_have_attribute("role", "button")
    screenshot(page, "map-clusters")

    # The biggest cluster holds the Aleppo neighbourhood; following the biggest one down ends in markers.
    for step in range(5):
        if map_element.get_attribute("data-mode") == "points":
            break
        counts = [int(text) for text in page.locator(".incident-cluster").all_inner_texts()]
        zoom_before = int(re.search(r"at=(\d+)/", page.url).group(1))
        biggest = page.locator(".incident-cluster").nth(counts.index(max(counts)))
        if step == 0:  # keyboard first: a cluster is a focusable button that Enter opens
            biggest.focus()
            page.keyboard.press("Enter")
        else:
            biggest.click()
        expect(page).not_to_have_url(re.compile(rf"at={zoom_before}/"))
        totals_agree(page)
    expect(map_element).to_have_attribute("data-mode", "points")
    expect(page.locator("#cluster-notice")).to_be_hidden()
    in_view = totals_agree(page)
    assert 10 <= in_view <= 25
    expect(page.locator(".incident-marker")).not_to_have_count(0)
    expect(page.locator(ROWS)).to_have_count(in_view)
    screenshot(page, "map-clusters-zoomed-to-markers")


def test_panning_fetches_the_new_view(map_page, crowded_syria, page):
    page = map_page("/?at=9/36.2000/37.1500")
    expect(page.locator("#incident-map")).to_have_attribute("data-mode", "points")
    before = totals_agree(page)
    box = page.locator("#incident-map").bounding_box()
    with page.expect_request(lambda request: "/map/incidents.json" in request.url) as feed_request:
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] / 2 - 600, box["y"] + box["height"] / 2, steps=8)
        page.mouse.up()
    bbox = [
        float(part)
        for part in re.search(r"bbox=([^&]+)", feed_request.value.url).group(1).replace("%2C", ",").split(",")
    ]
    assert bbox[0] > 37.2  # the view moved east past Aleppo, and the request asked for that view
    expect(page).not_to_have_url(re.compile(r"at=9/36\.2000/37\.1500"))
    after = totals_agree(page)
    assert after != before  # Aleppo's ten went out of view to the west
    expect(page.locator(ROWS)).to_have_count(after)
    screenshot(page, "map-panned")
