"""Import benchmark: a generated ACLED-format file of N rows (default 100,000), imported, then imported again.

The generator (`write_acled_file`) writes invented events in ACLED's 31-column export layout: deterministic
(seeded), spread over 2017–2024 in Syria and Iraq, ACLED's six event types and their sub-types, 60 actors (ACLED-style
"(Syria)" suffixes, inter codes 1–8, associated actors on a third of the rows), 2,500 places, 1–3 of 30 outlets per
row, notes of 80–400 characters (one in twenty over two lines), the three date spellings ACLED has used, CRLF line
ends and a BOM. Nothing is copied from ACLED's data.

It creates a scratch database (bench_import_conflictmap), imports a tenth of the rows first and then all of them,
and prints time and the process's peak resident memory after each step: memory must stay flat in the file size.
Between the two it chooses the map's terms (services.map_terms_refresh: words in at least 5 % of the incidents, the
default's share at a million), so the large import also pays for keeping their map cells (`--no-map-terms`: not).
Targets: 100,000 rows in under 60 s, re-import under 30 s; 1,000,000 rows in under 10 minutes, with every kept table
equal to a recount afterwards (`--check`, tests/kept_recount.py). Run with `make bench` or
`.venv/bin/python bench/import_bench.py [--rows N] [--check] [--no-reimport] [--keep]`.
"""

import argparse
import csv
import datetime
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conflictmap.settings.test")
# Its own scratch database (IMPORT_BENCH_DATABASE names another, for two sizes at once), never the tests'.
os.environ["TEST_DATABASE_NAME"] = os.environ.get("IMPORT_BENCH_DATABASE", "bench_import_conflictmap")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from incidents.importing import import_batch_create, import_events  # noqa: E402
from incidents.models import Status  # noqa: E402
from incidents.services import map_terms_refresh  # noqa: E402
from tests.kept_recount import kept_tables_differing  # noqa: E402

ACLED_HEADER = [
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type", "sub_event_type",
    "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "interaction", "civilian_targeting",
    "iso", "region", "country", "admin1", "admin2", "admin3", "location", "latitude", "longitude", "geo_precision",
    "source", "source_scale", "notes", "fatalities", "tags", "timestamp",
]  # fmt: skip
EVENT_TYPES = {
    "Battles": ["Armed clash", "Government regains territory", "Non-state actor overtakes territory"],
    "Explosions/Remote violence": [
        "Air/drone strike", "Shelling/artillery/missile attack", "Remote explosive/landmine/IED", "Suicide bomb",
    ],
    "Violence against civilians": ["Attack", "Abduction/forced disappearance"],
    "Protests": ["Peaceful protest", "Protest with intervention"],
    "Riots": ["Violent demonstration", "Mob violence"],
    "Strategic developments": ["Arrests", "Looting/property destruction", "Other"],
}  # fmt: skip
COUNTRIES = {
    "Syria": ("SYR", 760, (32.5, 37.2), (35.8, 42.2), ["Aleppo", "Idleb", "Hama", "Homs", "Deir ez-Zor", "Raqqa"]),
    "Iraq": ("IRQ", 368, (29.5, 37.3), (39.0, 48.5), ["Ninewa", "Anbar", "Salah al-Din", "Baghdad", "Diyala"]),
}
WORDS = "forces reported clashes near the village after shelling during the night with casualties among".split()


