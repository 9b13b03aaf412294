from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Exists, OuterRef

from conflictmap import jobs
from incidents import archive
from incidents.models import Source, SourceCapture


class Command(BaseCommand):
    help = (
        "Capture sources' URLs as WARC files now, as the background job does after an editor saves a source "
        "(docs/evidence.md). Needs SOURCE_ARCHIVING=true. The datasets an import cites are never fetched."
    )

    def add_arguments(self, parser):
        parser.add_argument("--source", type=int, action="append", default=[], help="A source's id (repeatable).")
        parser.add_argument(
            "--missing",
            action="store_true",
            help="Every source with no successful capture of its current URL (seeds, sources saved while archiving "
            "was off, a job that was never queued).",
        )
        parser.add_argument("--queue", action="store_true", help="Queue background jobs instead of fetching here.")

    def handle(self, *args, source, missing, queue, **options):
        if not settings.SOURCE_ARCHIVING:
            raise CommandError("Source archiving is off: set SOURCE_ARCHIVING=true to fetch sources.")
        if not source and not missing:
            raise CommandError("Name the sources to capture (--source ID) or ask for --missing.")
        sources = Source.objects.archivable().order_by("pk")
        if source:
            unknown = set(source) - set(Source.objects.filter(pk__in=source).values_list("pk", flat=True))
            if unknown:
                raise CommandError(f"No source with id {', '.join(map(str, sorted(unknown)))}.")
            sources = sources.filter(pk__in=source)
        if missing:
            captured = SourceCapture.objects.captured().filter(source=OuterRef("pk"), url=OuterRef("url"))
            sources = sources.exclude(Exists(captured))
        counts = {"captured": 0, "failed": 0, "queued": 0}
        for source_id, url in sources.values_list("pk", "url"):
            if queue:
                jobs.job_defer(
                    archive.CAPTURE_TASK,
                    queueing_lock=f"{archive.CAPTURE_TASK}:{source_id}",
                    source_id=source_id,
                    user_id=None,
                )
                counts["queued"] += 1
                continue
            capture = archive.source_capture(source_id=source_id)
            if capture is None:
                continue
            counts[capture.status] += 1
            detail = capture.payload_sha256 if capture.status == "captured" else capture.error
            self.stdout.write(f"source {source_id}: {capture.status} {url} ({detail})")
        self.stdout.write(
            f"{counts['captured']} captured, {counts['failed']} failed"
            + (f", {counts['queued']} queued" if queue else "")
            + "."
        )
