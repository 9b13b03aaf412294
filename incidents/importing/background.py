"""Running an import outside the request that asked for it, so a 100 MB file cannot time the request out."""

import logging
import threading
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connections, transaction

from ..models import ImportStatus
from .loading import import_events

logger = logging.getLogger(__name__)


def import_start(*, batch, user, dataset="auto"):
    """Preview or run the batch's uploaded file: in a thread of this process (IMPORTS_IN_BACKGROUND, the default),
    started once the batch row is committed, or right away when the setting is off (tests, debugging).

    The thread writes its progress and result to the batch row, which the admin's batch page polls.
    """

    def run():
        try:
            import_events(batch=batch, path=batch.upload_path, dataset=dataset, user=user)
        except Exception:  # import_events records its own failures; this is a last resort for the thread
            logger.exception("Import batch %s stopped", batch.pk)
        if batch.status != ImportStatus.PREVIEW:  # kept only while it waits for the confirmation
            Path(batch.upload_path).unlink(missing_ok=True)

    if not settings.IMPORTS_IN_BACKGROUND:
        run()
        return None

    def run_in_thread():
        close_old_connections()
        try:
            run()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run_in_thread, name=f"import-batch-{batch.pk}", daemon=True)
    transaction.on_commit(thread.start)
    return thread
