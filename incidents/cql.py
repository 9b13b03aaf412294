"""OGC API – Features Part 3 over the incidents: the queryables, CQL2 filters and sortby, declared once here.

`cql2` (cql2-rs, a parser that follows the standard's grammar) reads either encoding, text or JSON, into the
standard's JSON form; this module walks that form into one condition on the incidents made of Django lookups, so
every value reaches PostgreSQL as a bound parameter and never as SQL text. The caller applies the condition to the
published incidents (selectors), so a filter can narrow what the public sees but never widen it.

Lookups are used as expressions (Exact(F(…), value)) rather than keyword filters: Django adds `OR x IS NULL` to a
negated keyword filter, while CQL2 follows SQL, where NOT (fatalities_best > 10) leaves out incidents with no figure.
"""

import datetime
import json
import re
from dataclasses import dataclass, field

import cql2
from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.db.models import lookups as gis_lookups
from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, Polygon
from django.db.models import F, Lookup, Q, Value
from django.db.models import lookups as sql_lookups
from django.db.models.functions import Lower, TruncDate

from .models import DatePrecision, EventClarity, EventType, LocationPrecision, SubEventType, public_place
from .public import independent_sources

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
FILTER_LANGUAGES = ("cql2-text", "cql2-json")
# GDAL before 3.7 detects filtering by the draft's name for CQL2 text in the API definition, and sends it.
DRAFT_FILTER_LANGUAGES = {"cql-text": "cql2-text"}
# The largest integer a filter may compare with: PostgreSQL's bigint, so no comparison overflows.
LARGEST_INTEGER = 2**63 - 1


class FilterError(ValueError):
    """The filter cannot be run as given: the message says why, for a 400 naming the parameter."""


@dataclass(frozen=True)
class Queryable:
    """A property of the public feature that a filter may test (and, if `sortable`, sortby may order by)."""

    name: str
    title: str
    kind: str  # string, integer, date, date-time, geometry
    field: str  # the incident's field (ORM path) holding it
    sortable: bool = True
    nullable: bool = False
    role: str = ""  # x-ogc-role
    choices: object = None  # a callable returning the allowed values, when they form a vocabulary
    extra: dict = field(default_factory=dict)  # more JSON Schema keywords
    vocabulary: object = None  # the model whose slugs `field` reads through the incident's key

    def key(self, slugs):
        """The incident's own column (the vocabulary's key) and the keys of `slugs`, so = and IN need no join."""
        keys = dict(self.vocabulary.objects.filter(slug__in=slugs).values_list("slug", "pk"))
        return F(self.field.removesuffix("__slug")), [keys[slug] for slug in slugs]

    def allowed(self):
        return list(self.choices()) if self.choices else None

    def schema(self):
        """This property's JSON Schema in the queryables document."""
        if self.kind == "geometry":
            schema = {"title": self.title, "format": "geometry-point"}
        elif self.kind in ("date", "date-time"):
            schema = {"title": self.title, "type": "string", "format": self.kind}
        else:
            schema = {"title": self.title, "type": self.kind}
        if self.nullable:
            schema["type"] = [schema["type"], "null"]
        if self.choices:
            schema["enum"] = self.allowed()
        if self.role:
            schema["x-ogc-role"] = self.role
        return schema | self.extra


def _slugs(model):
    return lambda: model.objects.order_by("slug").values_list("slug", flat=True)


