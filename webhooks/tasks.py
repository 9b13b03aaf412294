"""Webhook jobs (conflictmap/jobs.py says how a task is declared and queued; docs/operations.md, Webhooks)."""

from django.conf import settings
from procrastinate.contrib.django import app

from conflictmap import jobs

from . import services


# The back-off is the deliveries' own (next_attempt_at): a failed send is a recorded attempt, not a failed job.
@jobs.task(name="webhooks.deliver", queue="webhooks", retry=False)
def deliver(*, webhook_id):
    services.webhook_deliver(webhook_id=webhook_id)


@app.periodic(cron=settings.WEBHOOKS_CRON)
@jobs.task(name="webhooks.tick", queue="webhooks", queueing_lock="webhooks.tick", retry=False)
def tick(*, timestamp):
    services.webhooks_tick()
