"""The editors' assistant, measured: `make bench` (or .venv/bin/python bench/extraction_eval.py).

Prints precision and recall of places, dates and tolls on the hand-coded reports in tests/data/reports/ (aim:
90 % each), and the time to extract the candidates of a 1,000-word report (the seed report, cut or repeated to
1,000 words; budget: 1 s). Exits 1 when a budget is missed. Runs against the dev database (gazetteer and seed
actors loaded by `make setup`).
"""

import datetime
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

from incidents.extraction import extract_candidates  # noqa: E402
from incidents.extraction.evaluation import evaluate  # noqa: E402
from incidents.seeding import actors_load  # noqa: E402

REPORTS = ROOT / "tests" / "data" / "reports"
SEED_REPORT = ROOT / "tests" / "data" / "seed_report_dw_2019-04-20.txt"
MIN_SCORE = 0.9
WORDS = 1000
TIME_BUDGET_S = 1.0
ROUNDS = 7


def thousand_words():
    words = SEED_REPORT.read_text(encoding="utf-8").split(" ")
    text = " ".join((words * (WORDS // len(words) + 1))[:WORDS])
    return text.rsplit(".", 1)[0] + "."


def main():
    call_command("load_gazetteer", verbosity=0)
    actors_load()
    failed = False
    scores, count = evaluate(REPORTS)
    print(
        f"Test set: {count} reports ({len(list(REPORTS.glob('en_*.txt')))} English, "
        f"{len(list(REPORTS.glob('ar_*.txt')))} Arabic)."
    )
    for name, score in scores.items():
        print(
            f"{name:7} precision {score.precision:6.1%}  recall {score.recall:6.1%}   "
            f"(tp {score.true_positives}, fp {score.false_positives}, fn {score.false_negatives})"
        )
        if name != "actors":  # reported for information; the issue sets the 90 % aim for the other three
            failed |= score.precision < MIN_SCORE or score.recall < MIN_SCORE
    text = thousand_words()
    published = datetime.date(2019, 4, 20)
    extract_candidates(text, published=published)  # first run builds the name index and the actor patterns
    times = []
    for _round in range(ROUNDS):
        start = time.perf_counter()
        candidates = extract_candidates(text, published=published)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(
        f"1,000-word report: {len(text.split())} words, {len(candidates)} candidates, median {median * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms over {ROUNDS} runs (cold first run excluded)."
    )
    start = time.perf_counter()
    from incidents.extraction import gazetteer

    gazetteer._cache["stamp"] = None
    extract_candidates(text, published=published)
    print(f"  with the gazetteer name index rebuilt: {(time.perf_counter() - start) * 1000:.0f} ms")
    failed |= median >= TIME_BUDGET_S
    print("FAIL" if failed else "OK: every score ≥ 90 % and the 1,000-word report under 1 s.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
