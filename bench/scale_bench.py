"""`make bench-scale`: the public answers at a million published incidents, one gunicorn worker, medians.

Makes (or reuses) the bench database of bench/generate.py (1,000,000 realistic incidents; `--rows`), serves it
with our app under gunicorn (one sync worker, DEBUG off) and times, each over `--runs` (≥ 5) requests on new
connections after a warm-up:

- OGC items?limit=10, target < 30 ms; CQL2 filters on indexed properties at limit=100, target < 50 ms;
- the timeline, every bucket, whole range and filtered by type, country and region, target < 100 ms;
- the home page HTML, target < 100 ms;
- the full GeoJSON download, streamed (every incident, built for the request), against the floor, a `COPY` of
  equivalent JSON of the same incidents measured in the same run (target ≤ 1.5×), and the worker's peak memory
  before and after (flat: it must not grow with the rows); then the unfiltered download's file, written by the
  first request of the run and served to the next;
- the map feed for a few viewports and zooms (`/map/incidents.json?bbox=…&zoom=…`, the map's endpoint);
- the region view's numbers, the trends and the aggregated export (REGION_CASES: target < 150 ms, the export of
  14 years × every governorate × type and sub-type < 1 s);
- vector tiles (bench/tile_bench.py): the four tiles over Syria at zoom 6, target < 100 ms and < 100 KB each, a
  filtered one, and tiles of Aleppo at zooms 8, 11 and 14;
- the change feed (`/api/changes`): pages of 1,000 changes at the start, middle and end of the log and from a
  download's token, target < 100 ms, and 10,000 changes followed page by page (bench/changes_bench.py);
- first paint of the map page in headless Chromium (clusters and timeline bars, target < 1.5 s) and the timeline's
  playback (each step redrawn within its interval, none dropped), by bench/first_paint.py on its own server
  (production settings, static files collected, one sync worker); `--no-browser` leaves them out;
- with `--peers` (what `make bench-scale` runs): items?limit=1000, ten `next` pages and a CQL2 filter at limit=100
  against pygeoapi on the same table (bench/peers), target 1.5× faster.

Prints one table with the targets and the ratios. `--only region,tile` times only the answers whose label holds one
of the texts (`pygeoapi` for the peers' comparison, `first paint`, `full GeoJSON download`).
"""

import argparse
import http.client
import math
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "peers"))

import changes_bench  # noqa: E402
import first_paint  # noqa: E402
import generate  # noqa: E402  (sets up Django on the bench database)
import run_peers  # noqa: E402
import tile_bench  # noqa: E402
from django.db import connection  # noqa: E402

