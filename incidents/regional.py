"""Reads by region and period: the map's region view, the trends and the aggregated export (ACLED's shape).

Every count here is of the published incidents under the one FilterSet. It comes from a kept table (KEPT_READS:
RegionMonth, RegionWeek, RegionActorMonth, declared in aggregates/registry.py) when one keeps every given filter and
every grouped dimension, and is counted over the incidents otherwise. With a date filter the table's months at the
range's edges hold some incidents outside it (ending in the month of `start` before that day, starting in the month
of `end` after it): those are counted live and subtracted, as the map's cells do (map/cells.py), which for whole
months is none. A region is the incident's own country, admin1 and admin2, as in every kept table.
"""

import json
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models.expressions import RawSQL
from django.utils import translation
from django.utils.translation import gettext

from places.models import District, Region

from .aggregates.registry import (
    ACTOR,
    DATE_FILTERS,
    REGION_ACTOR_FILTER_COLUMNS,
    REGION_ACTOR_MONTH,
    REGION_MONTH,
    REGION_MONTH_FILTER_COLUMNS,
    REGION_WEEK,
    PublicTable,
)
from .map.cells import counted_filters, kept_conditions, named_actors_sql
from .map.live import bind, map_read
from .models import Actor, EventType
from .selectors import incident_filter, params_without

# What a row can be grouped by: its value for an incident `i`, a row of the filtered incidents' columns below (and
# `l`, one of its actor links, for "actor").
DIMENSIONS = {
    "country": "i.country",
    "admin1": "i.admin1",
    "admin2": "i.admin2",
    "event_type": "i.event_type_id",
    "sub_event_type": "COALESCE(i.sub_event_type_id, 0)",
    # ISO weeks, starting on Monday; the incident's start date places it, as in the timeline.
    "week": "date_trunc('week', i.start_date::timestamp)::date",
    "month": "date_trunc('month', i.start_date::timestamp)::date",
    "year": "date_trunc('year', i.start_date::timestamp)::date",
    # An incident counts once for each actor it names (an actor's own trend); none, it is in no actor's.
    "actor": "l.actor_id",
}


@dataclass(frozen=True)
class KeptRead:
    """A kept table the reads here sum: the KeyColumns of its filters (read by map/cells.kept_conditions, the dates
    through its months) and the value of each dimension it can group by, in its columns."""

    table: PublicTable
    filter_columns: tuple
    dimensions: dict

    @property
    def filters(self):
        return DATE_FILTERS | {column.filter for column in self.filter_columns}


_BY_REGION_AND_MONTH = {
    "country": "country",
    "admin1": "admin1",
    "admin2": "admin2",
    "month": "start_month",
    "year": "date_trunc('year', start_month::timestamp)::date",
}
_BY_TYPE = {"event_type": "event_type_id", "sub_event_type": "sub_type"}
# In the order they are tried: the first that answers the filters and the dimensions is read.
KEPT_READS = [
    KeptRead(REGION_MONTH, REGION_MONTH_FILTER_COLUMNS, {**_BY_REGION_AND_MONTH, **_BY_TYPE}),
    KeptRead(REGION_WEEK, REGION_MONTH_FILTER_COLUMNS, {**_BY_REGION_AND_MONTH, **_BY_TYPE, "week": "start_week"}),
    KeptRead(
        REGION_ACTOR_MONTH,
        REGION_ACTOR_FILTER_COLUMNS,
        {**_BY_REGION_AND_MONTH, "event_type": "event_type_id", "actor": "actor_id"},
    ),
]


def kept_read(*, filters, dimensions):
    """The KeptRead that answers these filters grouped by these dimensions exactly, or None (counted live)."""
    given = counted_filters(filters)
    if "actor" in given and "actor" in dimensions:
        # Grouped by actor, the selection's incidents count for every actor they name, not only for the chosen ones.
        return None
    for read in KEPT_READS:
        # A table of actor links counts an incident once per actor: only for one actor, or by actor.
        counts_links = read.table.rows == ACTOR
        if counts_links and not ("actor" in given or "actor" in dimensions):
            continue
        if given <= read.filters and all(name in read.dimensions for name in dimensions):
            return read
    return None


