"""Peer benchmark: our OGC API – Features items endpoint against pygeoapi's, on the same PostGIS rows.

Prepares the scratch database of bench/export_bench.py (kept: `--keep`), with 100,000 published incidents
(`--rows`), and a view bench_published_incidents (published rows only, the scratch database only) for pygeoapi.
Starts our app with gunicorn and pygeoapi with gunicorn (its own virtualenv, .local/bench-peers-venv, from
bench/peers/requirements.txt), one sync worker each on 127.0.0.1, then times the same requests on both, in turn,
one new connection per request as a client makes, and prints the medians and the ratio. Both answers must match
(numberMatched, feature count, feature ids in order). Both servers are stopped at the end, on failure too.
Run with `make bench-peers`, which makes the virtualenv when it is missing.
"""

import argparse
import contextlib
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from string import Template
from urllib.parse import parse_qs, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent.parent
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from conflictmap.localserver import free_port  # noqa: E402 -- the project root is put on the path just above

PEERS_VENV = ROOT / ".local" / "bench-peers-venv"
WORK = ROOT / ".local" / "bench-peers"
SCRATCH = os.environ.get("TEST_DATABASE_NAME", "bench_conflictmap")
OURS_ITEMS = "/ogcapi/collections/incidents/items"
PEER_ITEMS = "/collections/incidents/items"
# pygeoapi orders by id unless told; ours by newest first. Ask it for our order so both return the same features.
PEER_SORT = {"sortby": "-start_date,-id"}
TIMEOUT = 120  # seconds, one request


def database_url():
    """The same lookup as conflictmap/settings/base.py: DATABASE_URL, else the project-local cluster's."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    local = ROOT / ".local" / "database_url"
    if not local.exists():
        raise SystemExit("No database: run `make setup` first (or set DATABASE_URL).")
    return local.read_text().strip()


def prepare_database(rows):
    """Fill the kept scratch database as export_bench does; (database, host, port, user)."""
    sys.path.insert(0, str(ROOT / "bench"))
    import export_bench  # sets up Django with the test settings and TEST_DATABASE_NAME=bench_conflictmap
    from django.db import connection

    from incidents.models import Incident

    database = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=True)
    missing = rows - Incident.objects.published().count()
    if missing < 0:
        raise SystemExit(f"{database} holds more than {rows:,} incidents; drop it or run bench/export_bench.py.")
    if missing:
        started = time.perf_counter()
        export_bench.fill(missing)
        print(f"created {missing:,} incidents in {database} in {time.perf_counter() - started:.1f} s")
    settings = connection.settings_dict
    return database, settings["HOST"] or "", str(settings["PORT"] or 5432), settings["USER"] or ""


def start(name, argv, env, port):
    log = open(WORK / f"{name}.log", "w")
    process = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
    )
    process.log = log
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with {process.returncode}; see {log.name}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{name} did not listen on 127.0.0.1:{port} within 60 s; see {log.name}")


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # gunicorn's master and its worker: the group this run started
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    process.log.close()


def get(port, path):
    """(seconds, body as JSON, bytes) of one GET on a new connection, the body read to the end."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request("GET", path, headers={"Accept": "application/geo+json"})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    seconds = time.perf_counter() - started
    if response.status != 200:
        raise SystemExit(f"GET 127.0.0.1:{port}{path}: HTTP {response.status}: {body[:300]!r}")
    return seconds, json.loads(body), len(body)


def single(port, path, params):
    """One page: (seconds, summary, bytes)."""
    seconds, document, size = get(port, f"{path}?{urlencode(params)}")
    return seconds, summary(document, [document]), size


def paged(port, path, params, wanted):
    """Pages from `path` following `next` links until `wanted` features: (seconds, summary, bytes)."""
    seconds, document, size = get(port, f"{path}?{urlencode(params)}")
    pages = [document]
    while sum(len(page["features"]) for page in pages) < wanted:
        (link,) = [link["href"] for link in pages[-1]["links"] if link["rel"] == "next"]
        parts = urlsplit(link)
        if parts.hostname != "127.0.0.1":
            raise SystemExit(f"next link leaves loopback: {link}")
        # pygeoapi's next link may drop parameters it was given; keep ours (sortby) as a client would have to.
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        query = {**{key: value for key, value in params.items() if key not in query}, **query}
        took, document, more = get(port, f"{parts.path}?{urlencode(query)}")
        seconds, size = seconds + took, size + more
        pages.append(document)
    return seconds, summary(pages[0], pages), size


