"""Archived sources: a source's URL fetched once, in the background, and kept as a WARC file (docs/evidence.md).

Saving a source with a URL asks for a capture (`source_capture_request`, after the editor's transaction commits); the
job (`incidents.source_capture`, incidents/tasks.py) runs `source_capture`, which fetches the page through
conflictmap/outbound.py's address check, following redirects itself and checking each hop's address again, within
the size and time limits, and records a SourceCapture whatever happens: a failed fetch is a capture with the reason,
never an exception for the editor. `manage.py archive_sources` runs the same by hand.
"""

import hashlib
import logging
import re
import tempfile
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from conflictmap import jobs, outbound

from .models import CaptureStatus, Source, SourceCapture

logger = logging.getLogger(__name__)

CAPTURE_TASK = "incidents.source_capture"
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
READ_CHUNK = 64 * 1024
# Types a reader's browser may show from the archived-copy view (under its sandbox); anything else is a download.
SHOWN_TYPES = {
    "text/html",
    "text/plain",
    "application/xhtml+xml",
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
}
# What an archived page may do when shown: nothing of its own (no scripts, an opaque origin, no forms) and load
# nothing from anywhere (no tracking of readers by the original site, no requests to this site's own URLs).
# frame-ancestors as every other page's: only the embed page may be framed by another site.
CAPTURE_VIEW_POLICY = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; frame-ancestors 'self'"
)


class CaptureFailed(Exception):
    def __init__(self, reason, *, http_status=None, final_url=""):
        super().__init__(reason)
        self.reason, self.http_status, self.final_url = reason, http_status, final_url


@dataclass
class Hop:
    """One request of a fetch and its answer (a redirect, or the page)."""

    url: str
    address: str
    request_line: str
    request_headers: list
    status: int
    reason: str
    headers: list
    body: tempfile.SpooledTemporaryFile
    size: int
    sha256: str
    location: str = ""
    content_type: str = ""


def source_capture_request(*, source, user, force=False):
    """Queue a capture of `source` once the caller's transaction commits; True when one was asked for.

    Only with SOURCE_ARCHIVING on, for a source with a URL worth keeping (not a dataset an import cites), and, unless
    `force` (the admin's Re-capture), when this URL has not been captured yet. The job is queued after the commit,
    so the worker reads the saved source and, with JOBS_RUN_AT_ONCE, the fetch never runs inside the editor's
    transaction; a failure to queue is logged, never raised to the save (`archive_sources --missing` catches up)."""
    if not settings.SOURCE_ARCHIVING or source.pk is None:
        return False
    if not Source.objects.archivable().filter(pk=source.pk).exists():
        return False
    if not force and source.captures.filter(url=source.url).exists():
        return False
    user_id = user.pk if user is not None and user.is_authenticated else None
    source_id = source.pk
    transaction.on_commit(
        lambda: jobs.job_defer(
            CAPTURE_TASK, queueing_lock=f"{CAPTURE_TASK}:{source_id}", source_id=source_id, user_id=user_id
        ),
        robust=True,
    )
    return True


def source_capture(*, source_id, user_id=None):
    """Fetch the source's URL now and record what happened; returns the SourceCapture (None if the source is gone
    or has no URL any more)."""
    source = Source.objects.filter(pk=source_id).first()
    if source is None or not source.url:
        return None
    requester = get_user_model().objects.filter(pk=user_id).first() if user_id else None  # may be gone since
    capture = SourceCapture(source=source, url=source.url, requested_by=requester, captured_at=timezone.now())
    hops = []
    try:
        hops = _fetch(source.url)
        final = hops[-1]
        capture.final_url, capture.http_status = final.url[:2000], final.status
        capture.content_type = final.content_type[:200]
        capture.size, capture.payload_sha256 = final.size, final.sha256
        if not 200 <= final.status < 300:
            raise CaptureFailed(
                _("The server answered %(status)s.") % {"status": final.status},
                http_status=final.status,
                final_url=final.url,
            )
        with tempfile.TemporaryFile() as warc:
            _warc_write(warc, hops=hops, source=source)
            warc.seek(0)
            digest = hashlib.sha256()
            while chunk := warc.read(READ_CHUNK):
                digest.update(chunk)
            capture.warc_sha256 = digest.hexdigest()
            warc.seek(0)
            stamp = capture.captured_at.strftime("%Y%m%dT%H%M%SZ")
            capture.warc.save(f"captures/{source.pk}/{stamp}-{final.sha256[:12]}.warc", File(warc), save=False)
        capture.status = CaptureStatus.CAPTURED
    except CaptureFailed as failure:
        capture.status = CaptureStatus.FAILED
        capture.error = failure.reason[:2000]
        capture.http_status = failure.http_status or capture.http_status
        capture.final_url = (failure.final_url or capture.final_url)[:2000]
        capture.size, capture.payload_sha256 = None, ""  # nothing kept: no size or hash to vouch for
    finally:
        for hop in hops:
            hop.body.close()
    capture.save()
    logger.info("Source %s captured: %s %s", source.pk, capture.status, capture.error)
    return capture


