"""The one filter definition behind the map, the timeline, the downloads and OGC API.

What a visitor sees under a set of filters is exactly what they download: every public output validates its query
string with IncidentFilterSet and nothing else. Invalid parameters become errors keyed by parameter name.
"""

import datetime
import math

import django_filters
from django import forms
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.contrib.postgres.search import SearchQuery
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import CSVWidget

from .models import (
    Actor,
    EventClarity,
    EventType,
    IncidentActor,
    LocationPrecision,
    PublishedActor,
    Side,
    SubEventType,
    incident_text_haystack,
)
from .public import independent_sources


def _four_numbers(text, count_message):
    """Four finite numbers from 'a,b,c,d'; ValidationError (count_message when there are not four) otherwise."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 4:
        raise ValidationError(count_message, params={"n": len(parts)})
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        raise ValidationError(_("bbox values must be numbers.")) from None
    if not all(math.isfinite(number) for number in numbers):
        raise ValidationError(_("bbox values must be finite numbers."))
    return numbers


def parse_bbox(text):
    """'minLon,minLat,maxLon,maxLat' → Polygon; ValidationError with the reason otherwise."""
    min_lon, min_lat, max_lon, max_lat = _four_numbers(
        text, _("bbox needs four numbers: minLon,minLat,maxLon,maxLat (got %(n)d).")
    )
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


def list_parameter_values(data, name):
    """Every value of a list parameter, repeated (`?country=SY&country=IQ`), comma-separated (`?country=SY,IQ`) or
    both, in order; None when the parameter is absent, [] when it is given empty (`?country=`: no filter)."""
    if name not in data:
        return None
    values = data.getlist(name) if hasattr(data, "getlist") else data[name]
    if not isinstance(values, list | tuple):  # a plain dict's single value (selectors are called with dicts too)
        values = [values]
    return [part.strip() for value in values for part in str(value).split(",") if part.strip()]


class ListParameterWidget(forms.SelectMultiple):
    """The repeated and the comma form of a choice list mean the same (event types, actors, precisions)."""

    def value_from_datadict(self, data, files, name):
        return list_parameter_values(data, name)


class CSVListParameterWidget(CSVWidget):
    def value_from_datadict(self, data, files, name):
        return list_parameter_values(data, name)


class MultiValueCharFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """Accepts `?country=SY,IQ` as well as `?country=SY&country=IQ`, and both at once."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", CSVListParameterWidget)
        super().__init__(*args, **kwargs)


# The map steps a day to its month's end, and Python's dates stop at 9999-12-31: a day after 9999-11-30 reads as that
# day. No incident lies that far out, so the answer is the one the day asked would get.
LATEST_DAY = datetime.date(9999, 11, 30)


class IntegerFilter(django_filters.NumberFilter):
    """A whole number, as the OpenAPI document says: NumberFilter's DecimalField would take "2.5" or "9e-216"."""

    field_class = forms.IntegerField


class DayField(forms.DateField):
    def to_python(self, value):
        day = super().to_python(value)
        return min(day, LATEST_DAY) if day else day


class DayFilter(django_filters.DateFilter):
    field_class = DayField


class IncidentFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["end"] < cleaned["start"]:
            self.add_error("end", _("end is before start."))
        return cleaned


def documented(query_filter, description, schema, **style):
    """The filter, carrying the OpenAPI description of its query parameter (see openapi.filter_parameters).

    `schema` is a JSON schema, or a callable returning one when the allowed values come from the database (the
    event type slugs, the actor ids), so the documents list exactly what the filter accepts.
    """
    query_filter.openapi = {"description": description, "schema": schema, **style}
    return query_filter


def _slugs_of(queryset):
    return lambda: {"type": "array", "items": {"type": "string", "enum": [*queryset.values_list("slug", flat=True)]}}


def published_actors():
    """Actors that published incidents show (PublishedActor): one only drafts name is as unknown as a made-up id."""
    return Actor.objects.filter(pk__in=PublishedActor.objects.values("actor_id"))


def _actor_ids():
    return {"type": "array", "items": {"type": "integer", "enum": [*published_actors().values_list("pk", flat=True)]}}


# Comma-separated lists (`?country=SY,IQ`) are also accepted (ListParameterWidget); the documents describe the
# repeated form. A parameter given empty (`?start=`, as an HTML form sends it) filters nothing where
# `allowEmptyValue` says so.
# Text never holds NUL (PostgreSQL cannot store it, and Django's fields refuse it).
_TEXT = {"type": "string", "pattern": r"^[^\x00]*$"}
_TEXT_LIST = {"type": "array", "items": _TEXT}
DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}


