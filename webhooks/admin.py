"""Staff register webhooks and read (and replay) their deliveries."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from conflictmap import outbound
from incidents import selectors
from incidents.models import ChangeKind

from . import services
from .models import Delivery, DeliveryStatus, Webhook


class StaffOnlyMixin:
    def _staff(self, request):
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request):
        return self._staff(request)

    def has_view_permission(self, request, obj=None):
        return self._staff(request)


class WebhookForm(forms.ModelForm):
    url = forms.URLField(
        label=Webhook._meta.get_field("url").verbose_name,
        max_length=1000,
        assume_scheme="https",
        help_text=Webhook._meta.get_field("url").help_text,
    )
    kinds = forms.MultipleChoiceField(
        label=_("event kinds"),
        choices=ChangeKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=Webhook._meta.get_field("kinds").help_text,
    )

    class Meta:
        model = Webhook
        fields = ["name", "url", "filters", "kinds", "active"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            services.webhook_target_check(url)
        except outbound.AddressRefused as refused:
            raise forms.ValidationError(str(refused)) from None
        return url

    def clean_filters(self):
        filters = self.cleaned_data["filters"].strip().lstrip("?")
        try:
            services.webhook_filters_check(filters)
        except selectors.InvalidFilters as invalid:
            raise forms.ValidationError(
                [
                    f"{name}: {' '.join(str(message) for message in problems)}"
                    for name, problems in invalid.errors.items()
                ]
            ) from None
        return filters


@admin.register(Webhook)
class WebhookAdmin(StaffOnlyMixin, admin.ModelAdmin):
    form = WebhookForm
    list_display = ["name", "url", "active", "failing_since", "pending", "created_by", "created_at"]
    list_filter = ["active"]
    readonly_fields = ["failing_since", "last_change_id", "created_by", "created_at"]

    def has_add_permission(self, request):
        return self._staff(request)

    def has_change_permission(self, request, obj=None):
        return self._staff(request)

    def has_delete_permission(self, request, obj=None):
        return self._staff(request)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("created_by")
            .annotate(pending_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)))
        )

    @admin.display(description=_("pending deliveries"), ordering="pending_count")
    def pending(self, webhook):
        url = reverse("admin:webhooks_delivery_changelist")
        return format_html('<a href="{}?webhook__id__exact={}">{}</a>', url, webhook.pk, webhook.pending_count)

    @admin.display(description=_("secret"))
    def secret(self, webhook):
        return webhook.secret

    @admin.display(description=_("secret"))
    def secret_hidden(self, webhook):
        return _("Shown once when the webhook was created; superusers can see it here.")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["secret" if request.user.is_superuser else "secret_hidden", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        services.webhook_create(webhook=obj, user=request.user)
        messages.warning(
            request,
            _("The secret of “%(name)s”, shown this once (receivers check signatures with it): %(secret)s")
            % {"name": obj.name, "secret": obj.secret},
        )


@admin.register(Delivery)
class DeliveryAdmin(StaffOnlyMixin, admin.ModelAdmin):
    list_display = [
        "change_id", "webhook", "kind", "incident_id", "status", "attempts", "response_code", "duration_ms",
        "last_attempt_at", "next_attempt_at", "delivered_at",
    ]  # fmt: skip
    list_filter = ["status", "kind", "webhook"]
    list_select_related = ["webhook"]
    search_fields = ["event_id", "incident_id"]
    actions = ["replay"]
    readonly_fields = [field.name for field in Delivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Replay: send again (same event id)"), permissions=["view"])
    def replay(self, request, queryset):
        count = services.delivery_replay(deliveries=list(queryset), user=request.user)
        self.message_user(
            request,
            ngettext("%(count)d delivery queued again.", "%(count)d deliveries queued again.", count)
            % {"count": count},
        )
