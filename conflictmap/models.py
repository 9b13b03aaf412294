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


class JobError(models.Model):
    """Why one attempt of a background job ended badly: procrastinate keeps a job's state and events, not its error.

    Written by the job wrapper when a task raises, and by the sweep when a job's worker stopped (conflictmap/jobs.py).
    """

    # No database constraint: procrastinate's tables are its own (it deletes old jobs), the record may outlive a job.
    job = models.ForeignKey(
        "procrastinate.ProcrastinateJob",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="errors",
        verbose_name=_("job"),
    )
    attempt = models.PositiveIntegerField(_("attempt"))
    error = models.TextField(_("error"))
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["job", "attempt", "id"]
        verbose_name = _("job error")
        verbose_name_plural = _("job errors")

    def __str__(self):
        return f"job {self.job_id}, attempt {self.attempt}: {self.error}"
