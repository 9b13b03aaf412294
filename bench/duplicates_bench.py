"""Duplicate hints on real publisher data: a UCDP GED file imported, then the same file previewed as a second import.

The second copy has every event id prefixed (`twin-`), so no row matches its first copy by the dataset's key (an
import would otherwise update the same events): to the import it is another dataset's file of the same events. Its
preview lists, per new row, the possible duplicates among the incidents already there (incidents/duplicates.py,
the same statement the admin's import preview runs). Each row has exactly one true duplicate, its twin; the figures:

- recall: rows whose twin is among their hints (at most duplicates.HINTS_PER_INCIDENT) / rows;
- first: rows whose twin is the first hint / rows;
- precision: hints that are the twin / all hints shown;
- the preview's time and the hints statement's own time.

It reads the file given on the command line (never a path of its own: the file is not in the repository), in a
scratch database (bench_duplicates_conflictmap). Run:
`.venv/bin/python bench/duplicates_bench.py PATH/TO/ged-iraq-hdx.csv [--keep]`.
"""

import argparse
import csv
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conflictmap.settings.test")
os.environ["TEST_DATABASE_NAME"] = os.environ.get("DUPLICATES_BENCH_DATABASE", "bench_duplicates_conflictmap")

import django

django.setup()

from django.db import connection  # noqa: E402

from incidents import duplicates  # noqa: E402
from incidents.importing import import_batch_create, import_events, loading  # noqa: E402
from incidents.models import Incident  # noqa: E402

TWIN_PREFIX = "twin-"


def twin_file(source, target):
    """The file again with every `id` prefixed; the HXL hashtag row (HDX's second line) left as it is."""
    with (
        open(source, newline="", encoding="utf-8-sig") as given,
        open(target, "w", newline="", encoding="utf-8") as out,
    ):
        reader = csv.DictReader(given)
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames)
        writer.writeheader()
        rows = 0
        for row in reader:
            if not row["id"].startswith("#") and row["id"]:
                row["id"] = TWIN_PREFIX + row["id"]
                rows += 1
            writer.writerow(row)
    return rows


def imported(path, *, dry_run):
    batch = import_batch_create(path=path, dry_run=dry_run, user=None)
    started = time.perf_counter()
    batch = import_events(batch=batch, path=path, dataset="ucdp-ged")
    return batch, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("path", help="a UCDP GED CSV file (e.g. HDX's ged-iraq-hdx.csv)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    creation = connection.creation
    database = creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=args.keep)
    # Every row's hints in the report, not the first DUPLICATES_LISTED: the bench scores them all.
    loading.DUPLICATES_LISTED = 10**7
    hint_seconds = []
    staging_hints = duplicates.staging_duplicate_hints

    def timed_hints(**kwargs):
        started = time.perf_counter()
        try:
            return staging_hints(**kwargs)
        finally:
            hint_seconds.append(time.perf_counter() - started)

    loading.staging_duplicate_hints = timed_hints
    try:
        first, first_seconds = imported(args.path, dry_run=False)
        print(
            f"first import: {first.status}, {first.created:,} created, {first.rejected} rejected ({first_seconds:.1f} s)"
        )
        by_event = dict(Incident.objects.filter(dataset="ucdp-ged").values_list("event_id", "pk"))
        with tempfile.TemporaryDirectory() as folder:
            twins = Path(folder) / "ged-twins.csv"
            twin_file(args.path, twins)
            preview, preview_seconds = imported(twins, dry_run=True)
        report = preview.report.get("duplicates", {"rows": 0, "listed": []})
        print(
            f"twin preview: {preview.status}, {preview.created:,} would be created; {preview_seconds:.1f} s in all, "
            f"the hints statement {hint_seconds[-1]:.1f} s; load average {os.getloadavg()[0]:.1f}"
        )
        found = first_place = shown = true = 0
        per_row = Counter()
        for row in report["listed"]:
            twin = by_event[row["event_id"].removeprefix(TWIN_PREFIX)]
            ids = [hint["id"] for hint in row["hints"]]
            per_row[len(ids)] += 1
            shown += len(ids)
            true += ids.count(twin)
            found += twin in ids
            first_place += bool(ids) and ids[0] == twin
        per_row[0] += preview.created - report["rows"]
        print(f"rows: {preview.created:,}; with hints: {report['rows']:,}; hints shown: {shown:,}")
        print(f"recall (twin among the hints): {found / preview.created:.4f} ({found:,} of {preview.created:,})")
        print(f"first (twin ranked first): {first_place / preview.created:.4f} ({first_place:,})")
        print(f"precision (hints that are the twin): {true / shown:.4f} ({true:,} of {shown:,})")
        print("hints per row: " + ", ".join(f"{count}: {rows:,}" for count, rows in sorted(per_row.items())))
        missed = [row for row in report["listed"] if by_event[row["event_id"].removeprefix(TWIN_PREFIX)] not in
                  [hint["id"] for hint in row["hints"]]]  # fmt: skip
        for row in missed[:5]:
            print("  missed:", row["event_id"], row["title"])
    finally:
        if not args.keep:
            creation.destroy_test_db(database, verbosity=0)


if __name__ == "__main__":
    main()
