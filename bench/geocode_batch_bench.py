"""Batch geocoding time: `make bench` (or .venv/bin/python bench/geocode_batch_bench.py).

Writes a CSV of 10,000 distinct place wordings (the dev set's names, then gazetteer names of Syrian and Iraqi
places as a coder would type them: plain ASCII, some with "village" or "near"), runs
`manage.py geocode --csv … --column location --country-column country` on it and prints the time; exits 1 when it
takes 30 s or more.
"""

import csv
import os
import random
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conflictmap.settings.dev")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from places.models import Place, PlaceKind  # noqa: E402
from tests.devset import devset_rows  # noqa: E402

ROWS = 10_000
BUDGET_S = 30.0


def wordings():
    rows = [(row["name"], row["country"]) for row in devset_rows()]
    names = list(
        Place.objects.filter(country__in=["SY", "IQ"], kind=PlaceKind.POPULATED)
        .order_by("pk")
        .values_list("name", "country")
    )
    random.Random(9).shuffle(names)
    seen = {name for name, _country in rows}
    for index, (name, country) in enumerate(names):
        typed = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().replace("`", "'")
        typed = f"{typed} village" if index % 5 == 1 else f"near {typed}" if index % 7 == 2 else typed
        if typed not in seen:
            seen.add(typed)
            rows.append((typed, str(country)))
        if len(rows) >= ROWS:
            break
    return rows[:ROWS]


def main():
    call_command("load_gazetteer")
    rows = wordings()
    with tempfile.TemporaryDirectory() as folder:
        source, output = Path(folder) / "events.csv", Path(folder) / "geocoded.csv"
        with source.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["event_id", "location", "country"])
            writer.writerows((index, name, country) for index, (name, country) in enumerate(rows, start=1))
        start = time.perf_counter()
        call_command(
            "geocode", csv=str(source), column="location", country_column="country", output=str(output), verbosity=0
        )
        seconds = time.perf_counter() - start
        with output.open(encoding="utf-8") as handle:
            results = list(csv.DictReader(handle))
    resolved = sum(bool(row["latitude"]) for row in results)
    ambiguous = sum(row["match"] == "ambiguous" for row in results)
    print(
        f"Batch: {len(results)} distinct names in {seconds:.1f} s ({seconds / len(results) * 1000:.2f} ms a name) "
        f"on {Place.objects.count()} places; {resolved} resolved, {ambiguous} ambiguous, "
        f"{len(results) - resolved - ambiguous} unresolved or fuzzy only."
    )
    if seconds >= BUDGET_S:
        print(f"FAIL: {seconds:.1f} s is over the {BUDGET_S:.0f} s budget.")
        return 1
    print(f"OK: {seconds:.1f} s < {BUDGET_S:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
