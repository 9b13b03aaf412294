"""Full-dataset downloads as files: written once per data version, then served with Content-Length and Range.

A streamed download of every incident cannot say its length up front and cannot be resumed; the unfiltered export is
the one analysts fetch again and again, so it is materialised in settings.DOWNLOAD_CACHE_DIR (written to a temporary
file and renamed, so a reader never sees half a file) and served from there: by nginx when the app runs behind it
(settings.DOWNLOAD_ACCEL_REDIRECT), by the app otherwise.
"""

import fcntl
import hashlib
import os
import re
import tempfile
from contextlib import contextmanager

from django.conf import settings
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date

from .. import selectors
from . import sql

READ_BLOCK = 64 * 1024
SINGLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def is_full_download(params, *, flag_required):
    """No filter at all (the download flag aside): the whole published set."""
    flag = params.get("download", "").lower() in ("1", "true")
    return set(params) <= {"download"} and (flag or not flag_required)


def data_version(*, filename):
    """A key that changes whenever the file's content would: the public data version and the export's SQL text."""
    version, changed = selectors.public_data_version()
    # The time as well as the number: a database rebuilt or restored counts versions from the start again.
    fingerprint = f"{filename}|{version}|{changed and changed.isoformat()}|{sql.FEATURE_TEXT_SQL}|{sql.CSV_SQL}"
    return hashlib.sha256(fingerprint.encode()).hexdigest()[:32], changed


def full_download_file(*, filename):
    """(path, version, last change) of the file that holds the current data version of this download."""
    version, changed = data_version(filename=filename)
    stem, extension = filename.rsplit(".", 1)
    return settings.DOWNLOAD_CACHE_DIR / f"{stem}-{version}.{extension}", version, changed


@contextmanager
def exclusive(lock_path):
    """One writer per file across gunicorn workers; the others wait, then find the file written."""
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def materialise(*, path, chunks):
    """Write chunks (text) to path unless it exists: temp file + fsync + rename, so it appears whole or not at all."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with exclusive(path.parent / f"{path.name.split('-', 1)[0]}.lock"):
        if path.exists():
            return
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as output:
                for chunk in chunks():
                    output.write(chunk)
                output.flush()
                os.fsync(output.fileno())
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
        # Older versions go: a worker still sending one keeps reading it through its open file.
        stem, suffix = path.name.split("-", 1)[0], path.suffix
        for old in path.parent.glob(f"{stem}-*{suffix}"):
            if old != path:
                old.unlink(missing_ok=True)


def byte_range(header, size):
    """(first, last) byte of a single-range request, "unsatisfiable", or None to send the whole file."""
    match = SINGLE_RANGE.match(header.replace(" ", ""))
    if not match or match.groups() == ("", ""):
        return None  # malformed or several ranges: RFC 9110 lets a server ignore Range
    first, last = match.groups()
    if first == "":  # the last N bytes
        length = int(last)
        if length == 0:
            return "unsatisfiable"
        return max(0, size - length), size - 1
    first, last = int(first), int(last) if last else size - 1
    if first >= size or last < first:
        return "unsatisfiable"
    return first, min(last, size - 1)


def file_part(path, first, last):
    with path.open("rb") as source:
        source.seek(first)
        remaining = last - first + 1
        while remaining > 0:
            block = source.read(min(READ_BLOCK, remaining))
            if not block:
                return
            remaining -= len(block)
            yield block


def full_download_response(request, *, filename, content_type, chunks):
    """The whole export as a file: 200 with Content-Length, 206 for a Range, 304 for a current copy, 416 past the end.

    `chunks` is called (to write the file) only when this data version has not been written yet: the
    "incidents.full_downloads_write" job writes each new version in the background (incidents/tasks.py), so a
    request writes it only when it comes first (it then waits for the job's write instead, under the same lock).
    """
    path, version, changed = full_download_file(filename=filename)
    etag = f'"{version}"'
    last_modified = int(changed.timestamp()) if changed else None
    not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if not_modified is not None:
        not_modified["ETag"] = etag
        return not_modified

    materialise(path=path, chunks=chunks)
    if settings.DOWNLOAD_ACCEL_REDIRECT:
        return _accel_redirect_response(
            path=path, filename=filename, content_type=content_type, etag=etag, last_modified=last_modified
        )
    size = path.stat().st_size
    requested = request.headers.get("Range")
    # If-Range: resume only if the client's partial copy is of this very version, else send it all again.
    if requested and request.headers.get("If-Range", etag) != etag:
        requested = None
    part = byte_range(requested, size) if requested and request.method == "GET" else None
    if part == "unsatisfiable":
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    elif part is not None:
        first, last = part
        response = StreamingHttpResponse(file_part(path, first, last), status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
        response["Content-Length"] = str(last - first + 1)
    else:
        # FileResponse sets Content-Length, and gunicorn sends it with sendfile().
        response = FileResponse(path.open("rb"), content_type=content_type)
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    if last_modified:
        response["Last-Modified"] = http_date(last_modified)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _accel_redirect_response(*, path, filename, content_type, etag, last_modified):
    """Behind nginx: an empty answer naming the file (X-Accel-Redirect); nginx sends it with Content-Length, Range and
    If-Range (against this ETag, which its config copies from the answer), so a slow reader holds no app thread."""
    response = HttpResponse(content_type=content_type)
    response["X-Accel-Redirect"] = f"{settings.DOWNLOAD_ACCEL_REDIRECT.rstrip('/')}/{path.name}"
    response["ETag"] = etag
    if last_modified:
        response["Last-Modified"] = http_date(last_modified)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
