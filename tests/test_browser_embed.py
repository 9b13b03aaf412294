# ruff: noqa: F811 -- the map fixtures are imported from tests/test_browser_map.py and named as arguments
"""The embeddable map in a real Chromium: "Embed this view" gives an <iframe> of the current permalink, and that
iframe, on a page of another origin served on loopback, shows the map with the permalink's filters, the timeline,
the attribution and a link back; the full map in an iframe is refused. axe-core finds nothing on either."""

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from incidents.models import Incident
from tests.test_browser_a11y import axe_violations
from tests.test_browser_map import incidents, map_page, orm_beside_playwright, screenshot  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

EXPLOSIONS = "explosions-remote-violence"


@pytest.fixture
def browser_context_args(browser_context_args):
    # axe is injected by the test; the site's own CSP would refuse it (the pages themselves run no inline script).
    return {**browser_context_args, "bypass_csp": True}


@pytest.fixture
def embedding_site():
    """A page of another origin (127.0.0.1 on its own port; the live server is `localhost`) holding given HTML."""
    pages = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield pages, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_embed_this_view_gives_an_iframe_that_another_site_shows_with_the_filters(
    map_page, incidents, page, embedding_site, live_server
):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = map_page(f"/?event_type={EXPLOSIONS}&at=7/35.4000/37.5000")
    # Keyboard only: the disclosure's summary, then the copy button.
    disclosure = page.locator("#embed-box summary")
    disclosure.focus()
    page.keyboard.press("Enter")
    code = page.get_by_label("HTML to paste into your page")
    expect(code).to_be_visible()
    snippet = code.input_value()
    src = re.search(r'src="([^"]+)"', snippet)[1].replace("&amp;", "&")
    assert src.startswith(f"{live_server.url}/embed/?event_type={EXPLOSIONS}&at=7/35.4000/37.5000")
    assert 'title="Map of conflict incidents (conflictmap)"' in snippet
    page.get_by_role("button", name="Copy the HTML").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#embed-status")).not_to_be_empty()
    assert axe_violations(page) == []
    screenshot(page, "embed-disclosure")

    pages, origin = embedding_site
    pages["/article.html"] = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>An article</title></head><body>'
        f"<h1>An article</h1>{snippet}"
        f'<iframe id="full" title="The full map" src="{live_server.url}/" width="400" height="300"></iframe>'
        "</body></html>"
    )
    page.set_viewport_size({"width": 1200, "height": 1000})
    page.goto(f"{origin}/article.html")
    frame = page.frame_locator("iframe[src*='/embed/']")
    explosions = Incident.objects.published().filter(event_type__slug=EXPLOSIONS).count()
    expect(frame.locator("#incident-map")).to_have_attribute("data-marker-count", str(explosions))
    expect(frame.locator("#summary")).to_contain_text(f"{explosions} incidents")
    expect(frame.locator("#timeline-chart svg .bars rect").first).to_be_attached()
    expect(frame.locator(".leaflet-control-attribution")).to_contain_text("Who’s On First")
    back = frame.get_by_role("link", name="conflictmap: open the full map")
    expect(back).to_have_attribute("href", re.compile(rf"^/\?event_type={EXPLOSIONS}&at=7/35\.4000/37\.5000"))
    expect(frame.locator("#side-panel")).to_be_hidden()
    # Links open outside the frame: the way back is the full map, with the same filters, in a page of its own.
    with page.context.expect_page() as opened:
        back.click()
    full = opened.value
    full.wait_for_load_state()
    assert full.url.startswith(f"{live_server.url}/?event_type={EXPLOSIONS}&at=7/35.4000/37.5000")
    expect(full.locator("#embed-box")).to_be_attached()
    full.close()
    # The full map refuses to be framed (X-Frame-Options DENY, frame-ancestors 'self'): nothing of it is shown.
    expect(page.frame_locator("#full").locator("#incident-map")).to_have_count(0)
    screenshot(page, "embed-in-another-site")


@pytest.mark.parametrize("prefix", ["", "/ar"])
def test_the_embed_page_has_no_wcag_violations(map_page, incidents, page, prefix):
    page = map_page(f"{prefix}/embed/?event_type={EXPLOSIONS}&at=7/35.4000/37.5000")
    if prefix:
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        expect(page.locator("#full-view-link")).to_have_text("conflictmap: افتح الخريطة الكاملة")
    explosions = Incident.objects.published().filter(event_type__slug=EXPLOSIONS).count()
    expect(page.locator("#incident-map")).to_have_attribute("data-marker-count", str(explosions))
    assert axe_violations(page) == []
    screenshot(page, f"embed-page{prefix.replace('/', '-')}")