QUERYABLES = {
    queryable.name: queryable
    for queryable in [
        Queryable("id", "Incident id", "integer", "pk", role="id"),
        Queryable("geometry", "Public location (WGS 84 point)", "geometry", "public_location", sortable=False,
                  role="primary-geometry"),
        Queryable("title", "Title", "string", "title"),
        Queryable("description", "Description", "string", "description", sortable=False),
        Queryable("start_date", "First day", "date", "start_date", role="primary-interval-start"),
        Queryable("end_date", "Last day", "date", "end_date", role="primary-interval-end"),
        Queryable("date_precision", "Date precision (1 day, 2 week, 3 month)", "integer", "date_precision",
                  choices=lambda: DatePrecision.values),
        Queryable("place_reported", "Place as reported", "string", "public_place_reported", sortable=False),
        Queryable("place_name", "Coded place", "string", "public_place_name"),
        Queryable("admin1", "Region (admin1)", "string", "admin1"),
        Queryable("admin2", "District (admin2)", "string", "admin2"),
        Queryable("country", "Country (ISO 3166-1 alpha-2)", "string", "country",
                  extra={"pattern": "^[A-Z]{2}$"}),
        Queryable("location_precision", "Public location precision (1 exact, 2 near, 3 region or generalised)",
                  "integer", "public_location_precision", choices=lambda: LocationPrecision.values),
        Queryable("event_type", "Event type", "string", "event_type__slug", choices=_slugs(EventType),
                  vocabulary=EventType),
        Queryable("sub_event_type", "Sub-event type", "string", "sub_event_type__slug", nullable=True,
                  choices=_slugs(SubEventType), vocabulary=SubEventType),
        Queryable("fatalities_low", "Fatalities (low)", "integer", "fatalities_low", nullable=True,
                  extra={"minimum": 0}),
        Queryable("fatalities_best", "Fatalities (best estimate)", "integer", "fatalities_best", nullable=True,
                  extra={"minimum": 0}),
        Queryable("fatalities_high", "Fatalities (high)", "integer", "fatalities_high", nullable=True,
                  extra={"minimum": 0}),
        Queryable("notable_casualties", "Notable casualties", "string", "notable_casualties", sortable=False),
        Queryable("event_clarity", "Clarity (1 clear, 2 lower clarity)", "integer", "event_clarity", nullable=True,
                  choices=lambda: EventClarity.values),
        Queryable("independent_sources", "Independent sources", "integer", "independent_sources",
                  extra={"minimum": 0}),
        Queryable("updated_at", "Last changed", "date-time", "updated_at"),
    ]
}  # fmt: skip
# Queryables that are no column of the incident, but an expression over its rows (computed only when a filter or
# sortby names them): selectors.incident_meeting adds them to the queryset as aliases.
# A generalised incident's place names are withheld in every output, so a filter on them must not find it either.
QUERYABLE_ALIASES = {
    "independent_sources": independent_sources,
    "public_place_reported": lambda: public_place("place_reported"),
    "public_place_name": lambda: public_place("place_name"),
}


def with_queryable_aliases(queryset):
    return queryset.alias(**{name: expression() for name, expression in QUERYABLE_ALIASES.items()})


