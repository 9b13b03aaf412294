"""Importing ACLED and UCDP GED files: all-or-nothing, idempotent, reversible (see docs/importing.md)."""

from pathlib import Path

from ..models import ImportBatch, Status
from .loading import file_checksum, import_events
from .reading import FileProblem
from .reverting import ImportRevertError, import_batch_revert

__all__ = ["FileProblem", "ImportRevertError", "import_batch_create", "import_batch_revert", "import_events"]


def import_batch_create(
    *, path, user, file_name="", requested_status=Status.DRAFT, retract_missing=False, dry_run=False, upload_path=""
) -> ImportBatch:
    """The batch row an import reports into; committed first, so its progress can be watched from elsewhere."""
    path = Path(path)
    return ImportBatch.objects.create(
        file_name=(file_name or path.name)[:300],
        checksum=file_checksum(path),
        file_size=path.stat().st_size,
        upload_path=upload_path,
        requested_status=requested_status,
        retract_missing=retract_missing,
        dry_run=dry_run,
        created_by=user,
    )
