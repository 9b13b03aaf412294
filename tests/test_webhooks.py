"""Signed webhooks against a real HTTP receiver on loopback: the signature verifies, a receiver that is down gets
every event once it is back, in change order and none twice, replays keep their event id, filters and kinds hold,
drafts never go out, and private targets are refused in the admin form."""

import json
import socket
import ssl
import textwrap
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import trustme
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from conflictmap import outbound
from incidents import services as incident_services
from tests import test_jobs
from tests.factories import IncidentFactory, UserFactory
from tests.test_jobs import wait_for
from webhooks import services
from webhooks.models import Delivery, DeliveryStatus, Webhook

pytestmark = pytest.mark.django_db
workers = test_jobs.workers  # real worker subprocesses, as tests/test_jobs.py starts them


class Receiver:
    """A webhook receiver on 127.0.0.1 that can be stopped and started again on the same port."""

    def __init__(self, *, tls=None, host="127.0.0.1"):
        self.received = []
        self.answer = 200
        self.server = None
        self.port = 0
        self.tls, self.host = tls, host  # an ssl.SSLContext makes it an https receiver

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.answer)
                self.end_headers()
                self.wfile.write(b"ok " * 1000)

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        if self.tls:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self):
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}/hook"

    def events(self):
        return [(headers["Conflictmap-Event-Id"], json.loads(body)) for headers, body in self.received]


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


def register(receiver, *, user, **fields):
    return services.webhook_create(webhook=Webhook(name="Research copy", url=receiver.url, **fields), user=user)


def documented_verifier():
    """The verification snippet of docs/api.md#webhooks, run as a receiver would copy it."""
    text = (settings.BASE_DIR / "docs" / "api.md").read_text()
    section = text[text.index("## Webhooks") :]
    code = textwrap.dedent(section[section.index("```python") + len("```python") : section.index("  ```\n", 1)])
    namespace = {}
    exec(code, namespace)
    return namespace["verified"]


def verify(*, secret, headers, body):
    return documented_verifier()(secret, headers, body)


def test_a_change_arrives_signed_in_the_change_feeds_shape(client, receiver, superuser):
    webhook = register(receiver, user=superuser)
    incident = IncidentFactory(published=True, title="Shelling of Idlib market")
    IncidentFactory(title="A draft nobody sees")
    services.webhooks_tick()

    headers, body = receiver.received[0]
    assert verify(secret=webhook.secret, headers=headers, body=body)
    assert not verify(secret="another secret", headers=headers, body=body)
    assert abs(int(headers["Conflictmap-Timestamp"]) - time.time()) < 60
    sent = [json.loads(body) for _headers, body in receiver.received]
    feed = json.loads(client.get("/api/changes").content)["changes"]
    assert sent == [change for change in feed if change["incident"] == incident.pk]  # one format for both
    assert sent[0]["change"] == "created" and sent[0]["feature"]["properties"]["title"] == "Shelling of Idlib market"
    assert {change["incident"] for change in sent} == {incident.pk}  # the draft is absent
    delivery = Delivery.objects.filter(webhook=webhook).order_by("change_id").first()
    assert (delivery.status, delivery.attempts, delivery.response_code) == (DeliveryStatus.DELIVERED, 1, 200)
    assert delivery.response_excerpt == ("ok " * 1000)[:500]
    assert str(delivery.event_id) == headers["Conflictmap-Event-Id"]


def test_a_receiver_that_was_down_gets_every_event_once_in_order(receiver, superuser, publisher):
    register(receiver, user=superuser)
    receiver.stop()
    first = IncidentFactory(published=True, title="First")
    second = IncidentFactory(published=True, title="Second")
    incident_services.incident_retract(incident=first, reason="Duplicate of another report.", user=publisher)
    for _round in range(4):  # down: each round tries the oldest delivery once, the later ones wait behind it
        services.webhooks_tick()
        time.sleep(0.45)
    pending = Delivery.objects.order_by("change_id")
    assert [delivery.attempts for delivery in pending][:2] == [4, 0]
    assert "ConnectionError" in pending[0].error
    assert Webhook.objects.get().failing_since is not None  # the back-off reached its cap (0.4 s in tests)

    receiver.start()
    services.webhooks_tick()
    services.webhooks_tick()  # nothing more to send
    events = receiver.events()
    assert [(body["change"], body["incident"]) for _id, body in events] == [
        ("created", first.pk),
        ("updated", first.pk),  # its source cited
        ("created", second.pk),
        ("updated", second.pk),
        ("retracted", first.pk),
    ]
    assert len({event_id for event_id, _body in events}) == 5
    assert events[-1][1]["note"] == "Duplicate of another report."
    assert all(delivery.status == DeliveryStatus.DELIVERED for delivery in Delivery.objects.all())
    assert Webhook.objects.get().failing_since is None


