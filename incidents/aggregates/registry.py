"""One declaration per kept table: its key (each column's value for an incident, in SQL and in Python), the rows of
an incident it counts, and which map filter each column answers (the condition the map reads it with).

The triggers' SQL and the initial fill (triggers.py), the map's choice of table and its conditions (map/cells.py)
and the tests' expected counts (tests/map_helpers.py) all come from here. Adding a kept map filter: its filter in
filters.py, its column in models.py, its KeyColumn here (docs/architecture.md, "Adding a kept map filter").
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from ..map.grid import cell_of


@dataclass(frozen=True)
class KeyColumn:
    """A column of a kept table's key: its value for a published incident `i`, in SQL and in Python (which the tests
    count with), and the map filter it answers, if any: the condition over the column (naming the filter as the
    parameter, %(<filter>)s) and how the filter's validated value becomes that parameter."""

    column: str
    sql: str
    python: Callable
    filter: str | None = None
    condition: str | None = None
    value: Callable | None = None


# What a kept map cell is: a fine cell of the grid (map/grid.py), start and end month, and what the map's filters
# ask of an incident. The date filters read the months (map/cells.py counts the edge months' incidents live).
# The cell and the precision are the public location's (aggregates/privacy.py): a sensitive incident is counted where
# the public sees it, so no cluster, count or precision filter tells its exact point apart.
MAP_CELL_KEY = (
    KeyColumn(
        "cell_x",
        "conflictmap_cell_x(ST_X(i.public_location))",
        lambda i: cell_of(i.public_location.x, i.public_location.y)[0],
    ),
    KeyColumn(
        "cell_y",
        "conflictmap_cell_y(ST_Y(i.public_location))",
        lambda i: cell_of(i.public_location.x, i.public_location.y)[1],
    ),
    KeyColumn("start_month", "date_trunc('month', i.start_date)::date", lambda i: i.start_date.replace(day=1)),
    KeyColumn("end_month", "date_trunc('month', i.end_date)::date", lambda i: i.end_date.replace(day=1)),
    KeyColumn(
        "event_type_id",
        "i.event_type_id",
        lambda i: i.event_type_id,
        filter="event_type",
        condition="event_type_id = ANY(%(event_type)s)",
        value=lambda types: [event_type.pk for event_type in types],
    ),
    KeyColumn("country", "i.country", lambda i: i.country, "country", "country = ANY(%(country)s)", list),
    KeyColumn("admin1", "i.admin1", lambda i: i.admin1, "admin1", "admin1 = ANY(%(admin1)s)", list),
    KeyColumn(
        "location_precision",  # the public precision, under the column's old name
        "i.public_location_precision",
        lambda i: i.public_location_precision,
        filter="precision",
        condition="location_precision = ANY(%(precision)s)",
        value=lambda codes: [int(code) for code in codes],
    ),
)
# The date filters every map-cell table answers through its months.
DATE_FILTERS = frozenset({"start", "end"})

# What the map's other filters ask of an incident: its sub-type (0 when it has none) and its best fatality estimate
# (-1 when unknown, which no `fatalities_min` reaches, as the filter leaves unknown estimates out).
DETAIL_KEY = (
    *MAP_CELL_KEY,
    KeyColumn(
        "sub_type",
        "COALESCE(i.sub_event_type_id, 0)",
        lambda i: i.sub_event_type_id or 0,
        filter="sub_event_type",
        condition="sub_type = ANY(%(sub_event_type)s)",
        value=lambda sub_types: [sub_type.pk for sub_type in sub_types],
    ),
    KeyColumn(
        "fatalities_best",
        "COALESCE(i.fatalities_best, -1)",
        lambda i: -1 if i.fatalities_best is None else i.fatalities_best,
        filter="fatalities_min",
        # A threshold of 2.5 deaths keeps 3 and more.
        condition="fatalities_best >= %(fatalities_min)s",
        value=math.ceil,
    ),
)

# The rows of an incident a map-cell table counts.
INCIDENT = "incident"  # the incident itself
ACTOR = "actor"  # each of its actor links (actor_id, side)
ACTOR_PAIR = "actor pair"  # each pair of its actor links (actor_low_id, actor_high_id, side_low, side_high)
TERM = "term"  # each MapTerm that `q` finds it by (term_id)

# The filters a table's rows answer beyond its key's.
_ROW_FILTERS = {INCIDENT: frozenset(), ACTOR: frozenset({"actor", "side"}), ACTOR_PAIR: frozenset(), TERM: {"q"}}


@dataclass(frozen=True)
class CellTable:
    """A kept map-cell table: published, located incidents (or their `rows`) per `key`, with their count,
    fatalities and the sums of their coordinates (a cluster sits at their centroid)."""

    table: str
    rows: str
    key: tuple = field(repr=False)

    @property
    def filters(self):
        """The map filters this table answers exactly."""
        return DATE_FILTERS | _ROW_FILTERS[self.rows] | {column.filter for column in self.key if column.filter}

    @property
    def columns(self):
        return [column.column for column in self.key]


