"""The queue's own upkeep, run by the workers on a schedule (conflictmap/jobs.py)."""

from django.conf import settings
from procrastinate.contrib.django import app

from . import jobs

# Queues whose finished jobs are only housekeeping: an import's job is kept as long as its batch (the batch page
# links to it).
HOUSEKEEPING_QUEUES = ["maintenance", "downloads", "webhooks"]


@app.periodic(cron=settings.JOBS_SWEEP_CRON)
@jobs.task(name="jobs.recover_stalled", queue="maintenance", queueing_lock="jobs.recover_stalled", retry=False)
def recover_stalled(*, timestamp):
    jobs.jobs_recover_stalled()


@app.periodic(cron="17 3 * * *")
@jobs.task(name="jobs.remove_old", queue="maintenance", queueing_lock="jobs.remove_old", retry=False)
def remove_old(*, timestamp):
    jobs.jobs_remove_old(queues=HOUSEKEEPING_QUEUES)
