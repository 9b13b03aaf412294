"""Every public route answers the same under every language prefix, and counts against the same rate limit: a
route walked from the URL configuration, so a new one is covered from its first day."""

import pytest
from django.conf import settings
from django.urls import URLResolver, get_resolver, reverse
from django.utils import translation

from conflictmap.middleware import UNLIMITED_ROUTES
from places.models import Region
from tests.conftest import make_export_incidents
from tests.shared_rows import fresh_copy, rows_for_the_module
from tests.test_source_archive import archived_copy

pytestmark = pytest.mark.django_db


# What a route's URL needs beyond its name: path arguments and the query a real caller gives.
QUERIES = {"place-search": "q=Palmyra", "place-reverse": "lat=34.556&lon=38.2673"}
STAFF_ROUTES = {"place-search", "place-reverse"}  # the editors' place lookups, for signed-in staff only
CAPTURE_ROUTES = {"source-capture", "source-capture-warc"}  # numbered by an archived copy, not by an incident


def public_routes(patterns=None, namespace=None):
    """(name, path argument names) of every route in the public "incidents" namespace."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from public_routes(pattern.url_patterns, pattern.namespace or namespace)
        elif namespace == "incidents":
            yield pattern.name, sorted(pattern.pattern.converters)


ROUTES = dict(public_routes())


def url_of(name, language, incident, capture=None):
    arguments = {
        "pk": capture.pk if name in CAPTURE_ROUTES else incident.pk,
        "collection_id": "incidents",
        "feature_id": str(incident.pk),
        "z": 0,
        "x": 0,
        "y": 0,
    }
    if name == "region":  # a governorate's page: the pk is the gazetteer's region
        arguments["pk"] = Region.objects.order_by("pk").values_list("pk", flat=True).first()
    if name == "media-public":  # a media item's number, not the incident's
        arguments["pk"] = incident.media.get().pk
    with translation.override(language):
        url = reverse(f"incidents:{name}", kwargs={key: arguments[key] for key in ROUTES[name]})
    return f"{url}?{QUERIES[name]}" if name in QUERIES else url


@pytest.fixture(scope="module")
def export_incidents_once(django_db_setup, django_db_blocker):
    yield from rows_for_the_module(django_db_blocker, make_export_incidents)


@pytest.fixture
def export_incidents(export_incidents_once, db):
    """conftest's export incidents, made once for the module's 78 routes."""
    return fresh_copy(export_incidents_once)


def test_the_walk_finds_the_pages_and_the_data():
    assert {"home", "detail", "map-feed", "map-list", "api-geojson", "ogc-items", "place-search"} <= set(ROUTES)


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
@pytest.mark.parametrize("name", ROUTES)
def test_every_route_answers_and_is_limited_alike_in_every_language(client, export_incidents, gazetteer, editor,
                                                                     settings, name, language):  # fmt: skip
    settings.RATE_LIMITS = {"api": "1/60", "download": "1/600"}
    incident = export_incidents[0]
    if name == "media-public":
        from tests.factories import UserFactory
        from tests.test_media import attach, encoded, picture

        attach(incident, UserFactory(group="Publishers"), "street.jpg", encoded(picture(1)))
    # /ar/… for the pages and the map feeds; the data API (/api/, /ogcapi/) has one URL for every language.
    capture = archived_copy(incident.sources.exclude(url="").first(), settings) if name in CAPTURE_ROUTES else None
    url = url_of(name, language, incident, capture)
    english = url_of(name, settings.LANGUAGE_CODE, incident, capture)
    if name in STAFF_ROUTES:
        client.force_login(editor)
    address = {"REMOTE_ADDR": "203.0.113.9"}
    first = client.get(url, **address)
    assert first.status_code == 200, (url, first.content[:300])
    second = client.get(url, **address)
    if name in UNLIMITED_ROUTES:
        assert second.status_code == 200, url  # pages and the editors' lookups are not limited
    else:
        assert second.status_code == 429, url
        assert int(second["Retry-After"]) >= 1
        # The same route in the default language counts against the same address's limit.
        assert client.get(english, **address).status_code == 429, english