_INCIDENT_COLUMNS = (
    "id",
    "country",
    "admin1",
    "admin2",
    "event_type_id",
    "sub_event_type_id",
    "start_date",
    "fatalities_low",
    "fatalities_best",
    "fatalities_high",
)
# An unknown low or high estimate counts as the best one, 0 when that is unknown too (models.RegionMonth).
_LIVE_SUMS = """{sign} AS incidents, {sign} * COALESCE(i.fatalities_low, i.fatalities_best, 0)::bigint AS fl,
       {sign} * COALESCE(i.fatalities_best, 0)::bigint AS fb,
       {sign} * COALESCE(i.fatalities_high, i.fatalities_best, 0)::bigint AS fh"""
_KEPT_SUMS = "incidents, fatalities_low AS fl, fatalities AS fb, fatalities_high AS fh"
_GROUPED = """SELECT {dimensions}{comma}sum(incidents)::bigint AS incidents, sum(fl)::bigint AS fatalities_low,
       sum(fb)::bigint AS fatalities_best, sum(fh)::bigint AS fatalities_high
  FROM ({parts}) AS parts {group} HAVING sum(incidents) <> 0"""
SUMS = ("incidents", "fatalities_low", "fatalities_best", "fatalities_high")


def _live_part(queryset, dimensions, sign, *, named=False):
    """(SQL, params) of the incidents of `queryset` as signed rows of the dimensions' values; with `named`, joined to
    the query `named` (_NAMED_ACTORS), whose count of chosen actors each incident names, `named.m`, `sign` may read."""
    inner = queryset.order_by().values(*_INCIDENT_COLUMNS).query.sql_with_params()
    values = "".join(f"{DIMENSIONS[name]} AS {name}, " for name in dimensions)
    join = " JOIN incidents_incidentactor l ON l.incident_id = i.id" if "actor" in dimensions else ""
    if named:
        join += " JOIN named ON named.incident_id = i.id"
    sums = _LIVE_SUMS.format(sign=f"({sign})")
    return bind(f"SELECT {values}{sums} FROM ({{inner}}) AS i{join}", inner=inner)


# How many of the chosen actors each incident naming one of them names (map/cells.NAMED_ACTORS_SQL), once for a
# whole read.
_NAMED_ACTORS = "WITH named AS MATERIALIZED ({named}) "
# The incidents naming two or more of them, as an array: PostgreSQL then expects a few and looks each up (a few
# thousand of a million at the bench), where from the grouped links it expected tens of thousands and read every
# incident to find them.
_NAMED_SEVERAL = RawSQL("SELECT unnest(ARRAY(SELECT incident_id FROM named WHERE m > 1))", [])


def region_totals(*, filters, dimensions):
    """[{dimension: value, …, incidents, fatalities_low, fatalities_best, fatalities_high}] of the published
    incidents under the validated FilterSet `filters`, grouped by `dimensions` (names of DIMENSIONS); groups with
    no incident are left out."""
    grouped = _grouped_sql(filters, dimensions)
    if grouped is None:
        return []
    with map_read(filters.qs) as cursor:
        cursor.execute(*grouped)
        names = [*dimensions, *SUMS]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _grouped_sql(filters, dimensions):
    """(SQL, params) of the groups' sums (the dimensions' names, then SUMS), or None when Django proves the
    filters match nothing."""
    dimensions = list(dimensions)
    read = kept_read(filters=filters, dimensions=dimensions)
    if read:
        parts, params = _kept_parts(read, filters, dimensions)
    else:
        try:
            parts, params = _live_part(filters.qs, dimensions, 1)
        except EmptyResultSet:
            return None
    columns = ", ".join(dimensions)
    sql = _GROUPED.format(
        dimensions=columns,
        comma=", " if dimensions else "",
        parts=parts,
        group=f"GROUP BY {columns}" if dimensions else "",
    )
    return sql, params


