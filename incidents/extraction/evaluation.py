"""Precision and recall of the extraction against hand-coded reports (tests/data/reports/*.txt + .json).

Each expected incident is paired with the extracted candidate nearest to it (same place within 10 km, or the
same admin1 when only the region is expected; else the same start date). Then, per field:
a right value is a true positive; a wrong value is a false positive *and* a false negative; a missing value is a
false negative; a value on a candidate that matches no expected incident (or where none was expected) is a false
positive.
"""

import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path

from . import candidates_json
from .candidates import km
from .gazetteer import name_key

PLACE_KM = 10


@dataclass
class Score:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    misses: list = field(default_factory=list)

    @property
    def precision(self):
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self):
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else 1.0


def place_right(expected, found):
    if found.get("latitude") is None:
        return False
    if expected["location_precision"] == "region":
        return name_key(found.get("admin1") or "") == name_key(expected["admin1"] or "")
    return km(expected["latitude"], expected["longitude"], found["latitude"], found["longitude"]) <= PLACE_KM


def _pair(expected_incidents, found_candidates):
    unused = list(range(len(found_candidates)))
    pairs = []
    for expected in expected_incidents:
        match = next((i for i in unused if place_right(expected, found_candidates[i])), None)
        if match is None and expected["start_date"]:
            match = next((i for i in unused if found_candidates[i]["start_date"] == expected["start_date"]), None)
        if match is not None:
            unused.remove(match)
        pairs.append((expected, found_candidates[match] if match is not None else None))
    return pairs, [found_candidates[i] for i in unused]


def _toll(item):
    return (item["fatalities_low"], item["fatalities_best"], item["fatalities_high"])


FIELDS = {
    "places": (lambda item: item.get("latitude") is not None, place_right),
    "dates": (
        lambda item: item["start_date"] is not None,
        lambda expected, found: (
            (found["start_date"], found["end_date"]) == (expected["start_date"], expected["end_date"])
        ),
    ),
    "tolls": (
        lambda item: item["fatalities_best"] is not None or item["fatalities_low"] is not None,
        lambda expected, found: _toll(found) == _toll(expected),
    ),
}


def evaluate(directory):
    """{"places"|"dates"|"tolls"|"actors": Score}, and the number of reports read."""
    scores = {name: Score() for name in FIELDS}
    reports = sorted(Path(directory).glob("*.txt"))
    for path in reports:
        spec = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        published = datetime.date.fromisoformat(spec["published"])
        found = candidates_json(path.read_text(encoding="utf-8"), published=published)
        pairs, spurious = _pair(spec["incidents"], found)
        for name, (present, right) in FIELDS.items():
            score = scores[name]
            for expected, candidate in pairs:
                has_expected = present(expected)
                has_found = candidate is not None and present(candidate)
                if has_expected and has_found and right(expected, candidate):
                    score.true_positives += 1
                    continue
                if has_found:
                    score.false_positives += 1
                if has_expected:
                    score.false_negatives += 1
                if has_found or has_expected:
                    score.misses.append((path.stem, name, expected, candidate))
            for candidate in spurious:
                if present(candidate):
                    score.false_positives += 1
                    score.misses.append((path.stem, name, None, candidate))
        # Actors with their sides, pair by pair (reported beside the three measured fields, no threshold).
        actor_score = scores.setdefault("actors", Score())
        for expected, candidate in pairs:
            wanted = {(actor["name"], actor["side"]) for actor in expected["actors"]}
            found_actors = {(actor["name"], actor["side"]) for actor in candidate["actors"]} if candidate else set()
            actor_score.true_positives += len(wanted & found_actors)
            actor_score.false_positives += len(found_actors - wanted)
            actor_score.false_negatives += len(wanted - found_actors)
            if wanted != found_actors:
                actor_score.misses.append((path.stem, "actors", expected, candidate))
        for candidate in spurious:
            actor_score.false_positives += len(candidate["actors"])
    return scores, len(reports)
