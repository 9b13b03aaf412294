"""Background jobs on procrastinate's PostgreSQL queue: how a task is declared, deferred and looked after.

A task is a function in some app's `tasks.py` (procrastinate's Django app imports every one), declared with
`@jobs.task(name=...)`; code asks for it with `jobs.job_defer(name, **arguments)`, which writes the job row in the
caller's transaction (a rolled-back request queues nothing). `manage.py procrastinate worker` runs the jobs.

What procrastinate gives (docs/operations.md): retries with back-off, worker heartbeats, the job's state and events.
What this module adds: each failed attempt's error (JobError, which procrastinate does not keep), a sweep that runs
again the jobs of a worker that stopped sending heartbeats (killed, out of memory, machine lost) or marks them
failed after JOBS_STALLED_RETRIES, and a hook (`on_give_up`) that lets the work a job stands for (an import batch)
follow it when it will not run again.
"""

import functools
import logging
import traceback
from datetime import timedelta

from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import close_old_connections, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob, ProcrastinateWorker
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import Status

from .models import JobError

logger = logging.getLogger(__name__)

# Infrastructure hiccups (a dropped connection) deserve another go; a task that fails for its own reasons usually
# records the failure itself and returns (an import's bad rows are a report, not an exception).
DEFAULT_RETRY = RetryStrategy(max_attempts=2, exponential_wait=5)

# procrastinate's statuses as the admin words them.
JOB_STATES = {
    "todo": gettext_lazy("queued"),
    "doing": gettext_lazy("running"),
    "succeeded": gettext_lazy("succeeded"),
    "failed": gettext_lazy("failed"),
    "cancelled": gettext_lazy("cancelled"),
    "aborted": gettext_lazy("aborted"),
}
FINISHING_EVENTS = {"succeeded", "failed", "cancelled", "aborted"}

# name -> (the plain function, on_give_up or None), for JOBS_RUN_AT_ONCE and the sweep.
_declared = {}


def task(*, name, queue="default", retry=DEFAULT_RETRY, queueing_lock=None, on_give_up=None):
    """Declare a background task: `name` is what job_defer asks for (and the admin shows).

    `on_give_up(reason=..., **arguments)` runs once the job will not be tried again (its last attempt raised, or its
    worker stopped once too often), so whatever the job was doing can say it failed and why.
    """

    def declare(function):
        @functools.wraps(function)
        def attempt(context, **arguments):
            try:
                return function(**arguments)
            except Exception as error:
                job = context.job
                JobError.objects.create(
                    job_id=job.id, attempt=job.attempts + 1, error="".join(traceback.format_exception(error))[-10_000:]
                )
                if on_give_up is not None and declared.get_retry_exception(exception=error, job=job) is None:
                    on_give_up(reason=_("The job failed: %(error)s") % {"error": error}, **arguments)
                raise

        declared = app.task(name=name, queue=queue, retry=retry, queueing_lock=queueing_lock, pass_context=True)(
            attempt
        )
        _declared[name] = (function, on_give_up)
        return declared

    return declare


def fresh_connections(call_next, context, worker):
    """A worker's task middleware: its threads outlive jobs, so each job starts and ends with the thread's database
    connection checked (closed when broken or too old), never on one the database has closed meanwhile."""
    close_old_connections()
    try:
        return call_next()
    finally:
        close_old_connections()


def on_app_ready(procrastinate_app):
    """PROCRASTINATE_ON_APP_READY: every worker runs sync tasks through fresh_connections."""
    procrastinate_app.worker_defaults = {
        **procrastinate_app.worker_defaults,
        "task_middleware": [fresh_connections],
    }


def job_defer(name, /, *, queueing_lock=None, **arguments):
    """Queue the task `name` with these arguments; returns the job's id (None when run at once or already queued).

    The row is written in the current transaction, so the job exists exactly when the caller's work is committed.
    A task with a queueing lock (its own, or `queueing_lock` for this call) is queued at most once at a time:
    asking again while one waits is a no-op.
    """
    if settings.JOBS_RUN_AT_ONCE:
        function, _on_give_up = _declared[name]
        function(**arguments)
        return None
    try:
        with transaction.atomic():  # a savepoint: a refused duplicate must not spoil the caller's transaction
            deferrer = app.configure_task(name=name, **({"queueing_lock": queueing_lock} if queueing_lock else {}))
            return deferrer.defer(**arguments)
    except AlreadyEnqueued:
        return None