def _fetch(url):
    """The hops from `url` to the page (redirects followed here, each hop's address checked again)."""
    deadline = time.monotonic() + settings.SOURCE_ARCHIVING_TIMEOUT_SECONDS
    hops = []
    try:
        for _hop in range(settings.SOURCE_ARCHIVING_MAX_REDIRECTS + 1):
            try:
                addresses = outbound.public_addresses(url, allow_private=settings.SOURCE_ARCHIVING_ALLOW_PRIVATE)
            except outbound.AddressRefused as refused:
                raise CaptureFailed(str(refused), final_url=url) from None
            hop = outbound.first_listening(
                addresses, lambda address, url=url: _get(url=url, address=address, deadline=deadline)
            )
            hops.append(hop)
            if hop.status not in REDIRECT_STATUSES or not hop.location:
                return hops
            url = urljoin(url, hop.location)
            if urlsplit(url).scheme not in ("http", "https"):
                raise CaptureFailed(_("A redirect led outside http and https: %(url)s") % {"url": url[:500]})
        raise CaptureFailed(
            _("More than %(count)s redirects.") % {"count": settings.SOURCE_ARCHIVING_MAX_REDIRECTS}, final_url=url
        )
    except CaptureFailed:
        for hop in hops:
            hop.body.close()
        raise
    except (urllib3.exceptions.HTTPError, OSError) as failure:  # refused, timed out, TLS, a broken answer
        for hop in hops:
            hop.body.close()
        raise CaptureFailed(f"{type(failure).__name__}: {failure}"[:2000], final_url=url) from None


def _timed_out():
    return CaptureFailed(
        _("The fetch took longer than %(seconds)s s.") % {"seconds": f"{settings.SOURCE_ARCHIVING_TIMEOUT_SECONDS:g}"}
    )


def _get(*, url, address, deadline):
    """GET `url` at the checked `address`, the body read into a temporary file within the limits."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _timed_out()
    timeout = urllib3.Timeout(connect=min(settings.SOURCE_ARCHIVING_CONNECT_SECONDS, remaining), read=remaining)
    target, host = outbound.request_target(url)
    request_headers = [
        ("Host", host),
        ("User-Agent", settings.SOURCE_ARCHIVING_USER_AGENT),
        ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        # The bytes as the server sends them are what is hashed and kept: no compression to undo first.
        ("Accept-Encoding", "identity"),
        ("Connection", "close"),
    ]
    limit = settings.SOURCE_ARCHIVING_MAX_BYTES
    too_big = _("The page is larger than %(limit)s bytes.") % {"limit": limit}
    pool = outbound.connection_pool(
        url=url, address=address, timeout=timeout, ca_file=settings.SOURCE_ARCHIVING_CA_FILE
    )
    with pool:
        response = pool.urlopen(
            "GET",
            target,
            headers=dict(request_headers),
            redirect=False,
            preload_content=False,
            decode_content=False,
        )
        try:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise CaptureFailed(too_big, http_status=response.status, final_url=url)
            body = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
            digest, size = hashlib.sha256(), 0
            try:
                while True:
                    if time.monotonic() > deadline:
                        raise _timed_out()
                    chunk = response.read1(READ_CHUNK, decode_content=False)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > limit:
                        raise CaptureFailed(too_big, http_status=response.status, final_url=url)
                    digest.update(chunk)
                    body.write(chunk)
            except BaseException:
                body.close()
                raise
            body.seek(0)
            # The body is kept de-chunked, so the recorded headers must not announce chunks.
            headers = [(name, value) for name, value in response.headers.items() if name.lower() != "transfer-encoding"]
            return Hop(
                url=url,
                address=address,
                request_line=f"GET {target} HTTP/1.1",
                request_headers=request_headers,
                status=response.status,
                reason=response.reason or "",
                headers=headers,
                body=body,
                size=size,
                sha256=digest.hexdigest(),
                location=response.headers.get("Location", ""),
                content_type=response.headers.get("Content-Type", ""),
            )
        finally:
            response.release_conn()


class _Sha256WARCWriter(WARCWriter):
    """warcio's writer with SHA-256 record digests (its default is SHA-1), the hash the capture is known by."""

    @staticmethod
    def _create_digester():
        return Digester("sha256")


def _warc_write(fileobj, *, hops, source):
    writer = _Sha256WARCWriter(fileobj, gzip=False, warc_version="1.1")
    writer.write_record(
        writer.create_warcinfo_record(
            "",
            {
                "software": "conflictmap source archiving (warcio)",
                "format": "WARC File Format 1.1",
                "isPartOf": f"conflictmap source {source.pk}",
                "description": f"{source.publisher}: {source.title}"[:500],
            },
        )
    )
    for hop in hops:
        request = writer.create_warc_record(
            hop.url,
            "request",
            http_headers=StatusAndHeaders(hop.request_line, hop.request_headers, is_http_request=True),
        )
        response = writer.create_warc_record(
            hop.url,
            "response",
            payload=hop.body,
            length=hop.size,
            http_headers=StatusAndHeaders(f"{hop.status} {hop.reason}".strip(), hop.headers, protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-IP-Address": hop.address.split("%")[0]},
        )
        writer.write_request_response_pair(request, response)


def capture_page(capture):
    """(content type, the page's bytes) of a successful capture, read back from its WARC (the last response)."""
    page = None
    with capture.warc.open("rb") as warc:
        for record in ArchiveIterator(warc):
            if record.rec_type == "response":
                page = record.content_stream().read()
    return page or b""


def capture_shown_type(content_type):
    """(the Content-Type to send, whether to show it inline) for a captured page's type."""
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime not in SHOWN_TYPES:
        return "application/octet-stream", False
    charset = re.search(r"charset=\"?([A-Za-z0-9._:-]{1,40})", content_type)
    return (f"{mime}; charset={charset[1]}" if charset and mime.startswith("text/") else mime), True
