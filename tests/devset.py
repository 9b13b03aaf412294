"""Scoring the geocoder against the development set (tests/data/geocoding_devset.csv).

Shared by the accuracy test (tests/test_geocoding_devset.py) and the benchmark (bench/geocode_accuracy.py), so the
figures in bench/RESULTS.md and the thresholds the suite enforces are computed the same way.

Each row names a place as a coder or reporter writes it and what a careful geocoder should answer:
`point` (the top candidate within 10 km of the independent coordinates), `region` (a governorate, precision
"region"), `admin1` (a village whose exact position no independent source gives to 3 km: only its governorate is
checked), `ambiguous` (same-named villages and no context: the geocoder must not pick one) or `unresolved`.
"""

import csv
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

DEVSET = Path(__file__).parent / "data" / "geocoding_devset.csv"
HIT_KM = 10
WRONG_KM = 25
KNOWN = ("point", "region", "admin1")  # rows with a right answer; the accuracy figures are over these


@dataclass(frozen=True)
class Outcome:
    row: dict
    verdict: str  # hit, miss (answered, ≤ 25 km or the right governorate), wrong, ambiguous, unresolved, honest
    top: dict | None
    km: float | None


def devset_rows(path=DEVSET):
    with open(path, encoding="utf-8", newline="") as rows:
        return list(csv.DictReader(rows))


def _km(lat1, lon1, lat2, lon2):
    """Great-circle distance (haversine), precise enough for a 10 km / 25 km verdict."""
    p = math.pi / 180
    a = (
        math.sin((lat2 - lat1) * p / 2) ** 2
        + math.cos(lat1 * p) * math.cos(lat2 * p) * math.sin((lon2 - lon1) * p / 2) ** 2
    )
    return 12742 * math.asin(math.sqrt(a))


def _same_region(candidate, aliases, skeleton_key):
    wanted = {skeleton_key(alias).replace(" ", "") for alias in aliases.split("|")}
    found = {candidate.get("admin1") or ""}
    if candidate.get("precision") == "region":
        found.add(candidate.get("name") or "")
    return bool({skeleton_key(name).replace(" ", "") for name in found if name} & wanted)


def judge(row, candidates, *, skeleton_key):
    """The verdict on one row given the geocoder's candidates (best first)."""
    top = candidates[0] if candidates else None
    expected = row["expected"]
    if expected in ("ambiguous", "unresolved"):
        unsure = top is None or top.get("ambiguous") or top.get("match") == "fuzzy"
        return Outcome(row, "honest" if unsure else "wrong", top, None)
    if top is None or top.get("match") == "fuzzy":  # a look-alike is offered as a suggestion, never as the place
        return Outcome(row, "unresolved", top, None)
    if top.get("ambiguous"):
        return Outcome(row, "ambiguous", top, None)
    if expected == "point":
        km = _km(float(row["latitude"]), float(row["longitude"]), top["latitude"], top["longitude"])
        verdict = "hit" if km <= HIT_KM else "miss" if km <= WRONG_KM else "wrong"
        return Outcome(row, verdict, top, round(km, 1))
    right_region = _same_region(top, row["expected_admin1"], skeleton_key)
    if expected == "region":
        verdict = "hit" if right_region and top.get("precision") == "region" else "miss" if right_region else "wrong"
    else:  # admin1
        verdict = "hit" if right_region else "wrong"
    return Outcome(row, verdict, top, None)


def evaluate(lookup, *, skeleton_key, rows=None):
    """Outcomes for every row; `lookup(name, country, admin1)` returns candidate dicts, best first."""
    return [
        judge(row, lookup(row["name"], row["country"] or None, row["admin1"] or None), skeleton_key=skeleton_key)
        for row in (rows if rows is not None else devset_rows())
    ]


def summary(outcomes):
    """Counts and shares: accuracy over rows with a known answer, honesty over rows that should stay open."""
    known = [outcome for outcome in outcomes if outcome.row["expected"] in KNOWN]
    open_rows = [outcome for outcome in outcomes if outcome.row["expected"] not in KNOWN]
    counts = Counter(outcome.verdict for outcome in known)
    total = len(known) or 1
    return {
        "rows": len(outcomes),
        "known": len(known),
        "hit": counts["hit"],
        "miss": counts["miss"],
        "wrong": counts["wrong"],
        "ambiguous": counts["ambiguous"],
        "unresolved": counts["unresolved"],
        "hit_share": counts["hit"] / total,
        "wrong_share": counts["wrong"] / total,
        "open": len(open_rows),
        "open_honest": sum(outcome.verdict == "honest" for outcome in open_rows),
    }
