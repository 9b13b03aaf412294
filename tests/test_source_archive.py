"""Archived sources against a real HTTP server on loopback: a capture after a redirect is a WARC that warcio reads
back with the same hash, the limits (private addresses, size, time, redirects) and failed answers are recorded as
failed captures, saving a source queues the job and never fetches or raises, the public archived copy exists only
for sources of published incidents and is served sandboxed, and staff see, download and re-capture."""

import base64
import hashlib
import io
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from procrastinate.contrib.django.models import ProcrastinateJob
from warcio.archiveiterator import ArchiveIterator

from incidents import archive, services
from incidents.importing.loading import dataset_source
from incidents.models import CaptureStatus, Dataset, Source, SourceCapture
from tests import test_jobs
from tests.factories import IncidentFactory, SourceFactory, UserFactory
from tests.test_jobs import wait_for

pytestmark = pytest.mark.django_db
workers = test_jobs.workers  # real worker subprocesses, as tests/test_jobs.py starts them

PAGE = (
    b"<!doctype html><html><head><title>Ceasefire report</title></head><body><h1>Shelling near Idlib</h1>"
    b"<script>document.title = 'script ran'</script><img src='/static/tracker.png'></body></html>"
)


class Origin:
    """A news site on 127.0.0.1: a page, a redirect to it, a redirect loop, errors, a big page and a slow one."""

    def __init__(self):
        self.requests = []
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # the body ends with the connection: no Content-Length needed for /big

            def do_GET(self):
                origin.requests.append((self.path, dict(self.headers)))
                if self.path == "/page":
                    self.answer(200, PAGE, [("Content-Type", "text/html; charset=utf-8")])
                elif self.path == "/moved":
                    self.answer(302, b"", [("Location", "/page")])
                elif self.path == "/loop":
                    self.answer(302, b"", [("Location", "/loop")])
                elif self.path == "/ftp":
                    self.answer(301, b"", [("Location", "ftp://127.0.0.1/file")])
                elif self.path == "/missing":
                    self.answer(404, b"<p>Not found</p>", [("Content-Type", "text/html")])
                elif self.path == "/broken":
                    self.answer(500, b"<p>Oops</p>", [("Content-Type", "text/html")])
                elif self.path == "/big":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()
                    for _chunk in range(50):
                        self.wfile.write(b"x" * 1000)
                elif self.path == "/trickle":  # a byte every 0.1 s for 10 s: each read is quick, the whole is not
                    self.send_response(200)
                    self.end_headers()
                    for _byte in range(100):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(0.1)
                elif self.path == "/slow":
                    time.sleep(3)
                    self.answer(200, PAGE, [("Content-Type", "text/html")])

            def answer(self, status, body, headers):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # a client that gave up (the time limit)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def origin(settings, tmp_path):
    settings.SOURCE_ARCHIVING = True
    settings.SOURCE_ARCHIVING_ALLOW_PRIVATE = True
    settings.SOURCE_ARCHIVE_DIR = tmp_path / "source-archive"
    server = Origin()
    yield server
    server.stop()


def archived_copy(source, settings):
    """A successful capture of `source` (its URL pointed at a loopback page for the fetch), for other tests."""
    settings.SOURCE_ARCHIVING_ALLOW_PRIVATE = True
    server = Origin()
    try:
        Source.objects.filter(pk=source.pk).update(url=server.url("/page"))
        return archive.source_capture(source_id=source.pk)
    finally:
        server.stop()


def capture_of(url):
    source = SourceFactory(url=url)
    return archive.source_capture(source_id=source.pk)


def warc_records(capture):
    """(type, WARC headers, HTTP headers, body) of each record; every record's digests checked as `warcio check`
    checks them."""
    records = []
    with capture.warc.open("rb") as warc:
        for record in ArchiveIterator(warc, check_digests=True):
            body = record.content_stream().read()
            assert record.digest_checker.passed is True, record.digest_checker.problems
            records.append((record.rec_type, record.rec_headers, record.http_headers, body))
    return records


