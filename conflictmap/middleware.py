"""Site-wide operations: a database outage answers 503, and the public data endpoints are rate limited.

Both apply in one place (settings.MIDDLEWARE), so views never need to know about them.
"""

import logging
import math
import random
import sys

from axes.helpers import get_cool_off
from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
JSON_PATH_PREFIXES = ("/api/", "/ogcapi/", "/map/", "/healthz")


def wants_json(request):
    """Data endpoints answer errors in JSON, pages in HTML (scripts and analysts' tools parse the former)."""
    path = request.path_info
    return path.startswith(JSON_PATH_PREFIXES) or path.endswith((".json", ".geojson"))


def error_response(request, *, status, code, description, retry_after):
    if wants_json(request):
        response = JsonResponse({"code": code, "description": description}, status=status)
        response["Access-Control-Allow-Origin"] = "*"
    else:
        response = HttpResponse(
            format_html(
                '<!DOCTYPE html><html><head><meta charset="utf-8"><title>{}</title></head>'
                "<body><h1>{}</h1><p>{}</p></body></html>",
                "conflictmap",
                _("Please try again shortly"),
                description,
            ),
            status=status,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


def database_unavailable_response(request):
    return error_response(
        request,
        status=503,
        code="ServiceUnavailable",
        description=_("The database is unreachable at the moment. Please try again in a little while."),
        retry_after=settings.DATABASE_UNAVAILABLE_RETRY_AFTER,
    )


def _note_database_failure(sender, request=None, **kwargs):
    # An outage hitting another middleware (sessions, sign-in) never reaches process_exception; Django has already
    # made it a 500, so the request is flagged here and the 500 replaced in __call__.
    if request is not None and isinstance(sys.exc_info()[1], DATABASE_ERRORS):
        request.database_unavailable = True


got_request_exception.connect(_note_database_failure, dispatch_uid="conflictmap.database_unavailable")


class DatabaseUnavailableMiddleware:
    """OperationalError / InterfaceError (the database is down or the connection broke) become a 503 with
    Retry-After instead of a 500; Django drops the broken connection at the end of the request, and the next one
    connects afresh, so the site recovers by itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, "database_unavailable", False):
            return database_unavailable_response(request)
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_ERRORS):
            logger.error("Database unavailable while serving %s: %s", request.path, exception)
            return database_unavailable_response(request)
        return None


def parse_rate(text):
    """'600/60' -> (600 requests, 60 seconds)."""
    requests, _slash, seconds = text.partition("/")
    return int(requests), int(seconds or 1)


# Routes of the "incidents" namespace that are not limited: the HTML pages, and the editors' place lookups (signed-in
# staff only). Every other route there answers public data and is limited; listing the exceptions (not the data
# routes) means a new data route is limited from its first day.
UNLIMITED_ROUTES = {"home", "embed", "detail", "place-search", "place-reverse"}
DOWNLOAD_ROUTES = {"api-csv", "source-capture-warc"}  # the full CSV; an archived source's WARC file (up to 20 MiB)
TILE_ROUTES = {"tile"}


def rate_limit_scope(request):
    """Which limit a request counts against, or None for pages, the admin, static files and unknown paths.

    Decided on the resolved route, not the path, so `/ar/map/incidents.json` and any other spelling of a route
    count as the route itself.
    """
    # This runs before LocaleMiddleware: the language prefix is resolved in the path's own language.
    language = translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE
    try:
        with translation.override(language):
            match = resolve(request.path_info)
    except Resolver404:
        return None
    if match.namespace != "incidents" or match.url_name in UNLIMITED_ROUTES:
        return None
    if match.url_name in DOWNLOAD_ROUTES or (
        match.url_name == "api-geojson" and request.GET.get("download", "").lower() in ("1", "true")
    ):
        return "download"
    if match.url_name in TILE_ROUTES:
        return "tiles"
    return "api"


# One statement, atomic under concurrency: a fixed window per bucket, restarted by the first request after it ends.
# clock_timestamp(), not now(): now() stands still inside a transaction.
COUNT_SQL = """
INSERT INTO conflictmap_ratelimitcounter AS counter (bucket, window_ends_at, hits)
VALUES (%s, clock_timestamp() + make_interval(secs => %s), 1)
ON CONFLICT (bucket) DO UPDATE SET
    hits = CASE WHEN counter.window_ends_at <= clock_timestamp() THEN 1 ELSE counter.hits + 1 END,
    window_ends_at = CASE WHEN counter.window_ends_at <= clock_timestamp()
                          THEN EXCLUDED.window_ends_at ELSE counter.window_ends_at END
RETURNING counter.hits, EXTRACT(EPOCH FROM counter.window_ends_at - clock_timestamp())
"""
# Now and then, forget clients whose window has ended, so the table stays as small as the set of active clients.
PURGE_SQL = "DELETE FROM conflictmap_ratelimitcounter WHERE window_ends_at < clock_timestamp()"
PURGE_PROBABILITY = 0.001


def count_request(*, scope, client, window_seconds):
    """(requests in the current window including this one, seconds until the window ends)."""
    with connection.cursor() as cursor:
        if random.random() < PURGE_PROBABILITY:
            cursor.execute(PURGE_SQL)
        cursor.execute(COUNT_SQL, [f"{scope}:{client}", window_seconds])
        hits, seconds_left = cursor.fetchone()
    return hits, max(1, math.ceil(seconds_left))


class RateLimitMiddleware:
    """Too many requests from one address to the public API, the map feeds or the downloads: 429 + Retry-After.

    Limits are settings.RATE_LIMITS ("requests/seconds" per scope); counts live in PostgreSQL, so every gunicorn
    worker and thread shares them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        scope = rate_limit_scope(request)
        if scope is None or request.method == "OPTIONS":
            return self.get_response(request)
        # A scope without a limit of its own (a settings file older than it) counts by the API's.
        limit, window_seconds = parse_rate(settings.RATE_LIMITS.get(scope, settings.RATE_LIMITS["api"]))
        try:
            hits, retry_after = count_request(
                scope=scope, client=request.META.get("REMOTE_ADDR", ""), window_seconds=window_seconds
            )
        except DATABASE_ERRORS:
            return database_unavailable_response(request)
        if hits > limit:
            return error_response(
                request,
                status=429,
                code="TooManyRequests",
                description=_(
                    "More than %(limit)d requests in %(seconds)d seconds from your address; "
                    "please retry after %(retry)d seconds."
                )
                % {"limit": limit, "seconds": window_seconds, "retry": retry_after},
                retry_after=retry_after,
            )
        return self.get_response(request)


class ProxyClientAddressMiddleware:
    """Behind our own reverse proxy (nginx, `make serve`), REMOTE_ADDR is the proxy and the client's address is the
    last X-Forwarded-For entry, the one the proxy wrote. Believed only from settings.TRUSTED_PROXIES (the literal
    "unix" stands for a Unix socket, whose peer has no address), so a client cannot choose its address: the rate
    limit and the sign-in lockout count per address."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.trusted = {"" if proxy == "unix" else proxy for proxy in settings.TRUSTED_PROXIES}

    def __call__(self, request):
        if self.trusted and request.META.get("REMOTE_ADDR", "") in self.trusted:
            client = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
            if client:
                request.META["REMOTE_ADDR"] = client
        return self.get_response(request)


class LockoutRetryAfterMiddleware:
    """django-axes' lockout answer (made by AxesMiddleware, just inside this one) also says when to try again."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "axes_locked_out", False) and (cool_off := get_cool_off(request)):
            response["Retry-After"] = str(math.ceil(cool_off.total_seconds()))
        return response
