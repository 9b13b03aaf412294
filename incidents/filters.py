"""The one filter definition behind the map, the timeline, the downloads and OGC API.

What a visitor sees under a set of filters is exactly what they download: every public output validates its query
string with IncidentFilterSet and nothing else. Invalid parameters become errors keyed by parameter name.
"""

import math

import django_filters
from django import forms
from django.contrib.gis.geos import Polygon
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from .models import Actor, EventType, IncidentActor, LocationPrecision, Side, SubEventType


def parse_bbox(text):
    """'minLon,minLat,maxLon,maxLat' → Polygon; ValidationError with the reason otherwise."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 4:
        raise ValidationError(
            _("bbox needs four numbers: minLon,minLat,maxLon,maxLat (got %(n)d)."), params={"n": len(parts)}
        )
    try:
        min_lon, min_lat, max_lon, max_lat = (float(part) for part in parts)
    except ValueError:
        raise ValidationError(_("bbox values must be numbers.")) from None
    if not all(math.isfinite(value) for value in (min_lon, min_lat, max_lon, max_lat)):
        raise ValidationError(_("bbox values must be finite numbers."))
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
        raise ValidationError(_("bbox longitudes must be between -180 and 180."))
    if not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90):
        raise ValidationError(_("bbox latitudes must be between -90 and 90."))
    if min_lat > max_lat:
        raise ValidationError(_("bbox minLat is greater than maxLat."))
    if min_lon > max_lon:
        raise ValidationError(
            _("bbox minLon is greater than maxLon (boxes across the antimeridian are not supported).")
        )
    return Polygon.from_bbox((min_lon, min_lat, max_lon, max_lat))


class BboxField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        return parse_bbox(value) if value else None


class BboxFilter(django_filters.Filter):
    field_class = BboxField

    def filter(self, qs, value):
        return qs.in_bbox(value) if value else qs


class MultiValueCharFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """Accepts `?country=SY,IQ` as well as `?country=SY&country=IQ`."""


class IncidentFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["end"] < cleaned["start"]:
            self.add_error("end", _("end is before start."))
        return cleaned


class IncidentFilterSet(django_filters.FilterSet):
    start = django_filters.DateFilter(method="filter_start", label=_("from"))
    end = django_filters.DateFilter(method="filter_end", label=_("to"))
    event_type = django_filters.ModelMultipleChoiceFilter(
        field_name="event_type__slug", to_field_name="slug", queryset=EventType.objects.all(), label=_("event type")
    )
    sub_event_type = django_filters.ModelMultipleChoiceFilter(
        field_name="sub_event_type__slug",
        to_field_name="slug",
        queryset=SubEventType.objects.all(),
        label=_("sub-event type"),
    )
    actor = django_filters.ModelMultipleChoiceFilter(
        method="filter_actor", queryset=Actor.objects.all(), label=_("actor")
    )
    side = django_filters.ChoiceFilter(choices=Side.choices, method="filter_noop", label=_("side of the actor"))
    country = MultiValueCharFilter(field_name="country", lookup_expr="in", label=_("country"))
    admin1 = MultiValueCharFilter(field_name="admin1", lookup_expr="in", label=_("region (admin1)"))
    fatalities_min = django_filters.NumberFilter(
        field_name="fatalities_best", lookup_expr="gte", min_value=0, label=_("minimum fatalities")
    )
    precision = django_filters.MultipleChoiceFilter(
        field_name="location_precision", choices=LocationPrecision.choices, label=_("location precision")
    )
    q = django_filters.CharFilter(method="filter_text", max_length=200, label=_("search"))
    bbox = BboxFilter(label=_("bounding box"))

    class Meta:
        form = IncidentFilterForm

    def filter_start(self, queryset, name, value):
        return queryset.between(start=value)

    def filter_end(self, queryset, name, value):
        return queryset.between(end=value)

    def filter_noop(self, queryset, name, value):
        return queryset  # `side` only qualifies `actor`

    def filter_actor(self, queryset, name, value):
        if not value:
            return queryset
        roles = IncidentActor.objects.filter(incident=OuterRef("pk"), actor__in=value)
        if self.form.cleaned_data.get("side"):
            roles = roles.filter(side=self.form.cleaned_data["side"])
        return queryset.filter(Exists(roles))

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # Words match anywhere (prefix-free full text) or as a plain substring, so "Palmyr" still finds Palmyra.
        vector = SearchVector("title", "description", "place_reported", "place_name", config="simple")
        return queryset.annotate(search_document=vector).filter(
            Q(search_document=SearchQuery(value, config="simple", search_type="websearch"))
            | Q(title__icontains=value)
            | Q(place_reported__icontains=value)
            | Q(description__icontains=value)
        )

    def error_dict(self):
        """{parameter: [messages]} for a 400 response."""
        return {field: [str(message) for message in messages] for field, messages in self.form.errors.items()}
