"""The one public pipeline: every public data output is a small subclass of PublicDataView.

The base view owns what every output must do alike: refuse malformed parameters with a 400 naming them (the one
FilterSet's errors and the paging parameters'), answer conditional GETs from the database's data version (ETag and
Last-Modified without reading incidents), and let any origin read the answer (CORS). Rate limits hook in dispatch().
A subclass says which parameters it takes besides the filters (`parse`) and how to render (`render`).
"""

import base64
import binascii
import datetime
import hashlib
import re

from django.conf import settings
from django.core import signing
from django.http import FileResponse, JsonResponse
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.utils.translation import get_language
from django.views import View

from .. import selectors
from ..models import Release
from . import downloads

CURSOR_SALT = "incidents.api.cursor"
GEOJSON = "application/geo+json"


class BadParameter(Exception):
    """One query parameter is malformed; becomes a 400 naming it."""

    def __init__(self, name, message):
        super().__init__(f"{name}: {message}")
        self.errors = {name: [message]}


class NotFound(Exception):
    """The path names no published thing; becomes the API's JSON 404 (not the site's HTML page)."""


def parameter_errors(errors, status=400):
    """400 with a body naming each bad parameter and what is wrong with it."""
    return JsonResponse(
        {
            "code": "InvalidParameterValue",
            "description": "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items()),
            "errors": errors,
        },
        status=status,
    )


def parse_limit(params):
    """(limit applied, warning or None): a missing limit is the default, one above the maximum is clamped."""
    text = params.get("limit")
    if text in (None, ""):
        return settings.API_DEFAULT_LIMIT, None
    try:
        limit = int(text)
    except ValueError:
        raise BadParameter("limit", "must be a whole number.") from None
    if limit < 1:
        raise BadParameter("limit", "must be at least 1.")
    if limit > settings.API_MAX_LIMIT:
        return settings.API_MAX_LIMIT, (
            f"limit {limit} is above the maximum of {settings.API_MAX_LIMIT}; "
            f"at most {settings.API_MAX_LIMIT} features are returned per page."
        )
    return limit, None


def make_cursor(start_date, pk):
    return signing.dumps([start_date.isoformat(), pk], salt=CURSOR_SALT, compress=True)


def parse_cursor(params):
    """The keyset position a signed `cursor` points after; a tampered or foreign cursor is refused."""
    text = params.get("cursor")
    if not text:
        return None
    try:
        start_date, pk = signing.loads(text, salt=CURSOR_SALT)
        return datetime.date.fromisoformat(start_date), int(pk)
    except (signing.BadSignature, ValueError, TypeError):
        raise BadParameter("cursor", "is not a cursor this server issued; follow the `next` link as given.") from None


POSITION_SALT = "incidents.api.position"


def make_position_cursor(offset, ordering_key):
    """A cursor for pages in an analyst's order (OGC sortby): how many incidents come before the page, bound to the
    order it was issued for."""
    return signing.dumps([offset, ordering_key], salt=POSITION_SALT, compress=True)


def parse_position_cursor(params, ordering_key):
    """How many incidents a signed sortby cursor skips (0 without one); a cursor of another order is refused."""
    text = params.get("cursor")
    if not text:
        return 0
    try:
        offset, key = signing.loads(text, salt=POSITION_SALT)
        if key != ordering_key or not isinstance(offset, int) or offset < 0:
            raise ValueError(key)
        return offset
    except (signing.BadSignature, ValueError, TypeError):
        raise BadParameter(
            "cursor", "is not a cursor this server issued for this sortby; follow the `next` link as given."
        ) from None


# A change feed token: after change N ("c") or after data version N ("v", what a full download was made at). Opaque to
# clients (base64), not signed: it reveals nothing, and must stay valid however the server's keys change.
CHANGE_TOKEN = re.compile(r"^([cv])(\d{1,18})$")


def make_change_token(kind, number):
    return base64.urlsafe_b64encode(f"{kind}{number}".encode()).decode().rstrip("=")


def parse_change_token(params):
    """("c", change id) or ("v", data version) from `since`, or None without one; a token not issued here is refused."""
    values = params.getlist("since")
    if len(values) > 1:
        raise BadParameter("since", "give one token, the one the last page's `resume` link carries.")
    if not values or values[0] == "":
        return None
    text = values[0]
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        decoded = ""
    if not (match := CHANGE_TOKEN.match(decoded)) or not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        raise BadParameter("since", "is not a token this server issued; follow the `next` or `resume` link as given.")
    return match[1], int(match[2])


