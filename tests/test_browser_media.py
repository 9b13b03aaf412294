"""Graphic and identifying media in a real Chromium: blurred behind a warning and a real button, revealed from the
keyboard, in English and Arabic, with axe-core finding nothing before and after."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from playwright.sync_api import expect

from incidents import services
from incidents.media import media_analyse
from incidents.models import EventType, IncidentMedia
from tests.factories import IncidentFactory, UserFactory
from tests.test_browser_a11y import axe_violations
from tests.test_browser_map import ARTIFACTS, orm_beside_playwright, screenshot  # noqa: F401 -- fixture
from tests.test_media import MP4, encoded, picture, upload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def browser_context_args(browser_context_args):
    # axe-core is injected by the test; the site's CSP (rightly) refuses it.
    return {**browser_context_args, "bypass_csp": True}


@pytest.fixture
def incident_with_media(transactional_db):
    if not EventType.objects.exists():
        importlib.import_module("incidents.migrations.0002_acled_taxonomy").add_taxonomy(django_apps, None)
    publisher = UserFactory(username="pub-media", is_superuser=True)
    with transaction.atomic():
        incident = IncidentFactory(published=True, title="Strike on the market", title_ar="قصف السوق")
    for seed, flags, caption, caption_ar in [
        (31, {}, "The street the next morning", "الشارع في الصباح التالي"),
        (32, {"graphic": True}, "Casualties at the scene", "ضحايا في المكان"),
    ]:
        file = upload(f"photo-{seed}.jpg", encoded(picture(seed)))
        media = IncidentMedia(incident=incident, original=file, caption=caption, caption_ar=caption_ar, **flags)
        services.incident_media_save(media=media, user=publisher, facts=media_analyse(file))
    clip = SimpleUploadedFile("clip.mp4", MP4)
    video = IncidentMedia(incident=incident, original=clip, caption="Crowd at the checkpoint", identifying=True)
    services.incident_media_save(media=video, user=publisher, facts=media_analyse(clip), video_cleared=True)
    return incident


@pytest.mark.parametrize("prefix", ["", "/ar"])
def test_graphic_media_are_blurred_until_revealed_from_the_keyboard(page, live_server, incident_with_media, prefix):
    arabic = prefix == "/ar"
    page.goto(f"{live_server.url}{prefix}/incidents/{incident_with_media.pk}/")
    graphic = page.locator(".media-sensitive", has=page.locator("img"))
    picture_behind = graphic.locator("img")
    button = graphic.get_by_role("button", name="اعرض الصورة" if arabic else "Show the image")
    expect(button).to_be_visible()
    expect(graphic).to_contain_text("تحذير" if arabic else "Warning: graphic content")
    expect(picture_behind).to_have_attribute("aria-hidden", "true")
    assert "blur" in picture_behind.evaluate("img => getComputedStyle(img).filter")
    # The plain picture is shown as it is, and named by its caption in the page's language.
    plain = page.locator(".media-item:not(.media-sensitive) img")
    expect(plain).to_have_attribute("alt", "الشارع في الصباح التالي" if arabic else "The street the next morning")
    assert plain.evaluate("img => getComputedStyle(img).filter") == "none"
    screenshot(page, f"media-blurred-{'ar' if arabic else 'en'}")
    assert axe_violations(page) == []

    # Keyboard only: Tab reaches the button, Enter reveals the picture and moves focus to it.
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_be_hidden()
    expect(picture_behind).not_to_have_attribute("aria-hidden", "true")
    assert picture_behind.evaluate("img => getComputedStyle(img).filter") == "none"
    assert page.evaluate("document.activeElement.classList.contains('media-frame')")
    expect(page.get_by_role("img", name="ضحايا في المكان" if arabic else "Casualties at the scene")).to_be_visible()
    screenshot(page, f"media-revealed-{'ar' if arabic else 'en'}")
    assert axe_violations(page) == []

    # An identifying video: no controls (nothing to reach) until revealed, then playable.
    identifying = page.locator(".media-sensitive", has=page.locator("video"))
    expect(identifying).to_contain_text("قد يُظهر أشخاصًا" if arabic else "It may show people who could be identified.")
    clip = identifying.locator("video")
    assert clip.evaluate("video => video.controls") is False
    identifying.get_by_role("button", name="اعرض الفيديو" if arabic else "Show the video").click()
    assert clip.evaluate("video => video.controls") is True
    expect(clip).not_to_have_attribute("aria-hidden", "true")


@pytest.mark.parametrize("prefix", ["", "/ar"])
def test_the_media_inline_and_list_have_no_wcag_violations(page, live_server, incident_with_media, prefix):
    page.goto(f"{live_server.url}{prefix}/admin/login/")
    page.fill("#id_username", "pub-media")
    page.fill("#id_password", "pw")
    page.locator("input[type=submit]").click()
    tag = "ar" if prefix else "en"
    for name, path in [
        ("inline", f"/incident/{incident_with_media.pk}/change/"),
        ("list", "/incidentmedia/"),
        ("preview", f"/incident/{incident_with_media.pk}/preview/"),
    ]:
        page.goto(f"{live_server.url}{prefix}/admin/incidents{path}")
        page.wait_for_load_state("load")
        screenshot(page, f"media-admin-{name}-{tag}")
        assert axe_violations(page) == [], name
    # The inline itself: both items with their previews, flags and file facts.
    page.goto(f"{live_server.url}{prefix}/admin/incidents/incident/{incident_with_media.pk}/change/")
    inline = page.locator("#media-group")
    expect(inline.locator("img.media-admin-preview")).to_have_count(2)
    inline.screenshot(path=ARTIFACTS / f"media-admin-inline-rows-{tag}.png")
