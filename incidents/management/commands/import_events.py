"""manage.py import_events FILE [--format acled|ucdp-ged|auto] [--dry-run] [--status draft|published]
[--retract-missing] [--dataset-version V] [--user NAME], or manage.py import_events --revert BATCH."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from incidents.importing import ImportRevertError, import_batch_create, import_batch_revert, import_events
from incidents.models import ImportBatch, ImportStatus, Status

# The new actors the command prints, most rows first; the batch's report lists them all.
NEW_ACTORS_LISTED = 50


class Command(BaseCommand):
    help = "Import an ACLED export or a UCDP GED CSV file (all or nothing), or revert an earlier import."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="CSV file (UTF-8, with or without BOM)")
        parser.add_argument("--format", choices=["acled", "ucdp-ged", "auto"], default="auto")
        parser.add_argument("--dry-run", action="store_true", help="count and check everything, write nothing")
        parser.add_argument(
            "--status", choices=[Status.DRAFT, Status.PUBLISHED], default=Status.DRAFT, help="of new incidents"
        )
        parser.add_argument(
            "--retract-missing", action="store_true", help="retract this dataset's incidents the file lacks"
        )
        parser.add_argument("--dataset-version", default="", help="e.g. 24.1 for UCDP GED; guessed otherwise")
        parser.add_argument("--user", default="", help="user name recorded as the importer")
        parser.add_argument("--revert", type=int, metavar="BATCH", help="undo import batch BATCH")

    def handle(self, *args, file, revert, user, **options):
        importer = None
        if user:
            importer = get_user_model().objects.filter(username=user).first()
            if importer is None:
                raise CommandError(f"No user named {user}.")
        if revert:
            return self._revert(revert, importer)
        if not file:
            raise CommandError("Give a FILE to import, or --revert BATCH.")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        batch = import_batch_create(
            path=path,
            user=importer,
            requested_status=options["status"],
            retract_missing=options["retract_missing"],
            dry_run=options["dry_run"],
        )
        batch = import_events(
            batch=batch,
            path=path,
            dataset=options["format"],
            dataset_version=options["dataset_version"],
            user=importer,
        )
        for error in batch.report.get("errors", []):
            self.stderr.write(_cell(error))
        warnings = batch.report.get("warnings", [])
        for warning in warnings:
            self.stdout.write(f"warning: {_cell(warning)}")
        if batch.warnings > len(warnings):
            self.stdout.write(f"warning: … and {batch.warnings - len(warnings)} more (see the batch in the admin)")
        new_actors = batch.report.get("new_actors", [])
        for actor in new_actors[:NEW_ACTORS_LISTED]:
            self.stdout.write(f"new actor: {actor['creates']} ({actor['rows']} rows name “{actor['name']}”)")
        if len(new_actors) > NEW_ACTORS_LISTED:
            self.stdout.write(
                f"new actor: … and {len(new_actors) - NEW_ACTORS_LISTED} more (see the batch in the admin)"
            )
        missing = batch.report.get("missing", [])
        if missing:
            more = f" and {batch.missing - len(missing)} more" if batch.missing > len(missing) else ""
            self.stdout.write(f"Missing from the file: {', '.join(missing)}{more}")
        self.stdout.write(
            f"Batch {batch.pk} ({batch.get_status_display()}{', dry run' if batch.dry_run else ''}): "
            f"{batch.created} created, {batch.updated} updated, {batch.unchanged} unchanged, "
            f"{batch.rejected} rejected, {batch.warnings} warnings, {batch.missing} missing, {batch.retracted} retracted."
        )
        if batch.message:
            self.stdout.write(batch.message)
        if batch.status in (ImportStatus.REJECTED, ImportStatus.FAILED):
            raise CommandError(batch.message)

    def _revert(self, batch_id, user):
        batch = ImportBatch.objects.filter(pk=batch_id).first()
        if batch is None:
            raise CommandError(f"No import batch {batch_id}.")
        try:
            import_batch_revert(batch=batch, user=user)
        except ImportRevertError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Batch {batch.pk} reverted: {batch.created} incidents removed, {batch.updated + batch.retracted} restored."
        )


def _cell(problem):
    """A report entry as one line: "line 12, column low ('22'): is more than best (21): kept as published"."""
    return (
        f"line {problem['line']}"
        + (f", column {problem['column']}" if problem["column"] else "")
        + (f" ({problem['value']!r})" if problem["value"] else "")
        + f": {problem['reason']}"
    )
