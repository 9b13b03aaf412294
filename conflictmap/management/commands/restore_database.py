from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from conflictmap.backup import database_restore


class Command(BaseCommand):
    help = (
        "Restore a backup_database dump, replacing the configured database's contents (or into --into, a database "
        "created when missing). One transaction: a failed restore changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("dump", help="A file written by backup_database (make backup).")
        parser.add_argument("--into", help="Restore into this database name instead of the configured one.")

    def handle(self, *args, dump, into, **options):
        if not Path(dump).is_file():
            raise CommandError(f"No backup file at {dump}.")
        try:
            database_restore(dump=dump, dbname=into)
        except (RuntimeError, FileNotFoundError) as failure:
            raise CommandError(str(failure)) from None
        self.stdout.write(f"Restored {dump} into {into or 'the configured database'}.")
