"""What the job wrapper adds to procrastinate (conflictmap/jobs.py): each failed attempt's error is kept, and the
attempt that will not be retried fails the work the job stands for. The task runs as a worker calls it (its
procrastinate function, with the job's context); the queue itself is exercised in tests/test_jobs.py."""

import time

import pytest
from django.urls import reverse
from procrastinate.contrib.django import app
from procrastinate.job_context import JobContext
from procrastinate.jobs import Job

from conflictmap import jobs
from conflictmap.models import JobError
from incidents.importing import background
from incidents.models import ImportBatch, ImportStatus
from tests.test_import_admin import upload

pytestmark = pytest.mark.django_db

TASK = "incidents.import_batch_run"


def attempt(*, batch, attempts):
    job = Job(
        id=4242, queue="imports", lock=None, queueing_lock=None, task_name=TASK, task_kwargs={}, attempts=attempts
    )
    context = JobContext(app=app, job=job, start_timestamp=time.time(), abort_reason=lambda: None)
    app.tasks[TASK].func(context, batch_id=batch.pk, dataset="auto", user_id=None)


@pytest.fixture
def disk_full(monkeypatch):
    def import_events(**_arguments):
        raise OSError("No space left on device")

    monkeypatch.setattr(background, "import_events", import_events)


def test_each_failed_attempt_keeps_its_error_and_the_last_one_fails_the_batch(disk_full, publisher, client):
    batch = ImportBatch.objects.create(file_name="acled.csv", upload_path="/nonexistent.csv", status="queued")
    with pytest.raises(OSError):
        attempt(batch=batch, attempts=0)  # procrastinate will retry this one
    batch.refresh_from_db()
    assert batch.status == ImportStatus.QUEUED
    with pytest.raises(OSError):
        attempt(batch=batch, attempts=2)  # the retry strategy's last
    batch.refresh_from_db()
    assert batch.status == ImportStatus.FAILED
    assert batch.message == (
        "The import did not finish: The job failed: No space left on device Nothing was written; run it again."
    )
    errors = list(JobError.objects.filter(job_id=4242).values_list("attempt", flat=True))
    assert errors == [1, 3]
    assert all("OSError: No space left on device" in error.error for error in JobError.objects.all())
    # The file is gone, so the batch page offers no run again.
    client.force_login(publisher)
    page = client.get(reverse("admin:incidents_importbatch_change", args=[batch.pk])).content.decode()
    assert "No space left on device" in page and "Run it again" not in page


def test_the_job_admin_shows_state_attempts_and_last_error_to_importers_only(settings, client, publisher, editor):
    settings.JOBS_RUN_AT_ONCE = False
    job_id = jobs.job_defer("incidents.full_downloads_write")
    assert jobs.job_defer("incidents.full_downloads_write") is None  # one waiting at a time
    JobError.objects.create(job_id=job_id, attempt=1, error="Traceback …\nOSError: No space left on device")
    changelist = reverse("admin:procrastinate_procrastinatejob_changelist")

    client.force_login(editor)
    assert client.get(changelist).status_code == 403
    client.force_login(publisher)
    page = client.get(changelist).content.decode()
    row = page[page.index(f">{job_id}</a>") :]
    row = row[: row.index("</tr>")]
    assert "queued" in row and "OSError: No space left on device" in row
    assert 'name="action"' not in page  # retry, cancel and abort are for superusers
    detail = client.get(reverse("admin:procrastinate_procrastinatejob_change", args=[job_id])).content.decode()
    assert "Traceback …" in detail and "queued" in detail


def test_an_upload_waiting_for_a_worker_says_none_is_running(settings, client, publisher):
    settings.JOBS_RUN_AT_ONCE = False
    client.force_login(publisher)
    response = upload(client, "acled_export.csv")
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.job.status, batch.job.task_name) == ("queued", "todo", "incidents.import_batch_run")
    page = client.get(response.url).content.decode()
    assert 'class="import-job-state">queued</strong>' in page
    assert "No job worker is running" in page
