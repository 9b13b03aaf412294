"""Webhooks: pick up the change feed's new changes for each webhook, send them signed, in change order, with
retries (docs/api.md#webhooks for receivers, docs/operations.md for running them)."""

import hashlib
import hmac
import logging
import time
from datetime import timedelta

import urllib3
from django.conf import settings
from django.db import connection, transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from conflictmap import jobs, outbound
from incidents import selectors
from incidents.models import ChangeKind, IncidentChange

from .models import Delivery, DeliveryStatus, Webhook

logger = logging.getLogger(__name__)

# Removals carry no content and the incident is no longer in the filtered set: sent to every webhook that takes them.
CONTENT_KINDS = {ChangeKind.CREATED, ChangeKind.UPDATED}
COLLECT_PAGE = 1000
EXCERPT_CHARS = 500
# pg_try_advisory_lock(key, webhook id): one sender per webhook at a time, so its deliveries go in change order.
DELIVERY_LOCK_KEY = 220_022


def webhook_target_check(url):
    """The addresses to send to (conflictmap/outbound.py): AddressRefused unless every address `url`'s host resolves
    to is a public one (or WEBHOOKS_ALLOW_PRIVATE), so a webhook cannot become a way to reach the site's own
    network."""
    return outbound.public_addresses(url, allow_private=settings.WEBHOOKS_ALLOW_PRIVATE)


def _post(*, url, address, body, headers):
    """POST to `url` at the checked `address` (TLS still checks the URL's host name): (status, the answer's first
    WEBHOOKS_RESPONSE_MAX_BYTES). No redirects, no retries of its own: the delivery's back-off does that."""
    timeout = urllib3.Timeout(connect=settings.WEBHOOKS_TIMEOUT_SECONDS, read=settings.WEBHOOKS_TIMEOUT_SECONDS)
    target, host = outbound.request_target(url)
    with outbound.connection_pool(url=url, address=address, timeout=timeout, ca_file=settings.WEBHOOKS_CA_FILE) as pool:
        response = pool.urlopen(
            "POST", target, body=body, headers={**headers, "Host": host}, redirect=False, preload_content=False
        )
        try:
            return response.status, response.read(settings.WEBHOOKS_RESPONSE_MAX_BYTES) or b""
        finally:
            response.release_conn()


def webhook_filters_check(filters):
    """Raise selectors.InvalidFilters for a map filter the map itself would refuse."""
    selectors.incident_filterset(params=QueryDict(filters))


def latest_change_id():
    return IncidentChange.objects.order_by("-id").values_list("id", flat=True).first() or 0


def webhook_create(*, webhook, user):
    """Save a new webhook: it hears of the changes made from now on."""
    webhook.created_by = user
    webhook.last_change_id = latest_change_id()
    webhook.save()
    return webhook


def webhook_collect(*, webhook_id):
    """Turn the changes after the webhook's last one into its deliveries (those that match its filter and kinds);
    returns how many were added."""
    added = 0
    while True:
        with transaction.atomic():
            webhook = Webhook.objects.select_for_update().filter(pk=webhook_id).first()
            if webhook is None:  # deleted meanwhile
                return added
            rows = selectors.incident_change_rows(after=webhook.last_change_id, limit=COLLECT_PAGE)
            if not rows:
                return added
            wanted = [row for row in rows if not webhook.kinds or row[1] in webhook.kinds]
            shown = set()
            if webhook.filters:
                try:
                    filterset = selectors.incident_filterset(params=QueryDict(webhook.filters))
                except selectors.InvalidFilters as invalid:
                    # A vocabulary changed under the filter: nothing matches until staff mend it (the form says why).
                    logger.warning("Webhook %s: its filter no longer validates: %s", webhook.pk, invalid.errors)
                    wanted = [row for row in wanted if row[1] not in CONTENT_KINDS]
                else:
                    ids = {row[2] for row in wanted if row[1] in CONTENT_KINDS}
                    shown = set(filterset.qs.filter(pk__in=ids).values_list("pk", flat=True))
                    wanted = [row for row in wanted if row[1] not in CONTENT_KINDS or row[2] in shown]
            Delivery.objects.bulk_create(
                [
                    Delivery(webhook=webhook, change_id=change_id, kind=kind, incident_id=incident_id, body=body)
                    for change_id, kind, incident_id, body in wanted
                ],
                ignore_conflicts=True,
            )
            added += len(wanted)
            webhook.last_change_id = rows[-1][0]
            webhook.save(update_fields=["last_change_id"])


