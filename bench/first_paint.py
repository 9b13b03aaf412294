"""First paint and playback of the public map in headless Chromium, at a million incidents (issue 11).

Serves the bench database of bench/generate.py (1,000,000 published incidents; `--rows`) as bench/scale_bench.py
does (gunicorn, one sync worker, DEBUG off; no tile server, so the page asks nothing of the internet) and drives
Debian's Chromium with Playwright, as the browser tests do:

- first paint, per run on a fresh browser context (empty cache): from navigation start to (a) the first cluster or
  marker drawn on the map and (b) the timeline's bars drawn, each taken at the animation frame after the node was
  inserted (the frame that paints it); and every request the page made, when it started and how long it took;
- playback: press *Play* at a given speed (the page's "normal" 500 ms and "fast" 150 ms) and, for each step of the
  timeline, the time from the brush moving to the map's redraw (feed fetched and drawn), whether the step was drawn
  before the next one began (a step not drawn is "dropped": a newer step superseded it), how often the brush really
  moved (the page holds it while the map has not drawn the last step) and how long each feed request took.

Medians over `--runs` (≥ 5). `make bench-scale` runs it after the other answers (`measure` and `rows` below).
Run alone: `.venv/bin/python bench/first_paint.py [--rows N] [--runs N] [--steps N]`.
"""

import argparse
import contextlib
import itertools
import secrets
import statistics
import sys
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "peers"))
sys.path.insert(0, str(HERE.parent))

from conflictmap.localserver import CHROMIUM_LAUNCH  # noqa: E402 -- the project root is put on the path just above

TARGET_MS = 1500
SPEEDS = {"normal": 500, "fast": 150}  # the values of the page's #play-speed options
# Where the visitor lands (the whole region, clusters read from the map cells) and a city close up (clusters
# counted live from the incidents in view, the feed's dearest case in bench/scale_bench.py).
VIEWS = {"home page": "/", "Aleppo city, zoom 13": "/?at=13/36.2050/37.1650"}


# Runs before the page's own scripts (Playwright injects it outside the page's CSP). It only watches the DOM: the
# times are performance.now(), milliseconds since navigation start, of the frame after each change.
PROBE = """
(() => {
  const probe = (window.__bench = { marker: null, bars: null, steps: [], draws: [] });
  const atFrame = (record) => requestAnimationFrame(() => record(performance.now()));
  let lastStart = null;
  new MutationObserver((records) => {
    if (probe.marker === null && document.querySelector("#incident-map .incident-cluster, #incident-map .incident-marker")) {
      probe.marker = -1;
      atFrame((t) => (probe.marker = t));
    }
    if (probe.bars === null && document.querySelector(".timeline-svg .bars rect")) {
      probe.bars = -1;
      atFrame((t) => (probe.bars = t));
    }
    for (const record of records) {
      if (record.type === "attributes" && record.attributeName === "data-mode" && record.target.id === "incident-map") {
        const map = record.target.dataset;
        const draw = { at: performance.now(), mode: map.mode, markers: +map.markerCount, clusters: +map.clusterCount };
        probe.draws.push(draw);
        atFrame((t) => (draw.painted = t));
      }
    }
    // A playback step: the brush's start handle moved to a new day.
    const start = document.querySelector(".timeline-svg .handle-start");
    const day = start && start.getAttribute("aria-valuenow");
    if (day && day !== lastStart) {
      lastStart = day;
      probe.steps.push({ at: performance.now(), day: +day });
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-mode"] });
})();
"""


def _path(url):
    return urlsplit(url).path


class RequestLog:
    """Every request of a page, from Playwright's events: path, start (ms since navigation start), ms, outcome."""

    def __init__(self, page):
        self.page = page
        self.entries = []
        page.on("requestfinished", lambda request: self._add(request, "ok"))
        page.on("requestfailed", lambda request: self._add(request, request.failure or "failed"))

    def _add(self, request, outcome):
        timing = request.timing
        self.entries.append(
            {"url": request.url, "path": _path(request.url), "start_epoch": timing["startTime"],
             "ms": timing["responseEnd"] if timing["responseEnd"] >= 0 else None, "outcome": outcome}
        )  # fmt: skip

    def relative(self, origin):
        """The entries with their start in ms since navigation start (origin: the page's performance.timeOrigin)."""
        return [{**entry, "start": entry["start_epoch"] - origin} for entry in self.entries]


