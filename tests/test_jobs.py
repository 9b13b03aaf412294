"""Background jobs on the real queue, run by real workers (`manage.py procrastinate worker` subprocesses against the
test database): an upload is previewed and imported by a worker while its page follows; a worker killed (SIGKILL)
mid-import leaves a job that another worker runs again, and the batch is imported exactly once; a job abandoned too
often fails its batch with the reason, and the batch runs again from the admin."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from procrastinate.contrib.django.utils import connector_params

from conflictmap.localserver import connection_url
from conflictmap.models import JobError
from incidents.api import downloads
from incidents.models import ImportBatch, ImportChange, ImportStatus, Incident
from tests.factories import UserFactory
from tests.kept_recount import kept_tables_differing
from tests.test_import_admin import upload

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

QUEUE_TABLES = "procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers, procrastinate_workers"
# A worker silent for 2 s is taken for dead; the sweep looks every second.
FAST_RECOVERY = {
    "JOBS_HEARTBEAT_SECONDS": "0.5",
    "JOBS_STALLED_AFTER_SECONDS": "2",
    "JOBS_SWEEP_CRON": "* * * * * *",
}


def wait_for(probe, *, seconds=60, explain=lambda: ""):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := probe():
            return found
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting: {explain()}")


def empty_queue():
    # procrastinate's tables are not Django's to flush between tests: no job of another test may reach our workers.
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {QUEUE_TABLES} CASCADE")


class Workers:
    """Starts workers as `make serve` does (but with the test settings), and kills them."""

    def __init__(self, tmp_path, environment):
        self.tmp_path, self.environment, self.processes = tmp_path, environment, []

    def start(self, **extra):
        log = (self.tmp_path / f"worker-{len(self.processes)}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "manage.py", "procrastinate", "worker"],
            cwd=settings.BASE_DIR,
            env={**os.environ, **self.environment, **extra},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def logs(self):
        return "\n".join(path.read_text()[-2000:] for path in sorted(self.tmp_path.glob("worker-*.log")))

    def stop_all(self):
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def workers(tmp_path, settings):
    settings.JOBS_RUN_AT_ONCE = False
    settings.DOWNLOAD_CACHE_DIR = tmp_path / "downloads"
    empty_queue()
    environment = {
        "DJANGO_SETTINGS_MODULE": "conflictmap.settings.test",
        "DATABASE_URL": connection_url(),
        "JOBS_RUN_AT_ONCE": "false",
        "DOWNLOAD_CACHE_DIR": str(settings.DOWNLOAD_CACHE_DIR),
        **FAST_RECOVERY,
    }
    pool = Workers(tmp_path, environment)
    try:
        yield pool
    finally:
        pool.stop_all()
        empty_queue()


@pytest.fixture
def importer(client):
    user = UserFactory(username="queue-publisher", group="Publishers")
    client.force_login(user)
    return user


def batch_state(batch):
    batch.refresh_from_db()
    return batch.status


def job_row(job_id):
    with connection.cursor() as cursor:
        cursor.execute("SELECT status, attempts FROM procrastinate_jobs WHERE id = %s", [job_id])
        return cursor.fetchone()


@contextmanager
def incidents_locked():
    """Hold off every write to the incidents from another session: an import started meanwhile stops mid-way,
    inside its transaction, where a worker can be killed."""
    with psycopg.connect(**connector_params()) as locker:
        locker.execute("LOCK TABLE incidents_incident IN EXCLUSIVE MODE")
        yield
        locker.rollback()


def import_waiting_on_lock():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'incidents_incident'::regclass")
        return cursor.fetchone()[0] > 0


def previewed(client, workers, name="acled_export.csv"):
    upload(client, name, status="published")
    batch = ImportBatch.objects.get()
    wait_for(lambda: batch_state(batch) == ImportStatus.PREVIEW, explain=workers.logs)
    return batch


def test_an_import_whose_worker_is_killed_mid_way_is_finished_by_another_worker_exactly_once(client, importer, workers):
    first = workers.start()
    response = upload(client, "acled_export.csv", status="published")
    batch = ImportBatch.objects.get()
    assert batch.job_id is not None
    page = client.get(response.url).content.decode()
    if batch_state(batch) in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        assert '<meta http-equiv="refresh" content="2">' in page  # the page follows the job
    wait_for(lambda: batch_state(batch) == ImportStatus.PREVIEW, explain=workers.logs)
    assert (batch.created, Incident.objects.count()) == (3, 0)
    wait_for(lambda: job_row(batch.job_id) == ("succeeded", 1), explain=lambda: str(job_row(batch.job_id)))
    page = client.get(response.url).content.decode()
    assert '<meta http-equiv="refresh"' not in page
    assert 'class="import-job-state">succeeded</strong>' in page

    with incidents_locked():
        client.post(reverse("admin:incidents_importbatch_confirm", args=[batch.pk]))
        batch.refresh_from_db()
        wait_for(import_waiting_on_lock, explain=workers.logs)
        assert batch_state(batch) == ImportStatus.RUNNING
        first.send_signal(signal.SIGKILL)
        first.wait()
        workers.start()
        # The sweep finds the dead worker's job and queues it again; the new run waits for the dead one's session.
        wait_for(lambda: JobError.objects.filter(job_id=batch.job_id).exists(), explain=workers.logs)
    wait_for(lambda: batch_state(batch) == ImportStatus.DONE, explain=workers.logs)

    assert (batch.created, batch.updated) == (3, 0)
    assert Incident.objects.filter(dataset="acled", status="published").count() == 3
    assert ImportChange.objects.filter(batch=batch).count() == 3
    wait_for(lambda: job_row(batch.job_id) == ("succeeded", 2), explain=lambda: str(job_row(batch.job_id)))
    [abandoned] = JobError.objects.filter(job_id=batch.job_id)
    assert abandoned.attempt == 1 and "stopped" in abandoned.error
    assert not Path(batch.upload_path).exists()
    with transaction.atomic():
        assert set(kept_tables_differing().values()) == {0}
    page = client.get(reverse("admin:incidents_importbatch_change", args=[batch.pk])).content.decode()
    assert "2 attempts" in page and 'class="import-job-state">succeeded</strong>' in page
    job_page = client.get(reverse("admin:procrastinate_procrastinatejob_change", args=[batch.job_id]))
    assert "The worker running this job stopped" in job_page.content.decode()
    # The import asks for the full-download files of the new data version; the worker writes them.
    geojson, _version, _changed = downloads.full_download_file(filename="incidents.geojson")
    wait_for(geojson.exists, seconds=30, explain=workers.logs)
    assert geojson.read_bytes().count(b'"type":"Feature"') == 3


def test_a_job_abandoned_once_too_often_fails_its_batch_which_runs_again(client, importer, workers):
    first = workers.start(JOBS_STALLED_RETRIES="0")
    batch = previewed(client, workers)
    with incidents_locked():
        client.post(reverse("admin:incidents_importbatch_confirm", args=[batch.pk]))
        batch.refresh_from_db()
        wait_for(import_waiting_on_lock, explain=workers.logs)
        first.send_signal(signal.SIGKILL)
        first.wait()
        workers.start(JOBS_STALLED_RETRIES="0")
        wait_for(lambda: batch_state(batch) == ImportStatus.FAILED, explain=workers.logs)
    assert job_row(batch.job_id)[0] == "failed"
    assert "The import did not finish: The worker running this job stopped" in batch.message
    # The dead worker's transaction rolled back: nothing of the batch is there.
    wait_for(lambda: not import_waiting_on_lock())
    assert not Incident.objects.filter(dataset="acled").exists()
    page = client.get(reverse("admin:incidents_importbatch_change", args=[batch.pk])).content.decode()
    assert "Run it again" in page and batch.message in page

    failed_job = batch.job_id
    client.post(reverse("admin:incidents_importbatch_rerun", args=[batch.pk]))
    wait_for(lambda: batch_state(batch) == ImportStatus.DONE, explain=workers.logs)
    assert batch.job_id != failed_job and batch.message == ""
    assert Incident.objects.filter(dataset="acled").count() == 3
    with transaction.atomic():
        assert set(kept_tables_differing().values()) == {0}