class IncidentFilterSet(django_filters.FilterSet):
    start = documented(
        DayFilter(method="filter_start", label=_("from"), input_formats=["%Y-%m-%d"]),
        "Incidents ending on or after this day (YYYY-MM-DD).",
        DATE,
        allowEmptyValue=True,
    )
    end = documented(
        DayFilter(method="filter_end", label=_("to"), input_formats=["%Y-%m-%d"]),
        "Incidents starting on or before this day (YYYY-MM-DD); not before `start`.",
        DATE,
        allowEmptyValue=True,
    )
    event_type = documented(
        django_filters.ModelMultipleChoiceFilter(
            field_name="event_type__slug",
            to_field_name="slug",
            queryset=EventType.objects.all(),
            label=_("event type"),
            widget=ListParameterWidget,
            distinct=False,  # a forward key: no incident repeats, and DISTINCT would sort every match
        ),
        "Event type slug(s), e.g. battles.",
        _slugs_of(EventType.objects.all()),
        explode=True,
        allowEmptyValue=True,
    )
    sub_event_type = documented(
        django_filters.ModelMultipleChoiceFilter(
            field_name="sub_event_type__slug",
            to_field_name="slug",
            queryset=SubEventType.objects.all(),
            label=_("sub-event type"),
            widget=ListParameterWidget,
            distinct=False,
        ),
        "Sub-event type slug(s).",
        _slugs_of(SubEventType.objects.all()),
        explode=True,
        allowEmptyValue=True,
    )
    actor = documented(
        django_filters.ModelMultipleChoiceFilter(
            method="filter_actor", queryset=published_actors(), label=_("actor"), widget=ListParameterWidget
        ),
        "Actor id(s).",
        _actor_ids,
        explode=True,
        allowEmptyValue=True,
    )
    side = documented(
        django_filters.ChoiceFilter(choices=Side.choices, method="filter_noop", label=_("side of the actor")),
        "Only count `actor` on this side.",
        {"type": "string", "enum": list(Side.values)},
        allowEmptyValue=True,
    )
    country = documented(
        MultiValueCharFilter(field_name="country", lookup_expr="in", label=_("country")),
        "ISO 3166 alpha-2 code(s); also comma-separated.",
        _TEXT_LIST,
        explode=True,
    )
    admin1 = documented(
        MultiValueCharFilter(field_name="admin1", lookup_expr="in", label=_("region (admin1)")),
        "Region name(s); also comma-separated.",
        _TEXT_LIST,
        explode=True,
    )
    fatalities_min = documented(
        IntegerFilter(field_name="fatalities_best", lookup_expr="gte", min_value=0, label=_("minimum fatalities")),
        "Minimum best fatality estimate.",
        {"type": "integer", "minimum": 0},
        allowEmptyValue=True,
    )
    precision = documented(
        django_filters.MultipleChoiceFilter(
            # The public precision: a sensitive incident shown at its district's centre is not "exact" to anyone.
            field_name="public_location_precision",
            choices=LocationPrecision.choices,
            label=_("location precision"),
            widget=ListParameterWidget,
        ),
        "Location precision code(s) of the public location (1 exact, 2 near, 3 region, or generalised).",
        {"type": "array", "items": {"type": "integer", "enum": list(LocationPrecision.values)}},
        explode=True,
        allowEmptyValue=True,
    )
    clarity = documented(
        django_filters.MultipleChoiceFilter(
            field_name="event_clarity", choices=EventClarity.choices, label=_("clarity"), widget=ListParameterWidget
        ),
        "Event clarity code(s) (UCDP's event_clarity: 1 clear, 2 lower clarity); incidents not graded match neither.",
        {"type": "array", "items": {"type": "integer", "enum": list(EventClarity.values)}},
        explode=True,
    )
    sources_min = documented(
        IntegerFilter(method="filter_sources_min", min_value=0, max_value=1000, label=_("minimum independent sources")),
        "Minimum number of independent sources (distinct outlets; a dataset's own citation counts only when it is "
        "all the incident cites).",
        {"type": "integer", "minimum": 0, "maximum": 1000},
        allowEmptyValue=True,
    )
    q = documented(
        django_filters.CharFilter(method="filter_text", max_length=200, label=_("search")),
        "Text search in title, description and place.",
        {**_TEXT, "maxLength": 200},
    )
    bbox = documented(
        BboxFilter(label=_("bounding box")),
        "minLon,minLat,maxLon,maxLat (WGS 84: latitudes within ±90); min not above max.",
        {"type": "array", "items": {"type": "number", "minimum": -180, "maximum": 180}, "minItems": 4, "maxItems": 4},
        style="form",
        explode=False,
        allowEmptyValue=True,
    )

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

    def filter_sources_min(self, queryset, name, value):
        # Counted live from the citations (no kept table holds it): the map, timeline and lists count such a view
        # over the incidents themselves.
        if value is None:
            return queryset
        return queryset.alias(independent_sources=independent_sources()).filter(independent_sources__gte=value)

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # Words match anywhere (prefix-free full text) or as a plain substring, so "Palmyr" still finds Palmyra.
        # PostgreSQL ORs two GIN index scans (the stored words; the haystack expression exactly as indexed) instead
        # of reading every incident in view. A trigram match is only a candidate, and a page holding one is rechecked
        # row by row with the whole condition: the stored words go first because testing them costs least (0.07 µs
        # a row against 0.6 µs for the upper-cased haystack), and a common word's rows stop there (at 1 M, 97 k
        # rows for "Aleppo").
        return queryset.annotate(text_haystack=incident_text_haystack()).filter(
            Q(search_words=SearchQuery(value, config="simple", search_type="websearch"))
            | Q(text_haystack__icontains=value)
        )

    def error_dict(self):
        """{parameter: [messages]} for a 400 response."""
        return {field: [str(message) for message in messages] for field, messages in self.form.errors.items()}