@contextlib.contextmanager
def map_page(browser, url):
    """The map page at `url` in a fresh context (empty cache), once clusters and bars are drawn: (page, RequestLog)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    try:
        context.add_init_script(PROBE)
        page = context.new_page()
        log = RequestLog(page)
        page.goto(url, wait_until="load")
        page.wait_for_function("() => window.__bench.marker > 0 && window.__bench.bars > 0", timeout=60_000)
        page.wait_for_load_state("networkidle")
        yield page, log
    finally:
        context.close()


def probed(page):
    return page.evaluate("() => ({...window.__bench, origin: performance.timeOrigin})")


def first_paint(browser, url):
    """One run: {marker, bars} in ms since navigation start, and the page's requests."""
    with map_page(browser, url) as (page, log):
        probe = probed(page)
        return {"marker": probe["marker"], "bars": probe["bars"], "requests": log.relative(probe["origin"])}


def playback(browser, url, interval_ms, steps):
    """Play `steps` steps at `interval_ms`; per step: ms from the brush moving to the map drawn, or None (dropped)."""
    with map_page(browser, url) as (page, log):
        page.select_option("#play-speed", str(interval_ms))
        begin = page.evaluate("() => performance.now()")
        page.click("#play")
        page.wait_for_function(
            f"() => window.__bench.steps.length >= {steps + 1}", timeout=steps * interval_ms * 4 + 30_000
        )
        page.click("#play")  # pause
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(200)
        probe = probed(page)
        requests = log.relative(probe["origin"])
    # The steps while playing; the last one is cut by the pause, so it is left out.
    ticks = [step for step in probe["steps"] if step["at"] >= begin][:steps]
    draws = [draw for draw in probe["draws"] if draw["at"] >= begin and draw.get("painted")]
    results = []
    for index, tick in enumerate(ticks):
        until = ticks[index + 1]["at"] if index + 1 < len(ticks) else float("inf")
        drawn = next((draw for draw in draws if tick["at"] <= draw["at"] < until), None)
        results.append(None if drawn is None else drawn["painted"] - tick["at"])
    feed = [entry for entry in requests if entry["path"].endswith("/map/incidents.json") and entry["start"] >= begin]
    intervals = [later["at"] - earlier["at"] for earlier, later in itertools.pairwise(ticks)]
    return {
        "steps": results,
        "feed_ms": [entry["ms"] for entry in feed if entry["outcome"] == "ok" and entry["ms"] is not None],
        "feed_aborted": sum(entry["outcome"] != "ok" for entry in feed),
        "other": [entry for entry in requests if entry["start"] >= begin and entry not in feed],
        "modes": sorted({draw["mode"] for draw in draws}),
        "interval": statistics.median(intervals) if intervals else None,
        "intervals": intervals,
    }


def measure(port, runs, steps=20, speeds=SPEEDS, views=VIEWS):
    """First paint over `runs` fresh contexts and playback at each speed (`runs` plays of `steps` steps), in each
    view: {view: {"paints": […], "plays": {speed: […]}}}, what `rows` and `report` read."""
    from playwright.sync_api import sync_playwright

    results = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**CHROMIUM_LAUNCH)
        try:
            for view, path in views.items():
                url = f"http://127.0.0.1:{port}{path}"
                first_paint(browser, url)  # warm-up: the server's caches, Chromium's start
                paints = [first_paint(browser, url) for _ in range(runs)]
                plays = {name: [playback(browser, url, speeds[name], steps) for _ in range(runs)] for name in speeds}
                results[view] = {"paints": paints, "plays": plays}
        finally:
            browser.close()
    return {"views": results, "speeds": speeds}


def _median(values):
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else float("nan")


def rows(result):
    """(label, value, target, ok, note) rows for bench/scale_bench.py's table: per view, first paint and playback."""
    out = []
    for view, measured in result["views"].items():
        paints = measured["paints"]
        slowest = _requests(paints)[0]
        for key, what in (("marker", "clusters/markers"), ("bars", "timeline bars")):
            ms = _median(paint[key] for paint in paints)
            note = f"{len(paints[0]['requests'])} requests; slowest {slowest[0]} {slowest[2]:,.0f} ms"
            out.append((f"first paint, {view}: {what}", f"{ms:,.0f} ms", f"< {TARGET_MS} ms", ms < TARGET_MS, note))
        for name, interval in result["speeds"].items():
            plays = measured["plays"][name]
            steps = [step for play in plays for step in play["steps"]]
            drawn = [step for step in steps if step is not None]
            late = sum(step > interval for step in drawn)
            feed = [ms for play in plays for ms in play["feed_ms"]]
            aborted = sum(play["feed_aborted"] for play in plays)
            pace = [ms for play in plays for ms in play["intervals"]]
            out.append(
                (
                    f"playback, {view}, {name}: step redrawn",
                    f"{_median(drawn):,.0f} ms",
                    f"< {interval} ms",
                    bool(drawn) and len(drawn) == len(steps) and late == 0,
                    f"max {max(drawn, default=float('nan')):,.0f} ms; {len(steps) - len(drawn)} of {len(steps)} "
                    f"steps dropped, {late} slower than a step (the brush waited); brush moved every "
                    f"{_median(pace):,.0f} ms (max {max(pace, default=float('nan')):,.0f}); feed median "
                    f"{_median(feed):,.0f} ms, {aborted} aborted",
                )
            )
    return out


