"""A realistic bench database: N published incidents (default 1,000,000) for `make bench-scale`.

Creates (or keeps) the database `bench_scale_conflictmap` (TEST_DATABASE_NAME overrides it) with the project's
migrations, so the triggers that keep the public aggregates are there, and fills it by set-based SQL
(generate_series, in batches of 100,000 rows, one transaction each):

- dates from 1 Jan 2011 to 31 Dec 2024, most of them in 2013–2017 as in the Syrian and Iraqi wars;
- points scattered around 32 real Syrian and Iraqi towns, each weighted by how often it is in the news, a few
  kilometres of spread, the town's governorate and country; 20 % "near" and 5 % "region" location precision;
- the six ACLED event types in realistic shares, each with one of its own sub-types;
- two of 30 actors per incident (side A and side B), one or two of 5,000 sources;
- fatalities skewed as conflict data are (mostly 0–3, a long tail), with low / high estimates around the best.

Then it chooses the map's terms (`manage.py refresh_map_terms`: the words of `q` whose clusters are kept), after a
fill or when the database has none, so that the benchmarks read the map as a site that runs the command would.

Run: `.venv/bin/python bench/generate.py [--rows N]`; it adds only what is missing, so a second run is a no-op.
"""

import argparse
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conflictmap.settings.test")
os.environ.setdefault("TEST_DATABASE_NAME", "bench_scale_conflictmap")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from incidents.models import Actor, ActorKind, EventType, Incident, MapTerm, Source, SubEventType  # noqa: E402

BATCH = 100_000

# (place, lon, lat, admin1, country, weight): towns where the wars' incidents cluster.
TOWNS = [
    ("Aleppo", 37.16, 36.20, "Aleppo", "SY", 12),
    ("Afrin", 36.87, 36.51, "Aleppo", "SY", 3),
    ("Kobani", 38.36, 36.89, "Aleppo", "SY", 2),
    ("Idlib", 36.63, 35.93, "Idleb", "SY", 10),
    ("Maarat al-Numan", 36.67, 35.64, "Idleb", "SY", 5),
    ("Homs", 36.72, 34.73, "Homs", "SY", 6),
    ("Palmyra", 38.27, 34.56, "Homs", "SY", 3),
    ("Hama", 36.75, 35.13, "Hama", "SY", 5),
    ("Damascus", 36.29, 33.51, "Damascus", "SY", 4),
    ("Douma", 36.40, 33.57, "Rural Damascus", "SY", 6),
    ("Daraa", 36.10, 32.62, "Dar'a", "SY", 6),
    ("Deir ez-Zor", 40.14, 35.34, "Deir ez-Zor", "SY", 6),
    ("Al-Bukamal", 40.92, 34.45, "Deir ez-Zor", "SY", 2),
    ("Raqqa", 39.01, 35.95, "Ar-Raqqa", "SY", 5),
    ("Latakia", 35.78, 35.52, "Lattakia", "SY", 2),
    ("Qamishli", 41.23, 37.05, "Al-Hasakeh", "SY", 3),
    ("Hasakah", 40.75, 36.50, "Al-Hasakeh", "SY", 2),
    ("Quneitra", 35.82, 33.13, "Quneitra", "SY", 1),
    ("As-Suwayda", 36.57, 32.71, "As-Sweida", "SY", 1),
    ("Tartus", 35.89, 34.89, "Tartous", "SY", 1),
    ("Baghdad", 44.36, 33.31, "Baghdad", "IQ", 8),
    ("Mosul", 43.13, 36.34, "Ninewa", "IQ", 8),
    ("Sinjar", 41.87, 36.32, "Ninewa", "IQ", 2),
    ("Tal Afar", 42.45, 36.37, "Ninewa", "IQ", 1),
    ("Fallujah", 43.78, 33.35, "Anbar", "IQ", 4),
    ("Ramadi", 43.30, 33.43, "Anbar", "IQ", 4),
    ("Tikrit", 43.68, 34.60, "Salah al-Din", "IQ", 3),
    ("Samarra", 43.88, 34.20, "Salah al-Din", "IQ", 2),
    ("Kirkuk", 44.39, 35.47, "Kirkuk", "IQ", 3),
    ("Baqubah", 44.66, 33.75, "Diyala", "IQ", 3),
    ("Basra", 47.78, 30.51, "Basrah", "IQ", 2),
    ("Erbil", 44.01, 36.19, "Erbil", "IQ", 1),
]
YEAR_WEIGHTS = {2011: 2, 2012: 8, 2013: 12, 2014: 12, 2015: 12, 2016: 12, 2017: 10, 2018: 8, 2019: 7, 2020: 5,
                2021: 4, 2022: 3, 2023: 3, 2024: 2}  # fmt: skip
