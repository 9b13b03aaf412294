"""Map feed benchmark: /map/incidents.json and /map/list.json over a spread of views, zooms and filters.

Runs against the database the settings point at (by default the dev database, so load a big set first, e.g. the
1 M-row generator in the scale benchmarks), in-process through Django's test client, and prints per case the median
and p95 time of `--repeat` requests (default 7), the mode (points or clusters), the count and the body size.
`.venv/bin/python bench/map_bench.py [--repeat N] [--only 'q=']`.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conflictmap.settings.dev")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402

from incidents.models import IncidentActor  # noqa: E402

# (name, view bbox, zoom, extra filters): the views a visitor reaches by panning and zooming from the home page.
CASES = [
    ("world", "-180,-85,180,85", 2, {}),
    ("middle east", "25,25,55,42", 5, {}),
    ("syria", "35.5,32,42.5,37.5", 7, {}),
    ("syria battles", "35.5,32,42.5,37.5", 7, {"event_type": "battles"}),
    ("syria 2014", "35.5,32,42.5,37.5", 7, {"start": "2014-01-01", "end": "2014-12-31"}),
    ("syria one week", "35.5,32,42.5,37.5", 7, {"start": "2016-03-01", "end": "2016-03-07"}),
    (
        "syria mid-month, type+SY",
        "35.5,32,42.5,37.5",
        7,
        {"start": "2014-03-17", "end": "2016-08-09", "event_type": "battles", "country": "SY"},
    ),
    ("syria, one region", "35.5,32,42.5,37.5", 7, {"admin1": "Aleppo"}),
    ("syria, precision", "35.5,32,42.5,37.5", 7, {"precision": "1"}),
    ("syria text", "35.5,32,42.5,37.5", 7, {"q": "bench place 7"}),
    # `q` on a common word (a tenth of the generated incidents are in Aleppo; a MapTerm once `refresh_map_terms` has
    # run), a rare one, one found nowhere, and a substring (the trigram index, not the word index).
    ("syria q=Aleppo", "35.5,32,42.5,37.5", 7, {"q": "Aleppo"}),
    # The most common word under the default MAP_TERM_MIN_INCIDENTS (50,000): counted live.
    ("syria q=Homs (live)", "35.5,32,42.5,37.5", 7, {"q": "Homs"}),
    ("syria q=Quneitra (rare)", "35.5,32,42.5,37.5", 7, {"q": "Quneitra"}),
    ("syria q=Chlorine (none)", "35.5,32,42.5,37.5", 7, {"q": "Chlorine"}),
    ("syria q=Palmyr (substring)", "35.5,32,42.5,37.5", 7, {"q": "Palmyr"}),
    ("aleppo gov. q=Aleppo, z9", "36.5,35.6,38.6,36.8", 9, {"q": "Aleppo"}),
    # Filters MapCell does not keep: a word most incidents carry (MapTermCell once `refresh_map_terms` has run),
    # the actor named most often (its id is looked up when the bench runs), a sub-type, a fatality threshold.
    ("syria q=near (most)", "35.5,32,42.5,37.5", 7, {"q": "near"}),
    ("syria, one actor", "35.5,32,42.5,37.5", 7, {"actor": "most linked"}),
    ("syria, one actor, side A", "35.5,32,42.5,37.5", 7, {"actor": "most linked", "side": "a"}),
    # Several actors: MapActorCell holds an incident naming two of them twice; the feed subtracts the surplus.
    ("syria, two actors", "35.5,32,42.5,37.5", 7, {"actor": "two most linked"}),
    (
        "syria, three actors, 2014",
        "35.5,32,42.5,37.5",
        7,
        {"actor": "three most linked", "start": "2014-01-01", "end": "2014-12-31"},
    ),
    ("syria, sub-type", "35.5,32,42.5,37.5", 7, {"sub_event_type": "battles-armed-clash"}),
    ("syria, fatalities >= 5", "35.5,32,42.5,37.5", 7, {"fatalities_min": 5}),
    ("aleppo", "36.9,36.0,37.4,36.4", 11, {}),
    ("aleppo centre, zoom 13", "37.10,36.15,37.22,36.25", 13, {}),
    ("one town", "37.00,36.15,37.05,36.20", 14, {}),
    ("across the antimeridian", "170,-10,-170,10", 5, {}),
    ("world at street zoom", "-180,-85,180,85", 22, {}),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--only", default="", help="run only the cases whose name contains this text")
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    # One untimed request first: the process's first answer also loads the URL patterns, middleware and the
    # connection's type lookups (about 130 ms), which belong to no case (the worst of 7 is the p95 below).
    client.get("/map/incidents.json", {"bbox": "0,0,0.001,0.001", "zoom": 18})
    print(f"MAP_POINTS_MAX={settings.MAP_POINTS_MAX}, {args.repeat} requests per case, medians and p95 in ms")
    print(f"{'case':26} {'endpoint':10} {'median':>8} {'p95':>8} {'mode':>9} {'total':>9} {'items':>6} {'KB':>7}")
    most_linked = []
    for name, bbox, zoom, filters in CASES:
        if args.only not in name:
            continue
        wanted = {"most linked": 1, "two most linked": 2, "three most linked": 3}.get(filters.get("actor"))
        if wanted:
            if not most_linked:
                links = IncidentActor.objects.values("actor").annotate(links=Count("id")).order_by("-links")
                most_linked = [link["actor"] for link in links[:3]]
            filters = {**filters, "actor": most_linked[:wanted]}
        for endpoint, url in (("feed", "/map/incidents.json"), ("list", "/map/list.json")):
            params = {"bbox": bbox, "zoom": zoom, **filters}
            timings = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                response = client.get(url, params)
                timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content[:300]
            body = response.json()
            items = len(body.get("clusters") or body.get("incidents") or [])
            p95 = sorted(timings)[max(0, round(0.95 * len(timings)) - 1)]
            print(
                f"{name:26} {endpoint:10} {statistics.median(timings):8.1f} {p95:8.1f} {body.get('mode', '-'):>9} "
                f"{body['total']:9d} {items:6d} {len(response.content) / 1024:7.1f}"
            )


if __name__ == "__main__":
    main()
