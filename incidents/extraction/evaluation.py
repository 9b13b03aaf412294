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


# How far a proposal may be from a labelled place, by the label's precision (ACLED's geo_precision 1 and 2).
REAL_PLACE_KM = {"exact": 10, "near": 25}
# A proposal's date window may be at most a week long (ACLED's time_precision 2) and must hold the labelled day.
REAL_WINDOW_DAYS = 7


def real_place_right(label, found):
    if label["location_precision"] == "region":
        return bool(found.get("admin1")) and name_key(found["admin1"]) == name_key(label["admin1"])
    if found.get("latitude") is None:
        return False
    distance = km(label["latitude"], label["longitude"], found["latitude"], found["longitude"])
    return distance <= REAL_PLACE_KM[label["location_precision"]]


def real_date_right(label, found):
    if not found.get("start_date"):
        return False
    first = datetime.date.fromisoformat(found["start_date"])
    last = datetime.date.fromisoformat(found["end_date"] or found["start_date"])
    day = datetime.date.fromisoformat(label["date"])
    return first <= day <= last and (last - first).days < REAL_WINDOW_DAYS


def _about_it(label, found):
    """Whether a proposal is about this labelled incident at all (right or wrong in its details): its place is
    the label's governorate or near it, or, with no place, its dates hold the labelled day."""
    if found.get("latitude") is None and not found.get("admin1"):
        return real_date_right(label, found)
    if found.get("admin1") and name_key(found["admin1"]) == name_key(label["admin1"]):
        return True
    if found.get("latitude") is not None and label["latitude"] is not None:
        return km(label["latitude"], label["longitude"], found["latitude"], found["longitude"]) <= 50
    return False


@dataclass
class RealScore:
    required: int = 0
    found: int = 0  # required incidents proposed with the right place and date
    place_only: int = 0
    proposals: int = 0
    not_incidents: int = 0  # proposals about no labelled incident
    misses: list = field(default_factory=list)

    @property
    def recall(self):
        return self.found / self.required if self.required else 1.0

    @property
    def false_rate(self):
        return self.not_incidents / self.proposals if self.proposals else 0.0


def evaluate_real(labels_path, texts_dir, *, split=None):
    """RealScore over the labelled real reports whose text is in `texts_dir` (others are skipped), and the
    number read. `split` ("tune" / "holdout") keeps one part."""
    score = RealScore()
    count = 0
    for report in json.loads(Path(labels_path).read_text(encoding="utf-8"))["reports"]:
        path = Path(texts_dir) / f"{report['id']}.txt"
        if (split and report["split"] != split) or not path.exists():
            continue
        count += 1
        published = datetime.date.fromisoformat(report["published"])
        found = candidates_json(path.read_text(encoding="utf-8"), published=published)
        score.proposals += len(found)
        unused = list(range(len(found)))
        labels = sorted(report["incidents"], key=lambda label: not label["required"])
        for label in labels:
            right = next(
                (i for i in unused if real_place_right(label, found[i]) and real_date_right(label, found[i])), None
            )
            if right is not None:
                unused.remove(right)
            if not label["required"]:
                continue
            score.required += 1
            if right is not None:
                score.found += 1
                continue
            near = next((i for i in unused if real_place_right(label, found[i])), None)
            score.place_only += near is not None
            about = next((found[i] for i in unused if _about_it(label, found[i])), None)
            score.misses.append((report["id"], label, found[near] if near is not None else about))
        for i in unused:
            if not any(_about_it(label, found[i]) for label in report["incidents"]):
                score.not_incidents += 1
                score.misses.append((report["id"], None, found[i]))
    return score, count