def test_a_capture_follows_the_redirect_and_keeps_a_warc_that_reads_back_with_the_same_hash(origin):
    capture = capture_of(origin.url("/moved"))

    assert capture.status == CaptureStatus.CAPTURED and capture.error == ""
    assert (capture.http_status, capture.final_url) == (200, origin.url("/page"))
    assert capture.url == origin.url("/moved")
    assert capture.content_type == "text/html; charset=utf-8"
    assert capture.size == len(PAGE)
    assert capture.payload_sha256 == hashlib.sha256(PAGE).hexdigest()
    with capture.warc.open("rb") as warc:  # written where this process (and the site) reads it
        assert hashlib.sha256(warc.read()).hexdigest() == capture.warc_sha256
    assert capture.warc.name.endswith(".warc")
    with capture.warc.open("rb") as warc:
        assert hashlib.sha256(warc.read()).hexdigest() == capture.warc_sha256

    records = warc_records(capture)
    assert [(kind, headers.get_header("WARC-Target-URI")) for kind, headers, _http, _body in records] == [
        ("warcinfo", None),
        ("response", origin.url("/moved")),
        ("request", origin.url("/moved")),
        ("response", origin.url("/page")),
        ("request", origin.url("/page")),
    ]
    _kind, _warc_headers, redirect_http, _body = records[1]
    assert redirect_http.get_statuscode() == "302" and redirect_http.get_header("Location") == "/page"
    _kind, page_headers, page_http, page_body = records[3]
    assert page_http.get_statuscode() == "200" and page_body == PAGE
    assert page_headers.get_header("WARC-Payload-Digest") == (
        "sha256:" + base64.b32encode(hashlib.sha256(PAGE).digest()).decode()
    )
    assert page_headers.get_header("WARC-IP-Address") == "127.0.0.1"
    assert [path for path, _headers in origin.requests] == ["/moved", "/page"]
    assert "conflictmap-archiver" in origin.requests[0][1]["User-Agent"]


def test_private_and_loopback_addresses_are_refused_unless_the_setting_allows_them(origin, settings):
    settings.SOURCE_ARCHIVING_ALLOW_PRIVATE = False
    capture = capture_of(origin.url("/page"))
    assert capture.status == CaptureStatus.FAILED and not capture.warc
    assert "127.0.0.1 is a private, loopback or reserved address (127.0.0.1)" in capture.error
    capture = capture_of("http://localhost:9/page")
    assert "localhost is a private, loopback or reserved address" in capture.error
    assert not origin.requests  # nothing was sent


def test_a_page_over_the_size_limit_is_a_failed_capture_and_nothing_is_kept(origin, settings):
    settings.SOURCE_ARCHIVING_MAX_BYTES = 20_000
    capture = capture_of(origin.url("/big"))  # 50,000 bytes, no Content-Length: stopped while reading
    assert capture.status == CaptureStatus.FAILED
    assert capture.error == "The page is larger than 20000 bytes."
    assert (capture.http_status, capture.size, capture.payload_sha256, capture.warc.name) == (200, None, "", "")
    assert not list((settings.SOURCE_ARCHIVE_DIR).glob("**/*.warc"))

    settings.SOURCE_ARCHIVING_MAX_BYTES = 100  # the page declares 200-odd bytes: refused before reading it
    assert capture_of(origin.url("/page")).error == "The page is larger than 100 bytes."


def test_a_server_too_slow_to_answer_is_a_failed_capture_within_the_time_limit(origin, settings):
    settings.SOURCE_ARCHIVING_TIMEOUT_SECONDS = 0.5
    started = time.monotonic()
    capture = capture_of(origin.url("/slow"))
    assert time.monotonic() - started < 2.5  # the server would have taken 3 s
    assert capture.status == CaptureStatus.FAILED and "timed out" in capture.error.lower()

    settings.SOURCE_ARCHIVING_TIMEOUT_SECONDS = 1
    started = time.monotonic()
    capture = capture_of(origin.url("/trickle"))
    assert time.monotonic() - started < 3
    assert capture.error == "The fetch took longer than 1 s."


