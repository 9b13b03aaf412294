"""ACLED and UCDP GED rows as our fields: each publisher's codes mapped onto our precisions, types and actor kinds.

A row mapper returns a MappedRow or raises RowErrors listing every bad cell of the row (line, column, reason), so
the report names all of them at once. An error is a row we cannot place, date, type or identify; the publisher's own
inconsistencies (low above best, an end before the start, a code its codebook lacks) are warnings on a row that is
imported as published (MappedRow.warnings). The mappings are documented in docs/importing.md.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from django.utils.translation import gettext as _
from django_countries import countries

from places.names import admin1_clean

from ..models import ActorKind, Dataset, DatePrecision, EventClarity, LocationPrecision

# ACLED's inter1 / inter2: numeric codes in older exports, their labels in newer ones.
ACLED_INTER_KIND = {
    "1": ActorKind.STATE_FORCES,
    "2": ActorKind.REBEL_GROUP,
    "3": ActorKind.POLITICAL_MILITIA,
    "4": ActorKind.IDENTITY_MILITIA,
    "5": ActorKind.RIOTERS,
    "6": ActorKind.PROTESTERS,
    "7": ActorKind.CIVILIANS,
    "8": ActorKind.FOREIGN_FORCES,  # "External/Other forces": international forces, foreign state forces, PMCs
    "state forces": ActorKind.STATE_FORCES,
    "rebel group": ActorKind.REBEL_GROUP,
    "political militia": ActorKind.POLITICAL_MILITIA,
    "identity militia": ActorKind.IDENTITY_MILITIA,
    "rioters": ActorKind.RIOTERS,
    "protesters": ActorKind.PROTESTERS,
    "civilians": ActorKind.CIVILIANS,
    "external/other forces": ActorKind.FOREIGN_FORCES,
}

ACLED_TIME_PRECISION = {"1": DatePrecision.DAY, "2": DatePrecision.WEEK, "3": DatePrecision.MONTH}
ACLED_GEO_PRECISION = {"1": LocationPrecision.EXACT, "2": LocationPrecision.NEAR, "3": LocationPrecision.REGION}

# UCDP date_prec: 1 exact day, 2 a span of 2–6 days, 3 a week, 4 a month, 5 more than a month (date_start..date_end
# carries the span itself; MONTH is our coarsest code).
UCDP_DATE_PRECISION = {
    "1": DatePrecision.DAY,
    "2": DatePrecision.WEEK,
    "3": DatePrecision.WEEK,
    "4": DatePrecision.MONTH,
    "5": DatePrecision.MONTH,
}
# UCDP where_prec: 1 exact place, 2 within ~25 km of it, 3 second-order admin unit, 4 first-order admin unit,
# 5 a linear feature (road, river, front line), 6 the country, 7 international waters or airspace.
UCDP_WHERE_PRECISION = {
    "1": LocationPrecision.EXACT,
    "2": LocationPrecision.NEAR,
    "3": LocationPrecision.REGION,
    "4": LocationPrecision.REGION,
    "5": LocationPrecision.NEAR,
    "6": LocationPrecision.REGION,
    "7": LocationPrecision.REGION,
}
# UCDP type_of_violence onto ACLED-style (event type slug, sub-event type slug): state-based and non-state conflict
# are armed clashes between organised sides; one-sided violence is an attack on civilians.
UCDP_VIOLENCE_TYPE = {
    "1": ("battles", "battles-armed-clash"),
    "2": ("battles", "battles-armed-clash"),
    "3": ("violence-against-civilians", "violence-against-civilians-attack"),
}

# UCDP event_clarity: 1 the event is clearly told apart in its reports, 2 lower clarity (only known from a summary).
UCDP_EVENT_CLARITY = {"1": EventClarity.CLEAR, "2": EventClarity.LOWER}

ACLED_REQUIRED = ["event_id_cnty", "event_date", "event_type", "latitude", "longitude", "actor1"]
UCDP_REQUIRED = ["id", "date_start", "type_of_violence", "latitude", "longitude", "side_a", "side_b", "best"]


def detect_format(header):
    """The dataset a header belongs to, or None. ACLED names its key event_id_cnty; UCDP GED has id + date_start."""
    names = set(header)
    if {"event_id_cnty", "event_date"} <= names:
        return Dataset.ACLED
    if {"id", "date_start", "type_of_violence"} <= names:
        return Dataset.UCDP_GED
    return None


def required_columns(dataset):
    return ACLED_REQUIRED if dataset == Dataset.ACLED else UCDP_REQUIRED


@dataclass
class CellError:
    line: int
    column: str
    value: str
    reason: str

    def as_dict(self):
        return {"line": self.line, "column": self.column, "value": self.value[:100], "reason": self.reason}


class RowErrors(Exception):
    def __init__(self, errors, warnings=()):
        super().__init__(errors)
        self.errors = errors
        self.warnings = list(warnings)  # reported with the errors, so one round of fixes sees them all


@dataclass
class MappedRow:
    event_id: str
    start_date: date
    end_date: date
    date_precision: int
    longitude: float
    latitude: float
    place_reported: str
    place_name: str
    admin1: str
    admin2: str
    country: str
    location_precision: int
    event_type_slug: str
    sub_event_type_name: str  # ACLED names it; for UCDP the slug is fixed (see UCDP_VIOLENCE_TYPE)
    sub_event_type_slug: str
    title: str
    description: str
    fatalities_low: int | None
    fatalities_best: int | None
    fatalities_high: int | None
    side_a: list = field(default_factory=list)
    side_a_associated: list = field(default_factory=list)
    side_b: list = field(default_factory=list)
    side_b_associated: list = field(default_factory=list)
    # actor name → kind, for actors the import has to create
    actor_kinds: dict = field(default_factory=dict)
    sources: list = field(default_factory=list)
    # the row as read, every column (Incident.import_record)
    record: dict = field(default_factory=dict)
    event_type_name: str = ""  # ACLED names the type; UCDP's is fixed by event_type_slug
    # the publisher's own inconsistencies (CellError), imported as published
    warnings: list = field(default_factory=list)
    fatalities_as_published: bool = False
    event_clarity: int | None = None  # UCDP's; ACLED has none


class _Cells:
    """One row's cells by column name, collecting every bad cell instead of stopping at the first."""

    def __init__(self, row, line):
        self.row = row
        self.line = line
        self.errors = []
        self.warnings = []

    def text(self, column):
        return (self.row.get(column) or "").strip()

    def fail(self, column, reason):
        self.errors.append(CellError(self.line, column, self.text(column), reason))

    def warn(self, column, reason):
        self.warnings.append(CellError(self.line, column, self.text(column), reason))

    def required(self, column):
        value = self.text(column)
        if not value:
            self.fail(column, _("is empty"))
        return value

    def code(self, column, mapping, default=None, *, unknown=None):
        """The mapped code; a code the codebook lacks is an error, or, given `unknown`, a warning and that value."""
        value = self.text(column)
        if not value and default is not None:
            return default
        # "1.0" is how spreadsheet round-trips write 1
        key = (value[:-2] if value.endswith(".0") else value).casefold()
        if key not in mapping:
            codes = ", ".join(sorted({*mapping} - {""}))
            if unknown is None:
                self.fail(column, _("must be one of %(codes)s") % {"codes": codes})
                return default
            self.warn(
                column,
                _("is not a code of the codebook (%(codes)s): read as “%(fallback)s”")
                % {"codes": codes, "fallback": getattr(unknown, "label", unknown)},
            )
            return unknown
        return mapping[key]

    def coordinate(self, column, limit):
        value = self.text(column)
        try:
            number = float(value)
        except ValueError:
            self.fail(column, _("is not a number") if value else _("is empty"))
            return None
        if not -limit <= number <= limit or number != number:
            self.fail(column, _("must be between -%(limit)s and %(limit)s") % {"limit": limit})
            return None
        return number

    def count(self, column, *, required=False):
        value = self.text(column)
        if not value:
            if required:
                self.fail(column, _("is empty"))
            return None
        try:
            number = int(float(value)) if re.fullmatch(r"\d+(\.0+)?", value) else int(value)
        except ValueError:
            number = -1
        if number < 0:
            self.fail(column, _("must be a whole number, 0 or more"))
            return None
        return number

    def date(self, column, formats, *, required=True):
        value = self.text(column)
        if not value:
            if required:
                self.fail(column, _("is empty"))
            return None
        parsed = _parse_date(value, formats)
        if parsed is None:
            self.fail(column, _("is not a date (e.g. 2020-05-09)"))
        return parsed


