"""/healthz for load balancers: GET and HEAD only, and never redirected (a probe over plain http must see 200)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_healthz_answers_only_get_and_head(client, method):
    client.handler.enforce_csrf_checks = True  # as a real client meets it
    assert getattr(client, method)("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200


def test_healthz_is_not_redirected_to_https_when_the_rest_is(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/map/incidents.json").status_code == 301