def test_error_answers_and_bad_redirects_are_failed_captures_with_their_reason(origin):
    missing = capture_of(origin.url("/missing"))
    assert (missing.status, missing.http_status, missing.error) == (
        CaptureStatus.FAILED,
        404,
        "The server answered 404.",
    )
    broken = capture_of(origin.url("/broken"))
    assert (broken.http_status, broken.error, broken.warc.name) == (500, "The server answered 500.", "")
    assert capture_of(origin.url("/loop")).error == "More than 5 redirects."
    assert capture_of(origin.url("/ftp")).error == "A redirect led outside http and https: ftp://127.0.0.1/file"
    refused = capture_of("http://127.0.0.1:9/nobody-listens")
    assert refused.status == CaptureStatus.FAILED and "NewConnectionError" in refused.error


def source_form(url, **fields):
    return {
        "publisher": "Test Wire",
        "title": "Shelling near Idlib",
        "url": url,
        "published_on": "2019-04-20",
        **fields,
    }


def capture_jobs():
    return list(ProcrastinateJob.objects.filter(task_name=archive.CAPTURE_TASK).values_list("args", flat=True))


def test_saving_a_source_queues_one_capture_and_never_fetches_inline(
    origin, admin_client, admin_user, settings, django_capture_on_commit_callbacks
):
    settings.JOBS_RUN_AT_ONCE = False
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/incidents/source/add/", source_form(origin.url("/page")))
    assert response.status_code == 302
    source = Source.objects.get(title="Shelling near Idlib")
    assert not origin.requests and not SourceCapture.objects.exists()  # the save fetched nothing
    assert capture_jobs() == [{"source_id": source.pk, "user_id": admin_user.pk}]

    archive.source_capture(**capture_jobs()[0])  # what the worker runs
    with connection.cursor() as cursor:  # done, as a worker would leave it (the lock holds only while it waits)
        cursor.execute("UPDATE procrastinate_jobs SET status = 'succeeded'")
    capture = source.captures.get()
    assert capture.status == CaptureStatus.CAPTURED and capture.requested_by == admin_user

    def edit(url, title):
        source.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                f"/admin/incidents/source/{source.pk}/change/",
                source_form(url, title=title, edit_version=source.version),
            )
        assert response.status_code == 302

    edit(origin.url("/page"), "Shelling near Idlib, updated")  # the same URL, captured already: nothing more
    assert len(capture_jobs()) == 1
    edit(origin.url("/moved"), "Shelling near Idlib, moved")  # a new URL: captured again
    assert len(capture_jobs()) == 2
    edit(origin.url("/moved?page=2"), "Shelling near Idlib, moved again")  # a capture still waits: it will do
    assert len(capture_jobs()) == 2

    settings.SOURCE_ARCHIVING = False
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/incidents/source/add/", source_form(origin.url("/page"), title="Another"))
    assert len(capture_jobs()) == 2  # archiving off: nothing queued