@lru_cache(maxsize=65536)
def _parse_date(value, formats):
    """Cached: a file spells the same few thousand days over and over, and strptime is slow."""
    for date_format in formats:
        try:
            return datetime.strptime(value, date_format).date()
        except ValueError:
            continue
    return None


# As ACLED has written dates over the years: "9-May-20", "09 May 2020", "9 May 2020", "2020-05-09", "09/05/2020".
ACLED_DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%d-%b-%y", "%d-%B-%y", "%d-%b-%Y", "%d/%m/%Y")
UCDP_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S")


@lru_cache(maxsize=1024)
def _country_code(iso3, name, iso_number=""):
    """ISO 3166 alpha-2 from ACLED's iso3 (or numeric iso) or the country name; cached, as a file has few."""
    for code in (iso3, int(iso_number) if iso_number.isdigit() else None):
        if code and countries.alpha2(code):
            return countries.alpha2(code)
    # UCDP writes "Yemen (North Yemen)"; the part before the bracket is the common name.
    name = re.sub(r"\s*\(.*\)$", "", name or "")
    return countries.by_name(name) or "" if name else ""


@lru_cache(maxsize=4096)
def admin1_from_file(name):
    """One spelling of admin1 with the gazetteer and the map's region filter; UCDP's 'Halab province' tail dropped."""
    return admin1_clean(re.sub(r"\s+(?:district|region|state)$", "", name or "", flags=re.IGNORECASE))


