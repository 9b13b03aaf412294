"""The queue's jobs in the admin: procrastinate's own job admin, with the state in plain words, attempts, timings and
each attempt's error (conflictmap/jobs.py keeps those), for superusers and for those who may import."""

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from procrastinate.contrib.django.admin import ProcrastinateEventInline, ProcrastinateJobAdmin
from procrastinate.contrib.django.models import ProcrastinateJob

from .jobs import job_state, job_timings
from .models import JobError


def may_see_jobs(request):
    user = request.user
    return user.is_active and (user.is_superuser or user.has_perm("incidents.import_events"))


class JobPartInline:
    """A job's errors and events are seen by whoever may see the job."""

    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None):
        return may_see_jobs(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class JobEventInline(JobPartInline, ProcrastinateEventInline):
    pass


class JobErrorInline(JobPartInline, admin.TabularInline):
    model = JobError
    fields = ["attempt", "at", "error_text"]
    readonly_fields = fields

    @admin.display(description=_("error"))
    def error_text(self, error):
        return format_html('<pre class="job-error">{}</pre>', error.error)


admin.site.unregister(ProcrastinateJob)


@admin.register(ProcrastinateJob)
class JobAdmin(ProcrastinateJobAdmin):
    list_display = ["pk", "short_task_name", "arguments", "state", "attempts", "queued_at", "ran_for", "last_error"]
    list_filter = ["status", "queue_name", "task_name"]
    inlines = [JobErrorInline, JobEventInline]
    fields = [*ProcrastinateJobAdmin.fields, "state", "queued_at", "started_at", "finished_at", "last_error"]

    def has_view_permission(self, request, obj=None):
        return may_see_jobs(request)

    def has_module_permission(self, request):
        return may_see_jobs(request)

    def get_actions(self, request):
        # Retrying, cancelling or aborting by hand is for those who run the site.
        return super().get_actions(request) if request.user.is_superuser else {}

    def get_readonly_fields(self, request, obj=None):
        return [
            *super().get_readonly_fields(request, obj),
            "state",
            "queued_at",
            "started_at",
            "finished_at",
            "last_error",
        ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("errors")

    @admin.display(description=_("arguments"))
    def arguments(self, job):
        # One line each: the list is read down its columns (the job's page shows them in full).
        return ", ".join(f"{name}={value}" for name, value in job.args.items() if name != "timestamp")

    @admin.display(description=_("state"), ordering="status")
    def state(self, job):
        return job_state(job)

    @admin.display(description=_("queued at"))
    def queued_at(self, job):
        queued = job_timings(job)[0]
        return timezone.localtime(queued).strftime("%Y-%m-%d %H:%M:%S") if queued else "—"

    @admin.display(description=_("started at"))
    def started_at(self, job):
        return job_timings(job)[1]

    @admin.display(description=_("finished at"))
    def finished_at(self, job):
        return job_timings(job)[2]

    @admin.display(description=_("ran for"))
    def ran_for(self, job):
        _queued, started, finished = job_timings(job)
        return f"{(finished - started).total_seconds():.1f} s" if started and finished else "—"

    @admin.display(description=_("last error"))
    def last_error(self, job):
        errors = list(job.errors.all())
        return errors[-1].error.strip().splitlines()[-1] if errors else ""