def _give_up(*, job, reason):
    _function, on_give_up = _declared.get(job.task_name, (None, None))
    if on_give_up is not None:
        on_give_up(reason=reason, **job.task_kwargs)


def jobs_recover_stalled():
    """Jobs still 'doing' whose worker has not been heard of for JOBS_STALLED_AFTER_SECONDS: run them again, or,
    after JOBS_STALLED_RETRIES such losses, mark them failed (and let their work say so). Returns the jobs' ids.

    Runs inside a worker (a periodic task); the queue's calls go to the worker's event loop (async_to_sync)."""
    manager = app.job_manager
    stalled = async_to_sync(manager.get_stalled_jobs)(seconds_since_heartbeat=settings.JOBS_STALLED_AFTER_SECONDS)
    for job in stalled:
        reason = _(
            "The worker running this job stopped (no sign of life for %(seconds)s s) during attempt %(attempt)s."
        ) % {"seconds": f"{settings.JOBS_STALLED_AFTER_SECONDS:g}", "attempt": job.attempts + 1}
        logger.warning("Job %s (%s): %s", job.id, job.task_name, reason)
        JobError.objects.create(job_id=job.id, attempt=job.attempts + 1, error=reason)
        if job.attempts < settings.JOBS_STALLED_RETRIES:
            async_to_sync(manager.retry_job)(job)
        else:
            async_to_sync(manager.finish_job_by_id_async)(job_id=job.id, status=Status.FAILED, delete_job=False)
            _give_up(job=job, reason=reason)
    return [job.id for job in stalled]


def jobs_remove_old(*, queues):
    """Succeeded jobs of these queues finished more than JOBS_KEEP_DAYS ago go, with errors of vanished jobs."""
    for queue in queues:
        async_to_sync(app.job_manager.delete_old_jobs)(nb_hours=settings.JOBS_KEEP_DAYS * 24, queue=queue)
    JobError.objects.exclude(job_id__in=ProcrastinateJob.objects.values("id")).delete()


def job_state(job):
    return JOB_STATES.get(job.status, job.status)


def job_timings(job):
    """(queued at, last started at, finished at) from the job's events (prefetched newest first by the admin)."""
    events = sorted(job.procrastinateevent_set.all(), key=lambda event: event.at, reverse=True)
    queued = next((event.at for event in reversed(events) if event.type == "deferred"), None)
    started = next((event.at for event in events if event.type == "started"), None)
    finished = next((event.at for event in events if event.type in FINISHING_EVENTS), None)
    if finished and started and finished < started:
        finished = None  # finished once, started again since (a retry)
    return queued, started, finished


def job_list(*, task_name, argument, limit):
    """[(job id, the job's `argument`)] of the latest jobs of a task, newest first."""
    rows = ProcrastinateJob.objects.filter(task_name=task_name).order_by("-id").values_list("id", "args")[:limit]
    return [(job_id, arguments.get(argument)) for job_id, arguments in rows]


def job_summary(*, job_id):
    """What a page about the work a job does shows of it: state, attempts, timings, last error, the admin's page;
    None when there is no such job (run at once, or deleted)."""
    job = ProcrastinateJob.objects.prefetch_related("procrastinateevent_set", "errors").filter(pk=job_id).first()
    if job is None:
        return None
    queued, started, finished = job_timings(job)
    errors = list(job.errors.all())
    return {
        "id": job.pk,
        "state": job_state(job),
        "status": job.status,
        "attempts": job.attempts,
        "queued_at": queued,
        "started_at": started,
        "finished_at": finished,
        "error": errors[-1].error.strip().splitlines()[-1] if errors else "",
        # A queued job with no worker alive waits for one to start: worth saying on the page.
        "workers_alive": ProcrastinateWorker.objects.filter(
            last_heartbeat__gte=timezone.now() - timedelta(seconds=settings.JOBS_STALLED_AFTER_SECONDS)
        ).count(),
        "url": reverse("admin:procrastinate_procrastinatejob_change", args=[job.pk]),
    }