def _kept_parts(read, filters, dimensions):
    """(SQL, params) of the signed rows that sum to the answer: the kept table's rows, less what it holds too much of,
    counted live. The edge months hold incidents outside the date range (none can be both: it would end before
    `start` and start after `end`). The actor table counts an incident once for each chosen actor it names, m times:
    an incident naming two or more of them is taken back m - 1 times, and one outside the range m times."""
    cleaned = filters.form.cleaned_data
    conditions, values, outside = kept_conditions(read.filter_columns, counted_filters(filters), cleaned)
    kept_values = "".join(f"{read.dimensions[name]} AS {name}, " for name in dimensions)
    where = " AND ".join(["true", *conditions])
    parts = [bind(f"SELECT {kept_values}{_KEPT_SUMS} FROM {read.table.table} WHERE {where}", **values)]
    several = read.table.rows == ACTOR and len(values.get("actor", ())) > 1
    # With several actors the join with `named` picks the incidents naming them: the live parts leave out the actor
    # filter, which would read every incident to find them a second time.
    unnamed = ("actor", "side") if several else ()
    if several:
        others = incident_filter(params=params_without(filters.data, *unnamed)).filter(pk__in=_NAMED_SEVERAL)
        parts.append(_live_or_none(others, dimensions, "1 - named.m", named=True))
    if outside:
        undated = incident_filter(params=params_without(filters.data, "start", "end", *unnamed)).filter(outside)
        parts.append(_live_or_none(undated, dimensions, "-named.m" if several else -1, named=several))
    parts = [part for part in parts if part]
    sql = " UNION ALL ".join(sql for sql, _ in parts)
    params = [param for _, params in parts for param in params]
    if several:
        side = values.get("side")
        prefix = bind(_NAMED_ACTORS.format(named=named_actors_sql(side)), actors=values["actor"], side=side)
        sql, params = prefix[0] + sql, prefix[1] + params
    return sql, params


def _live_or_none(*args, **kwargs):
    """_live_part, or None when Django proves its incidents none (an empty IN list): nothing to take back."""
    try:
        return _live_part(*args, **kwargs)
    except EmptyResultSet:
        return None


# --- The regions themselves: names, centroids and simplified boundaries, cached (they change with the gazetteer).

LEVELS = {"admin1": Region, "admin2": District}
# Degrees: about 1 km for governorates, 500 m for districts, what a map of Syria and Iraq can show.
SIMPLIFY_TOLERANCE = {"admin1": 0.01, "admin2": 0.005}
_CACHE_SECONDS = 24 * 3600


def region_key(country, admin1, admin2=None):
    """The key one region (or district) has in the counts and the boundaries alike."""
    return "/".join(part for part in (str(country), admin1, admin2) if part is not None)


def _areas_version(level):
    """A fingerprint of the gazetteer's areas of a level: a loader that changes them changes it."""
    model = LEVELS[level]
    with connections[model.objects.db].cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), COALESCE(max(id), 0), COALESCE(sum(length(name || name_ar)), 0) FROM {model._meta.db_table}"
        )
        return "-".join(str(part) for part in cursor.fetchone())


_AREAS_SQL = {
    "admin1": """SELECT r.id, r.country, r.name, NULL, r.name_ar, ST_Y(ST_Centroid(r.boundary)),
                        ST_X(ST_Centroid(r.boundary)), ST_AsGeoJSON(ST_SimplifyPreserveTopology(r.boundary, %s), 5)
                   FROM places_region r ORDER BY r.country, r.name""",
    "admin2": """SELECT d.id, d.country, r.name, d.name, d.name_ar, ST_Y(ST_Centroid(d.boundary)),
                        ST_X(ST_Centroid(d.boundary)), ST_AsGeoJSON(ST_SimplifyPreserveTopology(d.boundary, %s), 5)
                   FROM places_district d JOIN places_region r ON r.id = d.region_id ORDER BY d.country, r.name, d.name""",
}


def region_areas(*, level):
    """{key: {"id", "country", "admin1", "admin2", "name", "name_ar", "lat", "lon", "geometry"}} of the level's areas
    (geometry: simplified GeoJSON text), cached until the gazetteer's areas change."""
    cache_key = f"regional:areas:{level}:{_areas_version(level)}"
    areas = cache.get(cache_key)
    if areas is None:
        with connections[LEVELS[level].objects.db].cursor() as cursor:
            cursor.execute(_AREAS_SQL[level], [SIMPLIFY_TOLERANCE[level]])
            areas = {}
            for pk, country, admin1, admin2, name_ar, lat, lon, geometry in cursor.fetchall():
                areas[region_key(country, admin1, admin2)] = {
                    "id": pk,
                    "country": country,
                    "admin1": admin1,
                    "admin2": admin2,
                    "name": admin2 or admin1,
                    "name_ar": name_ar,
                    "lat": round(lat, 5),
                    "lon": round(lon, 5),
                    "geometry": geometry,
                }
        cache.set(cache_key, areas, _CACHE_SECONDS)
    return areas


