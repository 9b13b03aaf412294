"""The incidents app's background jobs (conflictmap/jobs.py says how a task is declared, queued and looked after).

A new job is a function here under `@jobs.task(name=...)`, queued with `jobs.job_defer(name, **arguments)` (JSON
arguments: ids, not objects); a scheduled one adds `@app.periodic(cron=...)` and takes `timestamp`.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from procrastinate.contrib.django import app

from conflictmap import jobs

from . import archive
from .api.views import full_downloads_write
from .importing.background import import_batch_abandon, import_batch_run
from .releases import release_create


@jobs.task(name="incidents.import_batch_run", queue="imports", on_give_up=import_batch_abandon)
def run_import_batch(*, batch_id, dataset, user_id):
    import_batch_run(batch_id=batch_id, dataset=dataset, user_id=user_id)


# At most one waiting at a time: edits in a burst make one file, not one per edit.
@jobs.task(name="incidents.full_downloads_write", queue="downloads", queueing_lock="incidents.full_downloads_write")
def write_full_downloads():
    full_downloads_write()


# Edits in the admin change the data version too; a file is written at most this long after the last one.
@app.periodic(cron=settings.FULL_DOWNLOAD_REFRESH_CRON)
@jobs.task(name="incidents.full_downloads_refresh", queue="downloads", queueing_lock="incidents.full_downloads_write")
def refresh_full_downloads(*, timestamp):
    full_downloads_write()


# A release is written once: retrying after a failure could only fail again on the same name (docs/operations.md).
@jobs.task(name="incidents.release_create", queue="releases", retry=False)
def create_release(*, name, user_id):
    release_create(name=name, user=get_user_model().objects.filter(pk=user_id).first())


# A failed fetch is a recorded capture, not a failed job; the retries are for the queue's own hiccups.
@jobs.task(name="incidents.source_capture", queue="archive")
def capture_source(*, source_id, user_id):
    archive.source_capture(source_id=source_id, user_id=user_id)