TYPE_WEIGHTS = {"battles": 30, "explosions-remote-violence": 35, "violence-against-civilians": 15, "protests": 10,
                "riots": 3, "strategic-developments": 7}  # fmt: skip
ACTORS = [(f"Bench {kind.label} {n}", kind) for kind in ActorKind for n in (1, 2, 3)][:30]
SOURCES = 5000

_INSERT = """
WITH drawn AS (
  SELECT n, random() AS r_town, random() AS r_year, random() AS r_day, random() AS r_type, random() AS r_sub,
         random() AS r_dx, random() AS r_dy, random() AS r_dz, random() AS r_prec, random() AS r_span,
         random() AS r_fat
    FROM generate_series(%(first)s, %(last)s) AS n),
placed AS (
  SELECT d.*, t.*,
         make_date(y.year, 1, 1) + floor(d.r_day * 365)::int AS day,
         et.id AS event_type_id, et.name AS event_type_name,
         (%(subs)s::bigint[][])[et.idx][1 + floor(d.r_sub * 3)::int] AS sub_event_type_id,
         (ARRAY[0, 0, 0, 0, 1, 1, 2, 3, 4, 6, 9, 14, 25, 40, 80])[1 + floor(d.r_fat * 15)::int] AS best
    FROM drawn d
    JOIN bench_town t ON t.idx = (%(towns)s::int[])[1 + floor(d.r_town * cardinality(%(towns)s::int[]))::int]
    CROSS JOIN LATERAL (SELECT (%(years)s::int[])[1 + floor(d.r_year * cardinality(%(years)s::int[]))::int]
                        AS year) y
    JOIN bench_type et ON et.idx = (%(types)s::int[])[1 + floor(d.r_type * cardinality(%(types)s::int[]))::int]),
made AS (
  INSERT INTO incidents_incident (
    title, description, start_date, end_date, date_precision, location, place_reported, place_name, admin1, admin2,
    country, location_precision, event_type_id, sub_event_type_id, fatalities_low, fatalities_best, fatalities_high,
    notable_casualties, status, retraction_reason, published_at, external_id, is_demo, created_at, updated_at, version,
    dataset, event_id, import_fingerprint, import_record)
  SELECT event_type_name || ' near ' || place, 'Generated for the scale benchmark (bench/generate.py).',
         day, day + CASE WHEN r_span < 0.9 THEN 0 ELSE floor((r_span - 0.9) * 60)::int END,
         CASE WHEN r_span < 0.97 THEN 1 ELSE 2 END,
         -- about three kilometres of spread around the town (sum of three uniforms: a bell shape)
         ST_SetSRID(ST_MakePoint(lon + (r_dx + r_dz - 1) * 0.06, lat + (r_dy + r_dz - 1) * 0.05), 4326),
         CASE WHEN r_prec < 0.75 THEN place WHEN r_prec < 0.95 THEN 'near ' || place ELSE admin1 || ' province' END,
         place, admin1, '', country, CASE WHEN r_prec < 0.75 THEN 1 WHEN r_prec < 0.95 THEN 2 ELSE 3 END,
         event_type_id, sub_event_type_id, floor(best * 0.8)::int, best,
         CASE WHEN best > 3 THEN ceil(best * 1.5)::int END,
         '', 'published', '', now(), 'bench-' || n, false, now(), now(), 1, '', '', '', '{}'
    FROM placed
  RETURNING id, start_date),
actors AS (
  SELECT id, a, (a + 1 + floor(random() * (cardinality(%(actors)s::bigint[]) - 1))::int)
                 %% cardinality(%(actors)s::bigint[]) AS b, random() AS r_src
    FROM (SELECT id, floor(random() * cardinality(%(actors)s::bigint[]))::int AS a FROM made) m),
roles AS (
  INSERT INTO incidents_incidentactor (incident_id, actor_id, side, is_associated)
  SELECT id, (%(actors)s::bigint[])[a + 1], 'a', false FROM actors
  UNION ALL
  SELECT id, (%(actors)s::bigint[])[b + 1], 'b', false FROM actors)
INSERT INTO incidents_incidentsource (incident_id, source_id, original_reporter, note)
SELECT id, source, '', '' FROM (
  SELECT id, (%(sources)s::bigint[])[1 + floor(r_src * cardinality(%(sources)s::bigint[]))::int] AS source
    FROM actors
  UNION
  SELECT id, (%(sources)s::bigint[])[1 + floor(random() * cardinality(%(sources)s::bigint[]))::int]
    FROM actors WHERE r_src < 0.3) AS cited
"""