def summary(first, pages):
    ids = [int(feature["id"]) for page in pages for feature in page["features"]]
    return {"numberMatched": first.get("numberMatched"), "features": len(ids), "ids": ids}


@contextlib.contextmanager
def servers(database, host, port, user):
    """Ours and pygeoapi, one gunicorn sync worker each on loopback, over `database`: yields (ours, peer) ports."""
    for tool in ("gunicorn", "pygeoapi"):
        if not (PEERS_VENV / "bin" / tool).exists():
            raise SystemExit(f"{PEERS_VENV}/bin/{tool} is missing: run `make bench-peers`.")
    WORK.mkdir(parents=True, exist_ok=True)
    if host and not host.startswith("/") and host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"the database is on {host}: this benchmark runs on loopback only.")
    from django.db import connection  # Django is set up on `database` by the caller

    from incidents.models import Incident

    # Every stored field but generated ones (the words `q` searches, a tsvector of about 180 bytes): pygeoapi would
    # send them with each feature, which our API does not, and the comparison would time that instead.
    columns = ", ".join(
        connection.ops.quote_name(field.column) for field in Incident._meta.concrete_fields if not field.generated
    )
    with connection.cursor() as cursor:
        cursor.execute("DROP VIEW IF EXISTS bench_published_incidents")
        cursor.execute(
            f"CREATE VIEW bench_published_incidents AS SELECT {columns} FROM incidents_incident "
            "WHERE status = 'published'"
        )
    ours_port, peer_port = free_port(), free_port()
    values = {"port": peer_port, "db_host": host, "db_port": port, "db_name": database, "db_user": user}
    config = WORK / "pygeoapi-config.yml"
    config.write_text(Template((HERE / "pygeoapi-config.yml").read_text()).substitute(values))
    openapi = WORK / "pygeoapi-openapi.yml"
    peer_env = {
        **os.environ,
        "PYGEOAPI_CONFIG": str(config),
        "PYGEOAPI_OPENAPI": str(openapi),
        "PATH": f"{PEERS_VENV}/bin:{os.environ['PATH']}",
    }
    subprocess.run(
        [PEERS_VENV / "bin" / "pygeoapi", "openapi", "generate", str(config), "--output-file", str(openapi)],
        env=peer_env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    started = []

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        started.append(start("ours", ours_server(database, ours_port), ours_env(database), ours_port))
        started.append(
            start(
                "pygeoapi",
                [PEERS_VENV / "bin/gunicorn", *GUNICORN, "-b", f"127.0.0.1:{peer_port}", "pygeoapi.flask_app:APP"],
                peer_env,
                peer_port,
            )
        )
        yield ours_port, peer_port
    finally:
        for server in started:
            stop(server)


# One sync worker, whatever gunicorn.conf.py (picked up from the working folder by both) says for `make serve`.
GUNICORN = ["--workers", "1", "--worker-class", "sync", "--threads", "1", "--timeout", str(TIMEOUT),
            "--log-level", "warning"]  # fmt: skip


def ours_env(database):
    return {
        **os.environ,
        "DATABASE_URL": urlsplit(database_url())._replace(path=f"/{database}").geturl(),
        "DJANGO_SETTINGS_MODULE": "conflictmap.settings.dev",
        "DEBUG": "false",  # no query log, as in production
        # Persistent database connections, as in production (or PgBouncer) and as pygeoapi's SQLAlchemy pool keeps.
        "CONN_MAX_AGE": "600",
        # One client asks for thousands of answers a minute: still counted per request as in production, never refused.
        "RATE_LIMIT_API": "1000000/60",
        "RATE_LIMIT_DOWNLOAD": "1000000/60",
    }


def ours_server(database, port):
    return [ROOT / ".venv/bin/gunicorn", *GUNICORN, "-b", f"127.0.0.1:{port}", "conflictmap.wsgi:application"]


CQL2_FILTER = "country = 'SY' AND fatalities_best >= 10"
CASES = [
    ("items?limit=1000", single, {"limit": 1000}),
    ("items?limit=1000&bbox=36,33,40,37", single, {"limit": 1000, "bbox": "36,33,40,37"}),
    ("items?limit=10000", single, {"limit": 10000}),
    ("10,000 features, limit=1000, via next", paged, {"limit": 1000}),
    # OGC API – Features Part 3: a CQL2 text filter both servers parse (pygeoapi's PostgreSQL provider through
    # pygeofilter, ours through cql2), on columns that have the same names in both.
    ("items?limit=100&filter=" + CQL2_FILTER, single, {"limit": 100, "filter": CQL2_FILTER}),
]


def compare(ours_port, peer_port, cases, runs):
    """Time each case on both servers in turn; rows for print_comparison."""
    results = []
    for label, fetch, params in cases:
        extra = (10_000,) if fetch is paged else ()
        case_runs = runs if fetch is single and params.get("limit", 0) <= 1000 else max(3, runs // 2)
        ours_params, peer_params = {**params, "f": "json"}, {**params, **PEER_SORT, "f": "json"}
        # warm-up, and the check that both answer the same
        _, ours_summary, ours_size = fetch(ours_port, OURS_ITEMS, ours_params, *extra)
        _, peer_summary, peer_size = fetch(peer_port, PEER_ITEMS, peer_params, *extra)
        if ours_summary["features"] != peer_summary["features"]:
            raise SystemExit(
                f"{label}: features ours {ours_summary['features']} != pygeoapi {peer_summary['features']}"
            )
        # numberMatched is optional in OGC API; ours gives it only when the aggregates know it, and then it must agree.
        if ours_summary["numberMatched"] is not None and ours_summary["numberMatched"] != peer_summary["numberMatched"]:
            raise SystemExit(f"{label}: numberMatched ours {ours_summary['numberMatched']} != pygeoapi's")
        same_ids = ours_summary["ids"] == peer_summary["ids"]
        ours_times, peer_times = [], []
        for _ in range(case_runs):  # in turn, so a drift in the machine's speed hits both
            ours_times.append(fetch(ours_port, OURS_ITEMS, ours_params, *extra)[0])
            peer_times.append(fetch(peer_port, PEER_ITEMS, peer_params, *extra)[0])
        results.append((label, case_runs, peer_summary, same_ids, ours_size, peer_size, ours_times, peer_times))
        print(f"  {label}: done", file=sys.stderr)
    return results


def print_comparison(results, rows, database):
    kib = 1024
    row = "{:<40}{:>11}{:>14}{:>14}{:>10}{:>16}".format
    print()
    print(f"OGC API – Features items, {rows:,} published incidents in {database}; one gunicorn sync worker each,")
    print("a new connection per request, median of the runs (min–max in brackets); ratio = pygeoapi / ours.")
    print(row("request", "matched", "ours", "pygeoapi", "ratio", "KiB ours/peer"))
    for label, runs, summary_, same_ids, ours_size, peer_size, ours_times, peer_times in results:
        ours_median, peer_median = statistics.median(ours_times), statistics.median(peer_times)
        print(
            row(
                label + ("" if same_ids else " (*)"),
                f"{summary_['numberMatched']:,}" if summary_["numberMatched"] is not None else "",
                f"{ours_median * 1000:.0f} ms",
                f"{peer_median * 1000:.0f} ms",
                f"{peer_median / ours_median:.1f}x",
                f"{ours_size // kib:,}/{peer_size // kib:,}",
            )
        )
        print(
            row(
                f"  {runs} runs",
                "",
                f"({min(ours_times) * 1000:.0f}–{max(ours_times) * 1000:.0f})",
                f"({min(peer_times) * 1000:.0f}–{max(peer_times) * 1000:.0f})",
                "",
                "",
            )
        )
    if not all(result[3] for result in results):
        print("(*) same counts, but not the same feature ids in the same order.")
    print("pygeoapi is asked for our order (sortby=-start_date,-id); its features carry the table's columns,")
    print("ours also carry actors and sources.")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=9, help="timed runs of each one-page request (paging: a third)")
    args = parser.parse_args()
    database, host, port, user = prepare_database(args.rows)
    with servers(database, host, port, user) as (ours_port, peer_port):
        results = compare(ours_port, peer_port, CASES, args.runs)
    print_comparison(results, args.rows, database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