def region_boundaries_geojson(*, level):
    """The level's areas as a FeatureCollection (text): simplified boundaries, keys, names and centroids."""
    cache_key = f"regional:geojson:{level}:{_areas_version(level)}"
    text = cache.get(cache_key)
    if text is None:
        features = []
        for key, area in region_areas(level=level).items():
            properties = {name: area[name] for name in ("country", "admin1", "admin2", "name", "name_ar", "lat", "lon")}
            if level == "admin1":
                del properties["admin2"]
            features.append(
                f'{{"type":"Feature","id":{json.dumps(key)},"properties":'
                f"{json.dumps({'key': key, 'region_id': area['id'], **properties}, ensure_ascii=False)},"
                f'"geometry":{area["geometry"]}}}'
            )
        text = '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"
        cache.set(cache_key, text, _CACHE_SECONDS)
    return text


def region_counts(*, filters, level):
    """The region view's table: one row per region (admin1) or district (admin2) with published incidents under the
    filters, most incidents first: its key, names, centroid (when the gazetteer has its boundary) and sums. Incidents
    with no region coded are one row with an empty name, so the rows add up to the filtered total."""
    dimensions = ["country", "admin1"] + (["admin2"] if level == "admin2" else [])
    areas = region_areas(level=level)
    rows = []
    for row in region_totals(filters=filters, dimensions=dimensions):
        key = region_key(row["country"], row["admin1"], row.get("admin2") if level == "admin2" else None)
        area = areas.get(key)
        # A district's row with no district coded is its region's remainder, named after the region.
        name = (row["admin2"] or row["admin1"]) if level == "admin2" else row["admin1"]
        rows.append(
            {
                "key": key,
                "country": row["country"],
                "admin1": row["admin1"],
                **({"admin2": row["admin2"]} if level == "admin2" else {}),
                "name": name,
                "name_ar": area["name_ar"] if area else "",
                "region_id": area["id"] if area else None,
                "lat": area["lat"] if area else None,
                "lon": area["lon"] if area else None,
                **{name: row[name] for name in SUMS},
            }
        )
    rows.sort(key=lambda row: (-row["incidents"], row["key"]))
    return rows


# --- Trends: incidents and fatalities per period by event type or by actor, the top N and the rest as "other".

TREND_GROUPS = ("event_type", "actor")
TREND_PERIODS = ("week", "month", "year")
OTHER = "other"


def region_trends(*, filters, by, period, top):
    """{"by", "period", "series": [{"key", "label", "label_ar", "incidents", "fatalities_best", "points": [{"period",
    "incidents", "fatalities_low", "fatalities_best", "fatalities_high"}]}]}: the `top` groups with most incidents,
    then "other" summing the rest; periods with none are left out of a series."""
    rows = region_totals(filters=filters, dimensions=[period, by])
    totals = {}
    for row in rows:
        totals[row[by]] = totals.get(row[by], 0) + row["incidents"]
    ranked = sorted(totals, key=lambda group: (-totals[group], group))
    shown = set(ranked[:top])
    labels = _group_labels(by, shown)
    series = {}
    for row in rows:
        group = row[by] if row[by] in shown else OTHER
        points = series.setdefault(group, {})
        point = points.setdefault(row[period], {"period": row[period], **dict.fromkeys(SUMS, 0)})
        for name in SUMS:
            point[name] += row[name]
    order = [group for group in ranked[:top]] + ([OTHER] if OTHER in series else [])
    result = []
    for group in order:
        points = [series[group][period_start] for period_start in sorted(series[group])]
        result.append(
            {
                "key": labels[group][0] if group != OTHER else OTHER,
                "label": labels[group][1] if group != OTHER else "Other",
                "label_ar": labels[group][2] if group != OTHER else "أخرى",
                "incidents": sum(point["incidents"] for point in points),
                "fatalities_best": sum(point["fatalities_best"] for point in points),
                "points": points,
            }
        )
    return {"by": by, "period": period, "series": result}


def _group_labels(by, groups):
    """{group id: (its key in the document, its label in English, in Arabic)}: event types by slug, actors by id."""
    if by == "event_type":
        labels = {}
        for pk, slug, name in EventType.objects.filter(pk__in=groups).values_list("pk", "slug", "name"):
            with translation.override("ar"):
                arabic = gettext(name)
            labels[pk] = (slug, name, arabic)
        return labels
    labels = {}
    for actor in Actor.objects.filter(pk__in=groups):
        with translation.override("ar"):
            labels[actor.pk] = (actor.pk, actor.name, actor.display_name)
    return labels


# --- The aggregated export: ACLED's aggregated data shape (week × admin1 × event type × sub-event type).