def weighted(weights):
    """An array in which each key appears as often as its weight: a uniform draw from it is a weighted draw."""
    return [key for key, weight in weights for _ in range(weight)]


def prepare():
    """The towns, types, actors and sources the batches draw from; {parameter: value} for _INSERT."""
    types = list(EventType.objects.order_by("pk"))
    subs = []
    for event_type in types:
        ids = list(SubEventType.objects.filter(event_type=event_type).values_list("pk", flat=True)) or [None]
        subs.append([ids[i % len(ids)] for i in range(3)])  # a rectangular array: three per type
    actors = [Actor.objects.get_or_create(name=name, defaults={"kind": kind})[0].pk for name, kind in ACTORS]
    sources = list(Source.objects.filter(publisher="Bench Wire").values_list("pk", flat=True))
    if len(sources) < SOURCES:
        Source.objects.bulk_create(
            Source(publisher="Bench Wire", title=f"Bench report {n}", url=f"https://example.org/report/{n}")
            for n in range(len(sources), SOURCES)
        )
        sources = list(Source.objects.filter(publisher="Bench Wire").values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_town, bench_type")
        cursor.execute("CREATE TABLE bench_town (idx int, place text, lon float, lat float, admin1 text, country text)")
        cursor.executemany(
            "INSERT INTO bench_town VALUES (%s, %s, %s, %s, %s, %s)",
            [(i + 1, *town[:5]) for i, town in enumerate(TOWNS)],
        )
        cursor.execute("CREATE TABLE bench_type (idx int, id bigint, name text)")
        cursor.executemany(
            "INSERT INTO bench_type VALUES (%s, %s, %s)", [(i + 1, t.pk, t.name) for i, t in enumerate(types)]
        )
    index_of = {t.slug: i + 1 for i, t in enumerate(types)}
    return {
        "towns": weighted((i + 1, town[5]) for i, town in enumerate(TOWNS)),
        "years": weighted(YEAR_WEIGHTS.items()),
        "types": weighted((index_of[slug], weight) for slug, weight in TYPE_WEIGHTS.items() if slug in index_of),
        "subs": subs,
        "actors": actors,
        "sources": sources,
    }


def fill(rows, *, verbose=True):
    """Add published incidents until the database holds `rows` of them."""
    existing = Incident.objects.published().count()
    if existing >= rows:
        if not MapTerm.objects.exists():
            refresh_map_terms(verbose=verbose)
        return 0
    params = prepare()
    started = time.perf_counter()
    for first in range(existing, rows, BATCH):
        last = min(first + BATCH, rows) - 1
        # One transaction per batch: the "published cites a source" check runs at its commit, and the aggregate
        # triggers see the whole batch as one statement.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT setseed(%s)", [(first % 1000) / 1000])
            cursor.execute(_INSERT, {**params, "first": first, "last": last})
        if verbose:
            print(f"  {last + 1:,} incidents ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    refresh_map_terms(verbose=verbose)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_town, bench_type")
        # Hint bits and visibility map set now, so the first timed read does not pay for them; fresh statistics.
        cursor.execute("VACUUM (ANALYZE)")
    return rows - existing


def refresh_map_terms(*, verbose=True):
    """The map's terms chosen (MAP_TERM_MIN_INCIDENTS) and their cells filled, as a site runs it after an import."""
    call_command("refresh_map_terms", stdout=sys.stderr if verbose else io.StringIO())


def open_database():
    """The bench database (created with the migrations when missing, kept otherwise); its name."""
    return connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    database = open_database()
    started = time.perf_counter()
    added = fill(args.rows)
    print(f"{database}: {args.rows:,} published incidents ({added:,} added in {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
