from django.db import models
from django.utils.translation import gettext_lazy as _


class RateLimitCounter(models.Model):
    """Requests one client address made to one rate-limited scope in the current window (see middleware.py)."""

    bucket = models.CharField(_("scope and client address"), max_length=200, primary_key=True)
    window_ends_at = models.DateTimeField(_("window ends at"))
    hits = models.PositiveIntegerField(_("requests in the window"))

    class Meta:
        verbose_name = _("rate-limit counter")
        verbose_name_plural = _("rate-limit counters")

    def __str__(self):
        return f"{self.bucket}: {self.hits}"
