"""The change feed (/api/changes) on the bench database: pages of 1,000 changes at the start, middle and end of the
log, a download's token, "a day of 10,000 changes" followed page by page, and what the log adds to a 100,000-row
write. Target (issue 22): a page of 1,000 changes < 100 ms at 1 M incidents.

`make bench-scale` times the pages over HTTP (one gunicorn worker, scale_bench.py calls feed_paths()); run alone,
`.venv/bin/python bench/changes_bench.py [--rows N]` times them in-process (Django's test client, no server) and
also the log's cost on writes (in a transaction rolled back: the bench database is left as it was).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # sets up Django on the bench database
from django.db import connection, transaction
from django.test import Client

from incidents.api.http import make_change_token

PAGE = 1000


def feed_paths():
    """(label, [paths]) for the page cases; a case of several paths is one client following `next` through them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id), count(*), max(data_version) FROM incidents_incidentchange")
        first, last, count, version = cursor.fetchone()
    first, last = first or 0, last or 0
    page = f"/api/changes?limit={PAGE}&since="
    day = [page + make_change_token("c", max(0, last - 10_000) + n * PAGE) for n in range(10)]
    return count, [
        ("change feed, first page of 1,000", [f"/api/changes?limit={PAGE}"]),
        ("change feed, a page of 1,000 mid-log", [page + make_change_token("c", (first + last) // 2)]),
        ("change feed, the last 1,000", [page + make_change_token("c", max(0, last - PAGE))]),
        ("change feed, from a download's version", [page + make_change_token("v", max(0, (version or 0) - 1))]),
        ("change feed, 10,000 changes (10 pages)", day),
    ]


def write_cost(rows=100_000):
    """Seconds to remove and rebuild `rows` kept features (what an import's rebuild and a revert do), with and
    without the log's triggers; rolled back."""
    timings = {}
    for label, disable in (("with the log", False), ("without the log", True)):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                if disable:
                    for event in ("insert", "update", "delete"):
                        cursor.execute(
                            f"ALTER TABLE incidents_incidentfeature DISABLE TRIGGER incidents_incidentfeature_change_{event}"
                        )
                cursor.execute("SELECT array_agg(incident_id) FROM (SELECT incident_id FROM incidents_incidentfeature"
                               " ORDER BY incident_id LIMIT %s) AS chosen", [rows])  # fmt: skip
                (ids,) = cursor.fetchone()
                started = time.perf_counter()
                cursor.execute("DELETE FROM incidents_incidentfeature WHERE incident_id = ANY(%s)", [ids])
                cursor.execute("SELECT conflictmap_incident_features_rebuild(%s::bigint[])", [ids])
                timings[label] = time.perf_counter() - started
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    return timings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--release", action="store_true", help="also time a release against the full downloads")
    args = parser.parse_args()
    database = generate.open_database()
    generate.fill(args.rows)
    count, cases = feed_paths()
    client = Client(HTTP_HOST="localhost")
    print(
        f"{database}: {args.rows:,} published incidents, {count:,} changes logged; in-process, medians of {args.runs}"
    )
    for label, paths in cases:
        for path in paths:  # warm-up
            assert client.get(path).status_code == 200, path
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            for path in paths:
                response = client.get(path)
                assert response.status_code == 200
            times.append(time.perf_counter() - started)
        size = len(response.content)
        print(f"  {label:<44}{statistics.median(times) * 1000:>9,.0f} ms  ({size / 1024:,.0f} KiB a page)")
    for label, seconds in write_cost().items():
        print(f"  100,000 features removed and rebuilt, {label:<20}{seconds:>7,.1f} s")
    if args.release:
        release_against_downloads(client)
    return 0


def release_against_downloads(client):
    """A release (both files in one snapshot) against writing today's two full-download files, in a scratch folder."""
    import tempfile

    from django.conf import settings

    from incidents import releases
    from incidents.models import Release

    # The release's frozen rows (what ?release= pages read), timed apart: the copy is one statement of release_create.
    freezing, freeze = [], releases._features_freeze

    def timed_freeze(**kwargs):
        started = time.perf_counter()
        frozen = freeze(**kwargs)
        freezing.append(time.perf_counter() - started)
        return frozen

    releases._features_freeze = timed_freeze

    with tempfile.TemporaryDirectory(dir=settings.LOCAL_DIR) as scratch:
        settings.DOWNLOAD_CACHE_DIR = Path(scratch) / "downloads"
        settings.RELEASES_DIR = Path(scratch) / "releases"
        started = time.perf_counter()
        for path in ("/api/incidents.geojson?download=1", "/api/incidents.csv"):
            response = client.get(path)  # writes the file, then serves it
            assert response.status_code == 200
            response.close()
        downloads = time.perf_counter() - started
        started = time.perf_counter()
        release = releases.release_create(name=f"bench-{int(time.time())}")
        took = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_total_relation_size('incidents_releasefeature')")
            (table_bytes,) = cursor.fetchone()
        sizes = ", ".join(
            f"{name} {entry['bytes'] / 2**20:,.0f} MiB" for name, entry in release.manifest["files"].items()
        )
        Release.objects.filter(pk=release.pk).delete()
    print(f"  the two full-download files written     {downloads:>9,.1f} s")
    print(f"  a release of the same                    {took:>9,.1f} s  ({took / downloads:.2f}×; {sizes})")
    print(f"    of which its frozen rows (ReleaseFeature) {freezing[0]:>6,.1f} s  ({table_bytes / 2**20:,.0f} MiB)")


if __name__ == "__main__":
    sys.exit(main())
