"""An import run as a background job (incidents/tasks.py), so a 100 MB file cannot time the request out and a worker
that dies mid-import leaves a batch that is run again or says it failed, never one "running" forever."""

import logging
from contextlib import contextmanager
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from conflictmap import jobs

from ..models import ImportBatch, ImportStatus
from .loading import import_events

logger = logging.getLogger(__name__)

# pg_advisory_lock's first key: "import batch" (the second is the batch's id).
ADVISORY_LOCK_SPACE = 22_001
# States a batch's job may still act on; anything else is a finished run.
UNFINISHED = (ImportStatus.QUEUED, ImportStatus.RUNNING)


def import_start(*, batch, user, dataset="auto"):
    """Queue the preview or the import of the batch's uploaded file; the batch page follows the batch row, which the
    job writes its progress and result to. The job is queued in the caller's transaction, with the batch."""
    job_id = jobs.job_defer("incidents.import_batch_run", batch_id=batch.pk, dataset=dataset, user_id=user.pk)
    if job_id is not None:
        ImportBatch.objects.filter(pk=batch.pk).update(job_id=job_id)
        batch.job_id = job_id
    return job_id


def import_batch_rerun(*, batch, user):
    """Queue a batch whose job failed or was abandoned once more, from its kept file; False if it cannot be."""
    if not batch.may_run_again:
        return False
    with transaction.atomic():
        updated = ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.FAILED).update(
            status=ImportStatus.QUEUED, message="", started_at=timezone.now(), finished_at=None
        )
        if not updated:
            return False
        batch.refresh_from_db()
        import_start(batch=batch, user=user, dataset=batch.dataset or "auto")
    return True


@contextmanager
def _batch_lock(batch_id):
    """One run of a batch at a time, across workers: a run that follows a killed one waits here until the killed
    one's database session has ended (and its transaction has rolled back)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [ADVISORY_LOCK_SPACE, batch_id])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_LOCK_SPACE, batch_id])


def import_batch_run(*, batch_id, dataset, user_id):
    """The job: run the batch unless a run before this one already finished it (the import and its DONE status are
    one commit, so a batch is imported exactly once however often its job runs)."""
    with _batch_lock(batch_id):
        batch = ImportBatch.objects.get(pk=batch_id)
        if batch.status in UNFINISHED:
            user = get_user_model().objects.filter(pk=user_id).first()
            import_events(batch=batch, path=batch.upload_path, dataset=dataset, user=user)
        # The file waits for the confirmation of a preview, or for a run again after a failure.
        if batch.upload_path and batch.status not in (ImportStatus.PREVIEW, ImportStatus.FAILED):
            Path(batch.upload_path).unlink(missing_ok=True)
        if batch.status == ImportStatus.DONE:
            transaction.on_commit(lambda: jobs.job_defer("incidents.full_downloads_write"))


def import_batch_abandon(*, batch_id, reason, **_arguments):
    """The batch's job will not run again: a batch it left unfinished is failed, with the reason (nothing of it was
    written: an import is one transaction)."""
    message = _("The import did not finish: %(reason)s Nothing was written; run it again.") % {"reason": reason}
    ImportBatch.objects.filter(pk=batch_id, status__in=UNFINISHED).update(
        status=ImportStatus.FAILED, message=message, finished_at=timezone.now()
    )