def parse_flag(params, name):
    value = params.get(name, "").lower()
    if value not in ("", "0", "1", "true", "false"):
        raise BadParameter(name, "must be 1 or 0.")
    return value in ("1", "true")


def page_url(request, **replace):
    params = request.GET.copy()
    for name, value in replace.items():
        params[name] = value
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


# A release never changes: its answers may be kept for a year and never revalidated.
RELEASE_CACHE = "public, max-age=31536000, immutable"


def release_asked(params):
    """The Release `?release=<name>` names, or None without one; repeating the same name is harmless, another name
    or a name no release has is a 400 naming `release`."""
    names = {name.strip() for name in params.getlist("release") if name.strip()}
    if not names:
        return None
    if len(names) > 1:
        raise BadParameter("release", "give one release name.")
    try:
        return selectors.release_get(name=names.pop())
    except Release.DoesNotExist:
        raise BadParameter("release", "there is no release of that name; /api/releases.json lists them.") from None


def params_without_release(params):
    return selectors.params_without(params, "release")


class PublicGetMixin:
    """GET-only, public, cross-origin readable; malformed parameters become 400s instead of exceptions.

    Every successful GET carries an ETag and answers a conditional GET with 304: data views call not_modified()
    (validators from the database's data version, so no body is built for a 304); any other 200 document gets an
    ETag from a hash of its body.
    """

    http_method_names = ["get", "head", "options"]

    def dispatch(self, request, *args, **kwargs):
        try:
            response = super().dispatch(request, *args, **kwargs)
        except selectors.InvalidFilters as invalid:
            response = parameter_errors(invalid.errors)
        except BadParameter as bad:
            response = parameter_errors(bad.errors)
        except NotFound as missing:
            response = JsonResponse({"code": "NotFound", "description": str(missing)}, status=404)
        response = self.content_validated(response)
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Expose-Headers"] = "ETag, Last-Modified, Link, Content-Disposition"
        if request.method == "OPTIONS":
            # Conditional GETs send If-None-Match, which is not CORS-safelisted, so browsers preflight them.
            response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            response["Access-Control-Allow-Headers"] = "Accept, If-None-Match, If-Modified-Since"
            response["Access-Control-Max-Age"] = "86400"
        return response

    def not_modified(self, *, variant=""):
        """304 if the client's copy is current, else None; sets self.validators from the public data version."""
        version, changed = selectors.public_data_version()
        # The absolute URL (links in the body carry the host, the query the filters) and the language are part of it.
        fingerprint = f"{self.request.build_absolute_uri()}|{get_language()}|{variant}|{version}"
        etag = '"' + hashlib.sha256(fingerprint.encode()).hexdigest()[:32] + '"'
        last_modified = int(changed.timestamp()) if changed else None  # HTTP dates have whole seconds
        self.validators = {"ETag": etag, **({"Last-Modified": http_date(last_modified)} if last_modified else {})}
        response = get_conditional_response(self.request, etag=etag, last_modified=last_modified)
        if response is not None:
            for header, value in self.validators.items():
                response[header] = value
        return response

    def with_validators(self, response):
        for header, value in getattr(self, "validators", {}).items():
            response[header] = value
        return response

    def content_validated(self, response):
        """A 200 document without validators gets an ETag hashed from its body (and 304 if the client has it)."""
        if (
            self.request.method not in ("GET", "HEAD")
            or response.status_code != 200
            or response.streaming
            or response.has_header("ETag")
        ):
            return response
        etag = '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
        response["ETag"] = etag
        not_modified = get_conditional_response(self.request, etag=etag, response=response)
        if not_modified is not response:
            not_modified["ETag"] = etag
            for header in ("Vary", "Content-Language"):
                if response.has_header(header):
                    not_modified[header] = response[header]
        return not_modified


class PublicGetView(PublicGetMixin, View):
    """A public document that is not a read of incidents (OpenAPI, landing pages): ETag from its body."""


