"""Geocoder lookup time on the full gazetteer: `make bench` (or .venv/bin/python bench/geocode_bench.py).

Runs every query of the accuracy set (tests/data/place_names_syria_iraq.csv) and of the dev set
(tests/data/geocoding_devset.csv) a few times through the gazetteer geocoder, and reverse geocodes points spread
over Syria and Iraq (towns, villages, desert, sea), and prints the medians and 95th percentiles; exits 1 when the
geocode median is 10 ms or more or the reverse median 5 ms or more.
With --load it also times a whole gazetteer load into an empty Place table (inside a transaction rolled back
afterwards, so the database is left as it was).
"""

import csv
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conflictmap.settings.dev")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from places.geocoding import GazetteerGeocoder  # noqa: E402
from places.loaders import gazetteer_load, wof_places_load  # noqa: E402
from places.models import Place  # noqa: E402
from places.regions import admin_areas_at  # noqa: E402
from tests.devset import devset_rows  # noqa: E402

ROUNDS = 5
MEDIAN_BUDGET_MS = 10.0
REVERSE_MEDIAN_BUDGET_MS = 5.0
# Syria and Iraq's bounding box: random points in it fall in towns' surroundings, desert, and a little sea.
BOX = (35.5, 29.0, 48.5, 37.4)
REVERSE_POINTS = 1000


class Rollback(Exception):
    pass


def load_seconds():
    """Seconds to load the whole gazetteer into an empty table; the deletion and load are rolled back."""
    from django.conf import settings

    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                cursor.execute(f"DELETE FROM {Place._meta.db_table}")
            start = time.perf_counter()
            gazetteer_load(settings.GAZETTEER_COUNTRIES)
            wof_places_load(settings.GAZETTEER_COUNTRIES)
            seconds = time.perf_counter() - start
            count = Place.objects.count()
            raise Rollback((seconds, count))
    except Rollback as done:
        return done.args[0]


def timed(lookup, *args, **kwargs):
    start = time.perf_counter()
    lookup(*args, **kwargs)
    return (time.perf_counter() - start) * 1000


def main():
    call_command("load_gazetteer")
    with (ROOT / "tests" / "data" / "place_names_syria_iraq.csv").open(encoding="utf-8") as rows:
        queries = [row["query"] for row in csv.DictReader(rows)]
    queries += [row["name"] for row in devset_rows()]
    geocoder = GazetteerGeocoder()
    for query in queries:  # warm the connection and PostgreSQL's caches
        geocoder.candidates(query, limit=5)
    forward = [timed(geocoder.candidates, query, limit=5) for _round in range(ROUNDS) for query in queries]
    rng = random.Random(9)
    places = list(Place.objects.filter(country__in=["SY", "IQ"]).order_by("pk").values_list("point", flat=True))
    near_places = [(point.y + 0.01, point.x - 0.01) for point in rng.sample(places, REVERSE_POINTS // 2)]
    anywhere = [(rng.uniform(BOX[1], BOX[3]), rng.uniform(BOX[0], BOX[2])) for _ in range(REVERSE_POINTS // 2)]
    points = near_places + anywhere
    backward = [timed(geocoder.reverse_candidate, latitude, longitude) for latitude, longitude in points]
    from django.contrib.gis.geos import Point

    containment = [timed(admin_areas_at, Point(lon, lat, srid=4326)) for lat, lon in points]

    print(f"Gazetteer: {Place.objects.count()} places. {len(queries)} queries × {ROUNDS} rounds.")
    for label, times in [("geocode", forward), ("reverse", backward), ("regions", containment)]:
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(
            f"{label:8} median {statistics.median(times):6.2f} ms   p95 {p95:6.2f} ms   max {times[-1]:6.2f} ms"
            f"   ({len(times)} lookups)"
        )
    if "--load" in sys.argv:
        seconds, count = load_seconds()
        print(f"load     {seconds:6.1f} s for {count} places into an empty table (rolled back)")
    median, reverse_median = statistics.median(forward), statistics.median(backward)
    failed = False
    if median >= MEDIAN_BUDGET_MS:
        print(f"FAIL: median geocode {median:.2f} ms is over the {MEDIAN_BUDGET_MS:.0f} ms budget.")
        failed = True
    if reverse_median >= REVERSE_MEDIAN_BUDGET_MS:
        print(f"FAIL: median reverse {reverse_median:.2f} ms is over the {REVERSE_MEDIAN_BUDGET_MS:.0f} ms budget.")
        failed = True
    if not failed:
        print(f"OK: median geocode {median:.2f} ms < {MEDIAN_BUDGET_MS:.0f} ms, reverse {reverse_median:.2f} ms.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
