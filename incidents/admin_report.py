"""The admin's "New incidents from a report" page: the editor gives a report, checks the assistant's candidates
(every field editable, its evidence highlighted), ticks the ones to keep and creates them as drafts.

Two steps on one URL: "read" (report form → candidates) and "create" (candidates → drafts through
services.incidents_create_from_report). The report text travels in a hidden field between them; nothing is
stored until "create" succeeds.
"""

from django import forms
from django.contrib import messages
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries

from places.models import Place

from . import services
from .duplicates import hints_shown, proposed_duplicate_hints
from .extraction import ReportTextError, extract_candidates, report_text_clean
from .extraction.dates import publication_date_in
from .extraction.text import MAX_REPORT_CHARS, MAX_UPLOAD_BYTES, report_text_from_bytes, report_title
from .models import Actor, ContentLanguage, DatePrecision, EventType, LocationPrecision, SubEventType

FIELD_LABELS = {
    "place": gettext_lazy("place"),
    "date": gettext_lazy("date"),
    "fatalities": gettext_lazy("fatalities"),
    "event_type": gettext_lazy("event type"),
    "actor_A": gettext_lazy("actor, side A"),
    "actor_B": gettext_lazy("actor, side B"),
}


class ReportForm(forms.Form):
    """Step 1: the report and where it comes from."""

    text = forms.CharField(
        label=gettext_lazy("Report text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "dir": "auto"}),
        help_text=gettext_lazy("Paste the article (plain text or HTML), or upload it below."),
    )
    file = forms.FileField(
        label=gettext_lazy("…or a file"),
        required=False,
        help_text=gettext_lazy("A .txt or .html file, at most 1 MB. HTML is reduced to its article text."),
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,.html,.htm,text/plain,text/html"}),
    )
    publisher = forms.CharField(label=gettext_lazy("Publisher"), max_length=200, help_text=gettext_lazy("e.g. DW."))
    url = forms.URLField(label=gettext_lazy("URL"), required=False, max_length=1000, assume_scheme="https")
    published_on = forms.DateField(
        label=gettext_lazy("Publication date"),
        required=False,
        help_text=gettext_lazy(
            "Relative dates (“on Thursday”, “yesterday”) are read against it. Left empty, it is taken from the "
            "report's dateline when there is one."
        ),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        try:
            if upload:
                if upload.size > MAX_UPLOAD_BYTES:
                    raise ReportTextError(
                        _("The file is %(size)s bytes; a report file may be at most %(max)s bytes.")
                        % {"size": f"{upload.size:,}", "max": f"{MAX_UPLOAD_BYTES:,}"}
                    )
                raw = report_text_from_bytes(upload.read(MAX_UPLOAD_BYTES + 1), filename=upload.name)
            else:
                raw = data.get("text", "")
            text, notes = report_text_clean(raw)
        except ReportTextError as error:
            raise ValidationError(str(error)) from None
        data["text"], data["notes"] = text, notes
        if not data.get("published_on") and "published_on" not in self.errors:
            found = publication_date_in(text)
            if found is None:
                self.add_error(
                    "published_on",
                    _("The report carries no dateline: give its publication date, which relative dates need."),
                )
            else:
                data["published_on"] = found
                notes.append(
                    _("Publication date %(date)s taken from the report's dateline: check it.") % {"date": found}
                )
        return data


class SourceForm(forms.Form):
    """Step 2: the report as the source the drafts will cite."""

    text = forms.CharField(widget=forms.HiddenInput, max_length=MAX_REPORT_CHARS)
    publisher = forms.CharField(label=gettext_lazy("Publisher"), max_length=200)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=500)
    url = forms.URLField(label=gettext_lazy("URL"), required=False, max_length=1000, assume_scheme="https")
    published_on = forms.DateField(
        label=gettext_lazy("Publication date"), widget=forms.DateInput(attrs={"type": "date"})
    )


ACTORS_HINT = gettext_lazy(
    "The assistant's proposals are selected. Hold Ctrl (⌘ on a Mac) and click to choose several or to unselect one."
)


class CandidateForm(forms.Form):
    keep = forms.BooleanField(label=gettext_lazy("Create this incident"), required=False)
    # The proposal is written in the report's language (its original); the other title is the editor's to add.
    original_language = forms.ChoiceField(
        label=gettext_lazy("Original language"), choices=ContentLanguage.choices, initial=ContentLanguage.ENGLISH
    )
    title = forms.CharField(
        label=gettext_lazy("Title (English)"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"lang": "en", "dir": "ltr", "size": 60}),
    )
    title_ar = forms.CharField(
        label=gettext_lazy("Title (Arabic)"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"lang": "ar", "dir": "rtl", "size": 60}),
    )
    event_type = forms.ModelChoiceField(EventType.objects.all(), label=gettext_lazy("Event type"), required=False)
    sub_event_type = forms.ModelChoiceField(
        SubEventType.objects.select_related("event_type"), label=gettext_lazy("Sub-event type"), required=False
    )
    start_date = forms.DateField(
        label=gettext_lazy("Start date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end_date = forms.DateField(
        label=gettext_lazy("End date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_precision = forms.TypedChoiceField(
        label=gettext_lazy("Date precision"),
        choices=DatePrecision.choices,
        coerce=int,
        initial=DatePrecision.DAY,
        help_text=gettext_lazy(
            "A report that does not say when is proposed as “within a week” up to the day it was filed: narrow it "
            "if you know better."
        ),
    )
    place_reported = forms.CharField(label=gettext_lazy("Place as reported"), max_length=300, required=False)
    place_name = forms.CharField(label=gettext_lazy("Coded place"), max_length=200, required=False)
    place_id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    latitude = forms.FloatField(label=gettext_lazy("Latitude"), required=False, min_value=-90, max_value=90)
    longitude = forms.FloatField(label=gettext_lazy("Longitude"), required=False, min_value=-180, max_value=180)
    location_precision = forms.TypedChoiceField(
        label=gettext_lazy("Location precision"), choices=LocationPrecision.choices, coerce=int
    )
    admin1 = forms.CharField(label=gettext_lazy("Admin1"), max_length=100, required=False)
    admin2 = forms.CharField(widget=forms.HiddenInput, max_length=100, required=False)
    country = forms.ChoiceField(label=gettext_lazy("Country"), choices=[("", "—"), *countries], required=False)
    fatalities_low = forms.IntegerField(label=gettext_lazy("Fatalities (low)"), min_value=0, required=False)
    fatalities_best = forms.IntegerField(label=gettext_lazy("Fatalities (best)"), min_value=0, required=False)
    fatalities_high = forms.IntegerField(label=gettext_lazy("Fatalities (high)"), min_value=0, required=False)
    actors_a = forms.ModelMultipleChoiceField(
        Actor.objects.all(),
        label=gettext_lazy("Side A (perpetrator / initiator)"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=ACTORS_HINT,
    )
    actors_b = forms.ModelMultipleChoiceField(
        Actor.objects.all(),
        label=gettext_lazy("Side B (target / other side)"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=gettext_lazy(
            "Victims the report names as civilians, children, journalists or aid workers are the Civilians actor "
            "of the country. Hold Ctrl (⌘ on a Mac) and click to choose several or to unselect one."
        ),
    )

    def clean(self):
        data = super().clean()
        if not data.get("keep"):
            return data
        original_title = "title_ar" if data.get("original_language") == ContentLanguage.ARABIC else "title"
        for name, message in [
            (original_title, _("Give the incident a title in its original language.")),
            ("event_type", _("Choose an event type.")),
            ("start_date", _("Give the start date: the report did not say when.")),
        ]:
            if not data.get(name) and name not in self.errors:
                self.add_error(name, message)
        if data.get("place_id") is not None and not Place.objects.filter(pk=data["place_id"]).exists():
            # The hidden id is shown nowhere: the error goes beside the coded place's name.
            self.add_error("place_name", _("This place is not in the gazetteer (any more): search for it again."))
            data["place_id"] = None
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            self.add_error("longitude", _("Give both latitude and longitude, or neither."))
        both = set(data.get("actors_a") or []) & set(data.get("actors_b") or [])
        if both:
            self.add_error(
                "actors_b", _("An actor cannot be on both sides: %(names)s.") % {"names": ", ".join(map(str, both))}
            )
        sub = data.get("sub_event_type")
        if sub and data.get("event_type") and sub.event_type_id != data["event_type"].pk:
            self.add_error(
                "sub_event_type",
                _("“%(sub)s” is not a sub-type of “%(type)s”.") % {"sub": sub.name, "type": data["event_type"].name},
            )
        return data

    def incident_values(self):
        data = self.cleaned_data
        location = None
        if data.get("latitude") is not None and data.get("longitude") is not None:
            location = Point(data["longitude"], data["latitude"], srid=4326)
        return {
            "title": data.get("title", ""),
            "title_ar": data.get("title_ar", ""),
            "original_language": data["original_language"],
            "event_type": data["event_type"],
            "sub_event_type": data.get("sub_event_type"),
            "start_date": data["start_date"],
            "end_date": data.get("end_date") or data["start_date"],
            "date_precision": data["date_precision"],
            "place_reported": data.get("place_reported", ""),
            "place_name": data.get("place_name", ""),
            "place_id": data.get("place_id"),
            "location": location,
            "location_precision": data["location_precision"],
            "admin1": data.get("admin1", ""),
            "admin2": data.get("admin2", ""),
            "country": data.get("country", ""),
            "fatalities_low": data.get("fatalities_low"),
            "fatalities_best": data.get("fatalities_best"),
            "fatalities_high": data.get("fatalities_high"),
            "actors": [(actor, "a") for actor in data.get("actors_a") or []]
            + [(actor, "b") for actor in data.get("actors_b") or []],
        }


CandidateFormSet = forms.formset_factory(CandidateForm, extra=0, max_num=100, validate_max=True)


def _initial(candidate):
    return {
        "keep": True,
        "original_language": candidate.language,
        ("title_ar" if candidate.language == ContentLanguage.ARABIC else "title"): candidate.title,
        "event_type": candidate.event_type_id,
        "sub_event_type": candidate.sub_event_type_id,
        "start_date": candidate.start_date,
        "end_date": candidate.end_date,
        "date_precision": candidate.date_precision or DatePrecision.DAY,
        "place_reported": (candidate.place_reported or "")[:300],
        "place_name": candidate.place_name or "",
        "place_id": candidate.place_id,
        "latitude": candidate.latitude,
        "longitude": candidate.longitude,
        "location_precision": candidate.location_precision or LocationPrecision.EXACT,
        "admin1": candidate.admin1 or "",
        "admin2": candidate.admin2 or "",
        "country": candidate.country or "",
        "fatalities_low": candidate.fatalities_low,
        "fatalities_best": candidate.fatalities_best,
        "fatalities_high": candidate.fatalities_high,
        "actors_a": [actor["id"] for actor in candidate.actors if actor["side"] == "A"],
        "actors_b": [actor["id"] for actor in candidate.actors if actor["side"] == "B"],
    }


def duplicate_hints(initials):
    """Possible duplicates of each candidate (as _initial gives its values) among the incidents already entered."""
    names = dict(
        Actor.objects.filter(
            pk__in={pk for values in initials for pk in [*values["actors_a"], *values["actors_b"]]}
        ).values_list("pk", "name")
    )
    proposals = [
        {
            **values,
            "location": Point(values["longitude"], values["latitude"], srid=4326)
            if values["latitude"] is not None and values["longitude"] is not None
            else None,
            "actors": [names[pk] for pk in [*values["actors_a"], *values["actors_b"]] if pk in names],
        }
        for values in initials
    ]
    return [hints_shown(hints) for hints in proposed_duplicate_hints(proposals=proposals)]


def highlighted(sentence_text, spans):
    """The sentence as (text, field label or None) segments; the template escapes each and marks the fields."""
    segments, position = [], 0
    for span in sorted(spans, key=lambda item: item.start):
        if span.start < position:
            continue  # overlapping evidence: the first span keeps the words
        segments.append((sentence_text[position : span.start], None))
        segments.append((sentence_text[span.start : span.end], FIELD_LABELS.get(span.field, span.field)))
        position = span.end
    segments.append((sentence_text[position:], None))
    return [(text, label) for text, label in segments if text]


def _evidence(candidate):
    by_sentence = {}
    for item in candidate.evidence:
        by_sentence.setdefault(item.sentence, []).append(item)
    return [
        highlighted(reading.sentence.text, by_sentence.get(reading.sentence.index, []))
        for reading in candidate.shown_readings
    ]


def date_note(candidate):
    """What the editor should know of where the proposed date came from, or None when the report states it."""
    if candidate.date_basis == "reported":
        return _(
            "The report does not say when: proposed as within the week up to %(day)s, the day it was filed or reported."
        ) % {"day": candidate.end_date}
    if candidate.date_basis == "carried":
        return _("The date is the one an earlier sentence of the report gives: check it holds for this incident.")
    return None


def report_view(model_admin, request):
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("New incidents from a report"),
        "media": model_admin.media,
    }
    step = request.POST.get("step") if request.method == "POST" else None
    if step == "create":
        return _create(model_admin, request, context)
    if step == "read":
        form = ReportForm(request.POST, request.FILES)
        if form.is_valid():
            refusal = _refusal(form.cleaned_data, form.cleaned_data["text"])
            if refusal is None:
                return _review(request, context, form.cleaned_data)
            form.add_error(None, refusal)
    else:
        form = ReportForm()
    return TemplateResponse(request, "admin/incidents/incident/from_report.html", {**context, "form": form})


def _refusal(data, text):
    existing = services.report_already_entered(url=data.get("url"), checksum=services.report_checksum(text))
    if existing is not None:
        return _("The incidents of this report were already created (source “%(source)s”); nothing was created.") % {
            "source": existing
        }
    return None


def _review(request, context, data):
    text = data["text"]
    candidates = extract_candidates(text, published=data["published_on"])
    notes = list(data.get("notes", []))
    if len(candidates) > CandidateFormSet.max_num:
        # The create step accepts at most max_num forms: show no more than can be created.
        notes.append(
            _("The report gave %(count)d candidates; the first %(shown)d are shown. Split the report for the rest.")
            % {"count": len(candidates), "shown": CandidateFormSet.max_num}
        )
        candidates = candidates[: CandidateFormSet.max_num]
    source_form = SourceForm(
        initial={
            "text": text,
            "publisher": data["publisher"],
            "title": report_title(text)[:500],
            "url": data.get("url", ""),
            "published_on": data["published_on"],
        }
    )
    formset = CandidateFormSet(initial=[_initial(candidate) for candidate in candidates], prefix="candidate")
    return TemplateResponse(
        request,
        "admin/incidents/incident/from_report_review.html",
        {
            **context,
            "source_form": source_form,
            "formset": formset,
            "rows": list(
                zip(
                    formset.forms,
                    [_evidence(c) for c in candidates],
                    [round(c.confidence * 100) for c in candidates],
                    [date_note(c) for c in candidates],
                    duplicate_hints([_initial(c) for c in candidates]),
                    strict=True,
                )
            ),
            "notes": notes,
        },
    )


def _create(model_admin, request, context):
    source_form = SourceForm(request.POST)
    formset = CandidateFormSet(request.POST, prefix="candidate")
    if source_form.is_valid() and formset.is_valid():
        chosen = [form.incident_values() for form in formset.forms if form.cleaned_data.get("keep")]
        data = source_form.cleaned_data
        try:
            incidents = services.incidents_create_from_report(
                source={key: data[key] for key in ("publisher", "title", "url", "published_on")},
                text=data["text"],
                candidates=chosen,
                user=request.user,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("%(count)d draft incident(s) created from the report; none is published.")
                % {"count": len(incidents)},
            )
            changelist = reverse(f"admin:{model_admin.model._meta.app_label}_incident_changelist")
            return HttpResponseRedirect(f"{changelist}?status=draft")
    # Show the evidence again beside the editor's corrected values (extraction is cheap and deterministic).
    evidence = [[] for _form in formset.forms]
    confidence = [None for _form in formset.forms]
    notes = [None for _form in formset.forms]
    hints = [[] for _form in formset.forms]
    if source_form.is_valid():
        candidates = extract_candidates(
            source_form.cleaned_data["text"], published=source_form.cleaned_data["published_on"]
        )[: CandidateFormSet.max_num]
        if len(candidates) == len(formset.forms):
            evidence = [_evidence(candidate) for candidate in candidates]
            confidence = [round(candidate.confidence * 100) for candidate in candidates]
            notes = [date_note(candidate) for candidate in candidates]
            hints = duplicate_hints([_initial(candidate) for candidate in candidates])
    return TemplateResponse(
        request,
        "admin/incidents/incident/from_report_review.html",
        {
            **context,
            "source_form": source_form,
            "formset": formset,
            "rows": list(zip(formset.forms, evidence, confidence, notes, hints, strict=True)),
            "notes": [],
        },
    )