def _names(text):
    """ACLED packs several associated actors (and sources) into one cell, separated by semicolons."""
    return [part.strip() for part in (text or "").split(";") if part.strip()]


def _record(row):
    """Every column of the row as read, empty cells included: the original record kept with the incident."""
    return {column: value for column, value in row.items() if column}


def map_acled(row, line):
    cells = _Cells(row, line)
    event_id = cells.required("event_id_cnty")
    start = cells.date("event_date", ACLED_DATE_FORMATS)
    date_precision = cells.code(
        "time_precision", ACLED_TIME_PRECISION, default=DatePrecision.DAY, unknown=DatePrecision.MONTH
    )
    latitude = cells.coordinate("latitude", 90)
    longitude = cells.coordinate("longitude", 180)
    location_precision = cells.code(
        "geo_precision", ACLED_GEO_PRECISION, default=LocationPrecision.EXACT, unknown=LocationPrecision.REGION
    )
    event_type = cells.required("event_type")
    fatalities = cells.count("fatalities")
    actor1 = cells.required("actor1")
    # associated actors carry no inter code of their own
    kinds = {
        name: ActorKind.OTHER for name in _names(cells.text("assoc_actor_1")) + _names(cells.text("assoc_actor_2"))
    }
    for actor_column, inter_column in (("actor1", "inter1"), ("actor2", "inter2")):
        name = cells.text(actor_column)
        if name:
            kinds[name] = cells.code(inter_column, ACLED_INTER_KIND, default=ActorKind.OTHER, unknown=ActorKind.OTHER)
    if cells.errors:
        raise RowErrors(cells.errors, cells.warnings)
    location, admin1 = cells.text("location"), admin1_from_file(cells.text("admin1"))
    sub_event_type = cells.text("sub_event_type")
    where = ", ".join(part for part in (location, admin1) if part)
    return MappedRow(
        event_id=event_id,
        start_date=start,
        end_date=start,
        date_precision=date_precision,
        longitude=longitude,
        latitude=latitude,
        place_reported=location,
        place_name=location,
        admin1=admin1,
        admin2=cells.text("admin2"),
        country=_country_code(cells.text("iso3"), cells.text("country"), cells.text("iso")),
        location_precision=location_precision,
        event_type_slug="",
        sub_event_type_name=sub_event_type,
        sub_event_type_slug="",
        title=f"{sub_event_type or event_type}: {where}"[:300] if where else (sub_event_type or event_type)[:300],
        description=cells.text("notes"),
        fatalities_low=fatalities,
        fatalities_best=fatalities,
        fatalities_high=None,
        side_a=[actor1],
        side_a_associated=_names(cells.text("assoc_actor_1")),
        side_b=[cells.text("actor2")] if cells.text("actor2") else [],
        side_b_associated=_names(cells.text("assoc_actor_2")),
        actor_kinds=kinds,
        sources=_names(cells.text("source")),
        record=_record(row),
        event_type_name=event_type,
        warnings=cells.warnings,
    )