def _requests(paints):
    """(path, median start ms, median duration ms, count a run) per path over the runs, slowest first."""
    by_path = {}
    for paint in paints:
        for entry in paint["requests"]:
            by_path.setdefault(entry["path"], []).append(entry)
    table = []
    for path, entries in by_path.items():
        table.append(
            (path, _median(e["start"] for e in entries), _median(e["ms"] for e in entries), len(entries) / len(paints))
        )
    return sorted(table, key=lambda row: -row[2])


def report(result):
    """Per view: the requests of first paint (by path, medians over the runs) and each play's steps, printed."""
    for view, measured in result["views"].items():
        paints = measured["paints"]
        print(f"\n{view}: requests of first paint (medians over {len(paints)} fresh contexts, ms since navigation)")
        print(f"{'path':<60}{'start':>9}{'took':>9}{'end':>9}  per run")
        for path, start, took, count in sorted(_requests(paints), key=lambda row: row[1]):
            print(f"{path[:59]:<60}{start:>7,.0f}ms{took:>7,.0f}ms{start + took:>7,.0f}ms  {count:g}")
        print(f"clusters/markers drawn at {[round(paint['marker']) for paint in paints]} ms; timeline bars at "
              f"{[round(paint['bars']) for paint in paints]} ms")  # fmt: skip
        for name, interval in result["speeds"].items():
            for play in measured["plays"][name]:
                steps = ", ".join("dropped" if step is None else f"{step:.0f}" for step in play["steps"])
                print(
                    f"playback {name} ({interval} ms; {play['interval'] or 0:.0f} ms between steps, drawn as "
                    f"{'/'.join(play['modes'])}): ms per step [{steps}]; feed {[round(ms) for ms in play['feed_ms']]}"
                    f", {play['feed_aborted']} aborted; also fetched {sorted({e['path'] for e in play['other']})}"
                )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--steps", type=int, default=20, help="playback steps timed per run")
    parser.add_argument("--view", action="append", choices=VIEWS, help="only this view (repeatable)")
    args = parser.parse_args()
    views = {name: path for name, path in VIEWS.items() if not args.view or name in args.view}
    runs = max(5, args.runs)

    import generate  # sets up Django on the bench database
    import run_peers

    database = generate.open_database()
    generate.fill(args.rows)
    server, port = start_server(database)
    try:
        result = measure(port, runs, args.steps, views=views)
    finally:
        run_peers.stop(server)
    report(result)
    print(f"\n{args.rows:,} published incidents in {database}; one gunicorn sync worker, medians of {runs} runs")
    table = rows(result)
    width = max(len(row[0]) for row in table) + 2
    for label, value, target, ok, note in table:
        print(f"{label:<{width}}{value:>10}  {target:<10}{'yes' if ok else 'NO':<5}{note}")
    return 0


def paint_env(database):
    """Production settings as `make serve` runs them (static files collected, compressed and served by WhiteNoise
    with far-future caching: what a visitor's browser gets) on the bench database, with no tile server, so the
    page fetches nothing from outside."""
    import run_peers

    return {
        **run_peers.ours_env(database),
        "DJANGO_SETTINGS_MODULE": "conflictmap.settings.prod",
        "SECRET_KEY": secrets.token_urlsafe(50),  # production refuses a short key
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "MAP_TILES_URL": "",
    }


def start_server(database, name="ours-paint"):
    """Collect the static files (as scripts/serve.sh does), then one gunicorn sync worker; (process, port)."""
    import subprocess

    import run_peers

    env = paint_env(database)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=run_peers.ROOT,
                   env=env, check=True)  # fmt: skip
    port = run_peers.free_port()
    # One plain sync worker (run_peers.GUNICORN), as the figures are for.
    return run_peers.start(name, run_peers.ours_server(database, port), env, port), port


if __name__ == "__main__":
    sys.exit(main())
