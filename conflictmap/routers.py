"""Public reads on PostgreSQL streaming replicas; every write, the admin and anything not marked public on the primary.

PublicReadMiddleware marks a request as a public read when it is a GET or HEAD of a public page or data endpoint
(the "incidents" URL namespace, minus the editors' place search). While it runs, PrimaryReplicaRouter sends reads of
the public data (settings.DATABASE_REPLICA_APPS) to one healthy replica, chosen once per request so one answer never
mixes two replicas. A replica is healthy when it accepts a connection and has replayed what it received, or is
behind by at most settings.DATABASE_REPLICA_MAX_LAG seconds; the check runs at most every
settings.DATABASE_REPLICA_CHECK_INTERVAL seconds per replica and process. With no healthy replica, the primary answers.

Sessions, users and everything else stay on the primary: a visitor who just signed in must find their session.
"""

import contextvars
import logging
import random
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, OperationalError, connections

logger = logging.getLogger(__name__)

REPLICA_PREFIX = "replica_"

# Editor tools in the public URL namespace: they serve the admin's place search box, which must see a place an editor
# has just added.
EDITOR_URL_NAMES = {"place-search", "place-reverse"}


@dataclass
class PublicRead:
    """The routing decision of one public request: None until its first read picks a replica (or the primary)."""

    alias: str | None = None
    view: tuple | None = None  # (view function, args, kwargs), to answer again from the primary


_public_read: contextvars.ContextVar[PublicRead | None] = contextvars.ContextVar("public_read", default=None)

# Replay position equal to receive position: nothing is waiting to be applied, however long ago the last commit
# was (an idle primary sends nothing, so the last replay timestamp alone would make an up-to-date replica look late).
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
    ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 'Infinity')
END
"""


def replica_aliases():
    return [alias for alias in settings.DATABASES if alias.startswith(REPLICA_PREFIX)]


class ReplicaHealth:
    """Per process: when each replica was last checked and whether it was usable then."""

    def __init__(self):
        self._lock = threading.Lock()
        self._checked = {}  # alias -> (monotonic time, healthy)

    def forget(self):
        with self._lock:
            self._checked.clear()

    def mark_down(self, alias):
        with self._lock:
            self._checked[alias] = (time.monotonic(), False)

    def healthy(self, alias):
        now = time.monotonic()
        with self._lock:
            checked = self._checked.get(alias)
        if checked and now - checked[0] < settings.DATABASE_REPLICA_CHECK_INTERVAL:
            return checked[1]
        healthy = self._check(alias)
        with self._lock:
            self._checked[alias] = (now, healthy)
        return healthy

    def _check(self, alias):
        connection = connections[alias]
        try:
            with connection.cursor() as cursor:
                cursor.execute(LAG_SQL)
                (lag,) = cursor.fetchone()
        except DatabaseError as error:
            logger.warning("Replica %s skipped: %s", alias, error)
            connection.close()  # a dead connection must not be reused once the replica is back
            return False
        if lag > settings.DATABASE_REPLICA_MAX_LAG:
            logger.warning("Replica %s skipped: %.1f s behind the primary", alias, lag)
            return False
        return True

    def choose(self):
        """A healthy replica at random (spreading the load), or the primary when none is."""
        candidates = replica_aliases()
        random.shuffle(candidates)
        for alias in candidates:
            if self.healthy(alias):
                return alias
        return DEFAULT_DB_ALIAS


replica_health = ReplicaHealth()


def current_read_alias():
    """Where this request's public reads went (None outside a public read, or before its first read)."""
    state = _public_read.get()
    return state.alias if state else None


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        state = _public_read.get()
        if state is None or model._meta.app_label not in settings.DATABASE_REPLICA_APPS:
            return DEFAULT_DB_ALIAS
        if state.alias is None:
            state.alias = replica_health.choose()
        return state.alias

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # every alias holds the same data

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS  # replicas replay the primary's schema


class PublicReadMiddleware:
    """Marks GET/HEAD requests to public pages and data endpoints as public reads for PrimaryReplicaRouter."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _public_read.set(None)
        try:
            return self.get_response(request)
        finally:
            _public_read.reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if (
            request.method in ("GET", "HEAD")
            and match is not None
            and match.namespace == "incidents"
            and match.url_name not in EDITOR_URL_NAMES
        ):
            _public_read.set(PublicRead(view=(view_func, view_args, view_kwargs)))

    def process_exception(self, request, exception):
        """A replica that fails between its health check and the query: marked down, and the view answers again
        from the primary (a GET, so running it twice is harmless). A streaming answer that fails mid-way cannot be
        taken back; it ends incomplete, as any cut download does."""
        state = _public_read.get()
        if state is None or state.alias in (None, DEFAULT_DB_ALIAS) or not isinstance(exception, OperationalError):
            return None
        logger.warning("Replica %s failed during a request; answering from the primary: %s", state.alias, exception)
        replica_health.mark_down(state.alias)
        try:
            connections[state.alias].close()
        except DatabaseError:
            pass  # already broken; Django opens a new connection next time
        state.alias = DEFAULT_DB_ALIAS
        view_func, view_args, view_kwargs = state.view
        return view_func(request, *view_args, **view_kwargs)