def test_a_receiver_answering_500_is_retried_and_replay_keeps_the_event_id(admin_client, receiver, superuser):
    register(receiver, user=superuser)
    receiver.answer = 500
    IncidentFactory(published=True)
    services.webhooks_tick()
    delivery = Delivery.objects.order_by("change_id").first()
    assert (delivery.status, delivery.response_code) == (DeliveryStatus.PENDING, 500)
    assert "500" in delivery.error
    receiver.answer = 200
    time.sleep(0.06)
    services.webhooks_tick()
    assert [event_id for event_id, _body in receiver.events()][:2] == [str(delivery.event_id)] * 2
    sent = len(receiver.received)

    page = admin_client.get("/admin/webhooks/delivery/")
    assert page.status_code == 200 and str(delivery.change_id) in page.content.decode()
    response = admin_client.post(
        "/admin/webhooks/delivery/", {"action": "replay", "_selected_action": [delivery.pk]}, follow=True
    )
    assert "1 delivery queued again." in response.content.decode()
    assert len(receiver.received) == sent + 1
    assert receiver.events()[-1][0] == str(delivery.event_id)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 3)


def test_filter_and_kinds_choose_what_is_sent(receiver, superuser, publisher):
    register(receiver, user=superuser, filters="country=IQ", kinds=["created", "retracted"])
    syria = IncidentFactory(published=True, country="SY")
    iraq = IncidentFactory(published=True, country="IQ")
    incident_services.incident_retract(incident=syria, reason="Wrong date.", user=publisher)
    services.webhooks_tick()
    assert [(body["change"], body["incident"]) for _id, body in receiver.events()] == [
        ("created", iraq.pk),  # not its "updated" (kinds), not Syria's "created" (filter)
        ("retracted", syria.pk),  # a removal goes out whatever the filter
    ]


