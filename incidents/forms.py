import copy

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.gis.geos import GEOSGeometry, Point
from django.db import connection, models
from django.db.models.expressions import DatabaseDefault, Value
from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .media import media_analyse
from .models import Actor, ActorNameMapping, Incident, IncidentMedia, Source, Status

FATALITY_FIELDS = ("fatalities_low", "fatalities_best", "fatalities_high")


def _shown(instance, field):
    """A field's value as the admin shows it: choice labels, related records' names, points as lat, lon."""
    value = getattr(instance, field.name)
    if value is None or value == "":
        return gettext("(empty)")
    if field.choices:
        return str(getattr(instance, f"get_{field.name}_display")())
    if isinstance(value, GEOSGeometry):
        return f"{value.y:.6f}, {value.x:.6f}"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(localize(value))


def edit_conflict_message(instance, read_version):
    """Says who saved the record since `read_version` and, field by field, what they saved, from its history."""
    model = type(instance)
    current = model._base_manager.get(pk=instance.pk)
    history = model.history.filter(id=instance.pk)
    read = history.filter(version=read_version).first()
    latest = history.first()
    changed = []
    if read is not None and latest is not None:
        names = latest.diff_against(read).changed_fields
        changed = [field for field in model._meta.concrete_fields if field.name in names and field.name != "version"]
    who = getattr(latest, "history_user", None) if latest is not None else None
    intro = (
        gettext("%(user)s saved this %(model)s while you were editing it.")
        % {"user": who, "model": model._meta.verbose_name}
        if who
        else gettext("Someone else saved this %(model)s while you were editing it.")
        % {"model": model._meta.verbose_name}
    )
    if changed:
        details = gettext("Their changes: %(changes)s.") % {
            "changes": "; ".join(f"{field.verbose_name}: “{_shown(current, field)}”" for field in changed)
        }
    else:
        details = gettext("Their changes were to records listed with it (actors or sources cited).")
    advice = gettext("Your edits were not saved: reload the page to see their version, then make your changes again.")
    return f"{intro} {details} {advice}"


class EditVersionForm(forms.ModelForm):
    """Carries the version the editor opened, and refuses the save when the record has moved on since."""

    edit_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["edit_version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None:
            return cleaned
        read_version = cleaned.get("edit_version")
        if read_version is None:
            raise forms.ValidationError(
                gettext("This form was opened without an edit version; reload the page and make your changes again.")
            )
        rows = type(self.instance)._base_manager.filter(pk=self.instance.pk)
        if connection.in_atomic_block:
            # The admin saves inside one transaction: holding the row until then makes this check the final word.
            rows = rows.select_for_update()
        if rows.values_list("version", flat=True).first() != read_version:
            raise forms.ValidationError(edit_conflict_message(self.instance, read_version), code="edit_conflict")
        # The model's save checks the same version, in case anything slips between here and there.
        self.instance.version = read_version
        return cleaned


def _database_defaults_resolve(instance):
    """A new instance holds a DatabaseDefault marker for each db_default column until it is saved; the admin would
    print the marker's repr as a read-only value. Put the literal default in its place (the same value the column
    would get)."""
    if instance.pk is not None:
        return
    for field in instance._meta.concrete_fields:
        if not isinstance(getattr(instance, field.attname, None), DatabaseDefault):
            continue
        default = field.db_default
        if isinstance(default, Value):
            default = default.value
        if not hasattr(default, "resolve_expression"):  # a literal; an SQL expression's value is the database's
            setattr(instance, field.attname, copy.deepcopy(default))


class IncidentAdminForm(EditVersionForm):
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
        _database_defaults_resolve(self.instance)
        # Each language's fields are typed and read in their own direction, whatever the admin's language.
        for name, language, direction in [
            ("title", "en", "ltr"),
            ("description", "en", "ltr"),
            ("title_ar", "ar", "rtl"),
            ("description_ar", "ar", "rtl"),
        ]:
            if name in self.fields:
                self.fields[name].widget.attrs.update({"lang": language, "dir": direction})
        if "original_language" in self.fields:
            # A post without it (a script written before the field) keeps the incident's language: English by default.
            self.fields["original_language"].required = False
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

    def clean_original_language(self):
        return self.cleaned_data["original_language"] or self.instance.original_language

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
        # A figure the editor changes is theirs, held to low ≤ best ≤ high; untouched, the publisher's stay as published.
        if self.instance.fatalities_as_published and set(self.changed_data) & set(FATALITY_FIELDS):
            self.instance.fatalities_as_published = False
        return cleaned


class RetractForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for retraction"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Kept with the incident's history; the incident disappears from every public page."),
    )