MAP_CELL = CellTable("incidents_mapcell", INCIDENT, MAP_CELL_KEY)
MAP_DETAIL_CELL = CellTable("incidents_mapdetailcell", INCIDENT, DETAIL_KEY)
MAP_ACTOR_CELL = CellTable("incidents_mapactorcell", ACTOR, DETAIL_KEY)
MAP_ACTOR_PAIR_CELL = CellTable("incidents_mapactorpaircell", ACTOR_PAIR, DETAIL_KEY)
MAP_TERM_CELL = CellTable("incidents_maptermcell", TERM, MAP_CELL_KEY)

# Every map-cell table, in the order the map tries them: the first whose filters hold all the given ones answers
# (MapActorPairCell is read with MapActorCell, map/cells.py).
CELL_TABLES = [MAP_CELL, MAP_DETAIL_CELL, MAP_TERM_CELL, MAP_ACTOR_CELL, MAP_ACTOR_PAIR_CELL]
MAP_READ_ORDER = [MAP_CELL, MAP_DETAIL_CELL, MAP_TERM_CELL, MAP_ACTOR_CELL]


def cell_table_for(given):
    """The map-cell table that answers exactly the given filters (a set of names), or None."""
    return next((table for table in MAP_READ_ORDER if given <= table.filters), None)


@dataclass(frozen=True)
class PublicTable:
    """A kept count of published incidents (or of their actor links, `rows`), per `key` of the incident's own columns
    (PUBLIC_KEY_SQL), summing `sums` (incidents: 1 each, fatalities: the best estimate, unknown as 0)."""

    table: str
    key: tuple
    sums: tuple
    rows: str = INCIDENT

    @property
    def columns(self):
        return list(self.key)


TIMELINE_CELL = PublicTable(
    "incidents_timelinecell",
    ("start_date", "end_date", "event_type_id", "country", "admin1"),
    ("incidents", "fatalities"),
)
# TimelineCell summed over regions: what the timeline reads when no country or region is filtered.
TIMELINE_DAY = PublicTable(
    "incidents_timelineday", ("start_date", "end_date", "event_type_id"), ("incidents", "fatalities")
)
PUBLISHED_REGION = PublicTable("incidents_publishedregion", ("country", "admin1"), ("incidents",))
# The region view, the trends and the aggregated export (incidents/regional.py): by month, type, sub-type, region,
# district and precision, with the sums of the three fatality estimates. Regions are the incident's own admin1 and
# admin2, as every kept table's.
REGION_MONTH = PublicTable(
    "incidents_regionmonth",
    ("start_month", "end_month", "event_type_id", "sub_type", "country", "admin1", "admin2", "location_precision"),
    ("incidents", "fatalities_low", "fatalities", "fatalities_high"),
)
# The filters RegionMonth answers beside the dates: those of the map's detail cells whose column it keys too (the same
# names, the same public values).
REGION_MONTH_FILTER_COLUMNS = tuple(
    column for column in DETAIL_KEY if column.filter and column.column in REGION_MONTH.key
)
# RegionMonth by ISO week too (the week of the start date, Monday first): ACLED's aggregated shape and the weekly
# trends. The months stay in the key, so that the date filters read it as they read RegionMonth.
REGION_WEEK = PublicTable("incidents_regionweek", ("start_week", *REGION_MONTH.key), REGION_MONTH.sums)
# The region view and the trends of chosen actors, and the trends by actor: each actor link of a published incident,
# by the actor, its side, months, event type and region. Not by sub-type or precision: at the bench's million
# incidents (2 million links) the key as it is holds 164,000 rows; each more column multiplies them towards the
# links' own number, and summing the table would then cost what counting the links does.
REGION_ACTOR_MONTH = PublicTable(
    "incidents_regionactormonth",
    ("start_month", "end_month", "event_type_id", "country", "admin1", "admin2"),
    REGION_MONTH.sums,
    rows=ACTOR,
)
REGION_ACTOR_FILTER_COLUMNS = (
    KeyColumn("actor_id", "l.actor_id", lambda link: link.actor_id, "actor", "actor_id = ANY(%(actor)s)",
              lambda actors: [actor.pk for actor in actors]),
    KeyColumn("side", "l.side", lambda link: link.side, "side", "side = %(side)s", str),
    *(column for column in REGION_MONTH_FILTER_COLUMNS if column.column in REGION_ACTOR_MONTH.key),
)  # fmt: skip
PUBLIC_TABLES = [TIMELINE_CELL, TIMELINE_DAY, PUBLISHED_REGION, REGION_MONTH, REGION_WEEK, REGION_ACTOR_MONTH]
# A public table's key columns that are not the incident's own column of the name: their value in SQL.
PUBLIC_KEY_SQL = {
    "start_week": "date_trunc('week', i.start_date)::date",
    "start_month": "date_trunc('month', i.start_date)::date",
    "end_month": "date_trunc('month', i.end_date)::date",
    "sub_type": "COALESCE(i.sub_event_type_id, 0)",
    # The public precision, as in the map cells: the precision filter must not tell a sensitive incident apart.
    "location_precision": "i.public_location_precision",
}
# PublishedActor (actors that published incidents show, with in how many) and DataVersion (bumped by every write a
# public answer can see) are written by their own rules in triggers.py; IncidentFeature is public.py's feature.
