import uuid

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.forms.models import BaseInlineFormSet
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from leaflet.admin import LeafletGeoAdminMixin
from simple_history.admin import SimpleHistoryAdmin

from conflictmap import jobs
from places.services import place_remember

from . import archive, selectors, services
from .duplicates import hints_shown, incident_duplicate_hints
from .forms import (
    ActorAdminForm,
    ActorMappingForm,
    ImportUploadForm,
    IncidentAdminForm,
    IncidentMediaForm,
    MergeForm,
    RetractForm,
    SourceAdminForm,
)
from .importing import ImportRevertError, import_batch_create, import_batch_revert
from .importing.actors import actor_name_mappings_save
from .importing.background import import_batch_rerun, import_start
from .models import (
    Actor,
    ActorNameMapping,
    EventType,
    ImportBatch,
    ImportChange,
    ImportStatus,
    Incident,
    IncidentActor,
    IncidentMedia,
    IncidentSource,
    MediaKind,
    Release,
    Source,
    SourceCapture,
    Status,
    SubEventType,
)
from .public import independent_sources
from .releases import release_queue
from .views import archive_warc_response


class GuardedHistoryAdmin(SimpleHistoryAdmin):
    """django-simple-history's revert, with our rules: who may revert is decided on the record as it is now (not
    on the old version being shown), and the revert itself is services.record_revert, which restores the content
    from the history (never from the posted form) and changes an incident's status only through the publishing
    services."""

    def _current(self, obj):
        return self.model._base_manager.filter(pk=obj.pk).first() if obj is not None else None

    def revert_disabled(self, request, obj=None):
        current = self._current(obj)
        return (
            super().revert_disabled(request, obj) or current is None or not self.has_change_permission(request, current)
        )

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        current = self.get_object(request, unquote(object_id))
        if current is None:
            raise Http404
        if request.method != "POST":
            return super().history_form_view(request, object_id, version_id, extra_context)
        if not self.has_change_permission(request, current):
            raise PermissionDenied
        get_object_or_404(self.model.history, id=current.pk, history_id=version_id)
        opts = self.model._meta
        try:
            reverted = services.record_revert(record=current, history_id=version_id, user=request.user)
        except (ValidationError, PermissionDenied) as refusal:
            for message in getattr(refusal, "messages", [str(refusal)]):
                self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(request.path)
        self.log_change(request, reverted, f"Reverted to history record {version_id}.")
        self.message_user(
            request,
            _("“%(record)s” was reverted to the version shown; the revert is recorded in its history.")
            % {"record": reverted},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[current.pk]))


class SharedRecordAdmin(GuardedHistoryAdmin):
    """Sources and actors appear on every incident that uses them: once a published or retracted incident uses one,
    only a Publisher may change or delete it (services.shared_record_editable_by). Editors still add new ones."""

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or services.shared_record_editable_by(record=obj, user=request.user)

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or not services.shared_record_in_public_use(obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        record = self.get_object(request, unquote(object_id))
        if (
            request.method == "GET"
            and record is not None
            and super().has_change_permission(request, record)
            and not self.has_change_permission(request, record)
        ):
            self.message_user(
                request,
                _(
                    "A published or retracted incident uses this %(model)s, so changing it would change public "
                    "pages: only a Publisher may change it. Add a new %(model)s if you need a different one."
                )
                % {"model": self.model._meta.verbose_name},
                messages.WARNING,
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        obj._history_user = request.user
        services.shared_record_save(record=obj, user=request.user)


class SubEventTypeInline(admin.TabularInline):
    model = SubEventType
    extra = 0
    prepopulated_fields = {"slug": ("name",)}


@admin.register(EventType)
class EventTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "color", "order"]
    list_editable = ["order"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [SubEventTypeInline]


@admin.register(SubEventType)
class SubEventTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "event_type", "order"]
    list_filter = ["event_type"]
    search_fields = ["name", "event_type__name"]
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Actor)
class ActorAdmin(SharedRecordAdmin):
    form = ActorAdminForm
    list_display = ["name", "kind", "country", "alias_list"]
    list_filter = ["kind", "country"]
    search_fields = ["name"]

    @admin.display(description=_("aliases"))
    def alias_list(self, actor):
        return ", ".join(actor.aliases)

    def get_search_results(self, request, queryset, search_term):
        # Editors type what the report says ("Daesh"), so aliases count as much as the name.
        if not search_term.strip():
            return queryset, False
        return queryset.matching(search_term), False


