"""Vector tiles at scale: the tiles over Syria at zoom 6 (target < 100 ms and < 100 KB each at 1 M incidents), a
filtered one, and tiles of Aleppo at zooms 8 and 11 and of its centre at 14, timed like the rest of
`make bench-scale` (scale_bench.py calls `rows`). On its own, `python bench/tile_bench.py --rows N` fills the bench
database to N incidents (bench/generate.py), serves it with one gunicorn worker and prints only these rows.
"""

import argparse
import math
import sys
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "peers"))

TARGET_MS = 100
TARGET_KIB = 100


def tile_of(lon, lat, z):
    """(x, y) of the XYZ tile holding a point at zoom z."""
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z
    return math.floor((lon + 180) / 360 * 2**z), math.floor(y)


# Syria (35.7–42.4° E, 32.3–37.3° N) lies in four tiles at zoom 6: columns 38–39, rows 24–25.
SYRIA_Z6 = sorted({(6, *tile_of(lon, lat, 6)) for lon in (35.7, 42.4) for lat in (32.3, 37.3)})
ALEPPO = (37.1343, 36.2021)
TILE_CASES = [
    *((f"tile {z}/{x}/{y} (Syria, zoom 6)", (z, x, y), {}, True) for z, x, y in SYRIA_Z6),
    ("tile 6/38/25, event_type=battles", (6, 38, 25), {"event_type": "battles"}, True),
    ("tile, Aleppo, zoom 8", (8, *tile_of(*ALEPPO, 8)), {}, False),
    ("tile, Aleppo, zoom 11", (11, *tile_of(*ALEPPO, 11)), {}, False),
    ("tile, Aleppo centre, zoom 14", (14, *tile_of(*ALEPPO, 14)), {}, False),
]


def tile_bounds(z, x, y):
    north = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / 2**z))))
    south = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + 1) / 2**z))))
    return x / 2**z * 360 - 180, south, (x + 1) / 2**z * 360 - 180, north


def rows(port, runs, timed):
    """(label, median, target, met, note) rows as scale_bench prints them; `timed(port, path, runs)` gives the
    median seconds and the size in bytes. First the map feed for one tile's area, to read the tiles' times against
    (a tile reads that area and a 64-pixel band round it)."""
    west, south, east, north = tile_bounds(6, 38, 25)
    bbox = f"{west:.6f},{south:.6f},{east:.6f},{north:.6f}"
    seconds, size = timed(port, f"/map/incidents.json?{urlencode({'bbox': bbox, 'zoom': 6})}", runs)
    found = [("map feed, the area of tile 6/38/25", f"{seconds * 1000:,.0f} ms", "", None, f"{size / 1024:,.1f} KiB")]
    for label, (z, x, y), filters, targeted in TILE_CASES:
        path = f"/tiles/{z}/{x}/{y}.mvt" + (f"?{urlencode(filters)}" if filters else "")
        seconds, size = timed(port, path, runs)
        met = seconds * 1000 < TARGET_MS and size < TARGET_KIB * 1024 if targeted else None
        target = f"< {TARGET_MS} ms, {TARGET_KIB} KiB" if targeted else ""
        found.append((label, f"{seconds * 1000:,.0f} ms", target, met, f"{size / 1024:,.1f} KiB"))
    return found


def main():
    import generate  # sets up Django on the bench database
    import run_peers
    import scale_bench

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    database = generate.open_database()
    generate.fill(args.rows)
    run_peers.WORK.mkdir(parents=True, exist_ok=True)
    port = run_peers.free_port()
    server = run_peers.start("ours-tiles", run_peers.ours_server(database, port), run_peers.ours_env(database), port)
    try:
        found = rows(port, max(5, args.runs), scale_bench.timed)
    finally:
        run_peers.stop(server)
    print(f"{args.rows:,} published incidents in {database}; one gunicorn sync worker, medians of {args.runs} runs")
    for label, value, target, ok, note in found:
        met = "" if ok is None else ("yes" if ok else "NO")
        print(f"{label:<40}{value:>10}  {target:<22}{met:<5}{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
