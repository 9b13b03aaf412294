"""Load check: the map stays responsive while slow clients download the full export, under `make serve`'s gunicorn.

Creates a scratch database (bench_load_conflictmap) with N published incidents (default 20,000; `--rows`), starts
gunicorn with the production settings and gunicorn.conf.py (as `make serve` does) on 127.0.0.1, then for 60 s runs
20 clients that each browse like the map page does (the map feed and a page of GeoJSON for a random one-year window,
then a pause of about a second, as a person moving the timeline; `--think 0` for none)
while 4 clients download the full GeoJSON export at 100 kB/s each; downloads that are under way at the end are read
to their end. Prints errors, the map feed's p50/p99, the paged GeoJSON's, and whether every download was complete.
Passes with 0 errors, a map-feed p99 under 1 s and every download complete. Run by `make bench`.

Every client comes from 127.0.0.1, so the server runs with rate limits raised: this measures capacity, not limits.
"""

import argparse
import datetime
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TEST_DATABASE_NAME", "bench_load_conflictmap")

from django.db import connection
from export_bench import FIRST_DAY, fill  # importing it sets Django up with the test settings

from conflictmap.localserver import connection_url, free_port
from incidents.models import Incident

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


def start_server(port, cache_dir, log):
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "conflictmap.settings.prod",
        "DATABASE_URL": connection_url(),
        "SECRET_KEY": "load-bench-key",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DOWNLOAD_CACHE_DIR": str(cache_dir),
        "RATE_LIMIT_API": "1000000/60",
        "RATE_LIMIT_DOWNLOAD": "1000000/60",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
    }
    process = subprocess.Popen([str(GUNICORN), "conflictmap.wsgi"], cwd=ROOT, env=environment, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            probe.request("GET", "/healthz")
            if probe.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not come up; see its log")


class Results:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = {"map feed": [], "paged GeoJSON": []}
        self.errors = []
        self.downloads = []  # (bytes, content length, parsed, seconds)

    def latency(self, kind, seconds):
        with self.lock:
            self.latencies[kind].append(seconds)

    def error(self, text):
        with self.lock:
            self.errors.append(text)


def one_year_window(rng):
    start = FIRST_DAY + datetime.timedelta(days=rng.randrange(0, 3650 - 365))
    return {"start": start.isoformat(), "end": (start + datetime.timedelta(days=365)).isoformat()}


def browse(port, stop_at, results, seed, think):
    """One map visitor: the feed and a page of GeoJSON for a year, then a pause (moving the timeline, reading),
    again and again, on a kept-alive connection."""
    rng = random.Random(seed)
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.monotonic() < stop_at:
        window = "&".join(f"{name}={value}" for name, value in one_year_window(rng).items())
        for kind, path in (
            ("map feed", "/map/incidents.json?"),
            ("paged GeoJSON", "/api/incidents.geojson?limit=100&"),
        ):
            started = time.monotonic()
            try:
                client.request("GET", path + window)
                response = client.getresponse()
                body = response.read()
                if response.status != 200:
                    results.error(f"{kind}: HTTP {response.status}")
                else:
                    json.loads(body)
                    results.latency(kind, time.monotonic() - started)
            except (OSError, http.client.HTTPException, ValueError) as failure:
                results.error(f"{kind}: {failure!r}")
                client.close()
                client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        if think:
            time.sleep(rng.uniform(0.5 * think, 1.5 * think))
    client.close()


def download(port, stop_at, results, rate):
    """A slow analyst: the full export at `rate` bytes per second, again until the time is up (the last to its end)."""
    while time.monotonic() < stop_at:
        started = time.monotonic()
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            client.request("GET", "/api/incidents.geojson?download=1")
            response = client.getresponse()
            length = int(response.getheader("Content-Length") or -1)
            parts, received, began = [], 0, time.monotonic()
            while block := response.read(10_000):
                parts.append(block)
                received += len(block)
                ahead = received / rate - (time.monotonic() - began)
                if ahead > 0:
                    time.sleep(ahead)
            parsed = response.status == 200 and bool(json.loads(b"".join(parts))["features"])
            results.downloads.append((received, length, parsed, time.monotonic() - started))
            if response.status != 200:
                results.error(f"download: HTTP {response.status}")
        except (OSError, http.client.HTTPException, ValueError) as failure:
            results.error(f"download: {failure!r}")
            results.downloads.append((0, -1, False, time.monotonic() - started))
        finally:
            client.close()


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--downloaders", type=int, default=4)
    parser.add_argument("--rate", type=int, default=100_000, help="bytes per second per downloader")
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean pause of a map client between interactions, s (0: none)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    creation = connection.creation
    database = creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=args.keep)
    results = Results()
    try:
        missing = args.rows - Incident.objects.published().count()
        if missing > 0:
            fill(missing)
        connection.close()  # the server must not find this process holding the scratch database
        port = free_port()
        with tempfile.TemporaryDirectory() as cache_dir, open(Path(cache_dir) / "gunicorn.log", "w+") as log:
            server = start_server(port, Path(cache_dir) / "downloads", log)
            try:
                # One client alone first: what a map-feed request costs on this machine without the crowd.
                alone = Results()
                browse(port, time.monotonic() + 10, alone, seed=999, think=0)
                stop_at = time.monotonic() + args.seconds
                threads = [
                    threading.Thread(target=browse, args=(port, stop_at, results, seed, args.think))
                    for seed in range(args.clients)
                ]
                threads += [
                    threading.Thread(target=download, args=(port, stop_at, results, args.rate))
                    for _downloader in range(args.downloaders)
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
            finally:
                server.terminate()
                server.wait(timeout=30)
            log.seek(0)
            server_errors = [line for line in log if "Traceback" in line or "[CRITICAL]" in line]
    finally:
        if not args.keep:
            creation.destroy_test_db(database, verbosity=0)

    print(
        f"\nLoad check: {args.rows:,} published incidents, gunicorn {gunicorn_shape()} on 127.0.0.1, {args.seconds:.0f} s"
    )
    print(f"{args.clients} map clients (feed + paged GeoJSON, random one-year windows, {args.think:.1f} s pauses),"
          f" {args.downloaders} full downloads at {args.rate / 1000:.0f} kB/s each")  # fmt: skip
    for kind, latencies in alone.latencies.items():
        print(f"  alone, {kind:<14} {len(latencies):>4} requests  p50 {statistics.median(latencies) * 1000:7.0f} ms")
    print(f"  machine load average at the end: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
    for kind, latencies in results.latencies.items():
        print(
            f"  {kind:<14} {len(latencies):>6} requests  p50 {statistics.median(latencies) * 1000:7.0f} ms"
            f"  p99 {percentile(latencies, 0.99) * 1000:7.0f} ms"
        )
    complete = [size == length and parsed for size, length, parsed, _seconds in results.downloads]
    sizes = sorted({length for _size, length, _parsed, _seconds in results.downloads})
    durations = [seconds for *_rest, seconds in results.downloads]
    print(
        f"  downloads      {len(results.downloads):>6} finished, {sum(complete)} complete (size {sizes} bytes), "
        f"{min(durations or [0]):.0f}-{max(durations or [0]):.0f} s each"
    )
    print(f"  errors         {len(results.errors):>6}{'  ' + '; '.join(results.errors[:5]) if results.errors else ''}")
    print(f"  server tracebacks in the log: {len(server_errors)}")
    map_p99 = percentile(results.latencies["map feed"], 0.99)
    passed = not results.errors and map_p99 < 1.0 and results.downloads and all(complete) and not server_errors
    print(f"result: {'PASS' if passed else 'FAIL'} (0 errors, map feed p99 < 1 s, every download complete)")
    return 0 if passed else 1


def gunicorn_shape():
    threads = os.environ.get("GUNICORN_THREADS", "16")
    return f"{os.environ.get('WEB_CONCURRENCY', '2')} gthread workers x {threads} threads"


if __name__ == "__main__":
    sys.exit(main())