@admin.register(Source)
class SourceAdmin(SharedRecordAdmin):
    form = SourceAdminForm
    list_display = ["publisher", "title", "published_on", "sensitive"]
    list_filter = ["publisher"]
    search_fields = ["publisher", "title", "url"]
    date_hierarchy = "published_on"
    # A read-only list rather than an inline: an inline formset would make every POST of this form carry its
    # management form, and scripts and tests that post the source form would start failing.
    readonly_fields = ["capture_list"]
    actions = ["recapture"]
    # A URL typed without a scheme is taken as https (Django 6's default).
    formfield_overrides = {
        models.URLField: {
            "assume_scheme": "https",
            "error_messages": {"invalid": _("Enter a web address starting with http:// or https://.")},
        }
    }

    @admin.display(description=_("archived copies"))
    def capture_list(self, source):
        """The source's captures, newest first: what was fetched, when, with what result, and its WARC file."""
        captures = list(source.captures.select_related("requested_by"))
        if not captures:
            return "—"
        headings = [
            SourceCapture._meta.get_field(name).verbose_name
            for name in ("captured_at", "status", "http_status", "final_url", "size", "payload_sha256", "warc")
        ] + [_("error"), _("requested by")]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td>"
            "<td>{}</td><td>{}</td></tr>",
            (
                (
                    date_format(timezone.localtime(capture.captured_at), "DATETIME_FORMAT"),
                    capture.get_status_display(),
                    capture.http_status or "",
                    capture.final_url,
                    capture.size if capture.size is not None else "",
                    capture.payload_sha256,
                    format_html(
                        '<a href="{}">{}</a>',
                        reverse("admin:incidents_source_capture_warc", args=[source.pk, capture.pk]),
                        _("download"),
                    )
                    if capture.warc
                    else "—",
                    capture.error,
                    capture.requested_by or "",
                )
                for capture in captures
            ),
        )
        head = format_html_join("", "<th>{}</th>", ((heading,) for heading in headings))
        return format_html(
            '<table class="source-captures"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>', head, rows
        )

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is None or not request.user.has_perm("incidents.view_sourcecapture"):
            return [name for name in fields if name != "capture_list"]
        return fields

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is None or not request.user.has_perm("incidents.view_sourcecapture"):
            return [name for name in fields if name != "capture_list"]
        return fields

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/captures/<int:capture_id>/warc/",
                wrap(self.capture_warc_view),
                name="incidents_source_capture_warc",
            ),
            path("<path:object_id>/recapture/", wrap(self.recapture_view), name="incidents_source_recapture"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if request.user.has_perm("incidents.add_sourcecapture"):
            extra_context["recapture_url"] = reverse("admin:incidents_source_recapture", args=[object_id])
        return super().change_view(request, object_id, form_url, extra_context)

    def capture_warc_view(self, request, object_id, capture_id):
        """Any capture's WARC file, for staff who may see captures (drafts' sources included)."""
        if not request.user.has_perm("incidents.view_sourcecapture"):
            raise PermissionDenied
        capture = get_object_or_404(SourceCapture, pk=capture_id, source_id=unquote(object_id))
        if not capture.warc:
            raise Http404
        return archive_warc_response(capture)

    def recapture_view(self, request, object_id):
        source = get_object_or_404(Source, pk=unquote(object_id))
        if request.method != "POST":
            return redirect("admin:incidents_source_change", source.pk)
        self.recapture(request, Source.objects.filter(pk=source.pk))
        return redirect("admin:incidents_source_change", source.pk)

    @admin.action(description=_("Re-capture the selected sources"), permissions=["capture"])
    def recapture(self, request, queryset):
        if not settings.SOURCE_ARCHIVING:
            self.message_user(
                request, _("Source archiving is off (SOURCE_ARCHIVING): nothing was queued."), messages.ERROR
            )
            return
        if not request.user.has_perm("incidents.add_sourcecapture"):
            raise PermissionDenied
        queued = sum(
            archive.source_capture_request(source=source, user=request.user, force=True)
            for source in queryset.archivable()
        )
        self.message_user(
            request,
            ngettext(
                "%(count)s capture queued; it appears below once the background job has run.",
                "%(count)s captures queued; they appear on each source once the background jobs have run.",
                queued,
            )
            % {"count": queued},
            messages.SUCCESS if queued else messages.WARNING,
        )

    def has_capture_permission(self, request):
        return request.user.has_perm("incidents.add_sourcecapture")


class CheckedAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete widget looks a redisplayed value up as sent: a crafted one that is no key (`actor=abc`)
    fails in that lookup, a 500 instead of the form's own "Select a valid choice". Such values are left out here."""

    def optgroups(self, name, value, attr=None):
        key = self.field.remote_field.model._meta.get_field(self.field.remote_field.field_name)

        def is_key(text):
            try:
                key.to_python(text)
            except ValidationError:
                return False
            return True

        return super().optgroups(name, [text for text in value if not text or is_key(text)], attr)


class CheckedAutocompleteMixin:
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = CheckedAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class IncidentPartMixin:
    """Actors, citations and media are part of the incident: whoever may not change the incident may not change
    them."""

    def _incident_editable(self, request, obj):
        return obj is None or services.incident_editable_by(incident=obj, user=request.user)

    def has_add_permission(self, request, obj):
        return super().has_add_permission(request, obj) and self._incident_editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._incident_editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._incident_editable(request, obj)


class IncidentPartInline(IncidentPartMixin, CheckedAutocompleteMixin, admin.TabularInline):
    pass


class LabelledInlineFormSet(BaseInlineFormSet):
    """A tabular inline's inputs sit under column headings, not beside labels: give each its field's label as an
    accessible name ("side", "delete"), so screen readers say what a cell is (axe-core: label, select-name)."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        for field in form.fields.values():
            if field.label:
                # A related field's widget is wrapped (the add / change links): the select is the inner one.
                widget = getattr(field.widget, "widget", field.widget)
                widget.attrs.setdefault("aria-label", str(field.label))


class IncidentActorInline(IncidentPartInline):
    model = IncidentActor
    formset = LabelledInlineFormSet
    extra = 1
    autocomplete_fields = ["actor"]


class PublishedNeedsSourceFormSet(LabelledInlineFormSet):
    def clean(self):
        super().clean()
        if self.instance.status != Status.PUBLISHED:
            return
        kept = [
            form
            for form in self.forms
            if form.cleaned_data and form.cleaned_data.get("source") and not form.cleaned_data.get("DELETE")
        ]
        if not kept:
            raise ValidationError(_("A published incident must cite at least one source."))


class IncidentSourceInline(IncidentPartInline):
    model = IncidentSource
    formset = PublishedNeedsSourceFormSet
    extra = 1
    autocomplete_fields = ["source"]


def media_preview(media, *, source_url):
    """A small preview for staff: the original itself (staff may see it), an image or a playable video."""
    if media.pk is None or not media.original:
        return "—"
    if media.kind == MediaKind.VIDEO:
        return format_html(
            '<video class="media-admin-preview" src="{}" controls preload="metadata" aria-label="{}"></video>',
            source_url,
            str(media),
        )
    return format_html(
        '<a href="{}"><img class="media-admin-preview" src="{}" alt="{}" loading="lazy"></a>',
        source_url,
        source_url,
        str(media),
    )


def media_duplicates_shown(media):
    """ "Already attached to incident #N" for each other item with the same file or picture."""
    found = selectors.media_duplicates(media=media)
    if not found:
        return "—"
    return format_html(
        '<ul class="media-duplicates">{}</ul>',
        format_html_join(
            "",
            '<li><strong>{}</strong> <a href="{}">{}</a></li>',
            (
                (
                    _("Same file:")
                    if duplicate["exact"]
                    else _("Same picture (%(bits)s bits apart):") % {"bits": duplicate["distance"]},
                    reverse("admin:incidents_incident_change", args=[duplicate["media"].incident_id]),
                    _("already attached to incident #%(id)s") % {"id": duplicate["media"].incident_id},
                )
                for duplicate in found
            ),
        ),
    )


def media_facts_shown(media):
    if media.pk is None:
        return "—"
    size = f"{media.width} × {media.height} px, " if media.width else ""
    if media.public_copy:
        public = (
            _("public copy made (metadata removed)")
            if media.kind == MediaKind.IMAGE
            else _("public copy made (checked by %(who)s)") % {"who": media.video_cleared_by or "—"}
        )
    else:
        public = _("no public copy: not shown to the public until checked")
    return format_html(
        '{} · {}{} · <span title="{}">SHA-256 {}…</span><br>{}<br>{}',
        media.get_content_type_display(),
        size,
        filesizeformat(media.size),
        media.sha256,
        media.sha256[:12],
        _("Uploaded by %(who)s, %(when)s")
        % {"who": media.uploaded_by or "—", "when": date_format(media.uploaded_at, "j M Y H:i")},
        public,
    )


class IncidentMediaInline(IncidentPartMixin, admin.StackedInline):
    """Images and videos of the incident: upload, flags, a preview and what is known of each file, for staff."""

    model = IncidentMedia
    form = IncidentMediaForm
    extra = 1
    view_on_site = False  # an item's public address serves its copy only once the incident is published
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("original", "preview"),
                    ("caption", "caption_ar"),
                    "credit",
                    ("graphic", "identifying"),
                    "video_cleared",
                    "facts",
                    "duplicates",
                ]
            },
        )
    ]
    readonly_fields = ["preview", "facts", "duplicates"]
    verbose_name = _("media item")
    verbose_name_plural = _("media (images and videos)")

    @admin.display(description=_("preview"))
    def preview(self, media):
        return media_preview(media, source_url=media_original_url(media))

    @admin.display(description=_("stored file"))
    def facts(self, media):
        return media_facts_shown(media)

    @admin.display(description=_("duplicates"))
    def duplicates(self, media):
        return media_duplicates_shown(media)


def media_original_url(media):
    return reverse("admin:incidents_incidentmedia_original", args=[media.pk])


class ImportBatchFilter(admin.SimpleListFilter):
    """The incidents one import batch created or changed: where a finished batch's page links to."""

    title = _("import batch")
    parameter_name = "batch"

    def lookups(self, request, model_admin):
        batches = ImportBatch.objects.exclude(status__in=[ImportStatus.PREVIEW, ImportStatus.REJECTED])
        chosen = ImportBatch.objects.filter(pk=self.value()) if (self.value() or "").isdigit() else []
        shown = {batch.pk: batch for batch in [*batches[:10], *chosen]}
        return [(str(pk), str(batch)) for pk, batch in shown.items()]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        changed = ImportChange.objects.filter(batch_id=self.value()).values("incident_id")
        return queryset.filter(pk__in=changed)


class IncidentStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Status.choices

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


@admin.register(Incident)
class IncidentAdmin(CheckedAutocompleteMixin, LeafletGeoAdminMixin, GuardedHistoryAdmin):
    form = IncidentAdminForm
    inlines = [IncidentActorInline, IncidentSourceInline, IncidentMediaInline]
    list_display = [
        "title",
        "title_ar",
        "start_date",
        "event_type",
        "admin1",
        "country",
        "fatalities_best",
        "status",
        "updated_at",
    ]
    list_filter = [
        IncidentStatusFilter,
        "event_type",
        "sub_event_type",
        ("actors", admin.RelatedOnlyFieldListFilter),
        "admin1",
        "country",
        "location_precision",
        "sensitive",
        "start_date",
        "is_demo",
        "dataset",
        "fatalities_as_published",
        "event_clarity",
        ImportBatchFilter,
    ]
    date_hierarchy = "start_date"
    # "=event_id": an editor pastes the publisher's id (SYR12345) from the file or its website.
    search_fields = [
        "title", "title_ar", "description", "description_ar", "place_reported", "place_name", "admin1",
        "actors__name", "=event_id", "=external_id",
    ]  # fmt: skip
    autocomplete_fields = ["sub_event_type"]
    raw_id_fields = ["place"]  # set by the place search box's script, which knows the place's id
    list_select_related = ["event_type"]
    readonly_fields = [
        "status",
        "retraction_reason",
        "published_at",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
        "is_demo",
        "dataset",
        "event_id",
        "fatalities_as_published",
        "import_warnings_shown",
        "original_record",
        "public_location_shown",
        "independent_sources_shown",
        "duplicate_of_shown",
    ]
    fieldsets = [
        # The two languages side by side, English first (left to right), Arabic beside it (right to left).
        (
            None,
            {
                "fields": [
                    "original_language",
                    ("title", "title_ar"),
                    ("description", "description_ar"),
                    ("event_type", "sub_event_type"),
                ]
            },
        ),
        (_("When"), {"fields": [("start_date", "end_date"), ("date_precision", "time_of_day")]}),
        (
            _("Where"),
            {
                "fields": [
                    "place_reported",
                    ("place_search", "online_provider"),
                    "location",
                    ("latitude", "longitude"),
                    ("place_name", "place", "location_precision"),
                    ("admin1", "admin2", "country"),
                    ("sensitive", "public_location_shown"),
                ]
            },
        ),
        (
            _("How many"),
            {
                "fields": [
                    ("fatalities_low", "fatalities_best", "fatalities_high"),
                    "fatalities_as_published",
                    "notable_casualties",
                ]
            },
        ),
        (_("Confidence"), {"fields": [("event_clarity", "independent_sources_shown")]}),
        (
            _("Editorial"),
            {
                "fields": [
                    ("status", "published_at"),
                    ("retraction_reason", "duplicate_of_shown"),
                    "external_id",
                    ("dataset", "event_id"),
                    "import_warnings_shown",
                    "original_record",
                    ("created_at", "created_by"),
                    ("updated_at", "updated_by"),
                    "is_demo",
                    "edit_version",
                ]
            },
        ),
    ]
    actions = ["publish", "unpublish", "retract", "geocode"]
    history_list_display = ["status"]

    class Media:
        js = ["incidents/js/admin_geocode.js", "incidents/js/admin_labels.js"]
        css = {"all": ["incidents/css/admin_geocode.css", "incidents/css/admin_editorial.css"]}

    # Adds the "New incidents from a report" link beside "Add incident".
    change_list_template = "admin/incidents/incident/change_list.html"

    def get_urls(self):
        from django.urls import path

        from .admin_report import report_view

        view = self.admin_site.admin_view(lambda request: report_view(self, request))
        wrap = self.admin_site.admin_view
        return [
            path("from-report/", view, name="incidents_incident_from_report"),
            path("<path:object_id>/preview/", wrap(self.preview_view), name="incidents_incident_preview"),
            path("<path:object_id>/publish/", wrap(self.publish_view), name="incidents_incident_publish"),
            path("<path:object_id>/unpublish/", wrap(self.unpublish_view), name="incidents_incident_unpublish"),
            path("<path:object_id>/retract/", wrap(self.retract_view), name="incidents_incident_retract"),
            path("<path:object_id>/merge/", wrap(self.merge_view), name="incidents_incident_merge"),
            *super().get_urls(),
        ]

    def get_view_on_site_url(self, obj=None):
        # A draft or retraction has no public page: "View on site" opens the staff preview instead of a 404.
        if obj is not None and obj.pk is not None and obj.status != Status.PUBLISHED:
            return reverse("admin:incidents_incident_preview", args=[obj.pk])
        return super().get_view_on_site_url(obj)

    def _incident_or_404(self, request, object_id):
        incident = self.get_object(request, unquote(object_id))
        if incident is None:
            raise Http404
        return incident

    def preview_view(self, request, object_id):
        """The public incident page as it would look, for staff only, whatever the status; never cached."""
        incident = self._incident_or_404(request, object_id)
        if not self.has_view_or_change_permission(request, incident):
            raise PermissionDenied
        incident.independent_sources = self.independent_sources_shown(incident)
        response = TemplateResponse(
            request,
            "incidents/incident_detail.html",
            {
                "incident": incident,
                "preview": True,
                "page_url": request.build_absolute_uri(incident.get_absolute_url()),
                "map_has_tiles": bool(settings.LEAFLET_CONFIG.get("TILES")),
                "change_url": reverse("admin:incidents_incident_change", args=[incident.pk]),
                "media": selectors.incident_media_shown(incident=incident),
            },
        )
        # admin_view already adds never_cache; say it once more here, where it matters most.
        patch_cache_control(response, private=True, no_store=True)
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    def _editorial_actions(self, request, incident):
        """The status changes this user may make on this incident's own page, as (name, label, needs a form)."""
        actions = []
        if self.has_publish_permission(request):
            if incident.status != Status.PUBLISHED:
                actions.append(("publish", _("Publish"), False))
            if incident.status != Status.DRAFT:
                actions.append(("unpublish", _("Back to draft"), False))
        if self.has_retract_permission(request) and incident.status != Status.RETRACTED:
            actions.append(("retract", _("Retract…"), True))
        return [
            {
                "name": name,
                "label": label,
                "asks": asks,
                "url": reverse(f"admin:incidents_incident_{name}", args=[incident.pk]),
            }
            for name, label, asks in actions
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        incident = self.get_object(request, unquote(object_id))
        extra = {**(extra_context or {})}
        if incident is not None:
            extra["editorial_actions"] = self._editorial_actions(request, incident)
            extra["preview_url"] = reverse("admin:incidents_incident_preview", args=[incident.pk])
            if incident.status != Status.RETRACTED:
                hints = incident_duplicate_hints(incidents=[incident]).get(incident.pk, [])
                extra["duplicate_hints"] = hints_shown(hints)
                extra["may_merge"] = self.has_merge_permission(request)
                extra["merge_url"] = reverse("admin:incidents_incident_merge", args=[incident.pk])
        return super().change_view(request, object_id, form_url, extra)

    def has_merge_permission(self, request):
        return request.user.has_perm("incidents.publish_incident") and request.user.has_perm(
            "incidents.retract_incident"
        )

    def merge_view(self, request, object_id):
        """POST: merge another incident into this one (`keep=this`) or this one into it (`keep=other`)."""
        incident = self._incident_or_404(request, object_id)
        form = MergeForm(request.POST or None)
        if request.method != "POST" or not form.is_valid():
            for errors in form.errors.values():
                for message in errors:
                    self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:incidents_incident_change", args=[incident.pk]))
        other = form.cleaned_data["other"]
        kept, duplicate = (incident, other) if form.cleaned_data["keep"] == "this" else (other, incident)
        try:
            services.incident_merge(kept=kept, duplicate=duplicate, user=request.user, note=form.cleaned_data["note"])
        except (ValidationError, PermissionDenied) as refusal:
            for message in getattr(refusal, "messages", [str(refusal)]):
                self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:incidents_incident_change", args=[incident.pk]))
        self.message_user(
            request,
            _("“%(duplicate)s” is merged into “%(kept)s” and retracted as its duplicate.")
            % {"duplicate": duplicate, "kept": kept},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:incidents_incident_change", args=[kept.pk]))

    def _status_change(self, request, object_id, service, done, **kwargs):
        incident = self._incident_or_404(request, object_id)
        change_url = reverse("admin:incidents_incident_change", args=[incident.pk])
        if request.method != "POST":
            return HttpResponseRedirect(change_url)
        try:
            service(incident=incident, user=request.user, **kwargs)
        except (ValidationError, PermissionDenied) as refusal:
            for message in getattr(refusal, "messages", [str(refusal)]):
                self.message_user(request, message, messages.ERROR)
        else:
            self.message_user(request, done % {"title": incident}, messages.SUCCESS)
        return HttpResponseRedirect(change_url)

    def publish_view(self, request, object_id):
        return self._status_change(request, object_id, services.incident_publish, _("“%(title)s” is published."))

    def unpublish_view(self, request, object_id):
        return self._status_change(
            request, object_id, services.incident_unpublish, _("“%(title)s” is back to draft, off the public site.")
        )

    def retract_view(self, request, object_id):
        incident = self._incident_or_404(request, object_id)
        form = RetractForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            return self._status_change(
                request,
                object_id,
                services.incident_retract,
                _("“%(title)s” is retracted."),
                reason=form.cleaned_data["reason"],
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Retract “%(title)s”") % {"title": incident},
            "incidents": [incident],
            "form": form,
            "opts": self.model._meta,
            "original": incident,
        }
        return TemplateResponse(request, "admin/incidents/incident/retract.html", context)

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or services.incident_editable_by(incident=obj, user=request.user)

    # Shown only on imported incidents: an editor's own entry has no publisher's record or warnings.
    IMPORT_ONLY_FIELDS = {"fatalities_as_published", "import_warnings_shown", "original_record"}

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not obj.dataset:
            fieldsets = [
                (
                    name,
                    {
                        **options,
                        "fields": [field for field in options["fields"] if field not in self.IMPORT_ONLY_FIELDS],
                    },
                )
                for name, options in fieldsets
            ]
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        # Shown read-only, the hidden edit version would be an empty "edit version" row.
        return [
            (name, {**options, "fields": [field for field in options["fields"] if field != "edit_version"]})
            for name, options in fieldsets
        ]

    @admin.display(description=_("import warnings"))
    def import_warnings_shown(self, incident):
        """The publisher's inconsistencies in the row, so the editor sees why figures are out of order."""
        if not incident.import_warnings:
            return "—"
        return format_html(
            '<ul class="import-warnings">{}</ul>',
            format_html_join(
                "",
                "<li><code>{}</code> <bdi>{}</bdi>: {}</li>",
                ((w["column"], w["value"], w["reason"]) for w in incident.import_warnings),
            ),
        )

    @admin.display(description=_("public location"))
    def public_location_shown(self, incident):
        """What the public sees beside the exact point the editor works on (the database computes it on save)."""
        if incident.pk is None or incident.public_location is None:
            return "—"
        point = f"{incident.public_latitude:.6f}, {incident.public_longitude:.6f}"
        if not incident.shown_generalised:
            return format_html("{} ({}) — {}", point, incident.public_precision_label, _("the exact point"))
        why = _("the incident is sensitive") if incident.sensitive else _("it cites a sensitive source")
        return format_html(
            "{} ({}) — {}", point, incident.public_precision_label, _("generalised: %(why)s") % {"why": why}
        )

    @admin.display(description=_("independent sources"))
    def independent_sources_shown(self, incident):
        """Counted as every output counts it (public.INDEPENDENT_SOURCES), from the sources saved."""
        if incident.pk is None:
            return "—"
        return Incident.objects.filter(pk=incident.pk).values_list(independent_sources(), flat=True).first()

    @admin.display(description=_("duplicate of"))
    def duplicate_of_shown(self, incident):
        if incident.duplicate_of_id is None:
            return "—"
        return format_html(
            '<a href="{}">#{} {}</a>',
            reverse("admin:incidents_incident_change", args=[incident.duplicate_of_id]),
            incident.duplicate_of_id,
            incident.duplicate_of,
        )

    @admin.display(description=_("original record"))
    def original_record(self, incident):
        """Every column of the publisher's row as it was read, read-only: where each figure comes from."""
        if not incident.import_record:
            return "—"
        return format_html(
            '<table class="import-record"><tbody>{}</tbody></table>',
            format_html_join(
                "",
                '<tr><th scope="row"><code>{}</code></th><td dir="auto">{}</td></tr>',
                sorted(incident.import_record.items()),
            ),
        )

    def has_publish_permission(self, request):
        return request.user.has_perm("incidents.publish_incident")

    def has_retract_permission(self, request):
        return request.user.has_perm("incidents.retract_incident")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        obj.updated_by = request.user
        if not change or "location" in form.changed_data:
            services.incident_admin_areas_set(incident=obj)
        provider = form.cleaned_data.get("online_provider")
        if provider and obj.place_id is None and obj.location is not None:
            obj.place = place_remember(
                name=obj.place_name or form.cleaned_data.get("place_search", ""),
                query=form.cleaned_data.get("place_search", ""),
                point=obj.location,
                provider=provider,
                admin1=obj.admin1,
                admin2=obj.admin2,
                country=str(obj.country or ""),
            )
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        if formset.model is not IncidentMedia:
            return super().save_formset(request, form, formset, change)
        # Media go through their service: fingerprints, the public copy without metadata, who uploaded and cleared.
        changed = formset.save(commit=False)
        for deleted in formset.deleted_objects:
            deleted.delete()  # its files go after the commit (models.media_files_delete)
        for media_form in formset.forms:
            if media_form.instance in changed:
                services.incident_media_save(
                    media=media_form.instance,
                    user=request.user,
                    facts=media_form.media_facts,
                    video_cleared=media_form.cleaned_data.get("video_cleared", False),
                )

    def _apply(self, request, queryset, service, done_message, **kwargs):
        done, refused = 0, []
        for incident in queryset:
            try:
                service(incident=incident, user=request.user, **kwargs)
                done += 1
            except (ValidationError, PermissionDenied) as error:
                refused.extend(getattr(error, "messages", [str(error)]))
        if done:
            self.message_user(request, done_message(done), messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.ERROR)

    @admin.action(description=_("Publish selected incidents"), permissions=["publish"])
    def publish(self, request, queryset):
        self._apply(
            request,
            queryset,
            services.incident_publish,
            lambda n: ngettext("%d incident published.", "%d incidents published.", n) % n,
        )

    @admin.action(description=_("Unpublish selected incidents (back to draft)"), permissions=["publish"])
    def unpublish(self, request, queryset):
        self._apply(
            request,
            queryset,
            services.incident_unpublish,
            lambda n: ngettext("%d incident moved back to draft.", "%d incidents moved back to draft.", n) % n,
        )

    @admin.action(description=_("Retract selected incidents…"), permissions=["retract"])
    def retract(self, request, queryset):
        form = RetractForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self._apply(
                request,
                queryset,
                services.incident_retract,
                lambda n: ngettext("%d incident retracted.", "%d incidents retracted.", n) % n,
                reason=form.cleaned_data["reason"],
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Retract incidents"),
            "incidents": queryset,
            "form": form,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/incidents/incident/retract.html", context)

    @admin.action(
        description=_("Geocode selected incidents that have a place text but no point"), permissions=["change"]
    )
    def geocode(self, request, queryset):
        editable = [incident.pk for incident in queryset if self.has_change_permission(request, incident)]
        coded, unresolved = services.incidents_geocode_missing(
            incidents=queryset.filter(pk__in=editable), user=request.user
        )
        if coded:
            self.message_user(
                request,
                ngettext("%d incident geocoded.", "%d incidents geocoded.", len(coded)) % len(coded),
                messages.SUCCESS,
            )
        for incident, reason in unresolved:
            self.message_user(
                request,
                _("Not geocoded: “%(title)s”: %(reason)s.") % {"title": incident, "reason": reason},
                messages.WARNING,
            )
        if not coded and not unresolved:
            self.message_user(request, _("No selected incident lacks a point and has a place text."), messages.INFO)


# How many bad cells the batch page lists; the batch keeps all of them (its report field).
REPORT_ERRORS_SHOWN = 1000
# Actors a preview offers to map to existing ones (the report lists them all).
NEW_ACTORS_MAPPABLE = 300


class ImportersOnlyMixin:
    """Import batches and the actor mappings they keep are for those who may import (Publishers), not all staff."""

    def _may_import(self, request):
        return request.user.is_active and request.user.has_perm("incidents.import_events")

    def has_view_permission(self, request, obj=None):
        return self._may_import(request)

    def has_module_permission(self, request):
        return self._may_import(request)


@admin.register(ImportBatch)
class ImportBatchAdmin(ImportersOnlyMixin, admin.ModelAdmin):
    """Publishers upload a file, see what it would do, confirm; each batch's report stays here afterwards."""

    list_display = [
        "id", "file_name", "dataset", "status", "created", "updated", "unchanged", "rejected", "warnings", "missing",
        "created_by", "started_at",
    ]  # fmt: skip
    list_filter = ["status", "dataset"]
    search_fields = ["file_name", "checksum"]
    change_list_template = "admin/incidents/importbatch/change_list.html"

    def has_add_permission(self, request):
        return False  # batches come from the upload page or the command, never from a blank form

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("upload/", view(self.upload_view), name="incidents_importbatch_upload"),
            path("<int:batch_id>/confirm/", view(self.confirm_view), name="incidents_importbatch_confirm"),
            path("<int:batch_id>/revert/", view(self.revert_view), name="incidents_importbatch_revert"),
            path("<int:batch_id>/rerun/", view(self.rerun_view), name="incidents_importbatch_rerun"),
            *super().get_urls(),
        ]

    def _check(self, request):
        if not self._may_import(request):
            raise PermissionDenied

    def _batch_url(self, batch):
        return reverse("admin:incidents_importbatch_change", args=[batch.pk])

    def upload_view(self, request):
        self._check(request)
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["events_file"]
            settings.IMPORT_UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
            stored = settings.IMPORT_UPLOAD_DIR / f"{uuid.uuid4().hex}.csv"
            with open(stored, "wb") as destination:
                for chunk in upload.chunks():
                    destination.write(chunk)
            # The batch and its job are committed together: no batch waits for a job that was never queued.
            with transaction.atomic():
                batch = import_batch_create(
                    path=stored,
                    user=request.user,
                    file_name=upload.name,
                    requested_status=form.cleaned_data["status"],
                    retract_missing=form.cleaned_data["retract_missing"],
                    dry_run=True,
                    upload_path=str(stored),
                )
                import_start(batch=batch, user=request.user, dataset=form.cleaned_data["format"])
            return redirect(self._batch_url(batch))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Import an ACLED or UCDP GED file"),
            "form": form,
        }
        return TemplateResponse(request, "admin/incidents/importbatch/upload.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._check(request)
        batch = get_object_or_404(ImportBatch, pk=object_id)
        errors, warnings = batch.report.get("errors", []), batch.report.get("warnings", [])
        may_confirm = batch.status == ImportStatus.PREVIEW and batch.dry_run and batch.upload_path
        mapping_form = self._mapping_form(batch) if may_confirm else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Import batch %(batch)s: %(file)s") % {"batch": batch.pk, "file": batch.file_name},
            "batch": batch,
            "working": batch.status in (ImportStatus.QUEUED, ImportStatus.RUNNING),
            "may_confirm": may_confirm,
            "may_revert": batch.status == ImportStatus.DONE and not batch.dry_run,
            "may_rerun": batch.may_run_again,
            "job": jobs.job_summary(job_id=batch.job_id) if batch.job_id else None,
            "errors": errors[:REPORT_ERRORS_SHOWN],
            "errors_hidden": max(0, len(errors) - REPORT_ERRORS_SHOWN),
            "warnings": warnings[:REPORT_ERRORS_SHOWN],
            "warnings_hidden": max(0, batch.warnings - min(len(warnings), REPORT_ERRORS_SHOWN)),
            "new_actors": batch.report.get("new_actors", []),
            "mapping_form": mapping_form,
            "media": self.media + (mapping_form.media if mapping_form else forms.Media()),
            "missing": batch.report.get("missing", []),
            "duplicate_rows": batch.report.get("duplicates", {}).get("rows", 0),
            "duplicates": [
                {**row, "hints": hints_shown(row["hints"])}
                for row in batch.report.get("duplicates", {}).get("listed", [])[:REPORT_ERRORS_SHOWN]
            ],
            "duplicates_hidden": max(
                0,
                batch.report.get("duplicates", {}).get("rows", 0)
                - min(len(batch.report.get("duplicates", {}).get("listed", [])), REPORT_ERRORS_SHOWN),
            ),
            "sample_rows": [
                (kind, label, batch.report.get("rows", {}).get(kind, []))
                for kind, label in (
                    ("created", pgettext_lazy("import rows", "New")),
                    ("updated", pgettext_lazy("import rows", "Changed")),
                    ("unchanged", pgettext_lazy("import rows", "Unchanged")),
                )
                if batch.report.get("rows", {}).get(kind)
            ],
            "incidents_url": (
                f"{reverse('admin:incidents_incident_changelist')}?{ImportBatchFilter.parameter_name}={batch.pk}"
                if batch.status in (ImportStatus.DONE, ImportStatus.REVERTED) and not batch.dry_run
                else ""
            ),
        }
        return TemplateResponse(request, "admin/incidents/importbatch/batch.html", context)

    def _mapping_form(self, batch, data=None):
        # The names most rows use first; a first import of a large export names thousands, mapped a page at a time.
        new_actors = batch.report.get("new_actors", [])[:NEW_ACTORS_MAPPABLE]
        return ActorMappingForm(data, new_actors=new_actors, admin_site=self.admin_site)

    def confirm_view(self, request, batch_id):
        self._check(request)
        batch = get_object_or_404(ImportBatch, pk=batch_id)
        if request.method != "POST":
            return redirect(self._batch_url(batch))
        mapping_form = self._mapping_form(batch, request.POST)
        if not mapping_form.is_valid():
            messages.error(request, _("Choose actors from the list, or leave the box empty to create the actor."))
            return redirect(self._batch_url(batch))
        # Only a clean preview whose file is still there can run; a second click finds the batch already queued.
        updated = ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.PREVIEW, dry_run=True).update(
            status=ImportStatus.QUEUED, dry_run=False, started_at=timezone.now()
        )
        if not updated:
            messages.error(request, _("This batch cannot be imported (it is not a preview waiting for confirmation)."))
            return redirect(self._batch_url(batch))
        batch.refresh_from_db()
        actor_name_mappings_save(dataset=batch.dataset, choices=mapping_form.choices(), user=request.user)
        import_start(batch=batch, user=request.user, dataset=batch.dataset or "auto")
        return redirect(self._batch_url(batch))

    def rerun_view(self, request, batch_id):
        self._check(request)
        batch = get_object_or_404(ImportBatch, pk=batch_id)
        if request.method == "POST" and not import_batch_rerun(batch=batch, user=request.user):
            messages.error(request, _("Only a failed batch whose file is still there can run again."))
        return redirect(self._batch_url(batch))

    def revert_view(self, request, batch_id):
        self._check(request)
        batch = get_object_or_404(ImportBatch, pk=batch_id)
        if request.method == "POST":
            try:
                import_batch_revert(batch=batch, user=request.user)
            except ImportRevertError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, _("Batch %(batch)s reverted.") % {"batch": batch.pk})
        return redirect(self._batch_url(batch))


