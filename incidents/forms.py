from django import forms
from django.contrib.gis.geos import Point
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .models import Incident


class IncidentAdminForm(forms.ModelForm):
    """The incident form with typed coordinates beside the map, for editors who copy them from a report."""

    latitude = forms.FloatField(
        label=_("latitude"),
        required=False,
        help_text=_("Decimal degrees, −90 to 90. Typed coordinates take precedence over the map."),
    )
    longitude = forms.FloatField(label=_("longitude"), required=False, help_text=_("Decimal degrees, −180 to 180."))
    # Not saved: static/incidents/js/admin_geocode.js turns it into a search box that fills the place fields.
    place_search = forms.CharField(
        label=_("Find a place"),
        required=False,
        max_length=300,
        help_text=_(
            "Type what the report says (“north of Palmyra”, “Homs province”, “دير الزور”), then pick a suggestion "
            "with the arrow keys and Enter. Clicking the map sets the point and fills admin1 and country."
        ),
    )

    # Not saved: the online geocoder whose suggestion was picked (set by admin_geocode.js). Saving the incident is
    # what keeps that answer as a place; the search itself (a GET) never writes.
    online_provider = forms.CharField(required=False, max_length=50, widget=forms.HiddenInput)

    class Meta:
        model = Incident
        fields = "__all__"  # noqa: DJ007 -- the admin's fieldsets choose what is shown

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "place_search" in self.fields:
            self.fields["place_search"].widget.attrs.update(
                {
                    "class": "vTextField place-search",
                    "autocomplete": "off",
                    "spellcheck": "false",
                    "role": "combobox",
                    "aria-autocomplete": "list",
                    "aria-expanded": "false",
                    "data-search-url": reverse("incidents:place-search"),
                    "data-reverse-url": reverse("incidents:place-reverse"),
                    "data-text-no-results": _("No place found. Editors can add it under Places."),
                    "data-text-failed": _("The place search failed; type the coordinates instead."),
                    "data-text-nearest": _("Nearest place"),
                    "data-text-none-near": _("No gazetteer place within 150 km."),
                    "data-text-ambiguous": _("Several places have this name: choose by region and district."),
                    "data-text-same-name": _("same name"),
                    "data-text-similar": _("similar name"),
                }
            )
        if self.instance.location is not None:
            self.initial.setdefault("latitude", round(self.instance.location.y, 6))
            self.initial.setdefault("longitude", round(self.instance.location.x, 6))

    def clean_latitude(self):
        latitude = self.cleaned_data["latitude"]
        if latitude is not None and not -90 <= latitude <= 90:
            raise forms.ValidationError(
                _("Latitude must be between −90 and 90 (got %(value)s)."), params={"value": latitude}
            )
        return latitude

    def clean_longitude(self):
        longitude = self.cleaned_data["longitude"]
        if longitude is not None and not -180 <= longitude <= 180:
            raise forms.ValidationError(
                _("Longitude must be between −180 and 180 (got %(value)s)."), params={"value": longitude}
            )
        return longitude

    def clean(self):
        cleaned = super().clean()
        typed = ("latitude" in self.changed_data) or ("longitude" in self.changed_data)
        latitude, longitude = cleaned.get("latitude"), cleaned.get("longitude")
        if typed and not self.has_error("latitude") and not self.has_error("longitude"):
            if latitude is None and longitude is None:
                cleaned["location"] = None
            elif latitude is None or longitude is None:
                missing = "latitude" if latitude is None else "longitude"
                self.add_error(missing, _("Give both latitude and longitude, or neither."))
            else:
                cleaned["location"] = Point(longitude, latitude, srid=4326)
        return cleaned


class RetractForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for retraction"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Kept with the incident's history; the incident disappears from every public page."),
    )
