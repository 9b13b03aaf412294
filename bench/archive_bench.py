"""What source archiving adds to an editor's save (issue 23: "saving with archiving on stays under 100 ms, the capture
is in the background"): the admin's "add source" request, and an incident created from a report by the editors'
assistant (an incident and its source in one transaction), each committed, with SOURCE_ARCHIVING off and on.

With archiving on, a save only queues the capture job after its commit (incidents/archive.py); nothing is fetched.
The sources' URLs point at a port nobody listens on, and whatever the bench made (sources, incidents, queued jobs)
is deleted at the end. Runs on the development database (`make setup`'s), in-process (Django's test client, no
HTTP server): `.venv/bin/python bench/archive_bench.py [--saves N]`.
"""

import argparse
import datetime
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conflictmap.settings.dev")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.contrib.gis.geos import Point  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from incidents import archive, services  # noqa: E402
from incidents.models import EventType, Incident, Source  # noqa: E402

NOBODY = "http://127.0.0.1:9/bench-archive"


def admin_source_saves(client, count):
    timings = []
    for _number in range(count):
        form = {
            "publisher": "Bench Wire",
            "title": f"Bench report {uuid.uuid4()}",
            "url": f"{NOBODY}/{uuid.uuid4()}",
            "published_on": "2019-04-20",
        }
        started = time.perf_counter()
        response = client.post("/admin/incidents/source/add/", form)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 302, response.content[:2000]
    return timings


def report_saves(user, count):
    battles = EventType.objects.get(slug="battles")
    timings = []
    for _number in range(count):
        marker = uuid.uuid4()
        candidate = {
            "title": f"Bench incident {marker}",
            "start_date": datetime.date(2019, 4, 18),
            "location": Point(38.2673, 34.556, srid=4326),
            "place_reported": "north of Palmyra",
            "country": "SY",
            "event_type": battles,
        }
        started = time.perf_counter()
        services.incidents_create_from_report(  # its own transaction: committed, so the job is queued
            source={"publisher": "Bench Wire", "title": f"Bench {marker}", "url": f"{NOBODY}/{marker}"},
            text=f"Bench report {marker}.",
            candidates=[candidate],
            user=user,
        )
        timings.append(time.perf_counter() - started)
    return timings


def queued_captures():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_jobs WHERE task_name = %s", [archive.CAPTURE_TASK])
        return cursor.fetchone()[0]


def clean_up():
    sources = list(Source.objects.filter(url__startswith=NOBODY).values_list("pk", flat=True))
    Incident.objects.filter(title__startswith="Bench incident ").delete()
    Source.objects.filter(pk__in=sources).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM procrastinate_jobs WHERE task_name = %s AND (args->>'source_id')::bigint = ANY(%s)",
            [archive.CAPTURE_TASK, sources],
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=40, help="saves per case (default 40)")
    options = parser.parse_args()
    settings.DEBUG = False  # no query log
    settings.JOBS_RUN_AT_ONCE = False  # a worker would fetch; here nothing runs the jobs
    user, _created = User.objects.get_or_create(username="bench-archive", defaults={"is_staff": True})
    user.is_superuser = user.is_staff = True
    user.save()
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    print(f"load average {os.getloadavg()[0]:.1f}; {options.saves} saves per case, medians and p95")
    try:
        for label, run in (
            ("admin: add a source", lambda: admin_source_saves(client, options.saves)),
            ("assistant: an incident and its source", lambda: report_saves(user, options.saves)),
        ):
            for archiving in (False, True):
                settings.SOURCE_ARCHIVING = archiving
                before = queued_captures()
                run()  # warm-up: the first requests pay for imports and caches
                timings = sorted(run())
                queued = queued_captures() - before
                p95 = timings[int(len(timings) * 0.95) - 1]
                print(
                    f"{label:40} archiving {'on ' if archiving else 'off'}: median "
                    f"{statistics.median(timings) * 1000:6.1f} ms, p95 {p95 * 1000:6.1f} ms, jobs queued {queued}"
                )
    finally:
        clean_up()
        user.delete()


if __name__ == "__main__":
    main()
