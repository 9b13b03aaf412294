from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from leaflet.admin import LeafletGeoAdminMixin
from simple_history.admin import SimpleHistoryAdmin

from places.services import place_remember

from . import services
from .forms import IncidentAdminForm, RetractForm
from .models import Actor, EventType, Incident, IncidentActor, IncidentSource, Source, Status, SubEventType


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
class ActorAdmin(SimpleHistoryAdmin):
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
class SourceAdmin(SimpleHistoryAdmin):
    list_display = ["publisher", "title", "published_on"]
    list_filter = ["publisher"]
    search_fields = ["publisher", "title", "url"]
    date_hierarchy = "published_on"
    # A URL typed without a scheme is taken as https (Django 6's default).
    formfield_overrides = {
        models.URLField: {
            "assume_scheme": "https",
            "error_messages": {"invalid": _("Enter a web address starting with http:// or https://.")},
        }
    }


class IncidentActorInline(admin.TabularInline):
    model = IncidentActor
    extra = 1
    autocomplete_fields = ["actor"]


class PublishedNeedsSourceFormSet(BaseInlineFormSet):
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


class IncidentSourceInline(admin.TabularInline):
    model = IncidentSource
    formset = PublishedNeedsSourceFormSet
    extra = 1
    autocomplete_fields = ["source"]


class IncidentStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Status.choices

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


@admin.register(Incident)
class IncidentAdmin(LeafletGeoAdminMixin, SimpleHistoryAdmin):
    form = IncidentAdminForm
    inlines = [IncidentActorInline, IncidentSourceInline]
    list_display = [
        "title",
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
        "start_date",
        "is_demo",
    ]
    date_hierarchy = "start_date"
    search_fields = ["title", "description", "place_reported", "place_name", "admin1", "actors__name"]
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
    ]
    fieldsets = [
        (None, {"fields": ["title", "description", ("event_type", "sub_event_type")]}),
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
                ]
            },
        ),
        (_("How many"), {"fields": [("fatalities_low", "fatalities_best", "fatalities_high"), "notable_casualties"]}),
        (
            _("Editorial"),
            {
                "fields": [
                    ("status", "published_at"),
                    "retraction_reason",
                    "external_id",
                    ("created_at", "created_by"),
                    ("updated_at", "updated_by"),
                    "is_demo",
                ]
            },
        ),
    ]
    actions = ["publish", "unpublish", "retract", "geocode"]
    history_list_display = ["status"]

    class Media:
        js = ["incidents/js/admin_geocode.js"]
        css = {"all": ["incidents/css/admin_geocode.css"]}

    def has_change_permission(self, request, obj=None):
        # Editors work on drafts; once an incident is public only a publisher may change it.
        if not super().has_change_permission(request, obj):
            return False
        if obj is not None and obj.status != Status.DRAFT:
            return request.user.has_perm("incidents.publish_incident")
        return True

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