def queryables_schema(*, schema_id, title):
    """The collection's queryables: a JSON Schema (2020-12) of every property a filter may test."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        "type": "object",
        "title": title,
        "description": "The properties a CQL2 filter may test; x-sortable marks those that sortby can order by.",
        "properties": {
            name: queryable.schema() | ({"x-sortable": True} if queryable.sortable else {})
            for name, queryable in QUERYABLES.items()
        },
        "additionalProperties": False,
    }


# --- sortby ---


def parse_sortby(values):
    """OGC `sortby` (`+prop`, `-prop`, comma lists; repeated parameters add keys) → Django ordering, id last so that
    incidents with equal keys keep one order from page to page."""
    ordering, seen = [], set()
    for value in values:
        for key in value.split(","):
            key = key.strip()
            if not key:
                continue
            descending = key.startswith("-")
            name = key[1:].strip() if key[0] in "+-" else key
            queryable = QUERYABLES.get(name)
            if queryable is None or not queryable.sortable:
                sortable = ", ".join(name for name, q in QUERYABLES.items() if q.sortable)
                raise FilterError(f"cannot sort by “{name}”; the sortable properties are {sortable}.")
            if name in seen:
                raise FilterError(f"“{name}” is given twice.")
            seen.add(name)
            expression = F(queryable.field)
            # Incidents without a figure go last either way, so -fatalities_best starts with the deadliest.
            ordering.append(expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True))
    if not ordering:
        raise FilterError("give at least one property, such as -start_date.")
    if "id" not in seen:
        ordering.append(F("pk").asc())
    return ordering


# --- filter ---


# What a filter may hold. The CQL2 text parser recurses into each parenthesis, NOT and minus sign, and past a few
# hundred levels it overflows its native stack and takes the server process with it: deeper text is refused first.
MAX_FILTER_LENGTH = 20_000
MAX_NESTING = 64
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"")
_NOT = re.compile(r"\bnot\b", re.IGNORECASE)
_MINUS_RUN = re.compile(r"-\s*-")


def _nesting_refused(text):
    """Why the text nests too deep for the parser, or None."""
    bare = _QUOTED.sub("''", text)
    depth = deepest = 0
    for character in bare:
        if character == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif character == ")":
            depth -= 1
    if deepest > MAX_NESTING:
        return f"parentheses nest {deepest} deep; at most {MAX_NESTING}."
    if len(_NOT.findall(bare)) > MAX_NESTING:
        return f"it holds more than {MAX_NESTING} NOTs."
    if _MINUS_RUN.search(bare):
        return "two minus signs in a row."
    return None


def parse_filter(text, *, language):
    """A filter's text in `language` (cql2-text or cql2-json) → the standard's JSON form; FilterError if it is not
    CQL2.

    What the parser accepts is then checked node by node by incident_condition; the standard's JSON Schema is not
    run, as its validator takes seconds and hundreds of megabytes on a chain of a hundred additions.
    """
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterError(f"is longer than {MAX_FILTER_LENGTH:,} characters.")
    if language == "cql2-text" and (reason := _nesting_refused(text)):
        raise FilterError(f"nests too deep: {reason}")
    try:
        expression = cql2.parse_json(text) if language == "cql2-json" else cql2.parse_text(text)
        return expression.to_json()
    except Exception as error:  # cql2 raises plain Exceptions too (on POINT EMPTY): all mean bad text
        reason = " ".join(str(error).split())
        raise FilterError(f"is not valid {language}: {reason[:300]}") from None


def incident_condition(tree):
    """The CQL2 JSON `tree` (geometries in CRS84) as a condition on Incident (a Q); FilterError for what the
    incidents cannot answer."""
    return _Translator().condition(tree)


def _property_name(node):
    return node.get("property") if isinstance(node, dict) and set(node) == {"property"} else None


@dataclass
class _Operand:
    """A scalar side of a comparison: an expression on the incidents (a property) or a Python value (a literal)."""

    kind: str  # string, integer, number, boolean, date, date-time
    expression: object = None
    value: object = None
    queryable: Queryable | None = None

    @property
    def is_literal(self):
        return self.expression is None


ARITHMETIC = {"+", "-", "*", "/", "%", "^", "div"}


# A day interval's open end ('..' in an interval literal): before or after every day.
class _Unbounded:
    def __init__(self, sign):
        self.sign = sign


BEFORE_ALL, AFTER_ALL = _Unbounded(-1), _Unbounded(1)

_COMPARISONS = {
    "=": sql_lookups.Exact,
    "<": sql_lookups.LessThan,
    "<=": sql_lookups.LessThanOrEqual,
    ">": sql_lookups.GreaterThan,
    ">=": sql_lookups.GreaterThanOrEqual,
}
_PYTHON_COMPARISONS = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_SPATIAL = {
    "s_intersects": gis_lookups.IntersectsLookup,
    "s_disjoint": gis_lookups.DisjointLookup,
    "s_contains": gis_lookups.ContainsLookup,
    "s_within": gis_lookups.WithinLookup,
    "s_touches": gis_lookups.TouchesLookup,
    "s_crosses": gis_lookups.CrossesLookup,
    "s_overlaps": gis_lookups.OverlapsLookup,
    "s_equals": gis_lookups.EqualsLookup,
}
# With the literal first, S_WITHIN(literal, geometry) asks what S_CONTAINS(geometry, literal) asks.
_SPATIAL_CONVERSE = {"s_within": "s_contains", "s_contains": "s_within"}

# CQL2's temporal relations between day intervals a = [s1, e1] and b = [s2, e2], each a list of conditions all of
# which hold: (left endpoint, operator, right endpoint). T_DISJOINT is the negation of T_INTERSECTS.
_TEMPORAL = {
    "t_after": [("s1", ">", "e2")],
    "t_before": [("e1", "<", "s2")],
    "t_contains": [("s1", "<", "s2"), ("e1", ">", "e2")],
    "t_during": [("s1", ">", "s2"), ("e1", "<", "e2")],
    "t_equals": [("s1", "=", "s2"), ("e1", "=", "e2")],
    "t_finishedby": [("s1", "<", "s2"), ("e1", "=", "e2")],
    "t_finishes": [("s1", ">", "s2"), ("e1", "=", "e2")],
    "t_intersects": [("s1", "<=", "e2"), ("e1", ">=", "s2")],
    "t_meets": [("e1", "=", "s2")],
    "t_metby": [("s1", "=", "e2")],
    "t_overlappedby": [("s1", ">", "s2"), ("s1", "<", "e2"), ("e1", ">", "e2")],
    "t_overlaps": [("s1", "<", "s2"), ("e1", ">", "s2"), ("e1", "<", "e2")],
    "t_startedby": [("s1", "=", "s2"), ("e1", ">", "e2")],
    "t_starts": [("s1", "=", "s2"), ("e1", "<", "e2")],
}


class Like(Lookup):
    """SQL's LIKE, which is CQL2's (% any text, _ one character, backslash escapes), case-sensitive as CQL2's is."""

    lookup_name = "cql2_like"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} LIKE {rhs}", (*lhs_params, *rhs_params)


