# ruff: noqa: F811 -- the map fixtures are imported from tests/test_browser_map.py and named as arguments
"""axe-core (WCAG 2.1 A and AA rules) finds nothing on the public pages and the admin forms editors use, at 1366×768
and on a 390×844 phone, in English and Arabic. axe-core comes from npm (package.json, pinned) and is injected by
the test from node_modules: the site itself never serves it."""

import pytest
from django.conf import settings
from django.db import transaction
from playwright.sync_api import expect

from incidents.models import ImportBatch, ImportStatus, Incident
from tests.factories import IncidentFactory, UserFactory
from tests.test_browser_map import (  # noqa: F401 -- fixtures
    crowded_syria,
    incidents,
    map_page,
    orm_beside_playwright,
    screenshot,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

AXE = settings.BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
SIZES = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def browser_context_args(browser_context_args):
    # The site's CSP refuses inline scripts, axe's injected copy included; only the test's own context bypasses it.
    return {**browser_context_args, "bypass_csp": True}


# axe-core first preloads the page's style sheets and media, waiting for each video's data; the site's videos load
# only their metadata until a reader plays them (preload="metadata"), so axe waited out its 10-second preload limit
# on every page with one. The style sheets are what its rules read; media preloading only serves `no-autoplay-audio`, and the
# site never autoplays.
_AXE_RUN = """tags => axe.run(document, {
    runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'], preload: { assets: ['cssom'] } })"""


def axe_violations(page):
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(_AXE_RUN, WCAG_21_AA)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + "; ".join(
            node["target"][0] if isinstance(node["target"][0], str) else str(node["target"])
            for node in violation["nodes"][:5]
        )
        for violation in result["violations"]
    ]


def check(page, name):
    page.wait_for_load_state("load")
    screenshot(page, f"a11y-{name}")
    assert axe_violations(page) == [], name


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("prefix", ["", "/ar"])
def test_public_pages_have_no_wcag_violations(map_page, crowded_syria, page, size, prefix):
    page.set_viewport_size(SIZES[size])
    tag = f"{size}-{'ar' if prefix else 'en'}"
    map_page(f"{prefix}/?at=6/35.0000/39.0000")
    expect(page.locator("#incident-map .incident-cluster").first).to_be_attached()  # the clusters need names
    check(page, f"map-{tag}")
    page.goto(page.url.split("?")[0] + "about/")
    check(page, f"about-{tag}")
    page.goto(page.url.replace("about/", "api/"))
    check(page, f"api-{tag}")
    incident = Incident.objects.published().order_by("pk").first()
    page.goto(page.url.replace("api/", f"incidents/{incident.pk}/"))
    expect(page.locator("h1")).to_have_text(incident.title)
    check(page, f"incident-{tag}")


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("prefix", ["", "/ar"])
def test_admin_forms_editors_use_have_no_wcag_violations(page, live_server, incidents, size, prefix):
    page.set_viewport_size(SIZES[size])
    tag = f"{size}-{'ar' if prefix else 'en'}"
    UserFactory(username="chief", is_superuser=True)
    with transaction.atomic():
        draft = IncidentFactory(title="Draft awaiting review")
    batch = ImportBatch.objects.create(file_name="ged.csv", status=ImportStatus.PREVIEW, dry_run=True)
    page.goto(f"{live_server.url}{prefix}/admin/login/")
    page.fill("#id_username", "chief")
    page.fill("#id_password", "pw")
    page.locator("input[type=submit]").click()
    admin = f"{live_server.url}{prefix}/admin/incidents"
    for name, path in [
        ("add", "/incident/add/"),
        ("change", f"/incident/{draft.pk}/change/"),
        ("preview", f"/incident/{draft.pk}/preview/"),
        ("retract", f"/incident/{draft.pk}/retract/"),
        ("report", "/incident/from-report/"),
        ("import", "/importbatch/upload/"),
        ("import-preview", f"/importbatch/{batch.pk}/change/"),
    ]:
        page.goto(admin + path)
        check(page, f"admin-{name}-{tag}")