class MergeForm(forms.Form):
    """Merge two incidents (a Publisher's act, services.incident_merge): which one stays, and a note for the record."""

    other = forms.ModelChoiceField(
        queryset=Incident.objects.exclude(status=Status.RETRACTED),
        widget=forms.NumberInput,
        label=_("other incident (number)"),
        error_messages={"invalid_choice": _("There is no incident with that number that is not retracted.")},
    )
    keep = forms.ChoiceField(
        choices=[("this", _("Keep this incident")), ("other", _("Keep the other incident"))], label=_("keep")
    )
    note = forms.CharField(
        label=_("note"),
        required=False,
        max_length=500,
        help_text=_("Added to the duplicate's retraction reason, after “Duplicate of incident N.”"),
    )


def _https_by_default(db_field, **kwargs):
    # A URL typed without a scheme is taken as https (Django 6's default), as SourceAdmin's formfield_overrides say.
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


class SourceAdminForm(EditVersionForm):
    class Meta:
        model = Source
        fields = "__all__"  # noqa: DJ007 -- the admin chooses what is shown
        formfield_callback = _https_by_default


class ActorAdminForm(EditVersionForm):
    class Meta:
        model = Actor
        fields = "__all__"  # noqa: DJ007 -- the admin chooses what is shown


class ImportUploadForm(forms.Form):
    events_file = forms.FileField(
        label=_("ACLED or UCDP GED file"),
        help_text=_(
            "CSV as the publisher ships it (UTF-8, with or without BOM). Nothing is written before you confirm."
        ),
    )
    format = forms.ChoiceField(
        label=_("format"),
        choices=[("auto", _("Recognise from the header")), ("acled", _("ACLED")), ("ucdp-ged", _("UCDP GED"))],
        initial="auto",
    )
    status = forms.ChoiceField(
        label=_("status of new incidents"),
        choices=[("draft", _("Draft (review, then publish)")), ("published", _("Published"))],
        initial="draft",
    )
    retract_missing = forms.BooleanField(
        label=_("Retract this dataset's incidents that the file lacks"),
        required=False,
        help_text=_("Only for a complete newer export: a file for one country would retract every other country."),
    )


class ActorMappingForm(forms.Form):
    """In an import preview: for each actor the file would create, an existing actor to link its name to instead."""

    def __init__(self, *args, new_actors, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        self.new_actors = new_actors
        for index, entry in enumerate(new_actors):
            self.fields[f"actor_{index}"] = forms.ModelChoiceField(
                queryset=Actor.objects.all(),
                required=False,
                label=entry["name"],
                # a search box, not a <select> of every actor: after a few imports there are thousands
                widget=AutocompleteSelect(ActorNameMapping._meta.get_field("actor"), admin_site),
            )

    def rows(self):
        """(entry of the report, its form field) for the template."""
        return [(entry, self[f"actor_{index}"]) for index, entry in enumerate(self.new_actors)]

    def choices(self):
        """(name in the file, actor) for every name given an actor."""
        return [
            (entry["name"], self.cleaned_data[f"actor_{index}"])
            for index, entry in enumerate(self.new_actors)
            if self.cleaned_data.get(f"actor_{index}")
        ]


class StoredFileName(forms.Widget):
    """A stored media item's file, named as it was uploaded: it cannot be replaced, only removed."""

    def __init__(self, file_name, attrs=None):
        super().__init__(attrs)
        self.file_name = file_name

    def render(self, name, value, attrs=None, renderer=None):
        return format_html('<span class="media-file-name"><bdi>{}</bdi></span>', self.file_name)


class IncidentMediaForm(forms.ModelForm):
    """One media item in the incident's inline: a new file is read here (incidents/media.py), so a renamed program,
    an oversized file or a damaged image is this row's error, naming the file, before anything is stored."""

    video_cleared = forms.BooleanField(
        label=_("video checked: publish as uploaded"),
        required=False,
        help_text=_(
            "Videos keep their metadata (the place and device they were recorded with). Tick once you have checked "
            "this one names no one it should not: only then does the incident page show it."
        ),
    )

    class Meta:
        model = IncidentMedia
        fields = ["original", "caption", "caption_ar", "credit", "graphic", "identifying"]
        widgets = {
            "caption": forms.TextInput(attrs={"lang": "en", "dir": "ltr", "size": 30}),
            "caption_ar": forms.TextInput(attrs={"lang": "ar", "dir": "rtl", "size": 30}),
        }

    media_facts = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            # A stored item keeps its file (its fingerprints and public copy were made from it): upload a new item.
            self.fields["original"].disabled = True
            self.fields["original"].widget = StoredFileName(self.instance.original_name)
            self.fields["original"].required = False
        if self.instance.pk is not None and (self.instance.kind != "video" or self.instance.video_cleared_at):
            # Images need no check (their copy is stripped) and a cleared video stays cleared.
            self.fields["video_cleared"].disabled = True
            self.fields["video_cleared"].initial = bool(self.instance.video_cleared_at)

    def clean_original(self):
        upload = self.cleaned_data.get("original")
        if upload and self.instance.pk is None:
            self.media_facts = media_analyse(upload)
        return upload
