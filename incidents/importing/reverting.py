"""Undoing an import batch: what it created goes, what it changed or retracted comes back as it was."""

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from places.models import Place

from ..models import ImportBatch, ImportChange, ImportChangeAction, ImportStatus
from .loading import _history_columns, record_history


class ImportRevertError(Exception):
    pass


def import_batch_revert(*, batch: ImportBatch, user) -> ImportBatch:
    """Delete the incidents the batch created and restore the ones it changed from their history."""
    if batch.status != ImportStatus.DONE:
        raise ImportRevertError(
            _("Only a finished import can be reverted; batch %(batch)s is “%(status)s”.")
            % {"batch": batch.pk, "status": batch.get_status_display()}
        )
    later = (
        ImportChange.objects.filter(
            batch__status=ImportStatus.DONE,
            batch_id__gt=batch.pk,
            incident_id__in=batch.changes.values("incident_id"),
        )
        .values_list("batch_id", flat=True)
        .first()
    )
    if later:
        raise ImportRevertError(
            _("Batch %(later)s has changed the same incidents since; revert it first.") % {"later": later}
        )
    reason = f"revert of import batch {batch.pk} ({batch.file_name})"
    created_sql = "SELECT incident_id FROM incidents_importchange WHERE batch_id = %s AND action = 'created'"
    changed_sql = "SELECT incident_id FROM incidents_importchange WHERE batch_id = %s AND action <> 'created'"
    # version moves on (never back), so an editor's form opened before the revert goes stale.
    columns = [column for column in _history_columns() if column not in ("id", "updated_by_id", "version")]
    with transaction.atomic(), connection.cursor() as cursor:
        record_history(
            cursor, incident_ids_sql=created_sql, params=[batch.pk], history_type="-", user=user, reason=reason
        )
        for link_table in ("incidents_incidentactor", "incidents_incidentsource"):
            cursor.execute(f"DELETE FROM {link_table} WHERE incident_id IN ({created_sql})", [batch.pk])
        # An incident merged into one of these keeps its retraction, without the pointer (models.Incident.duplicate_of).
        cursor.execute(
            f"UPDATE incidents_incident SET duplicate_of_id = NULL WHERE duplicate_of_id IN ({created_sql})", [batch.pk]
        )
        cursor.execute(f"DELETE FROM incidents_incident WHERE id IN ({created_sql})", [batch.pk])

        # Each changed incident as its last history row before the batch started recorded it.
        cursor.execute(
            f"""UPDATE incidents_incident i SET {", ".join(f"{column} = h.{column}" for column in columns)},
                       updated_at = now(), updated_by_id = %s, version = i.version + 1
                  FROM (SELECT DISTINCT ON (h.id) h.* FROM incidents_historicalincident h
                         WHERE h.id IN ({changed_sql}) AND h.history_date < %s
                         ORDER BY h.id, h.history_date DESC, h.history_id DESC) AS h
                 WHERE i.id = h.id""",
            [user.pk if user else None, batch.pk, batch.started_at],
        )
        # The original record, which the history leaves out, from the batch's own snapshot.
        cursor.execute(
            """UPDATE incidents_incident i SET import_record = c.previous_links -> 'record'
                 FROM incidents_importchange c
                WHERE c.batch_id = %s AND c.action <> %s AND c.incident_id = i.id AND c.previous_links ? 'record'""",
            [batch.pk, ImportChangeAction.CREATED],
        )
        for link_table, fields in (
            ("incidents_incidentactor", "actor_id bigint, side text, is_associated boolean"),
            ("incidents_incidentsource", "source_id bigint, original_reporter text, note text"),
        ):
            names = ", ".join(field.split()[0] for field in fields.split(", "))
            key = "actors" if "actor" in link_table else "sources"
            cursor.execute(f"DELETE FROM {link_table} WHERE incident_id IN ({changed_sql})", [batch.pk])
            cursor.execute(
                f"""INSERT INTO {link_table} (incident_id, {names})
                    SELECT c.incident_id, {", ".join(f"link.{name}" for name in names.split(", "))}
                      FROM incidents_importchange c
                      CROSS JOIN LATERAL jsonb_to_recordset(c.previous_links -> '{key}') AS link ({fields})
                     WHERE c.batch_id = %s AND c.action <> %s""",
                [batch.pk, ImportChangeAction.CREATED],
            )
        record_history(
            cursor, incident_ids_sql=changed_sql, params=[batch.pk], history_type="~", user=user, reason=reason
        )
        # Places the batch added to the gazetteer, unless an editor has coded an incident to one since.
        Place.objects.filter(source__startswith=f"{batch.dataset}:{batch.pk}:", incidents__isnull=True).delete()
        batch.status = ImportStatus.REVERTED
        batch.reverted_at = timezone.now()
        batch.save(update_fields=["status", "reverted_at"])
    return batch
