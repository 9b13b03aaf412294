"""Signed webhooks: staff register a receiver; each public change (the change feed, incidents.IncidentChange) that
matches it becomes a Delivery, sent in change order by a job (webhooks/services.py, docs/api.md#webhooks)."""

import secrets
import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.models import ChangeKind


def new_secret():
    return secrets.token_urlsafe(32)


class Webhook(models.Model):
    name = models.CharField(_("name"), max_length=200)
    url = models.URLField(_("target URL"), max_length=1000, help_text=_("Receives a POST for each matching change."))
    filters = models.TextField(
        _("map filter"),
        blank=True,
        help_text=_(
            "The query string of a map permalink (for example country=SY&event_type=battles): only changes to "
            "incidents it shows are sent. Removals (unpublished, retracted, deleted) are sent whatever the filter."
        ),
    )
    kinds = ArrayField(
        models.CharField(max_length=12, choices=ChangeKind.choices),
        verbose_name=_("event kinds"),
        default=list,
        blank=True,
        help_text=_("Which changes to send; none ticked sends all."),
    )
    secret = models.CharField(_("secret"), max_length=100, default=new_secret, editable=False)
    active = models.BooleanField(_("active"), default=True)
    # The last change of the feed this webhook has looked at: it hears of changes made after it was registered.
    last_change_id = models.BigIntegerField(_("last change looked at"), default=0, editable=False)
    failing_since = models.DateTimeField(
        _("failing since"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Set when a delivery has been retried up to the longest back-off; cleared by a success."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self):
        return self.name


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")  # not sent yet, or to be tried again at next_attempt_at
    DELIVERED = "delivered", _("Delivered")  # a 2xx was recorded


class Delivery(models.Model):
    """One change for one webhook; the body is the change feed's item, fixed when the change was picked up, so a
    retry or a replay sends the same bytes under the same event id."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("webhook"))
    change_id = models.BigIntegerField(_("change"))
    event_id = models.UUIDField(_("event id"), default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=12, choices=ChangeKind.choices)
    incident_id = models.BigIntegerField(_("incident id"))
    body = models.TextField(_("body"))
    status = models.CharField(
        _("status"), max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    response_excerpt = models.TextField(_("response excerpt"), blank=True)
    error = models.TextField(_("error"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-change_id"]
        constraints = [models.UniqueConstraint(fields=["webhook", "change_id"], name="delivery_once_per_change")]
        indexes = [models.Index(fields=["webhook", "status", "change_id"], name="delivery_pending")]

    def __str__(self):
        return f"{self.webhook} #{self.change_id} ({self.kind} {self.incident_id})"