@admin.register(ActorNameMapping)
class ActorNameMappingAdmin(ImportersOnlyMixin, admin.ModelAdmin):
    """The names Publishers linked to actors in import previews; deleting one lets the next import match afresh."""

    list_display = ["name", "dataset", "actor", "created_by", "created_at"]
    list_filter = ["dataset"]
    search_fields = ["name", "actor__name"]
    readonly_fields = ["dataset", "name", "actor", "created_by", "created_at"]

    def has_add_permission(self, request):
        return False  # chosen in an import preview, beside the rows that name the actor

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return self._may_import(request)


class ReleaseForm(forms.Form):
    name = forms.SlugField(
        label=_("Release name"),
        max_length=100,
        help_text=_("Letters, digits, hyphens and underscores, e.g. 2026-12; it names the release in citations."),
    )

    def clean_name(self):
        name = self.cleaned_data["name"]
        if Release.objects.filter(name=name).exists():
            raise ValidationError(_("There is already a release “%(name)s”.") % {"name": name})
        return name


@admin.register(Release)
class ReleaseAdmin(ImportersOnlyMixin, admin.ModelAdmin):
    """Releases are listed here and made by a job (*Make a release*), like an import; /releases/ is their public
    page."""

    list_display = ["number", "name", "created_at", "data_version", "incidents", "created_by"]
    readonly_fields = ["number", "name", "created_at", "data_version", "incidents", "manifest", "created_by"]
    change_list_template = "admin/incidents/release/change_list.html"

    def has_add_permission(self, request):
        return False  # made by the job from the release form, never from a blank model form

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # a release is cited: it stays

    def get_urls(self):
        return [
            path("make/", self.admin_site.admin_view(self.make_view), name="incidents_release_make"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        # The release jobs of late, with their state, as an import batch's page shows its job.
        release_jobs = [
            {**summary, "name": name}
            for job_id, name in jobs.job_list(task_name="incidents.release_create", argument="name", limit=5)
            if (summary := jobs.job_summary(job_id=job_id))
        ]
        return super().changelist_view(request, extra_context={**(extra_context or {}), "release_jobs": release_jobs})

    def make_view(self, request):
        if not self._may_import(request):
            raise PermissionDenied
        form = ReleaseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            release_queue(name=form.cleaned_data["name"], user=request.user)
            messages.success(
                request,
                _("Release “%(name)s” is being made; it is listed here once written.")
                % {"name": form.cleaned_data["name"]},
            )
            return redirect("admin:incidents_release_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Make a release"),
            "form": form,
        }
        return TemplateResponse(request, "admin/incidents/release/make.html", context)


@admin.register(IncidentMedia)
class IncidentMediaAdmin(admin.ModelAdmin):
    """Every media item, with its incident and flags: where staff look for what is attached where. Items are
    uploaded, described and removed on their incident's page (its inline), whose rules decide who may."""

    list_display = [
        "thumbnail",
        "original_name",
        "incident_link",
        "kind",
        "content_type",
        "size_shown",
        "graphic",
        "identifying",
        "has_public_copy",
        "duplicates_flag",
        "uploaded_by",
        "uploaded_at",
    ]
    # The name opens the item; the preview is a link to the original already (two links cannot nest).
    list_display_links = ["original_name"]
    list_filter = ["kind", "graphic", "identifying", "content_type", "incident__status"]
    search_fields = ["original_name", "caption", "caption_ar", "credit", "=sha256", "=incident__id"]
    list_select_related = ["incident", "uploaded_by"]
    readonly_fields = [
        "preview",
        "incident_link",
        "original_name",
        "kind",
        "content_type",
        "size_shown",
        "width",
        "height",
        "sha256",
        "perceptual_hash",
        "caption",
        "caption_ar",
        "credit",
        "graphic",
        "identifying",
        "video_cleared_by",
        "video_cleared_at",
        "uploaded_by",
        "uploaded_at",
        "duplicates_flag",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/original/", wrap(self.original_view), name="incidents_incidentmedia_original"),
            *super().get_urls(),
        ]

    def original_view(self, request, object_id):
        """The original as uploaded, metadata and all: staff only, never cached, never guessed as another type."""
        media = self.get_object(request, unquote(object_id))
        if media is None or not self.has_view_permission(request, media):
            raise Http404
        response = FileResponse(media.original.open("rb"), content_type=media.content_type)
        patch_cache_control(response, private=True, no_store=True)
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response

    @admin.display(description=_("preview"))
    def thumbnail(self, media):
        return media_preview(media, source_url=media_original_url(media))

    preview = thumbnail

    @admin.display(description=_("incident"), ordering="incident_id")
    def incident_link(self, media):
        return format_html(
            '<a href="{}">#{} <bdi>{}</bdi></a>',
            reverse("admin:incidents_incident_change", args=[media.incident_id]),
            media.incident_id,
            media.incident,
        )

    @admin.display(description=_("size"), ordering="size")
    def size_shown(self, media):
        return filesizeformat(media.size)

    @admin.display(description=_("public copy"), boolean=True)
    def has_public_copy(self, media):
        return bool(media.public_copy)

    @admin.display(description=_("duplicates"))
    def duplicates_flag(self, media):
        return media_duplicates_shown(media)