def _ucdp_civilians(side, cells):
    """UCDP's "Civilians" are the event country's, as ACLED writes them: "Civilians (Iraq)"."""
    country = re.sub(r"\s*\(.*\)$", "", cells.text("country"))
    return f"Civilians ({country})" if side.casefold() == "civilians" and country else side


def _ucdp_actor_kind(name, type_of_violence):
    if name.lower().startswith("government of"):
        return ActorKind.STATE_FORCES
    if name.lower() == "civilians" or name.lower().startswith("civilians ("):
        return ActorKind.CIVILIANS
    # state-based (1) and non-state (2) conflicts are fought by organised armed groups
    return ActorKind.REBEL_GROUP if type_of_violence in ("1", "2") else ActorKind.OTHER


def map_ucdp(row, line):
    cells = _Cells(row, line)
    event_id = cells.required("id")
    start = cells.date("date_start", UCDP_DATE_FORMATS)
    end = cells.date("date_end", UCDP_DATE_FORMATS, required=False) or start
    date_precision = cells.code(
        "date_prec", UCDP_DATE_PRECISION, default=DatePrecision.DAY, unknown=DatePrecision.MONTH
    )
    violence = cells.text("type_of_violence")
    violence = violence[:-2] if violence.endswith(".0") else violence
    types = cells.code("type_of_violence", UCDP_VIOLENCE_TYPE)
    latitude = cells.coordinate("latitude", 90)
    longitude = cells.coordinate("longitude", 180)
    location_precision = cells.code(
        "where_prec", UCDP_WHERE_PRECISION, default=LocationPrecision.EXACT, unknown=LocationPrecision.REGION
    )
    side_a, side_b = cells.required("side_a"), cells.required("side_b")
    # An unknown code is read as the lower grade, with a warning: clarity is never claimed that the file does not give.
    clarity = (
        cells.code("event_clarity", UCDP_EVENT_CLARITY, unknown=EventClarity.LOWER)
        if cells.text("event_clarity")
        else None
    )
    low, best, high = cells.count("low"), cells.count("best", required=True), cells.count("high")
    if start and end and end < start:
        cells.warn("date_end", _("is before date_start: the incident is dated to date_start"))
        end = start
    # UCDP ships such rows (best 22, low 22, high 21): the figures are kept as published, and marked.
    if low is not None and best is not None and low > best:
        cells.warn("low", _("is more than best (%(best)s): kept as published") % {"best": best})
    if best is not None and high is not None and best > high:
        cells.warn("high", _("is less than best (%(best)s): kept as published") % {"best": best})
    if cells.errors:
        raise RowErrors(cells.errors, cells.warnings)
    side_a, side_b = _ucdp_civilians(side_a, cells), _ucdp_civilians(side_b, cells)
    place = cells.text("where_coordinates")
    admin1 = admin1_from_file(cells.text("adm_1"))
    where = place or admin1
    return MappedRow(
        event_id=event_id,
        start_date=start,
        end_date=end,
        date_precision=date_precision,
        longitude=longitude,
        latitude=latitude,
        place_reported=cells.text("where_description") or place,
        place_name=place,
        admin1=admin1,
        admin2=admin1_from_file(cells.text("adm_2")),
        country=_country_code("", cells.text("country")),
        location_precision=location_precision,
        event_type_slug=types[0],
        sub_event_type_name="",
        sub_event_type_slug=types[1],
        title=f"{side_a} – {side_b}" + (f", {where}" if where else ""),
        description=cells.text("source_headline") or "",
        fatalities_low=low,
        fatalities_best=best,
        fatalities_high=high,
        side_a=[side_a],
        side_b=[side_b],
        actor_kinds={side_a: _ucdp_actor_kind(side_a, violence), side_b: _ucdp_actor_kind(side_b, violence)},
        sources=_names(cells.text("source_article")),
        record=_record(row),
        warnings=cells.warnings,
        fatalities_as_published=any(warning.column in ("low", "high") for warning in cells.warnings),
        event_clarity=int(clarity) if clarity is not None else None,
    )


ROW_MAPPERS = {Dataset.ACLED: map_acled, Dataset.UCDP_GED: map_ucdp}