def write_acled_file(path, rows, *, seed=20200509, id_prefix=""):
    """Invented ACLED-format events, streamed to `path`; see the module docstring for what they look like."""
    rng = random.Random(seed)
    actors = [(f"Bench Armed Group {number} ({country})", rng.randint(1, 8)) for number in range(60) for country in
              [rng.choice(list(COUNTRIES))]]  # fmt: skip
    places = []
    for number in range(2500):
        country = rng.choice(list(COUNTRIES))
        _iso3, _iso, (lat0, lat1), (lon0, lon1), regions = COUNTRIES[country]
        places.append((country, rng.choice(regions), f"Bench Place {number:04d}",
                       round(rng.uniform(lat0, lat1), 4), round(rng.uniform(lon0, lon1), 4)))  # fmt: skip
    outlets = [f"Bench Outlet {number}" for number in range(30)]
    first = datetime.date(2017, 1, 1)
    with open(path, "w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\r\n")
        writer.writerow(ACLED_HEADER)
        for number in range(rows):
            country, admin1, location, latitude, longitude = rng.choice(places)
            iso3, iso, *_rest = COUNTRIES[country]
            day = first + datetime.timedelta(days=rng.randrange(2900))
            spelled = [day.isoformat(), day.strftime("%d %B %Y"), f"{day.day}-{day:%b-%y}"][number % 3]
            event_type = rng.choice(list(EVENT_TYPES))
            actor1, inter1 = rng.choice(actors)
            actor2, inter2 = rng.choice(actors) if rng.random() < 0.7 else ("", "")
            note = " ".join(rng.choice(WORDS) for _word in range(rng.randint(12, 60)))
            if number % 20 == 0:
                note += "\nSecond line of the note."
            writer.writerow([
                f"{id_prefix}{iso3}{number + 1}", spelled, day.year, rng.choice("1112223"), "Political violence", event_type,
                rng.choice(EVENT_TYPES[event_type]), actor1,
                "; ".join(name for name, _inter in rng.sample(actors, 2)) if rng.random() < 0.33 else "",
                inter1, actor2, "", inter2, f"{inter1}{inter2}", "", iso, "Middle East", country, admin1,
                f"{admin1} district", "", location, latitude, longitude, rng.choice("1112223"),
                "; ".join(rng.sample(outlets, rng.randint(1, 3))), "National", note,
                min(int(rng.expovariate(0.5)), 400), "", 1_600_000_000 + number,
            ])  # fmt: skip


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def backend_cpu_seconds():
    """CPU time of this connection's PostgreSQL backend (local cluster): with other jobs sharing the cores, CPU
    seconds say what the import costs when wall-clock time cannot."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_import(path, label):
    started, python_cpu, postgres_cpu = time.perf_counter(), time.process_time(), backend_cpu_seconds()
    batch = import_batch_create(path=path, user=None, requested_status=Status.PUBLISHED, dry_run=False)
    batch = import_events(batch=batch, path=path)
    seconds = time.perf_counter() - started
    python_cpu, postgres_cpu = time.process_time() - python_cpu, backend_cpu_seconds() - postgres_cpu
    print(
        f"{label:<24} {seconds:6.1f} s wall ({python_cpu:5.1f} s Python + {postgres_cpu:5.1f} s PostgreSQL CPU)  "
        f"peak RSS {peak_rss_mb():4.0f} MB  load {os.getloadavg()[0]:4.1f}  "
        f"created {batch.created}, updated {batch.updated}, unchanged {batch.unchanged} ({batch.status})"
    )
    if batch.status != "done":
        raise SystemExit(batch.message)
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--no-map-terms", action="store_true", help="import with no map terms chosen")
    parser.add_argument("--check", action="store_true", help="compare every kept table with a recount afterwards")
    parser.add_argument("--no-reimport", action="store_true", help="skip the re-import of the large file")
    args = parser.parse_args()
    creation = connection.creation
    database = creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=args.keep)
    try:
        with tempfile.TemporaryDirectory() as folder:
            small, large = Path(folder) / "acled_small.csv", Path(folder) / "acled_large.csv"
            write_acled_file(small, args.rows // 10, seed=1, id_prefix="S")
            write_acled_file(large, args.rows)
            size = large.stat().st_size / 1e6
            print(f"ACLED-format file: {args.rows:,} rows, {size:.0f} MB (and {args.rows // 10:,} rows for memory)")
            print(f"{'start':<24} peak RSS {peak_rss_mb():4.0f} MB; load average {os.getloadavg()[0]:.1f}")
            timed_import(small, f"import {args.rows // 10:,} rows")
            if not args.no_map_terms:
                terms = map_terms_refresh(
                    min_incidents=max(1, args.rows // 10 // 20), max_terms=settings.MAP_TERM_MAX_TERMS
                )["terms"]
                print(f"map terms: {len(terms)} ({', '.join(term for term, _ in terms)})")
            first = timed_import(large, f"import {args.rows:,} rows")
            if args.check:
                started = time.perf_counter()
                with transaction.atomic():
                    differing = kept_tables_differing()
                wrong = {table: rows for table, rows in differing.items() if rows}
                print(f"kept tables against a recount ({time.perf_counter() - started:.0f} s): "
                      f"{'all exact' if not wrong else f'DIFFERING ROWS {wrong}'} ({', '.join(differing)})")  # fmt: skip
            again = None if args.no_reimport else timed_import(large, f"re-import {args.rows:,} rows")
            target = 60 * args.rows / 100_000
            print(f"targets: import < {target:.0f} s ({'ok' if first < target else 'MISSED'})"
                  + ("" if again is None else f", re-import < 30 s ({'ok' if again < 30 else 'MISSED'})"))  # fmt: skip
    finally:
        if not args.keep:
            creation.destroy_test_db(database, verbosity=0)


if __name__ == "__main__":
    main()