def _everything():
    return Q()


def _nothing():
    return Q(pk__in=[])


def _all_of(conditions):
    """AND of conditions that are Q objects or already-known booleans."""
    if any(condition is False for condition in conditions):
        return False
    combined = [condition for condition in conditions if condition is not True]
    if not combined:
        return True
    result = combined[0]
    for condition in combined[1:]:
        result &= condition
    return result


def _any_of(conditions):
    if any(condition is True for condition in conditions):
        return True
    combined = [condition for condition in conditions if condition is not False]
    if not combined:
        return False
    result = combined[0]
    for condition in combined[1:]:
        result |= condition
    return result


def _negated(condition):
    return (not condition) if isinstance(condition, bool) else ~condition


class _Translator:
    def condition(self, tree):
        result = self.boolean(tree)
        if result is True:
            return _everything()
        if result is False:
            return _nothing()
        return result

    # Boolean expressions: a Q, or True / False when known without the incidents.
    def boolean(self, node):
        if isinstance(node, bool):
            return node
        if not isinstance(node, dict) or "op" not in node:
            raise FilterError(f"{_shown(node)} is not a condition.")
        op, args = node["op"], node.get("args") or []
        if not isinstance(args, list):
            raise FilterError(f"the arguments of “{op}” must be a list.")
        if op in ("and", "or"):
            parts = [self.boolean(arg) for arg in args]
            return _all_of(parts) if op == "and" else _any_of(parts)
        if op == "not":
            self._arity(op, args, 1)
            return _negated(self.boolean(args[0]))
        if op in _PYTHON_COMPARISONS:
            self._arity(op, args, 2)
            return self.comparison(op, self.scalar(args[0]), self.scalar(args[1]))
        if op == "like":
            self._arity(op, args, 2)
            return self.like(self.scalar(args[0]), self.scalar(args[1]))
        if op == "between":
            self._arity(op, args, 3)
            subject = self.scalar(args[0])
            return _all_of(
                [
                    self.comparison(">=", subject, self.scalar(args[1])),
                    self.comparison("<=", subject, self.scalar(args[2])),
                ]
            )
        if op == "in":
            self._arity(op, args, 2)
            if not isinstance(args[1], list) or not args[1]:
                raise FilterError("IN needs a list of one or more values.")
            subject, values = self.scalar(args[0]), [self.scalar(value) for value in args[1]]
            if subject.is_literal or not all(value.is_literal for value in values):
                return _any_of([self.comparison("=", subject, value) for value in values])
            coerced = [self.coerced(value, subject.kind, queryable=subject.queryable) for value in values]
            if subject.queryable and subject.queryable.vocabulary:
                return Q(sql_lookups.In(*subject.queryable.key(coerced)))
            return Q(sql_lookups.In(subject.expression, coerced))
        if op == "isNull":
            self._arity(op, args, 1)
            subject = self.scalar(args[0])
            if subject.is_literal:
                return subject.value is None
            if subject.queryable is None:
                return Q(sql_lookups.IsNull(subject.expression, True))
            # A vocabulary term is missing when the incident's own key is: no join to the vocabulary needed.
            return Q(sql_lookups.IsNull(F(subject.queryable.field.removesuffix("__slug")), True))
        if op in _SPATIAL:
            self._arity(op, args, 2)
            return self.spatial(op, args[0], args[1])
        if op in _TEMPORAL or op == "t_disjoint":
            self._arity(op, args, 2)
            return self.temporal(op, self.interval(args[0]), self.interval(args[1]))
        if op in ARITHMETIC:
            raise FilterError("arithmetic is not supported.")
        if op in ("a_equals", "a_contains", "a_containedby", "a_overlaps"):
            raise FilterError("array functions are not supported: no queryable is an array.")
        raise FilterError(f"“{op}” is not supported.")

    @staticmethod
    def _arity(op, args, count):
        if len(args) != count:
            raise FilterError(f"“{op}” takes {count} argument{'s' if count > 1 else ''}.")

    def queryable(self, name):
        queryable = QUERYABLES.get(name)
        if queryable is None:
            raise FilterError(f"“{name}” is not a queryable property (see the collection's queryables).")
        return queryable

    # Scalars: properties, literals and CASEI() of either.
    def scalar(self, node):
        name = _property_name(node)
        if name is not None:
            queryable = self.queryable(name)
            if queryable.kind == "geometry":
                raise FilterError("geometry can only be tested with the spatial functions (S_INTERSECTS, …).")
            return _Operand(queryable.kind, expression=F(queryable.field), queryable=queryable)
        if isinstance(node, dict) and node.get("op") == "casei":
            self._arity("casei", node.get("args") or [], 1)
            inner = self.scalar(node["args"][0])
            if inner.kind != "string":
                raise FilterError("CASEI() takes text.")
            if inner.is_literal:
                return _Operand("string", value=inner.value.lower())
            # No queryable: a lower-cased vocabulary term is compared as text, not checked against the vocabulary.
            return _Operand("string", expression=Lower(inner.expression))
        if isinstance(node, dict) and node.get("op") in ARITHMETIC:
            raise FilterError("arithmetic is not supported.")
        if isinstance(node, dict) and node.get("op") == "accenti":
            raise FilterError("ACCENTI() is not supported.")
        if isinstance(node, bool):
            return _Operand("boolean", value=node)
        if isinstance(node, int | float):
            return _Operand("number", value=node)
        if isinstance(node, str):
            if "\x00" in node:
                raise FilterError("text cannot hold the NUL character.")
            return _Operand("string", value=node)
        if isinstance(node, dict) and set(node) == {"date"}:
            return _Operand("date", value=_day(node["date"]))
        if isinstance(node, dict) and set(node) == {"timestamp"}:
            return _Operand("date-time", value=_moment(node["timestamp"]))
        if node is None:
            raise FilterError("compare with NULL by IS NULL or IS NOT NULL.")
        raise FilterError(f"{_shown(node)} cannot be compared.")

    def comparison(self, op, left, right):
        if left.is_literal and right.is_literal:
            left_value, right_value = self.coerced(left, right.kind), self.coerced(right, left.kind)
            try:
                return _PYTHON_COMPARISONS[op](left_value, right_value)
            except TypeError:
                raise FilterError(f"{_shown(left.value)} and {_shown(right.value)} cannot be compared.") from None
        if left.is_literal:  # property on the left, so the lookup is column OP value
            left, right = right, left
            op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
        lhs = left.expression
        if right.is_literal:
            value = self.coerced(right, left.kind, queryable=left.queryable, op=op)
            if op in ("=", "<>") and left.queryable and left.queryable.vocabulary:
                lhs, (value,) = left.queryable.key([value])
            rhs = Value(value)
        else:
            if not _comparable(left.kind, right.kind):
                raise FilterError(f"a property of type {left.kind} and one of type {right.kind} cannot be compared.")
            rhs = right.expression
        if op == "<>":
            return ~Q(sql_lookups.Exact(lhs, rhs))
        return Q(_COMPARISONS[op](lhs, rhs))

    def coerced(self, literal, kind, *, queryable=None, op="="):
        """A literal's value as the type of what it is compared with; FilterError when it cannot be."""
        value, named = literal.value, f"“{queryable.name}”" if queryable else "the other side"
        if kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
                raise FilterError(f"{named} is a whole number; {_shown(value)} is not one.")
            value = int(value)
            if abs(value) > LARGEST_INTEGER:
                raise FilterError(f"{_shown(value)} is out of range.")
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise FilterError(f"{named} is a number; {_shown(value)} is not one.")
        elif kind == "string":
            if not isinstance(value, str):
                raise FilterError(f"{named} is text; {_shown(value)} is not (quote it: '…').")
        elif kind == "boolean":
            if not isinstance(value, bool):
                raise FilterError(f"{_shown(value)} is not TRUE or FALSE.")
        elif kind == "date":
            value = _as_day(value, named)
        elif kind == "date-time":
            value = _as_moment(value, named)
        if queryable is not None and queryable.choices and op in ("=", "<>"):
            allowed = queryable.allowed()
            if value not in allowed:
                listed = ", ".join(_shown(choice) for choice in allowed) if len(allowed) <= 10 else ""
                raise FilterError(
                    f"{_shown(value)} is not a value of “{queryable.name}”"
                    + (f"; it is one of {listed}." if listed else " (its values are in the queryables).")
                )
        return value

    def like(self, subject, pattern):
        if subject.kind != "string" or pattern.kind != "string" or not pattern.is_literal:
            raise FilterError("LIKE compares a text property with a quoted pattern, such as title LIKE 'Aleppo%'.")
        if subject.is_literal:
            raise FilterError("LIKE needs a property on its left.")
        return Q(Like(subject.expression, Value(pattern.value)))

    # Spatial functions.
    def spatial(self, op, first, second):
        first_name, second_name = _property_name(first), _property_name(second)
        if first_name is None and second_name is not None:
            op, first, second, first_name = _SPATIAL_CONVERSE.get(op, op), second, first, second_name
        if first_name is None:
            raise FilterError(f"{op.upper()} needs the geometry property and a geometry literal.")
        if self.queryable(first_name).kind != "geometry":
            raise FilterError(f"“{first_name}” is not a geometry; the geometry property is “geometry”.")
        geometry = self.geometry(second)
        if not isinstance(geometry, F):
            geometry = Value(geometry, output_field=GeometryField(srid=4326))
        return Q(_SPATIAL[op](F("public_location"), geometry))

    def geometry(self, node):
        name = _property_name(node)
        if name is not None:
            if self.queryable(name).kind != "geometry":
                raise FilterError(f"“{name}” is not a geometry; the geometry property is “geometry”.")
            return F("public_location")
        if not isinstance(node, dict):
            raise FilterError(f"{_shown(node)} is not a geometry.")
        if set(node) == {"bbox"}:
            box = node["bbox"]
            if not isinstance(box, list) or len(box) not in (4, 6) or not all(_is_number(n) for n in box):
                raise FilterError("BBOX takes four numbers: west, south, east, north.")
            west, south, east, north = (box[0], box[1], box[2], box[3]) if len(box) == 4 else (*box[:2], *box[3:5])
            if west > east or south > north:
                raise FilterError("a BBOX's west is above its east or its south above its north.")
            geometry = Polygon.from_bbox((west, south, east, north))
        elif "type" in node:
            try:
                geometry = GEOSGeometry(json.dumps(node))
            except (GEOSException, GDALException, ValueError, TypeError):
                raise FilterError(f"{_shown(node)} is not a valid geometry.") from None
            if geometry.empty:
                raise FilterError(f"the {geometry.geom_type} is empty.")
            if not geometry.valid:
                raise FilterError(f"the {geometry.geom_type} is not valid: {geometry.valid_reason}.")
        else:
            raise FilterError(f"{_shown(node)} is not a geometry.")
        geometry.srid = 4326
        west, south, east, north = geometry.extent
        if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
            raise FilterError("coordinates are longitude then latitude (CRS84), within ±180 and ±90.")
        return geometry

    # Temporal functions: each side a day interval (first day, last day) of expressions, dates or open ends.
    def interval(self, node):
        name = _property_name(node)
        if name is not None:
            queryable = self.queryable(name)
            if queryable.kind == "date":
                return F(queryable.field), F(queryable.field)
            if queryable.kind == "date-time":
                day = TruncDate(queryable.field, tzinfo=datetime.UTC)
                return day, day
            raise FilterError(f"“{name}” is not a date; the temporal functions take dates, timestamps, intervals.")
        if isinstance(node, dict) and set(node) == {"date"}:
            day = _day(node["date"])
            return day, day
        if isinstance(node, dict) and set(node) == {"timestamp"}:
            day = _moment(node["timestamp"]).date()
            return day, day
        if isinstance(node, dict) and set(node) == {"interval"}:
            ends = node["interval"]
            if not isinstance(ends, list) or len(ends) != 2:
                raise FilterError("an INTERVAL has a start and an end.")
            start, end = self.interval_end(ends[0], BEFORE_ALL), self.interval_end(ends[1], AFTER_ALL)
            if isinstance(start, datetime.date) and isinstance(end, datetime.date) and end < start:
                raise FilterError("an INTERVAL ends before it starts.")
            return start, end
        raise FilterError(f"{_shown(node)} is not a date, a timestamp or an interval.")

    def interval_end(self, value, open_end):
        if value == "..":
            return open_end
        if isinstance(value, str):
            return _as_day(value, "an INTERVAL's end")
        name = _property_name(value)
        if name is not None:
            start, _end = self.interval(value)
            return start
        raise FilterError(f"{_shown(value)} is not a date, a timestamp, '..' or a date property.")

    def temporal(self, op, first, second):
        if op == "t_disjoint":
            return _negated(self.temporal("t_intersects", first, second))
        ends = {"s1": first[0], "e1": first[1], "s2": second[0], "e2": second[1]}
        return _all_of([_compare_days(ends[left], relation, ends[right]) for left, relation, right in _TEMPORAL[op]])


