"""How the public pages say an incident's dates and fatalities, in the visitor's language."""

from django import template
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext, ngettext

from incidents.models import DatePrecision, EventClarity

register = template.Library()


def _day(value):
    return date_format(value, "j M Y")


@register.filter
def incident_dates(incident_or_row):
    """'18–20 Apr 2019', '20 Apr 2019', 'Apr 2019' (month precision), 'around 7–9 Nov 2024' (week precision)."""
    start, end, precision = _date_fields(incident_or_row)
    return dates_label(start, end, precision)


def _date_fields(value):
    if isinstance(value, dict):
        return value["start_date"], value["end_date"], value["date_precision"]
    return value.start_date, value.end_date, value.date_precision


def dates_label(start, end, precision):
    end = end or start
    if precision == DatePrecision.MONTH:
        if (start.year, start.month) == (end.year, end.month):
            return date_format(start, "M Y")
        return f"{date_format(start, 'M Y')} – {date_format(end, 'M Y')}"
    if start == end:
        label = _day(start)
    elif (start.year, start.month) == (end.year, end.month):
        label = f"{date_format(start, 'j')}–{_day(end)}"
    elif start.year == end.year:
        label = f"{date_format(start, 'j M')} – {_day(end)}"
    else:
        label = f"{_day(start)} – {_day(end)}"
    if precision == DatePrecision.WEEK:
        # Known to within a week: "around" reads naturally before a day or a range ("week of 7–9 Nov" does not).
        return gettext("around %(dates)s") % {"dates": label}
    return label


@register.filter
def date_precision_note(incident):
    """'(date known to within a week)' where the dates alone do not say how precise they are; '' for an exact day."""
    if incident.date_precision == DatePrecision.WEEK:
        return gettext("date known to within a week")
    if incident.date_precision == DatePrecision.MONTH:
        return gettext("date known to within a month")
    return ""


def fatalities_label(low, best, high):
    """UCDP-style estimates in words: 'at least 35', '13', '10 (8–15)', 'not reported'."""
    if best is None and low is None:
        return gettext("not reported")
    if high is None and low is not None and (best is None or best == low):
        return ngettext("at least %(n)d", "at least %(n)d", low) % {"n": low}
    if best is None:
        return f"{low}–{high}" if high is not None else str(low)
    if low is not None and high is not None and (low, high) != (best, best):
        return f"{best} ({low}–{high})"
    return str(best)


@register.filter
def incident_fatalities(incident):
    return fatalities_label(incident.fatalities_low, incident.fatalities_best, incident.fatalities_high)


@register.filter
def translated(name):
    """Taxonomy names are stored in English and marked with gettext_noop in the migration that seeds them."""
    return gettext(name) if name else ""


def confidence_label(independent_sources, event_clarity):
    """'2 independent sources; clarity: clear' (docs/editors.md, "Confidence")."""
    sources = ngettext("%(n)d independent source", "%(n)d independent sources", independent_sources or 0) % {
        "n": independent_sources or 0
    }
    if event_clarity is None:
        return sources
    return gettext("%(sources)s; clarity: %(clarity)s") % {
        "sources": sources,
        "clarity": EventClarity(event_clarity).label,
    }


@register.filter
def incident_confidence(incident):
    """An incident read with its count (selectors.incident_public_list annotates `independent_sources`)."""
    return confidence_label(getattr(incident, "independent_sources", 0), incident.event_clarity)
