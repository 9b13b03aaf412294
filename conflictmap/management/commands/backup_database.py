import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from conflictmap.backup import database_dump


class Command(BaseCommand):
    help = "Dump the whole database (incidents, their history, sources, accounts) in pg_dump's custom format."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="File to write (default: backups/conflictmap-<UTC time>.dump).")

    def handle(self, *args, output, **options):
        if not output:
            stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
            output = Path(settings.BASE_DIR) / "backups" / f"conflictmap-{stamp}.dump"
        try:
            written = database_dump(output=output)
        except (RuntimeError, FileNotFoundError) as failure:
            raise CommandError(str(failure)) from None
        self.stdout.write(f"Backup written to {written} ({written.stat().st_size} bytes).")
