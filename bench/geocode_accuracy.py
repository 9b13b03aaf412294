"""Geocoder accuracy on the development set: `make bench` (or .venv/bin/python bench/geocode_accuracy.py).

Runs the gazetteer geocoder over tests/data/geocoding_devset.csv (names as ACLED/UCDP coders and reporters write
them in Syria and Iraq, each with coordinates from a source independent of the gazetteer) and reports the share of
top-1 answers within 10 km, wrong answers (> 25 km or the wrong governorate), and what was left ambiguous or
unresolved. `--verbose` lists every row that is not a hit. Exits 1 when a target is missed (top-1 ≥ 90 %,
wrong ≤ 2 %).
"""

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conflictmap.settings.dev")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from places.geocoding import GazetteerGeocoder  # noqa: E402
from places.models import Place  # noqa: E402
from places.names import skeleton_key  # noqa: E402
from tests.devset import evaluate, summary  # noqa: E402

HIT_TARGET = 0.90
WRONG_TARGET = 0.02


def gazetteer_lookup():
    geocoder = GazetteerGeocoder()

    def lookup(name, country, admin1):
        return geocoder.candidates(name, countries=[country] if country else None, admin1=admin1, limit=5)

    return lookup


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="List every row that is not a hit.")
    args = parser.parse_args()
    call_command("load_gazetteer")
    outcomes = evaluate(gazetteer_lookup(), skeleton_key=skeleton_key)
    figures = summary(outcomes)
    if args.verbose:
        for outcome in outcomes:
            if outcome.verdict in ("hit", "honest"):
                continue
            row, top = outcome.row, outcome.top or {}
            context = f" [{row['admin1']}]" if row["admin1"] else ""
            print(
                f"{outcome.verdict:10} {row['expected']:10} {row['name']}{context} → {top.get('name', '—')}"
                f" ({top.get('admin1', '')}) {'' if outcome.km is None else f'{outcome.km} km'}"
            )
    known = figures["known"]
    print(
        f"Dev set: {figures['rows']} names ({known} with a known answer, {figures['open']} that should stay open); "
        f"gazetteer: {Place.objects.count()} places."
    )
    print(
        f"top-1 within {10} km: {figures['hit']}/{known} = {figures['hit_share']:.1%}   "
        f"wrong (> 25 km or wrong governorate): {figures['wrong']} = {figures['wrong_share']:.1%}   "
        f"10–25 km: {figures['miss']}   ambiguous: {figures['ambiguous']}   unresolved: {figures['unresolved']}"
    )
    print(f"same-named/unknown names left open (ambiguous or unresolved): {figures['open_honest']}/{figures['open']}")
    failed = figures["hit_share"] < HIT_TARGET or figures["wrong_share"] > WRONG_TARGET
    print(("FAIL" if failed else "OK") + f": targets top-1 ≥ {HIT_TARGET:.0%}, wrong ≤ {WRONG_TARGET:.0%}.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
