"""The editors' assistant, measured: `make bench` (or .venv/bin/python bench/extraction_eval.py).

1. Precision and recall of places, dates and tolls on the hand-written reports in tests/data/reports/ (aim: 90 %
   each).
2. On real news reports (bench/data/real_reports_labels.json; the texts themselves are not ours to copy and live
   outside the repository, in the folder REAL_REPORTS_DIR names, default /work/realreports; skipped when absent):
   the share of the reports' incidents proposed with the right place (within the label's precision) and date (the
   labelled day inside a proposed window of at most a week), aim 80 %; and the share of proposals that are about
   no incident of the report, aim at most 10 %. Given for the whole set, the part rules were tuned on, and the
   held-out part.
3. Time: a 1,000-word report (the seed report repeated) warm, budget 300 ms; and the first report after a web
   process starts (conflictmap.wsgi imported as gunicorn imports it, then one report), budget 1 s.

Exits 1 when the written set's aim or a time budget is missed (the real set's figures are printed, with a note
when below its aim, but do not fail the run: its texts are optional). Runs against the dev database (gazetteer and seed actors, `make setup`).
"""

import datetime
import json
import os
import statistics
import subprocess
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
from incidents.extraction.evaluation import evaluate, evaluate_real  # noqa: E402
from incidents.seeding import actors_load  # noqa: E402

REPORTS = ROOT / "tests" / "data" / "reports"
REAL_LABELS = ROOT / "bench" / "data" / "real_reports_labels.json"
REAL_REPORTS_DIR = Path(os.environ.get("REAL_REPORTS_DIR", "/work/realreports"))
SEED_REPORT = ROOT / "tests" / "data" / "seed_report_rewritten.txt"
MIN_SCORE = 0.9
MIN_REAL_FOUND = 0.8
MAX_REAL_FALSE = 0.1
WORDS = 1000
WARM_BUDGET_S = 0.3
FIRST_BUDGET_S = 1.0
ROUNDS = 7

# A web process's start, as gunicorn (preload_app) does it, then one report: run in a fresh interpreter.
FIRST_REPORT = """
import datetime, os, sys, time
os.environ["SERVER_SOFTWARE"] = "gunicorn/bench"
sys.path.insert(0, {root!r})
started = time.perf_counter()
import conflictmap.wsgi
ready = time.perf_counter()
from incidents.extraction import extract_candidates
text = open({report!r}, encoding="utf-8").read()
extract_candidates(text, published=datetime.date(2019, 4, 20))
print(ready - started, time.perf_counter() - ready)
"""


def thousand_words():
    words = SEED_REPORT.read_text(encoding="utf-8").split(" ")
    text = " ".join((words * (WORDS // len(words) + 1))[:WORDS])
    return text.rsplit(".", 1)[0] + "."


def written_set():
    failed = False
    scores, count = evaluate(REPORTS)
    print(
        f"Written set: {count} reports ({len(list(REPORTS.glob('en_*.txt')))} English, "
        f"{len(list(REPORTS.glob('ar_*.txt')))} Arabic)."
    )
    for name, score in scores.items():
        print(
            f"  {name:7} precision {score.precision:6.1%}  recall {score.recall:6.1%}   "
            f"(tp {score.true_positives}, fp {score.false_positives}, fn {score.false_negatives})"
        )
        if name != "actors":  # reported for information; the 90 % aim is for the other three
            failed |= score.precision < MIN_SCORE or score.recall < MIN_SCORE
    return failed


def real_set():
    if not REAL_REPORTS_DIR.is_dir():
        print(f"Real reports: skipped ({REAL_REPORTS_DIR} is not there; set REAL_REPORTS_DIR).")
        return False
    labelled = len(json.loads(REAL_LABELS.read_text(encoding="utf-8"))["reports"])
    for split in (None, "tune", "holdout", "fresh"):
        score, count = evaluate_real(REAL_LABELS, REAL_REPORTS_DIR, split=split)
        print(
            f"Real reports{f' ({split})' if split else ''}: {count} of {labelled} labelled read; "
            f"{score.found} of {score.required} incidents found with the right place and date ({score.recall:.0%}); "
            f"{score.not_incidents} of {score.proposals} proposals about no incident ({score.false_rate:.0%})."
        )
        if split is None:
            below = score.recall < MIN_REAL_FOUND or score.false_rate > MAX_REAL_FALSE
            if below:
                print(f"  below the aim ({MIN_REAL_FOUND:.0%} found, at most {MAX_REAL_FALSE:.0%} not incidents).")
            for report_id, label, found in score.misses:
                what = f"{label['coded_as']} {label['date']}" if label else "not an incident"
                got = (
                    f"{found['place_reported']} ({found['admin1']}) {found['start_date']}–{found['end_date']}"
                    if found
                    else "nothing"
                )
                print(f"    miss {report_id}: {what} → {got}")
    # Reported, not failed on: the set is optional (its texts are not in the repository), and `make bench` runs on.
    return False


def speed():
    text = thousand_words()
    published = datetime.date(2019, 4, 20)
    extract_candidates(text, published=published)  # the first run builds the indexes
    times = []
    for _round in range(ROUNDS):
        start = time.perf_counter()
        candidates = extract_candidates(text, published=published)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(
        f"1,000-word report: {len(text.split())} words, {len(candidates)} candidates, median {median * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms over {ROUNDS} warm runs (budget {WARM_BUDGET_S * 1000:.0f} ms)."
    )
    script = FIRST_REPORT.format(root=str(ROOT), report=str(SEED_REPORT))
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"]}
    output = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=True
    ).stdout
    start_s, first_s = (float(value) for value in output.split()[-2:])
    print(
        f"Web process start: the assistant readied in {start_s:.1f} s while the server starts; the first report "
        f"after it took {first_s * 1000:.0f} ms (budget {FIRST_BUDGET_S:.0f} s)."
    )
    return median >= WARM_BUDGET_S or first_s >= FIRST_BUDGET_S


def main():
    call_command("load_gazetteer", verbosity=0)
    actors_load()
    failed = written_set()
    failed |= real_set()
    failed |= speed()
    print("FAIL" if failed else "OK: the written set's aim and the time budgets met.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
