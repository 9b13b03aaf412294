"""Load check: hostile traffic against `make serve` (nginx in front of gunicorn, production settings) on loopback.

Creates a scratch database (bench_load_conflictmap) with N published incidents (default 20,000; `--rows`), starts
the stack exactly as `make serve` does (scripts/serve.sh), then for 60 s runs at once:
- 200 slow readers, each downloading the full GeoJSON export at 1 KB/s (`--readers`, `--rate`); when the time is
  up each reads the rest at full speed, and its copy must match one read at once and parsed (size, Content-Length,
  SHA-256);
- 20 map clients browsing as the map page does (the map feed and a page of GeoJSON for a random one-year window,
  then a pause of about a second, as a person moving the timeline; `--think 0` for none);
- a load balancer's probe of /healthz every 0.5 s.
Every client has its own loopback address (127.0.1.x, 127.0.2.x, …), so the default rate limits apply per client as
on the internet. Prints errors, /healthz's and the map feed's p50/p99, and whether every download was complete.
Passes with 0 errors, /healthz and map-feed p99 under 250 ms, and every download complete. Run by `make bench`.
"""

import argparse
import contextlib
import datetime
import hashlib
import http.client
import json
import os
import random
import secrets
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

from conflictmap.localserver import connection_url, free_port, serving_stack
from incidents.models import Incident

ROOT = Path(__file__).resolve().parent.parent
P99_LIMIT = 0.250


def client_address(number):
    """A loopback address of its own for client `number` (Linux answers on all of 127.0.0.0/8)."""
    return f"127.0.{1 + number // 250}.{1 + number % 250}"


def connect(port, number, timeout=30):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(client_address(number), 0))