def _compare_days(left, op, right):
    """One endpoint condition: a Q on the incidents, or a boolean when both sides are known."""
    if isinstance(left, _Unbounded) or isinstance(right, _Unbounded):
        left_rank = left.sign if isinstance(left, _Unbounded) else 0
        right_rank = right.sign if isinstance(right, _Unbounded) else 0
        if left_rank == right_rank:  # the same open end on both sides: they are equal
            return op in ("=", "<=", ">=")
        return _PYTHON_COMPARISONS[op](left_rank, right_rank)
    if isinstance(left, datetime.date) and isinstance(right, datetime.date):
        return _PYTHON_COMPARISONS[op](left, right)
    if isinstance(left, datetime.date):
        left, right = right, left
        op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
    rhs = Value(right) if isinstance(right, datetime.date) else right
    return Q(_COMPARISONS[op](left, rhs))


def _comparable(first, second):
    numbers = {"integer", "number"}
    days = {"date", "date-time"}
    return first == second or {first, second} <= numbers or {first, second} <= days


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shown(value):
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # the text parser reads every number as a float
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 80 else text[:77] + "…"


def _day(text):
    if not isinstance(text, str):
        raise FilterError(f"{_shown(text)} is not a date.")
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise FilterError(f"{_shown(text)} is not a date (YYYY-MM-DD).") from None


def _moment(text):
    if not isinstance(text, str):
        raise FilterError(f"{_shown(text)} is not a timestamp.")
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise FilterError(f"{_shown(text)} is not an RFC 3339 timestamp.") from None
    try:
        return moment.replace(tzinfo=datetime.UTC) if moment.tzinfo is None else moment.astimezone(datetime.UTC)
    except OverflowError:
        raise FilterError(f"{_shown(text)} is outside the years 1 to 9999 in UTC.") from None


def _as_day(value, named):
    """A date literal, a timestamp (its UTC day: incidents are dated by day) or a quoted date → date."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        # GDAL before 3.7 writes a date as '2019-04-20T' (a date-time with no time).
        text = value.removesuffix("T")
        return _moment(text).date() if len(text) > 10 else _day(text)
    raise FilterError(f"{named} is a date; {_shown(value)} is not one.")


def _as_moment(value, named):
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, datetime.date):
        return datetime.datetime.combine(value, datetime.time.min, tzinfo=datetime.UTC)
    if isinstance(value, str):
        text = value.removesuffix("T")
        return _moment(text) if len(text) > 10 else _as_moment(_day(text), named)
    raise FilterError(f"{named} is a date-time; {_shown(value)} is not one.")