AGGREGATE_PERIODS = ("week", "month")
AGGREGATE_COLUMNS = [
    "period",
    "country",
    "admin1",
    "admin2",
    "event_type",
    "sub_event_type",
    "events",
    "fatalities_low",
    "fatalities_best",
    "fatalities_high",
    "centroid_latitude",
    "centroid_longitude",
]


# The export built by PostgreSQL, one CSV line (or JSON object) per row in order: at 1 M incidents the month ×
# governorate × type × sub-type export is some 40,000 rows, which Python would otherwise turn into dicts one by one.
# Text columns are always quoted (RFC 4180); the centroids come from the gazetteer's cached areas, as a parameter.
_AGGREGATED_ROWS = """
WITH centroids AS MATERIALIZED (
    SELECT key, (value ->> 0)::numeric AS lat, (value ->> 1)::numeric AS lon FROM jsonb_each(%(centroids)s::jsonb))
SELECT g.period, g.country, g.admin1, {admin2} AS admin2, et.slug AS event_type,
       {sub_type} AS sub_event_type, g.incidents AS events, g.fatalities_low, g.fatalities_best, g.fatalities_high,
       c.lat AS centroid_latitude, c.lon AS centroid_longitude
  FROM ({{grouped}}) AS g
  JOIN incidents_eventtype et ON et.id = g.event_type
  LEFT JOIN centroids c ON c.key = {key}
  {sub_type_join}
 ORDER BY {order}"""
_QUOTED = "'\"' || replace({}, '\"', '\"\"') || '\"'"
AGGREGATED_CSV = """
SELECT concat_ws(',', period, {country}, {admin1}, {admin2}, {event_type}, {sub_event_type}, events, fatalities_low,
                 fatalities_best, fatalities_high, COALESCE(centroid_latitude::text, ''),
                 COALESCE(centroid_longitude::text, ''))
  FROM ({rows}) AS r""".format(
    rows="{rows}",
    **{name: _QUOTED.format(name) for name in ("country", "admin1", "admin2", "event_type", "sub_event_type")},
)
AGGREGATED_JSON = "SELECT COALESCE(json_agg(r)::text, '[]') FROM ({rows}) AS r"


def aggregated_export(*, filters, period, level, sub_types, format):
    """The aggregated export's body: CSV text (a header, then a line per row) or a JSON array of row objects, with
    AGGREGATE_COLUMNS (admin2 empty at admin1 level, sub_event_type empty without `sub_types`), ordered by period,
    country, region, district, type and sub-type; the centroid is the region's (district's) when the gazetteer has its
    boundary, else empty."""
    dimensions = [period, "country", "admin1"] + (["admin2"] if level == "admin2" else []) + ["event_type"]
    if sub_types:
        dimensions.append("sub_event_type")
    grouped = _grouped_sql(filters, dimensions)
    if grouped is None:
        return ",".join(AGGREGATE_COLUMNS) + "\r\n" if format == "csv" else "[]"
    grouped_sql, grouped_params = grouped
    grouped_sql = grouped_sql.replace(f"SELECT {period},", f"SELECT {period} AS period,", 1)
    admin2 = "g.admin2" if level == "admin2" else "''"
    rows = _AGGREGATED_ROWS.format(
        admin2=admin2,
        key="g.country || '/' || g.admin1" + (" || '/' || g.admin2" if level == "admin2" else ""),
        sub_type="COALESCE(st.slug, '')" if sub_types else "''",
        sub_type_join="LEFT JOIN incidents_subeventtype st ON st.id = g.sub_event_type" if sub_types else "",
        order=", ".join(
            ["g.period", "g.country", "g.admin1"]
            + (["g.admin2"] if level == "admin2" else [])
            + ["et.slug"]
            + (["st.slug NULLS FIRST"] if sub_types else [])
        ),
    )
    centroids = json.dumps({key: [area["lat"], area["lon"]] for key, area in region_areas(level=level).items()})
    template = (AGGREGATED_CSV if format == "csv" else AGGREGATED_JSON).format(rows=rows)
    sql, params = bind(template, centroids=centroids, grouped=(grouped_sql, grouped_params))
    with map_read(filters.qs) as cursor:
        cursor.execute(sql, params)
        if format == "csv":
            lines = [",".join(AGGREGATE_COLUMNS), *(line for (line,) in cursor.fetchall())]
            return "\r\n".join(lines) + "\r\n"
        return cursor.fetchone()[0]