class Results:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = {"healthz": [], "map feed": [], "paged GeoJSON": []}
        self.errors = []
        self.downloads = []  # (bytes, content length, SHA-256, seconds)
        self.answered = {kind: [] for kind in self.latencies}  # when each latency was measured (monotonic)
        self.began = time.monotonic()

    def latency(self, kind, seconds):
        with self.lock:
            self.latencies[kind].append(seconds)
            self.answered[kind].append(time.monotonic())

    def p99_by_window(self, kind, *, width=10):
        """p99 (ms) of each `width`-second window since the crowd came: where in the run the slow answers were."""
        windows = {}
        for when, seconds in zip(self.answered[kind], self.latencies[kind], strict=True):
            windows.setdefault(int((when - self.began) // width), []).append(seconds)
        return [round(percentile(windows[index], 0.99) * 1000) for index in sorted(windows)]

    def error(self, text):
        with self.lock:
            self.errors.append(text)


def one_year_window(rng):
    start = FIRST_DAY + datetime.timedelta(days=rng.randrange(0, 3650 - 365))
    return {"start": start.isoformat(), "end": (start + datetime.timedelta(days=365)).isoformat()}


def timed_get(client, path, kind, results):
    """GET on a kept-alive connection; the latency if 200 and JSON, else an error. Returns the connection to use next."""
    started = time.monotonic()
    try:
        client.request("GET", path)
        response = client.getresponse()
        body = response.read()
        if response.status != 200:
            results.error(f"{kind}: HTTP {response.status}")
        else:
            json.loads(body)
            results.latency(kind, time.monotonic() - started)
        return client
    except (OSError, http.client.HTTPException, ValueError) as failure:
        results.error(f"{kind}: {failure!r}")
        client.close()
        return None


def browse(port, number, stop_at, results, think):
    """One map visitor: the feed and a page of GeoJSON for a year, then a pause, again and again."""
    rng = random.Random(number)
    client = connect(port, number)
    while time.monotonic() < stop_at:
        window = "&".join(f"{name}={value}" for name, value in one_year_window(rng).items())
        for kind, path in (
            ("map feed", "/map/incidents.json?"),
            ("paged GeoJSON", "/api/incidents.geojson?limit=100&"),
        ):
            client = timed_get(client, path + window, kind, results) or connect(port, number)
        if think:
            time.sleep(rng.uniform(0.5 * think, 1.5 * think))
    client.close()


def probe(port, number, stop_at, results, interval=0.5):
    """A load balancer's health check."""
    client = connect(port, number, timeout=10)
    while time.monotonic() < stop_at:
        client = timed_get(client, "/healthz", "healthz", results) or connect(port, number, timeout=10)
        time.sleep(interval)
    client.close()


def download(port, number, stop_at, results, rate):
    """A slow reader: the full export at `rate` bytes per second until the time is up, then the rest at once.
    Records (bytes, Content-Length, SHA-256, seconds): 200 copies of 20 MB are checked, not kept."""
    started = time.monotonic()
    client = connect(port, number, timeout=120)
    digest, received, length = hashlib.sha256(), 0, -1
    try:
        client.request("GET", "/api/incidents.geojson?download=1")
        response = client.getresponse()
        length = int(response.getheader("Content-Length") or -1)
        while block := response.read(1024 if time.monotonic() < stop_at else 1 << 20):
            digest.update(block)
            received += len(block)
            ahead = received / rate - (time.monotonic() - started)
            if ahead > 0 and time.monotonic() < stop_at:
                time.sleep(min(ahead, stop_at - time.monotonic()))
        if response.status != 200:
            results.error(f"download: HTTP {response.status}")
    except (OSError, http.client.HTTPException) as failure:
        results.error(f"download: {failure!r}")
    finally:
        client.close()
        with results.lock:
            results.downloads.append((received, length, digest.hexdigest(), time.monotonic() - started))


def reference_download(port):
    """The full export read at once, parsed: its size and SHA-256, which every slow reader's copy must match."""
    client = connect(port, 9998, timeout=120)
    client.request("GET", "/api/incidents.geojson?download=1")
    body = client.getresponse().read()
    client.close()
    assert json.loads(body)["features"], "the full export has no features"
    return len(body), hashlib.sha256(body).hexdigest()


@contextlib.contextmanager
def gunicorn_alone(*, run_dir, log, environment):
    """The layout before nginx: gunicorn (gunicorn.conf.py, production settings) answering clients itself."""
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "conflictmap.wsgi"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "conflictmap.settings.prod",
            "DATABASE_URL": connection_url(),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            **environment,
        },
        stdout=log,
        stderr=log,
    )
    try:
        while not healthy(port):
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def healthy(port):
    try:
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        client.request("GET", "/healthz")
        return client.getresponse().status == 200
    except OSError:
        return False


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--readers", type=int, default=200)
    parser.add_argument("--rate", type=int, default=1_000, help="bytes per second per slow reader")
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean pause of a map client between interactions, s (0: none)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--direct", action="store_true", help="for comparison: gunicorn alone on a TCP port, as before nginx"
    )
    args = parser.parse_args()

    creation = connection.creation
    database = creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=args.keep)
    results = Results()
    try:
        missing = args.rows - Incident.objects.published().count()
        if missing > 0:
            fill(missing)
        connection.close()  # the server must not find this process holding the scratch database
        run_dir = Path(tempfile.mkdtemp(prefix="cm-load-"))  # short: it holds gunicorn's Unix socket
        log_path = run_dir / "serve.log"
        with (
            log_path.open("w") as log,
            (gunicorn_alone if args.direct else serving_stack)(
                run_dir=run_dir, log=log, environment={"DOWNLOAD_CACHE_DIR": str(run_dir / "downloads")}
            ) as port,
        ):
            # The full export once, read at once: written to its file for this data version (as the first analyst
            # after a change does), and the copy every slow reader's must match.
            reference = reference_download(port)
            # One map client alone first: what a request costs on this machine without the crowd.
            alone = Results()
            browse(port, 9999, time.monotonic() + 10, alone, think=0)
            load_before = os.getloadavg()[0]
            stop_at = time.monotonic() + args.seconds
            results.began = time.monotonic()
            threads = [
                threading.Thread(target=download, args=(port, number, stop_at, results, args.rate))
                for number in range(args.readers)
            ]
            threads += [
                threading.Thread(target=browse, args=(port, args.readers + number, stop_at, results, args.think))
                for number in range(args.clients)
            ]
            threads.append(threading.Thread(target=probe, args=(port, args.readers + args.clients, stop_at, results)))
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            load_after = os.getloadavg()[0]
        server_errors = [
            line for line in log_path.read_text().splitlines() if "Traceback" in line or "[CRITICAL]" in line
        ]
    finally:
        if not args.keep:
            creation.destroy_test_db(database, verbosity=0)

    layout = (
        f"gunicorn {gunicorn_shape()} alone, as before nginx (--direct)"
        if args.direct
        else f"`make serve`: nginx + gunicorn {gunicorn_shape()}"
    )
    print(f"\nLoad check: {args.rows:,} published incidents, {layout} "
          f"on loopback, {args.seconds:.0f} s")  # fmt: skip
    print(f"{args.readers} slow readers of the full GeoJSON at {args.rate / 1000:g} kB/s, {args.clients} map clients "
          f"(feed + paged GeoJSON, random one-year windows, {args.think:.1f} s pauses), /healthz every 0.5 s; "
          "each client from its own address, default rate limits")  # fmt: skip
    for kind, latencies in alone.latencies.items():
        if latencies:
            print(
                f"  alone, {kind:<14} {len(latencies):>4} requests  p50 {statistics.median(latencies) * 1000:7.0f} ms"
            )
    print(
        f"  machine load average (1 min) before / after: {load_before:.1f} / {load_after:.1f} ({os.cpu_count()} CPUs)"
    )
    for kind, latencies in results.latencies.items():
        print(
            f"  {kind:<14} {len(latencies):>6} requests  p50 {statistics.median(latencies or [0]) * 1000:7.0f} ms"
            f"  p99 {percentile(latencies, 0.99) * 1000:7.0f} ms  max {max(latencies or [0]) * 1000:7.0f} ms"
            f"  (p99 by 10 s: {results.p99_by_window(kind)} ms)"
        )
    complete = [(size, digest) == reference and length == size for size, length, digest, _s in results.downloads]
    print(
        f"  downloads      {len(results.downloads):>6} finished, {sum(complete)} complete "
        f"({reference[0]:,} bytes each, the same SHA-256 as a copy read at once)"
    )
    print(f"  errors         {len(results.errors):>6}{'  ' + '; '.join(results.errors[:5]) if results.errors else ''}")
    print(f"  server tracebacks in the log: {len(server_errors)}")
    feed_p99 = percentile(results.latencies["map feed"], 0.99)
    health_p99 = percentile(results.latencies["healthz"], 0.99)
    passed = (
        not results.errors
        and feed_p99 < P99_LIMIT
        and health_p99 < P99_LIMIT
        and len(results.downloads) == args.readers
        and all(complete)
        and not server_errors
    )
    print(
        f"result: {'PASS' if passed else 'FAIL'} (0 errors, /healthz and map feed p99 < {P99_LIMIT * 1000:.0f} ms, "
        "every download complete)"
    )
    return 0 if passed else 1


def gunicorn_shape():
    threads = os.environ.get("GUNICORN_THREADS", "16")
    return f"{os.environ.get('WEB_CONCURRENCY', '2')} gthread workers x {threads} threads"


if __name__ == "__main__":
    sys.exit(main())