def test_a_failing_capture_or_queue_never_reaches_the_editors_save(
    origin, admin_client, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.SOURCE_ARCHIVING_ALLOW_PRIVATE = False  # the job runs at once here (tests' JOBS_RUN_AT_ONCE): refused
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/incidents/source/add/", source_form(origin.url("/page")))
    assert response.status_code == 302
    assert "private, loopback" in Source.objects.get().captures.get().error

    def queue_down(*args, **kwargs):
        raise ConnectionError("the queue is down")

    monkeypatch.setattr(archive.jobs, "job_defer", queue_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/incidents/source/add/", source_form(origin.url("/x"), title="Second"))
    assert response.status_code == 302 and Source.objects.filter(title="Second").exists()


def test_the_report_assistant_queues_its_source_and_imports_datasets_are_never_fetched(
    origin, editor, settings, django_capture_on_commit_callbacks
):
    settings.JOBS_RUN_AT_ONCE = False
    incident = IncidentFactory.build()
    candidate = {
        field: getattr(incident, field)
        for field in ("title", "start_date", "location", "place_reported", "country", "event_type")
    }
    with django_capture_on_commit_callbacks(execute=True):
        services.incidents_create_from_report(
            source={"publisher": "DW", "title": "Report", "url": origin.url("/page"), "published_on": None},
            text="Shelling near Idlib killed two.",
            candidates=[candidate],
            user=editor,
        )
    assert capture_jobs() == [{"source_id": Source.objects.get(title="Report").pk, "user_id": editor.pk}]

    cited = dataset_source(Dataset.UCDP_GED, "25.1")  # what an import cites: the dataset's home page
    with django_capture_on_commit_callbacks(execute=True):
        assert not archive.source_capture_request(source=cited, user=None, force=True)
    assert not Source.objects.archivable().filter(pk=cited.pk).exists()
    assert len(capture_jobs()) == 1


@pytest.fixture
def published_capture(origin):
    source = SourceFactory(url=origin.url("/page"), publisher="Idlib Wire")
    IncidentFactory(published=True, title="Shelling near Idlib", sources=[source])
    return archive.source_capture(source_id=source.pk)


def test_a_published_incident_links_its_sources_archived_copy_with_time_and_hash(client, published_capture):
    incident = published_capture.source.cited_by.get().incident
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert f'href="/archive/{published_capture.pk}/"' in page and "archived copy" in page
    assert published_capture.payload_sha256 in page
    assert f'href="/archive/{published_capture.pk}.warc"' in page
    assert f"captured {published_capture.captured_at:%-d %b %Y, %H:%M} UTC" in page
    arabic = client.get(f"/ar/incidents/{incident.pk}/").content.decode()
    assert f'href="/ar/archive/{published_capture.pk}/"' in arabic and "نسخة مؤرشفة" in arabic


def test_the_archived_copy_is_served_sandboxed_and_the_warc_as_a_download(client, published_capture):
    for prefix in ("", "/ar"):
        response = client.get(f"{prefix}/archive/{published_capture.pk}/")
        assert response.status_code == 200 and response.content == PAGE
        assert response["Content-Type"] == "text/html; charset=utf-8"
        policy = response["Content-Security-Policy"]
        assert policy.startswith("sandbox;") and "allow-scripts" not in policy and "allow-same-origin" not in policy
        assert "default-src 'none'" in policy
        assert response["X-Content-Type-Options"] == "nosniff"

        download = client.get(f"{prefix}/archive/{published_capture.pk}.warc")
        assert download["Content-Type"] == "application/warc"
        assert "attachment" in download["Content-Disposition"]
        body = b"".join(download.streaming_content)
        assert hashlib.sha256(body).hexdigest() == published_capture.warc_sha256
        pages = [record.content_stream().read() for record in ArchiveIterator(io.BytesIO(body))]
        assert PAGE in pages


def test_a_drafts_or_retracted_incidents_source_a_sensitive_source_and_a_failed_capture_are_never_public(
    client, origin, publisher, published_capture
):
    draft_source = SourceFactory(url=origin.url("/page"))
    draft = IncidentFactory(sources=[draft_source])
    draft_capture = archive.source_capture(source_id=draft_source.pk)
    failed = archive.source_capture(source_id=SourceFactory(url=origin.url("/missing")).pk)
    IncidentFactory(published=True, sources=[failed.source])
    for capture in (draft_capture, failed):
        assert client.get(f"/archive/{capture.pk}/").status_code == 404
        assert client.get(f"/archive/{capture.pk}.warc").status_code == 404
    assert client.get(f"/incidents/{draft.pk}/").status_code == 404

    incident = published_capture.source.cited_by.get().incident
    Source.objects.filter(pk=published_capture.source_id).update(sensitive=True)  # its page would show the URL
    assert client.get(f"/archive/{published_capture.pk}/").status_code == 404
    assert client.get(f"/archive/{published_capture.pk}.warc").status_code == 404
    assert "archived copy" not in client.get(f"/incidents/{incident.pk}/").content.decode()
    Source.objects.filter(pk=published_capture.source_id).update(sensitive=False)
    assert client.get(f"/archive/{published_capture.pk}/").status_code == 200
    services.incident_retract(incident=incident, reason="Wrong date.", user=publisher)
    assert client.get(f"/archive/{published_capture.pk}/").status_code == 404


def test_staff_see_a_sources_captures_download_any_warc_and_re_capture(
    admin_client, client, origin, settings, django_capture_on_commit_callbacks
):
    source = SourceFactory(url=origin.url("/moved"))
    capture = archive.source_capture(source_id=source.pk)
    archive.source_capture(source_id=SourceFactory(url=origin.url("/missing")).pk)
    page = admin_client.get(f"/admin/incidents/source/{source.pk}/change/").content.decode()
    warc_url = f"/admin/incidents/source/{source.pk}/captures/{capture.pk}/warc/"
    for shown in ("captured", origin.url("/page"), capture.payload_sha256, warc_url, "Re-capture"):
        assert shown in page
    download = admin_client.get(warc_url)  # a draft's source: staff only
    assert download["Content-Type"] == "application/warc"
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == capture.warc_sha256
    assert client.get(warc_url).status_code == 302  # to the sign-in page

    settings.JOBS_RUN_AT_ONCE = False
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/incidents/source/{source.pk}/recapture/", follow=True)
    assert "1 capture queued" in response.content.decode()
    assert capture_jobs() == [{"source_id": source.pk, "user_id": response.wsgi_request.user.pk}]

    other = SourceFactory(url=origin.url("/page"))
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/incidents/source/",
            {"action": "recapture", "_selected_action": [other.pk, source.pk]},
        )
    assert {job["source_id"] for job in capture_jobs()} == {source.pk, other.pk}  # the first one still waits

    settings.SOURCE_ARCHIVING = False
    response = admin_client.post(f"/admin/incidents/source/{other.pk}/recapture/", follow=True)
    assert "Source archiving is off" in response.content.decode()


def test_an_editor_sees_captures_but_only_staff_may_reach_them(client, origin):
    source = SourceFactory(url=origin.url("/page"))
    capture = archive.source_capture(source_id=source.pk)
    client.force_login(UserFactory(username="ed-archive", group="Editors"))
    page = client.get(f"/admin/incidents/source/{source.pk}/change/").content.decode()
    assert capture.payload_sha256 in page and "Re-capture" in page
    client.force_login(UserFactory(username="not-staff", is_staff=False))
    assert client.get(f"/admin/incidents/source/{source.pk}/captures/{capture.pk}/warc/").status_code == 302


def test_the_command_captures_what_is_missing_and_never_a_dataset(origin, settings):
    wanted = SourceFactory(url=origin.url("/page"))
    failed = SourceFactory(url=origin.url("/missing"))
    SourceFactory(url="")
    dataset_source(Dataset.ACLED, "2025")
    out = io.StringIO()
    call_command("archive_sources", "--missing", stdout=out)
    assert out.getvalue().endswith("1 captured, 1 failed.\n")
    assert wanted.captures.get().status == CaptureStatus.CAPTURED
    assert [path for path, _headers in origin.requests] == ["/page", "/missing"]  # nothing else fetched

    call_command("archive_sources", "--missing", stdout=out)  # the failed one is tried again, the other is done
    assert failed.captures.count() == 2 and wanted.captures.count() == 1
    call_command("archive_sources", "--source", str(wanted.pk), stdout=out)
    assert wanted.captures.count() == 2
    with pytest.raises(CommandError, match="No source with id 999999"):
        call_command("archive_sources", "--source", "999999")
    settings.SOURCE_ARCHIVING = False
    with pytest.raises(CommandError, match="SOURCE_ARCHIVING=true"):
        call_command("archive_sources", "--missing")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_captures_a_source_an_editor_saved(origin, admin_client, workers, settings):
    response = admin_client.post("/admin/incidents/source/add/", source_form(origin.url("/moved")))
    assert response.status_code == 302
    source = Source.objects.get()
    assert not origin.requests  # the save only queued the job
    workers.start(
        SOURCE_ARCHIVING="true",
        SOURCE_ARCHIVING_ALLOW_PRIVATE="true",
        SOURCE_ARCHIVE_DIR=str(settings.SOURCE_ARCHIVE_DIR),
    )
    wait_for(lambda: source.captures.exists(), explain=workers.logs)
    capture = source.captures.get()
    assert (capture.status, capture.final_url) == (CaptureStatus.CAPTURED, origin.url("/page")), capture.error
    assert capture.payload_sha256 == hashlib.sha256(PAGE).hexdigest()
    with capture.warc.open("rb") as warc:  # written where this process (and the site) reads it
        assert hashlib.sha256(warc.read()).hexdigest() == capture.warc_sha256
