# ruff: noqa: F811 -- the fixtures are imported from tests/test_browser_map.py and named as arguments
"""An archived copy in a real browser (Chromium): reached from the incident's page, it shows the captured text, runs
none of the captured page's scripts, has no origin of its own and loads nothing. Screenshot in test-artifacts/."""

import pytest
from playwright.sync_api import expect

from incidents.models import Incident, Status
from tests.test_browser_map import incidents, orm_beside_playwright, screenshot  # noqa: F401 -- fixtures
from tests.test_source_archive import archived_copy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_an_archived_copy_runs_no_script_and_loads_nothing(page, live_server, incidents, settings, tmp_path):
    settings.SOURCE_ARCHIVE_DIR = tmp_path
    incident = Incident.objects.filter(status=Status.PUBLISHED).order_by("pk").first()  # a seed incident
    capture = archived_copy(incident.sources.first(), settings)
    answered, blocked = [], []
    page.on("response", lambda response: answered.append(response.url))
    page.on("requestfailed", lambda request: blocked.append((request.url, request.failure)))

    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    expect(page.get_by_text(capture.payload_sha256)).to_be_visible()
    page.get_by_role("link", name="archived copy").scroll_into_view_if_needed()
    screenshot(page, "archived-copy-link")
    page.get_by_role("link", name="archived copy").click()
    expect(page.locator("h1")).to_have_text("Shelling near Idlib")
    assert page.url == f"{live_server.url}/archive/{capture.pk}/"
    assert page.title() == "Ceasefire report"  # its script would have renamed the page
    assert page.evaluate("() => window.origin") == "null"  # sandboxed: no cookies, no requests as the site
    # Nothing loaded, not even from this site: the browser stops the image itself.
    assert not [url for url in answered if "tracker.png" in url]
    assert blocked == [(f"{live_server.url}/static/tracker.png", "csp")], blocked
    screenshot(page, "archived-copy")