class PublicDataView(PublicGetView):
    """A public read of the published incidents under the one FilterSet.

    get() runs the same steps for every output: the subclass's own parameters (`parse`), the filters (the one
    FilterSet, through selectors), the validators and 304 (data version), then `render`. Nothing is read from the
    incidents before the 304 check.
    """

    def parse(self, request):
        """Validate the output's own parameters (limit, cursor, bucket, …); raise BadParameter. Also filter params."""
        return request.GET

    def variant(self, request):
        """What else than URL and language changes the body (the Accept header, for content negotiation)."""
        return ""

    # Whether `?release=<name>` can answer from a release's frozen rows (render_release); other outputs refuse it.
    release_readable = False

    def get(self, request, *args, **kwargs):
        self.release = release_asked(request.GET)
        if self.release is not None:
            return self.get_release(request, *args, **kwargs)
        self.params = self.parse(request)
        self.filterset = selectors.incident_filterset(params=self.params)
        # A whole-dataset file answers with its own validators (ETag per data version, Range, If-Range).
        if (response := self.full_download(request)) is not None:
            return response
        if (response := self.not_modified(variant=self.variant(request))) is not None:
            return response
        return self.with_validators(self.render(request, *args, **kwargs))

    def get_release(self, request, *args, **kwargs):
        """`?release=<name>`: the release's file (whole), or its frozen rows under the filters a release can apply;
        validators from the release, which never changes, so the answer may be cached for long."""
        if self.download_filename is not None and downloads.is_full_download(
            params_without_release(request.GET), flag_required=self.download_flag_required
        ):
            return self.release_download(request)
        if not self.release_readable:
            if self.download_filename is not None:
                others = sorted(set(request.GET) - {"release", "download"})
                raise BadParameter(others[0], "a release's file is served whole: give no other parameter.")
            raise BadParameter("release", "this output does not answer from a release (see /api/openapi.json).")
        self.params = self.parse(request)
        self.filterset = selectors.incident_filterset(params=self.params)
        if (response := self.release_not_modified(variant=self.variant(request))) is not None:
            return response
        return self.with_validators(self.render_release(request, *args, **kwargs))

    def render_release(self, request, *args, **kwargs):
        raise NotImplementedError

    def release_not_modified(self, *, variant=""):
        """304 if the client holds this answer of the release, else None; sets self.validators for a long cache."""
        release = self.release
        fingerprint = (
            f"{self.request.build_absolute_uri()}|{get_language()}|{variant}|"
            f"{release.number}|{release.name}|{release.created_at.isoformat()}"
        )
        etag = '"' + hashlib.sha256(fingerprint.encode()).hexdigest()[:32] + '"'
        last_modified = int(release.created_at.timestamp())
        self.validators = {"ETag": etag, "Last-Modified": http_date(last_modified), "Cache-Control": RELEASE_CACHE}
        response = get_conditional_response(self.request, etag=etag, last_modified=last_modified)
        if response is not None:
            for header, value in self.validators.items():
                response[header] = value
        return response

    # Outputs that can be the whole dataset as one file name it here and say how to write it (download_chunks).
    download_filename = None
    download_content_type = None
    download_flag_required = True  # whether ?download=1 is what makes it a download (GeoJSON) or any request (CSV)

    def download_chunks(self):
        raise NotImplementedError

    def full_download(self, request):
        """The unfiltered export served as a file (incidents/api/downloads.py), or None for every other request."""
        if self.download_filename is None or not downloads.is_full_download(
            request.GET, flag_required=self.download_flag_required
        ):
            return None
        # Read before the file is: the file holds this version or a newer one, so the change feed from this version
        # on brings a copy up to date (applying a change already in the file again changes nothing).
        version, _changed = selectors.public_data_version()
        response = downloads.full_download_response(
            request,
            filename=self.download_filename,
            content_type=self.download_content_type,
            chunks=self.download_chunks,
        )
        changes = reverse("incidents:api-changes") + "?since=" + make_change_token("v", version)
        response["Link"] = f'<{request.build_absolute_uri(changes)}>; rel="changes"'
        return response

    def release_download(self, request):
        """The release's file as it was written, whatever changed since (incidents/releases.py)."""
        from ..releases import release_file_path  # releases.py writes its files with this package's outputs

        release = self.release
        etag = f'"{release.manifest["files"][self.download_filename]["sha256"]}"'
        not_modified = get_conditional_response(request, etag=etag)
        if not_modified is not None:
            not_modified["ETag"] = etag
            return not_modified
        path = release_file_path(release=release, filename=self.download_filename)
        if not path.is_file():  # RELEASES_DIR lost or not restored with the database
            raise NotFound(f"The files of release {release.name} are missing on this server.")
        response = FileResponse(path.open("rb"), content_type=self.download_content_type)
        stem, extension = self.download_filename.rsplit(".", 1)
        response["Content-Disposition"] = f'attachment; filename="{stem}-{release.name}.{extension}"'
        response["ETag"] = etag
        response["Cache-Control"] = RELEASE_CACHE
        return response

    def render(self, request, *args, **kwargs):
        raise NotImplementedError
