"""Sign-in: repeated wrong passwords lock out the account and, separately, the address (django-axes)."""

import pytest
from django.conf import settings

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


def sign_in(client, username, password, address="203.0.113.5"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_thirty_wrong_passwords_then_the_right_one_is_refused(client):
    UserFactory(username="ed", password="the-right-one", group="Editors")
    for _attempt in range(30):
        assert sign_in(client, "ed", "guess").status_code in (200, 429)
    refused = sign_in(client, "ed", "the-right-one")
    assert refused.status_code == 429
    assert "Sign-in is blocked after 5 wrong passwords" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still sent to the sign-in page


def test_the_lockout_follows_the_account_to_another_address(client):
    UserFactory(username="ed", password="the-right-one", group="Editors")
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "ed", "guess", address="203.0.113.5")
    assert sign_in(client, "ed", "the-right-one", address="198.51.100.7").status_code == 429


def test_the_lockout_follows_the_address_to_another_account(client):
    UserFactory(username="ed", password="the-right-one", group="Editors")
    for number in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, f"someone-{number}", "guess", address="203.0.113.5")
    assert sign_in(client, "ed", "the-right-one", address="203.0.113.5").status_code == 429
    # Another editor from another address is not affected.
    UserFactory(username="pub", password="another-one", group="Publishers")
    assert sign_in(client, "pub", "another-one", address="198.51.100.7").status_code == 302


def test_fewer_failures_than_the_limit_do_not_lock_out(client):
    UserFactory(username="ed", password="the-right-one", group="Editors")
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign_in(client, "ed", "guess")
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.content.decode()
    assert sign_in(client, "ed", "the-right-one").status_code == 302
    assert client.get("/admin/").status_code == 200


def test_the_lockout_page_is_translated(client):
    UserFactory(username="ed", password="the-right-one", group="Editors")
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post("/ar" + LOGIN, {"username": "ed", "password": "guess"}, REMOTE_ADDR="203.0.113.5")
    refused = client.post("/ar" + LOGIN, {"username": "ed", "password": "the-right-one"}, REMOTE_ADDR="203.0.113.5")
    assert refused.status_code == 429
    assert "تم حظر تسجيل الدخول" in refused.content.decode()


def test_an_editors_session_ends_after_a_working_day(client):
    UserFactory(username="ed", password="the-right-one", group="Editors")
    sign_in(client, "ed", "the-right-one")
    assert client.session.get_expiry_age() == 8 * 60 * 60
    assert client.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 8 * 60 * 60


def test_the_lockout_says_when_to_try_again(client):
    UserFactory(username="ed", password="the-right-one", group="Editors")
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "ed", "guess")
    refused = sign_in(client, "ed", "the-right-one")
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