def webhooks_tick():
    """What a worker does every WEBHOOKS_CRON: pick up new changes for every active webhook, queue the sending of
    those with a delivery due, and forget deliveries older than WEBHOOKS_KEEP_DAYS."""
    now = timezone.now()
    # The log keeps what was delivered for WEBHOOKS_KEEP_DAYS (pending ones stay until delivered).
    Delivery.objects.filter(
        status=DeliveryStatus.DELIVERED, delivered_at__lt=now - timedelta(days=settings.WEBHOOKS_KEEP_DAYS)
    ).delete()
    for webhook_id in Webhook.objects.filter(active=True).values_list("pk", flat=True):
        webhook_collect(webhook_id=webhook_id)
        first = (
            Delivery.objects.filter(webhook_id=webhook_id, status=DeliveryStatus.PENDING)
            .order_by("change_id")
            .values_list("next_attempt_at", flat=True)[:1]
        )
        if first and (first[0] is None or first[0] <= now):
            jobs.job_defer("webhooks.deliver", queueing_lock=f"webhooks.deliver:{webhook_id}", webhook_id=webhook_id)


def retry_delay(attempts):
    """Seconds before attempt `attempts + 1`: doubling from WEBHOOKS_RETRY_FIRST_SECONDS up to the cap."""
    return min(settings.WEBHOOKS_RETRY_FIRST_SECONDS * 2 ** (attempts - 1), settings.WEBHOOKS_RETRY_MAX_SECONDS)


def signature(*, secret, timestamp, body):
    """The Conflictmap-Signature's v1: hex HMAC-SHA256, keyed by the secret, of `<timestamp>.<body bytes>`."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def delivery_send(*, delivery):
    """One attempt: POST the change to the webhook's URL and record what happened. True on a 2xx."""
    webhook = delivery.webhook
    body = delivery.body.encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "conflictmap-webhooks/1",
        "Conflictmap-Event-Id": str(delivery.event_id),
        "Conflictmap-Event": delivery.kind,
        "Conflictmap-Timestamp": timestamp,
        "Conflictmap-Signature": f"v1={signature(secret=webhook.secret, timestamp=timestamp, body=body)}",
    }
    started = time.monotonic()
    code, excerpt, error = None, "", ""
    try:
        addresses = webhook_target_check(webhook.url)  # at every attempt: the name may resolve elsewhere now
        code, received = outbound.first_listening(
            addresses, lambda address: _post(url=webhook.url, address=address, body=body, headers=headers)
        )
        excerpt = received[: EXCERPT_CHARS * 4].decode("utf-8", "replace")[:EXCERPT_CHARS]
    except outbound.AddressRefused as refused:
        error = str(refused)
    except (urllib3.exceptions.HTTPError, OSError) as failure:  # refused, timed out, TLS, a broken answer
        error = f"{type(failure).__name__}: {failure}"[:2000]
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.duration_ms = int((time.monotonic() - started) * 1000)
    delivery.response_code = code
    delivery.response_excerpt = excerpt
    delivery.error = error or (
        "" if code and 200 <= code < 300 else _("The receiver answered %(code)s.") % {"code": code}
    )
    delivered = code is not None and 200 <= code < 300
    if delivered:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    else:
        delay = retry_delay(delivery.attempts)
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        if delay >= settings.WEBHOOKS_RETRY_MAX_SECONDS and webhook.failing_since is None:
            Webhook.objects.filter(pk=webhook.pk).update(failing_since=now)
    delivery.save()
    if delivered and webhook.failing_since is not None:
        Webhook.objects.filter(pk=webhook.pk).update(failing_since=None)
    return delivered


def webhook_deliver(*, webhook_id):
    """Send the webhook's due deliveries in change order, stopping at the first that fails (it is tried again after
    its back-off, and the later ones wait for it). Returns how many were delivered."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [DELIVERY_LOCK_KEY, webhook_id])
        if not cursor.fetchone()[0]:
            return 0  # another worker is sending this webhook's deliveries
    delivered = 0
    try:
        while True:
            delivery = (
                Delivery.objects.select_related("webhook")
                .filter(webhook_id=webhook_id, webhook__active=True, status=DeliveryStatus.PENDING)
                .order_by("change_id")
                .first()
            )
            if delivery is None or (delivery.next_attempt_at and delivery.next_attempt_at > timezone.now()):
                return delivered
            if not delivery_send(delivery=delivery):
                return delivered
            delivered += 1
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [DELIVERY_LOCK_KEY, webhook_id])


def delivery_replay(*, deliveries, user):
    """Send these deliveries again (same body, same event id), before the webhook's later ones; returns how many."""
    now = timezone.now()
    count = Delivery.objects.filter(pk__in=[delivery.pk for delivery in deliveries]).update(
        status=DeliveryStatus.PENDING, next_attempt_at=now
    )
    logger.info("%s replayed %s webhook deliveries", user, count)
    for webhook_id in {delivery.webhook_id for delivery in deliveries}:
        jobs.job_defer("webhooks.deliver", queueing_lock=f"webhooks.deliver:{webhook_id}", webhook_id=webhook_id)
    return count