def parse_viewport(text):
    """A map view 'west,south,east,north' → a MultiPolygon of one or two boxes within ±180° (ValidationError if bad).

    Unlike `bbox` for downloads, a map view may come straight from Leaflet: longitudes past ±180 after panning round
    the world (wrapped back), west > east across the antimeridian (split in two), and 360° or more (the whole world).
    """
    west, south, east, north = _four_numbers(text, _("bbox needs four numbers: west,south,east,north (got %(n)d)."))
    if not (-90 <= south <= 90 and -90 <= north <= 90):
        raise ValidationError(_("bbox latitudes must be between -90 and 90."))
    if south > north:
        raise ValidationError(_("bbox south is greater than north."))
    if not (-540 <= west <= 540 and -540 <= east <= 540):
        raise ValidationError(_("bbox longitudes must be between -540 and 540."))
    span = east - west if east >= west else east - west + 360  # west > east: the view crosses the antimeridian
    if span >= 360:
        boxes = [(-180.0, south, 180.0, north)]
    else:
        west = (west + 180) % 360 - 180
        east = west + span
        boxes = [(west, south, min(east, 180.0), north)]
        if east > 180:
            boxes.append((-180.0, south, east - 360, north))
    return MultiPolygon(*(Polygon.from_bbox(box) for box in boxes), srid=4326)


class ViewportField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        return parse_viewport(value) if value else None


class MapViewForm(forms.Form):
    """The map's own parameters beside the filters: the view (bbox), its zoom level and a page of the list."""

    bbox = ViewportField(required=False, label=_("map view"))
    zoom = forms.IntegerField(required=False, min_value=0, max_value=22, label=_("zoom level"))
    page = forms.IntegerField(required=False, min_value=1, label=_("page"))

    # The whole world at a zoom that shows it when a caller gives no view.
    WORLD = "-180,-90,180,90"
    WORLD_ZOOM = 2

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("bbox") is None and "bbox" not in self.errors:
            cleaned["bbox"] = parse_viewport(self.WORLD)
        if cleaned.get("zoom") is None:
            cleaned["zoom"] = self.WORLD_ZOOM
        if cleaned.get("page") is None:
            cleaned["page"] = 1
        return cleaned

    @classmethod
    def split(cls, params):
        """(the map view form, the remaining filter parameters) from one query string."""
        filters = params.copy()
        view = {}
        for name in cls.base_fields:
            if name in filters:
                view[name] = filters.pop(name)[-1]
        return cls(view), filters


def map_filter_keys():
    """The filter parameters the map page writes into its URL, from the one FilterSet (its bbox is the map view)."""
    return [name for name in IncidentFilterSet.base_filters if name != "bbox"]