def test_the_admin_form_refuses_private_targets_and_bad_filters(admin_client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    form = {"name": "Internal", "url": "http://127.0.0.1:8000/hook", "filters": "start=yesterday", "active": "on"}
    page = admin_client.post("/admin/webhooks/webhook/add/", form).content.decode()
    assert "127.0.0.1 is a private, loopback or reserved address (127.0.0.1)" in page
    assert "start:" in page
    form = {**form, "url": "http://localhost:8000/hook", "filters": "country=SY"}
    assert (
        "localhost is a private, loopback or reserved address"
        in admin_client.post("/admin/webhooks/webhook/add/", form).content.decode()
    )
    form = {**form, "url": "http://10.1.2.3/hook"}
    assert "10.1.2.3 is a private" in admin_client.post("/admin/webhooks/webhook/add/", form).content.decode()
    assert not Webhook.objects.exists()


def test_the_secret_is_shown_once_then_only_to_superusers(admin_client, client, settings, receiver):
    form = {"name": "Copy", "url": receiver.url, "filters": "?country=SY", "kinds": ["created"], "active": "on"}
    response = admin_client.post("/admin/webhooks/webhook/add/", form, follow=True)
    webhook = Webhook.objects.get()
    assert webhook.filters == "country=SY" and webhook.kinds == ["created"]
    assert webhook.secret in response.content.decode()
    assert webhook.secret in admin_client.get(f"/admin/webhooks/webhook/{webhook.pk}/change/").content.decode()
    client.force_login(UserFactory(username="ed2", group="Editors"))
    page = client.get(f"/admin/webhooks/webhook/{webhook.pk}/change/").content.decode()
    assert "Shown once when the webhook was created" in page and webhook.secret not in page


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_sends_what_a_receiver_missed_while_down_once_it_is_back(receiver, superuser, workers):
    webhook = register(receiver, user=superuser)
    receiver.stop()
    with transaction.atomic():  # a published incident cites its source by the end of its transaction
        incidents = [IncidentFactory(published=True, title=f"Clash {n}") for n in range(3)]
    workers.start(WEBHOOKS_ALLOW_PRIVATE="true", WEBHOOKS_CRON="* * * * * *")

    def first_attempts():
        first = Delivery.objects.order_by("change_id").first()
        return first is not None and first.attempts >= 2

    wait_for(first_attempts, seconds=60, explain=workers.logs)  # down: tried, and tried again
    assert not receiver.received
    receiver.start()
    wait_for(lambda: not Delivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists(), explain=workers.logs)
    events = receiver.events()
    assert [(body["change"], body["incident"]) for _id, body in events] == [
        (kind, incident.pk) for incident in incidents for kind in ("created", "updated")
    ]
    assert len({event_id for event_id, _body in events}) == len(events) == 6
    assert all(verify(secret=webhook.secret, headers=headers, body=body) for headers, body in receiver.received)


def test_a_target_that_became_private_is_refused_at_sending_time(receiver, superuser, settings):
    register(receiver, user=superuser)
    settings.WEBHOOKS_ALLOW_PRIVATE = False  # registered while allowed; the setting changed since
    IncidentFactory(published=True)
    services.webhooks_tick()
    assert not receiver.received
    delivery = Delivery.objects.order_by("change_id").first()
    assert (delivery.status, delivery.attempts, delivery.response_code) == (DeliveryStatus.PENDING, 1, None)
    assert "127.0.0.1 is a private, loopback or reserved address" in delivery.error


def test_only_staff_reach_webhooks_and_their_deliveries(client, admin_client):
    assert admin_client.get("/admin/webhooks/webhook/add/").status_code == 200
    for url in ("/admin/webhooks/webhook/", "/admin/webhooks/delivery/"):
        assert client.get(url).status_code == 302  # to the sign-in page
    client.force_login(UserFactory(username="not-staff", is_staff=False))
    assert client.get("/admin/webhooks/delivery/").status_code == 302


def test_the_webhook_list_counts_pending_deliveries_and_links_to_them(admin_client, receiver, superuser):
    webhook = register(receiver, user=superuser)
    receiver.stop()
    IncidentFactory(published=True)
    services.webhooks_tick()
    page = admin_client.get("/admin/webhooks/webhook/").content.decode()
    assert f'<a href="/admin/webhooks/delivery/?webhook__id__exact={webhook.pk}">2</a>' in page
    receiver.start()


def test_https_receivers_are_checked_against_trusted_certificates(superuser, settings, tmp_path):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    authority = trustme.CA()
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(tls)
    receiver = Receiver(tls=tls, host="localhost")
    receiver.start()
    try:
        register(receiver, user=superuser)
        IncidentFactory(published=True)
        services.webhooks_tick()  # a certificate from a CA the system does not trust
        delivery = Delivery.objects.order_by("change_id").first()
        assert delivery.status == DeliveryStatus.PENDING and "CERTIFICATE_VERIFY_FAILED" in delivery.error
        assert not receiver.received

        authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
        settings.WEBHOOKS_CA_FILE = str(tmp_path / "ca.pem")  # an internal CA, named in the settings
        time.sleep(0.06)
        services.webhooks_tick()
        assert [body["change"] for _id, body in receiver.events()] == ["created", "updated"]
    finally:
        receiver.stop()

    other = Receiver(tls=ssl.create_default_context(ssl.Purpose.CLIENT_AUTH), host="localhost")
    authority.issue_cert("example.org").configure_cert(other.tls)  # trusted, but for another name
    other.start()
    try:
        webhook = register(other, user=superuser)
        IncidentFactory(published=True)
        services.webhooks_tick()
        delivery = Delivery.objects.filter(webhook=webhook).order_by("change_id").first()
        assert "hostname 'localhost' doesn't match 'example.org'" in delivery.error and not other.received
    finally:
        other.stop()


def test_delivered_deliveries_leave_the_log_after_the_days_kept(receiver, superuser):
    register(receiver, user=superuser)
    IncidentFactory(published=True)
    services.webhooks_tick()
    old, recent = Delivery.objects.order_by("change_id")
    Delivery.objects.filter(pk=old.pk).update(delivered_at=timezone.now() - timedelta(days=31))
    Delivery.objects.filter(pk=recent.pk).update(
        status=DeliveryStatus.PENDING, delivered_at=timezone.now() - timedelta(days=40)
    )
    receiver.stop()  # the pending one stays pending
    services.webhooks_tick()
    receiver.start()
    assert list(Delivery.objects.values_list("pk", flat=True)) == [recent.pk]


def test_a_name_that_resolves_first_to_an_address_nobody_listens_on_is_sent_to_the_next(
    receiver, superuser, monkeypatch
):
    # Debian's /etc/hosts gives "localhost" ::1 before 127.0.0.1; this receiver listens on 127.0.0.1 only.
    resolved = [
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", receiver.port, 0, 0)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", receiver.port)),
    ]
    real = socket.getaddrinfo
    monkeypatch.setattr(
        outbound.socket,
        "getaddrinfo",
        lambda host, *args, **kw: resolved if host == "localhost" else real(host, *args, **kw),
    )
    with socket.socket(socket.AF_INET6) as nobody:  # make sure nothing answers on ::1 at the receiver's port
        try:
            nobody.connect(("::1", receiver.port))
            pytest.skip("something listens on [::1] at the receiver's port")
        except OSError:
            pass
    webhook = services.webhook_create(
        webhook=Webhook(name="Research copy", url=f"http://localhost:{receiver.port}/hook"), user=superuser
    )
    IncidentFactory(published=True)
    services.webhooks_tick()
    assert [body["change"] for _id, body in receiver.events()] == ["created", "updated"]
    assert Delivery.objects.filter(webhook=webhook, status=DeliveryStatus.DELIVERED).count() == 2
