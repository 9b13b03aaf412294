"""Readying the assistant before the first report: the gazetteer's name index (2–5 s to build), the geocoder's
transliteration index (up to 10 s on a busy machine), the actor patterns and dateparser's language data are all
built on first use; a web process builds them when it starts, so that the first editor does not wait for them.

`manage.py` commands and tests never call this: they build what they use, when they use it.
"""

import datetime
import logging
import threading
import time

from django.db import connections

logger = logging.getLogger(__name__)

# Two short reports, one per language: enough to load every index and dateparser's English and Arabic data.
SAMPLES = [
    "Regime forces shelled the village of Kafr Nouran in western Aleppo province on Thursday, killing five civilians.",
    "قتل ثلاثة مدنيين بقصف مدفعي على قرية الفطيرة بريف إدلب الجنوبي يوم الخميس.",
]


def warm_up(*, close_connections=True):
    """Build every index the assistant reads; returns the seconds it took. Its database connections are closed
    after (a gunicorn master must not hand its connection to the workers it forks)."""
    from places.geocoding import name_indexes_build

    from . import extract_candidates

    started = time.perf_counter()
    try:
        for sample in SAMPLES:
            extract_candidates(sample, published=datetime.date.today())
        # The samples place their villages by exact spelling; a village named by ear inside a governorate needs the
        # loose-spelling index too, which only such a lookup would build.
        name_indexes_build()
    finally:
        if close_connections:
            connections.close_all()
    elapsed = time.perf_counter() - started
    logger.info("Editors' assistant ready in %.1f s.", elapsed)
    return elapsed


def warm_up_in_background():
    thread = threading.Thread(target=_warm_up_quietly, name="assistant-warm-up", daemon=True)
    thread.start()
    return thread


def _warm_up_quietly():
    try:
        warm_up()
    except Exception:  # a database not there yet must not stop the server; the first report builds what it needs
        logger.exception("The editors' assistant could not be readied at start.")