# OGC API – Features Part 3: CQL2 filters on indexed properties (start date, the point), one page of 100.
CQL2_CASES = [
    (
        "OGC CQL2 filter, start_date + event_type, limit=100",
        {"limit": 100, "f": "json", "filter": "start_date >= DATE('2016-01-01') AND event_type = 'battles'"},
        50,
    ),
    (
        "OGC CQL2 filter, S_INTERSECTS(geometry, BBOX(…)), limit=100",
        {"limit": 100, "f": "json", "filter": "S_INTERSECTS(geometry, BBOX(36.9, 36.0, 37.4, 36.4))"},
        50,
    ),
    (
        "OGC CQL2 filter + sortby=-fatalities_best, limit=100",
        {"limit": 100, "f": "json", "filter": "country = 'SY'", "sortby": "-fatalities_best"},
        None,  # no index orders by fatalities: every Syrian incident is read and the top 100 kept
    ),
]
TIMELINE_CASES = [
    ("timeline, whole range (default bucket)", {}),
    ("timeline, bucket=day", {"bucket": "day"}),
    ("timeline, bucket=week", {"bucket": "week"}),
    ("timeline, bucket=month", {"bucket": "month"}),
    ("timeline, bucket=year", {"bucket": "year"}),
    ("timeline, event_type=battles", {"event_type": "battles"}),
    ("timeline, country=SY", {"country": "SY"}),
    ("timeline, admin1=Aleppo, week", {"admin1": "Aleppo", "bucket": "week"}),
    ("timeline, 2015, type + country", {"start": "2015-01-01", "end": "2015-12-31", "event_type": "battles",
                                         "country": "IQ"}),
]  # fmt: skip
# The analyst's views (incidents/regional.py): the region view's numbers under any filter (kept table or live), the
# trends and ACLED's aggregated shape, 14 years × every governorate × event types.
REGION_CASES = [
    ("region view, admin1, no filter", "/api/regions.json", {}, 150),
    ("region view, admin2, no filter", "/api/regions.json", {"level": "admin2"}, 150),
    ("region view, mid-month range + type", "/api/regions.json",
     {"start": "2014-03-10", "end": "2016-08-20", "event_type": "battles"}, 150),
    ("region view, country + precision", "/api/regions.json", {"country": "SY", "precision": "1"}, 150),
    ("region view, actor", "/api/regions.json", {"actor": "ACTOR"}, 150),
    ("region view, actor on side A, mid-month range", "/api/regions.json",
     {"actor": "ACTOR", "side": "a", "start": "2014-03-10", "end": "2016-08-20"}, 150),
    ("region view, two actors", "/api/regions.json", {"actor": ["ACTOR", "ACTOR2"]}, 150),
    ("region view, fatalities_min=5 (live)", "/api/regions.json", {"fatalities_min": 5}, 150),
    ("region view, q=Aleppo (live)", "/api/regions.json", {"q": "Aleppo"}, 150),
    ("region view, Aleppo city bbox (live)", "/api/regions.json", {"bbox": "37.1,36.17,37.22,36.24"}, 150),
    ("trends, event type per month", "/api/trends.json", {}, 150),
    ("trends, event type per week, 2015", "/api/trends.json",
     {"period": "week", "start": "2015-01-01", "end": "2015-12-31"}, 150),
    ("trends, actor per month", "/api/trends.json", {"by": "actor"}, 150),
    ("trends, actor per month, admin1=Aleppo", "/api/trends.json", {"by": "actor", "admin1": "Aleppo"}, 150),
    ("trends, actor per month, event_type=battles", "/api/trends.json",
     {"by": "actor", "event_type": "battles"}, 150),
    ("aggregated, month × admin1 × type × sub-type", "/api/aggregated.csv", {"period": "month"}, 1000),
    ("aggregated, week × admin1 × type × sub-type", "/api/aggregated.csv", {}, 1000),
    ("region boundaries, admin2 (cached)", "/api/regions/boundaries.geojson", {"level": "admin2"}, None),
]  # fmt: skip


def region_cases():
    """REGION_CASES with the bench's first two actors in place of ACTOR and ACTOR2."""
    first, second = (str(pk) for pk in generate.Actor.objects.order_by("pk").values_list("pk", flat=True)[:2])
    actors = {"ACTOR": first, "ACTOR2": second}

    def resolved(value):
        return [actors.get(item, item) for item in value] if isinstance(value, list) else actors.get(value, value)

    return [
        (label, path, {name: resolved(value) for name, value in params.items()}, target)
        for label, path, params, target in REGION_CASES
    ]


# Viewports of the map: all of Syria and Iraq, a governorate, a city; the zoom levels the map would ask at.
MAP_CASES = [
    ("map feed, region, zoom 6", {"bbox": "34.5,29,48.5,38", "zoom": 6}),
    ("map feed, Aleppo governorate, zoom 9", {"bbox": "36.5,35.7,38.5,36.8", "zoom": 9}),
    ("map feed, Aleppo city, zoom 13", {"bbox": "37.1,36.17,37.22,36.24", "zoom": 13}),
]

# The floor of the full download: the same incidents as JSON features built by PostgreSQL from their own row
# (geometry and the row's columns as properties), newest first, streamed out by COPY: no joins, no Python.
COPY_FLOOR = """COPY (
  SELECT json_build_object('type', 'Feature', 'id', i.id, 'geometry', ST_AsGeoJSON(i.location, 6)::json,
                           'properties', to_jsonb(i) - 'location' - 'search_words')
    FROM incidents_incident i WHERE i.status = 'published' ORDER BY i.start_date DESC, i.id DESC
) TO STDOUT"""


