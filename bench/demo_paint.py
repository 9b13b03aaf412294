"""First paint of `/` and a filter change on the demo data, served as `make serve` serves it (issue 21).

Loads the demo set into the project-local database (`manage.py load_demo`: 400 generated incidents beside the four
seeds; already loaded is left as it is), starts `scripts/serve.sh` (production settings, collectstatic, gunicorn
with gunicorn.conf.py's threaded workers) on a free port with no tile server, and drives Debian's Chromium:

- first paint: navigation start to the first cluster or marker drawn and to the timeline's bars drawn (the frame
  after each is inserted; bench/first_paint.py's probe), on a fresh browser context (empty cache) per run;
- filter change: unticking one event type in the filters, from the checkbox's input event to the frame after the
  map has drawn the new answer (its aria-busy gone and the summary's total changed).

Medians of `--runs` (≥ 5). Targets: first paint < 1.5 s, filter change < 300 ms.
Run: `.venv/bin/python bench/demo_paint.py [--runs N]` (part of `make bench`).
"""

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "peers"))
sys.path.insert(0, str(ROOT))

import first_paint  # noqa: E402 -- the probe and the fresh-context page
import run_peers  # noqa: E402

from conflictmap.localserver import CHROMIUM_LAUNCH, free_port  # noqa: E402

FIRST_PAINT_TARGET_MS = 1500
FILTER_TARGET_MS = 300

# Started on the checkbox's input event; ends at the frame after the map's answer for the new filters is drawn.
FILTER_CHANGE = """
(label) => new Promise((resolve) => {
  const map = document.getElementById("incident-map");
  const summary = document.getElementById("summary");
  const before = summary.dataset.total;
  const box = [...document.querySelectorAll("#filters label.check")].find((item) => item.textContent.trim() === label)
    .querySelector("input");
  let started = null;
  box.addEventListener("input", () => (started = performance.now()), { once: true });
  const done = () => {
    if (started === null || map.hasAttribute("aria-busy") || summary.dataset.total === before) return false;
    observer.disconnect();
    requestAnimationFrame(() => resolve({ ms: performance.now() - started, total: Number(summary.dataset.total) }));
    return true;
  };
  const observer = new MutationObserver(done);
  observer.observe(map, { attributes: true, attributeFilter: ["aria-busy"] });
  observer.observe(summary, { attributes: true, attributeFilter: ["data-total"] });
  box.click();
})
"""


def serve(port):
    run_peers.WORK.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "MAP_TILES_URL": ""}
    return run_peers.start("demo-serve", ["scripts/serve.sh"], env, port)


def measure(port, runs, label):
    from playwright.sync_api import sync_playwright

    url = f"http://127.0.0.1:{port}/"
    paints, changes = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**CHROMIUM_LAUNCH)
        try:
            with first_paint.map_page(browser, url):
                pass  # one warm-up: gunicorn's workers import and connect on their first requests
            for _ in range(runs):
                with first_paint.map_page(browser, url) as (page, _log):
                    probe = first_paint.probed(page)
                    paints.append({"marker": probe["marker"], "bars": probe["bars"]})
                    changes.append(page.evaluate(FILTER_CHANGE, label))
        finally:
            browser.close()
    return paints, changes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--untick", default="Battles", help="the event type unticked for the filter change")
    args = parser.parse_args()
    runs = max(5, args.runs)
    python = ROOT / ".venv" / "bin" / "python"
    subprocess.run([str(python), "manage.py", "load_demo"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    server = serve(port)
    try:
        paints, changes = measure(port, runs, args.untick)
    finally:
        run_peers.stop(server)
    marker = statistics.median(run["marker"] for run in paints)
    bars = statistics.median(run["bars"] for run in paints)
    change = statistics.median(run["ms"] for run in changes)
    print(f"Demo data under `make serve` (gunicorn.conf.py workers), Chromium 1280×800, medians of {runs} runs")
    print(f"{'first paint of /: map drawn':<44}{marker:>8.0f} ms  target < {FIRST_PAINT_TARGET_MS} ms  "
          f"{'yes' if marker < FIRST_PAINT_TARGET_MS else 'NO'}")  # fmt: skip
    print(f"{'first paint of /: histogram drawn':<44}{bars:>8.0f} ms  target < {FIRST_PAINT_TARGET_MS} ms  "
          f"{'yes' if bars < FIRST_PAINT_TARGET_MS else 'NO'}")  # fmt: skip
    print(f"{f'filter change (untick {args.untick}): map drawn':<44}{change:>8.0f} ms  target < {FILTER_TARGET_MS} ms  "
          f"{'yes' if change < FILTER_TARGET_MS else 'NO'}")  # fmt: skip
    print(
        f"runs: first paint {[round(run['marker']) for run in paints]}, filter {[round(run['ms']) for run in changes]}"
    )
    ok = marker < FIRST_PAINT_TARGET_MS and bars < FIRST_PAINT_TARGET_MS and change < FILTER_TARGET_MS
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
