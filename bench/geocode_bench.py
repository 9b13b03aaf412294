"""Geocoder lookup time on the full gazetteer: `make bench` (or .venv/bin/python bench/geocode_bench.py).

Runs every query of the accuracy set (tests/data/place_names_syria_iraq.csv) and of the dev set
(tests/data/geocoding_devset.csv) a few times through the gazetteer geocoder and prints the median and 95th
percentile; exits 1 when the median is 10 ms or more.
"""

import csv
import os
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

from incidents.models import Place  # noqa: E402
from places.geocoding import GazetteerGeocoder  # noqa: E402
from tests.devset import devset_rows  # noqa: E402

ROUNDS = 5
MEDIAN_BUDGET_MS = 10.0


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
    points = list(Place.objects.filter(country__in=["SY", "IQ"]).values_list("point", flat=True)[:200])
    backward = [timed(geocoder.reverse_candidate, point.y + 0.01, point.x - 0.01) for point in points]

    print(f"Gazetteer: {Place.objects.count()} places. {len(queries)} queries × {ROUNDS} rounds.")
    for label, times in [("geocode", forward), ("reverse", backward)]:
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(
            f"{label:8} median {statistics.median(times):6.2f} ms   p95 {p95:6.2f} ms   max {times[-1]:6.2f} ms"
            f"   ({len(times)} lookups)"
        )
    median = statistics.median(forward)
    if median >= MEDIAN_BUDGET_MS:
        print(f"FAIL: median geocode {median:.2f} ms is over the {MEDIAN_BUDGET_MS:.0f} ms budget.")
        return 1
    print(f"OK: median geocode {median:.2f} ms < {MEDIAN_BUDGET_MS:.0f} ms.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