def get(port, path):
    """(seconds, status, bytes) of one GET on a new connection, the body read to the end."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        conn.request("GET", path, headers={"Accept-Language": "en"})
        response = conn.getresponse()
        size = 0
        while chunk := response.read(1 << 20):
            size += len(chunk)
    finally:
        conn.close()
    return time.perf_counter() - started, response.status, size


def timed(port, path, runs):
    """Median seconds over `runs` GETs after one warm-up, and the size of the answer; a non-200 stops the bench."""
    _, status, size = get(port, path)
    if status != 200:
        raise SystemExit(f"GET {path}: HTTP {status}")
    return statistics.median(get(port, path)[0] for _ in range(runs)), size


def copy_floor(runs):
    """Median seconds and bytes of COPY_FLOOR read to the end by this process."""
    times = []
    size = 0
    for _ in range(runs):
        started = time.perf_counter()
        size = 0
        with connection.cursor() as cursor:
            with cursor.cursor.copy(COPY_FLOOR) as copy:
                for block in copy:
                    size += len(block)
        times.append(time.perf_counter() - started)
    return statistics.median(times), size


def peak_rss_kib(master_pid):
    """The worker's peak resident memory (VmHWM) in KiB: the one child of the gunicorn master."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    for line in Path(f"/proc/{children[0]}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--download-runs", type=int, default=3)
    parser.add_argument("--peers", action="store_true", help="also items?limit=1000 and paging against pygeoapi")
    parser.add_argument("--no-download", action="store_true", help="leave out the full download and its floor")
    parser.add_argument("--no-browser", action="store_true", help="leave out first paint and playback in Chromium")
    parser.add_argument(
        "--only", help="time only the answers whose label holds one of these texts (e.g. 'region,trends,tile')"
    )
    args = parser.parse_args()
    runs = max(5, args.runs)
    database = generate.open_database()
    generate.fill(args.rows)
    settings = connection.settings_dict
    host, port, user = settings["HOST"] or "", str(settings["PORT"] or 5432), settings["USER"] or ""
    run_peers.WORK.mkdir(parents=True, exist_ok=True)

    rows = []  # (label, median ms, target text, ok or None)

    def wanted(label):
        return not args.only or any(part in label for part in args.only.split(","))

    def add(label, seconds, target_ms=None, note=""):
        ok = None if target_ms is None else seconds * 1000 < target_ms
        target = f"< {target_ms} ms" if target_ms else ""
        rows.append((label, f"{seconds * 1000:,.0f} ms", target, ok, note))

    ours_port = run_peers.free_port()
    # A download folder of this run's own: the first unfiltered download writes the file, the next ones serve it.
    download_dir = Path(tempfile.mkdtemp(prefix="downloads-", dir=run_peers.WORK))
    server = run_peers.start(
        "ours-scale",
        run_peers.ours_server(database, ours_port),
        {**run_peers.ours_env(database), "DOWNLOAD_CACHE_DIR": str(download_dir)},
        ours_port,
    )
    try:
        if wanted("OGC items?limit=10"):
            seconds, _ = timed(ours_port, "/ogcapi/collections/incidents/items?limit=10&f=json", runs)
            add("OGC items?limit=10", seconds, 30)
        for label, params, target in CQL2_CASES:
            if not wanted(label):
                continue
            seconds, _ = timed(ours_port, f"/ogcapi/collections/incidents/items?{urlencode(params)}", runs)
            add(label, seconds, target)
        for label, params in TIMELINE_CASES:
            if not wanted(label):
                continue
            seconds, _ = timed(ours_port, f"/api/timeline?{urlencode(params)}", runs)
            add(label, seconds, 100)
        if wanted("home page HTML"):
            _, status, _ = get(ours_port, "/")
            home = "/" if status == 200 else "/en/"
            seconds, size = timed(ours_port, home, runs)
            add("home page HTML", seconds, 100, f"{size // 1024} KiB")
        for label, params in MAP_CASES:
            if not wanted(label):
                continue
            seconds, size = timed(ours_port, f"/map/incidents.json?{urlencode(params)}", runs)
            add(label, seconds, 150, f"{size // 1024} KiB")
        for label, path, params, target in region_cases():
            if not wanted(label):
                continue
            # Their target is a p95: the median is the table's figure, the p95 (of at least 20 GETs) its note.
            url = f"{path}?{urlencode(params, doseq=True)}"
            seconds, size = timed(ours_port, url, runs)
            times = sorted(get(ours_port, url)[0] for _ in range(max(20, runs)))
            p95 = times[math.ceil(0.95 * len(times)) - 1]
            ok = target is None or p95 * 1000 < target
            add(label, seconds, target, f"p95 {p95 * 1000:,.0f} ms{'' if ok else ' (over)'}, {size // 1024} KiB")
        if wanted("tile"):
            rows += tile_bench.rows(ours_port, runs, timed)
        # The change feed (bench/changes_bench.py): one page of 1,000 < 100 ms; ten pages followed, no target.
        _count, feed_cases = changes_bench.feed_paths()
        for label, paths in feed_cases:
            if not wanted(label):
                continue
            seconds = sum(timed(ours_port, path, runs)[0] for path in paths)
            add(label, seconds, 100 if len(paths) == 1 else None)
        memory_before = peak_rss_kib(server.pid)
        streamed_times, file_times = [], []
        downloads = not args.no_download and wanted("full GeoJSON download")
        for _ in range(args.download_runs if downloads else 0):
            # Every incident (they all start after 2000), but filtered: streamed and built for this request.
            took, status, download_size = get(ours_port, "/api/incidents.geojson?download=1&start=2000-01-01")
            if status != 200:
                raise SystemExit(f"download: HTTP {status}")
            streamed_times.append(took)
        for _ in range(2 if downloads else 0):
            took, status, file_size = get(ours_port, "/api/incidents.geojson?download=1")
            if status != 200:
                raise SystemExit(f"download: HTTP {status}")
            file_times.append(took)
        memory_after = peak_rss_kib(server.pid)
    finally:
        run_peers.stop(server)
        shutil.rmtree(download_dir, ignore_errors=True)
    if streamed_times:
        floor_seconds, floor_size = copy_floor(args.download_runs)
        download = statistics.median(streamed_times)
        ratio = download / floor_seconds
        rows.append(
            (
                "full GeoJSON download, streamed",
                f"{download:,.1f} s",
                "≤ 1.5× COPY",
                ratio <= 1.5,
                f"{ratio:.2f}× the COPY floor ({floor_seconds:.1f} s); {download_size / 2**20:,.0f} MiB "
                f"(floor {floor_size / 2**20:,.0f} MiB); worker peak RSS {memory_before // 1024} → "
                f"{memory_after // 1024} MiB",
            )
        )
        rows.append(
            (
                "full GeoJSON download, the file",
                f"{file_times[0]:,.1f} s",
                "",
                None,
                f"written by the first unfiltered download ({file_times[0] / floor_seconds:.2f}× the floor), "
                f"then served in {file_times[1]:,.1f} s; {file_size / 2**20:,.0f} MiB",
            )
        )

    if not args.no_browser and wanted("first paint"):
        paint_server, paint_port = first_paint.start_server(database)
        try:
            paint = first_paint.measure(paint_port, runs)
        finally:
            run_peers.stop(paint_server)
        first_paint.report(paint)
        rows += first_paint.rows(paint)

    peer_results = []
    if args.peers and wanted("pygeoapi"):
        with run_peers.servers(database, host, port, user) as (ours, peer):
            cases = [
                case
                for case in run_peers.CASES
                if case[0].startswith(("items?limit=1000", "10,000", "items?limit=100&"))
            ]
            peer_results = run_peers.compare(ours, peer, cases, runs)

    width = max((len(row[0]) for row in rows), default=8) + 2
    print()
    print(f"{args.rows:,} published incidents in {database}; one gunicorn sync worker, medians of {runs} runs")
    print(f"({args.download_runs} for the download), a new connection per request.")
    target_width = max([14, *(len(row[2]) + 2 for row in rows)])
    print(f"{'answer':<{width}}{'median':>12}  {'target':<{target_width}}{'met':<5}note")
    for label, value, target, ok, note in rows:
        met = "" if ok is None else ("yes" if ok else "NO")
        print(f"{label:<{width}}{value:>12}  {target:<{target_width}}{met:<5}{note}")
    if peer_results:
        run_peers.print_comparison(peer_results, args.rows, database)
        print("target: ratio ≥ 1.5x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
