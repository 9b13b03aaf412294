"""The embeddable map (/embed/): the one page other sites may frame (CSP frame-ancestors from
settings.EMBED_FRAME_ANCESTORS, no X-Frame-Options), without the site's chrome; every other page refuses framing."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from tests.test_every_language import CAPTURE_ROUTES, ROUTES, url_of
from tests.test_source_archive import archived_copy

pytestmark = pytest.mark.django_db


def frame_ancestors(response):
    return re.search(r"frame-ancestors ([^;]*)", response["Content-Security-Policy"])[1]


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_embed_page_may_be_framed_by_any_site(client, language):
    with translation.override(language):
        url = reverse("incidents:embed")
    response = client.get(url, {"event_type": "battles", "at": "7/35.0/38.0"})
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert frame_ancestors(response) == "*"
    page = response.content.decode()
    # Map, timeline and the link back to the full view with the same permalink; no header, panel or footer.
    assert 'id="incident-map"' in page and 'id="timeline-chart"' in page
    home = reverse("incidents:home")
    assert f'id="full-view-link" href="{home}?event_type=battles&amp;at=7%2F35.0%2F38.0"' in page
    assert 'class="site-header"' not in page and 'class="site-footer"' not in page
    # A popup's link to an incident page (which refuses framing) opens outside the frame, as every link there does.
    assert '<base target="_blank">' in page
    assert re.search(r'<aside class="side-panel"[^>]* hidden>', page)
    # No inline script of ours: every <script> has a src or is JSON data, but django-leaflet's map set-up, which
    # carries the request's CSP nonce as on every map page.
    inline = [tag for tag in re.findall(r"<script[^>]*>", page) if "src=" not in tag and "application/json" not in tag]
    assert len(inline) == 1 and "nonce=" in inline[0]


def test_the_embedding_sites_can_be_restricted(client, settings):
    settings.EMBED_FRAME_ANCESTORS = ["https://news.example", "https://blog.example"]
    response = client.get(reverse("incidents:embed"))
    assert frame_ancestors(response) == "https://news.example https://blog.example"


# A media file is numbered by its item, which these incidents do not have (tests/test_media.py serves them).
PAGES = [name for name in ROUTES if name not in {"embed", "place-search", "place-reverse", "media-public"}]


@pytest.mark.parametrize("name", PAGES)
def test_every_other_page_refuses_to_be_framed(client, export_incidents, settings, name):
    incident = export_incidents[0]
    capture = archived_copy(incident.sources.exclude(url="").first(), settings) if name in CAPTURE_ROUTES else None
    response = client.get(url_of(name, "en", incident, capture))
    assert response.status_code == 200, name
    assert response["X-Frame-Options"] == "DENY"
    if "Content-Security-Policy" in response:  # the HTML pages; data answers are not documents to frame
        assert frame_ancestors(response) == "'self'"


def test_the_full_map_offers_the_embed_disclosure_in_both_languages(client):
    page = client.get(reverse("incidents:home")).content.decode()
    assert "<summary>Embed this view</summary>" in page
    assert 'id="embed-code" readonly' in page and 'id="embed-copy"' in page
    with translation.override("ar"):
        arabic = client.get(reverse("incidents:home")).content.decode()
    assert "<summary>Embed this view</summary>" not in arabic
    assert 'id="embed-copy"' in arabic
