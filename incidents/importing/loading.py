"""Set-based loading: the file streams through COPY into a staging table, then SQL upserts the incidents.

Everything happens in one transaction: a bad row anywhere, and nothing is written. Python touches each row once, to
map and validate it on its way into COPY; matching, updating, linking actors and sources, history and the
missing-event check are each one SQL statement over the whole file.
"""

import hashlib
import json
import logging
import re
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from places.models import Place

from ..duplicates import staging_duplicate_hints
from ..models import (
    DATASET_ATTRIBUTION,
    DATASET_URL,
    Dataset,
    EventType,
    ImportChangeAction,
    ImportStatus,
    Incident,
    Source,
    Status,
    SubEventType,
)
from .actors import actors_for_names, new_actors_report
from .formats import ROW_MAPPERS, CellError, RowErrors
from .reading import EventFile, FileProblem

logger = logging.getLogger(__name__)

# Rows between two progress notes on the batch (written on a separate connection, so the admin page sees them).
PROGRESS_EVERY = 5000
# The missing-event and warning lists in the report are cut here; the counts are always exact.
MISSING_LISTED = 1000
WARNINGS_LISTED = 1000
# An imported place is the same as a gazetteer place of that name this close (ACLED codes towns to a point).
PLACE_MERGE_METRES = 300
# Settings for the import's own transaction (SET LOCAL: they end with it). work_mem: each write statement's
# transition table (a chunk of IMPORT_WRITE_CHUNK_ROWS incidents with their text, import record and stored words;
# the rebuilt features, about 180 MB per 100,000 rows) is held in memory by PostgreSQL up to work_mem and written to a temporary
# file past it, which every trigger of the statement then reads back; at the default 4 MB that was about 750 MB of
# temporary files per 100,000 rows. jit: the statements' JIT compilation (LLVM) cost about 2.5 % of the import's
# PostgreSQL CPU and won back less. bench/RESULTS.md, "Import at scale".
IMPORT_SESSION_SETTINGS = {"work_mem": "256MB", "jit": "off"}

STAGING_COLUMNS = """
  line int, event_id text, start_date date, end_date date, date_precision smallint,
  longitude float8, latitude float8, place_reported text, place_name text, admin1 text, admin2 text, country text,
  location_precision smallint, event_type_id bigint, sub_event_type_id bigint, title text, description text,
  fatalities_low int, fatalities_best int, fatalities_high int,
  side_a text[], side_a_associated text[], side_b text[], side_b_associated text[], sources text[],
  record jsonb, fingerprint text, fatalities_as_published boolean, warnings jsonb, event_clarity smallint"""
COPY_COLUMNS = [part.split()[0] for part in STAGING_COLUMNS.replace("\n", " ").split(",")]

# Incident columns an import writes (the rest keep their defaults or, on update, their values).
IMPORTED_COLUMNS = """start_date = s.start_date, end_date = s.end_date, date_precision = s.date_precision,
  location = ST_SetSRID(ST_MakePoint(s.longitude, s.latitude), 4326), place_reported = s.place_reported,
  place_name = s.place_name, admin1 = s.admin1, admin2 = s.admin2, country = s.country,
  location_precision = s.location_precision, title = s.title, description = s.description,
  event_type_id = s.event_type_id, sub_event_type_id = s.sub_event_type_id, fatalities_low = s.fatalities_low,
  fatalities_best = s.fatalities_best, fatalities_high = s.fatalities_high, import_record = s.record,
  import_fingerprint = s.fingerprint, fatalities_as_published = s.fatalities_as_published,
  import_warnings = s.warnings, event_clarity = s.event_clarity"""


class Warnings:
    """Every warning counted, the first WARNINGS_LISTED kept: a million rows with one unknown code each must not
    hold a million objects in memory."""

    def __init__(self):
        self.count, self.listed = 0, []

    def extend(self, warnings):
        self.count += len(warnings)
        if len(self.listed) < WARNINGS_LISTED:
            self.listed.extend(warnings[: WARNINGS_LISTED - len(self.listed)])


class RowsRejected(Exception):
    def __init__(self, errors, warnings):
        super().__init__(f"{len(errors)} bad cells")
        self.errors = errors
        self.warnings = warnings


class _DryRun(Exception):
    """Rolls the transaction back after a preview has counted what it would do."""


def file_checksum(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def change_reason(batch):
    return f"import batch {batch.pk} ({batch.file_name})"


class _ProgressNotes:
    """Progress written outside the import's transaction, so that another request can watch it move."""

    def __init__(self, batch):
        self.batch = batch
        self.side_connection = None

    def note(self, rows, bytes_read):
        # kept on the instance too, so the final save of the batch does not put the counters back to zero
        self.batch.rows_read, self.batch.bytes_read = rows, bytes_read
        try:
            if self.side_connection is None:
                params = connections[DEFAULT_DB_ALIAS].get_connection_params()
                self.side_connection = psycopg.connect(**params, autocommit=True)
            with self.side_connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE incidents_importbatch SET rows_read = %s, bytes_read = %s WHERE id = %s",
                    [rows, bytes_read, self.batch.pk],
                )
        except Exception:  # progress is a courtesy; the import must not fail for it
            logger.warning("Could not note import progress", exc_info=True)

    def close(self):
        if self.side_connection is not None:
            self.side_connection.close()


def import_events(*, batch, path, dataset="auto", dataset_version="", user=None):
    """Run (or preview, when batch.dry_run) the import of one file into the batch; returns the batch.

    The batch row must exist (committed) before the call, so its progress can be watched; its counts, status and
    report are saved at the end whatever happened.
    """
    batch.status = ImportStatus.RUNNING
    batch.save(update_fields=["status"])
    progress = _ProgressNotes(batch)
    try:
        with transaction.atomic():
            _load(
                batch=batch, path=path, dataset=dataset, dataset_version=dataset_version, user=user, progress=progress
            )
            if batch.dry_run:
                raise _DryRun
            # In the same commit as the rows: a job run again after its worker died finds the batch done.
            batch.status, batch.finished_at = ImportStatus.DONE, timezone.now()
            batch.save()
    except _DryRun:
        batch.status = ImportStatus.PREVIEW
    except FileProblem as problem:
        _nothing_written(batch)
        batch.status, batch.message = ImportStatus.REJECTED, str(problem)
    except RowsRejected as rejection:
        rows = sorted({error.line for error in rejection.errors})
        _nothing_written(batch)
        batch.status, batch.rejected = ImportStatus.REJECTED, len(rows)
        batch.message = _("%(rows)s rows are invalid, so nothing was imported: fix them and import the file again.") % {
            "rows": len(rows)
        }
        batch.report = {
            **batch.report,
            "errors": [error.as_dict() for error in rejection.errors],
            "missing": [],
            **_warnings_report(batch, rejection.warnings),
        }
    except Exception as error:
        logger.exception("Import batch %s failed", batch.pk)
        _nothing_written(batch)
        batch.status, batch.message = ImportStatus.FAILED, _("The import failed: %(error)s") % {"error": error}
    finally:
        progress.close()
    batch.finished_at = timezone.now()
    batch.save()
    return batch


def _warnings_report(batch, warnings):
    """The count of every warning on the batch, the first WARNINGS_LISTED in the report (rows come in line order)."""
    batch.warnings = warnings.count
    return {"warnings": [warning.as_dict() for warning in warnings.listed]}


def _nothing_written(batch):
    """The transaction rolled back: counts taken before the failure must not suggest otherwise."""
    batch.created = batch.updated = batch.unchanged = batch.missing = batch.retracted = batch.rejected = 0


def _taxonomy():
    types = {row.name.casefold(): row.pk for row in EventType.objects.all()}
    types.update({row.slug: row.pk for row in EventType.objects.all()})
    sub_types = {(row.event_type_id, row.name.casefold()): row.pk for row in SubEventType.objects.all()}
    sub_types.update({row.slug: row.pk for row in SubEventType.objects.all()})
    return types, sub_types


def _resolve_types(mapped, line, types, sub_types):
    """(event_type_id, sub_event_type_id) from the taxonomy, or a CellError naming the unknown type."""
    if mapped.event_type_slug:
        return types[mapped.event_type_slug], sub_types[mapped.sub_event_type_slug]
    event_type_id = types.get(mapped.event_type_name.casefold())
    if event_type_id is None:
        reason = _("is not an event type of the taxonomy (see Event types in the admin)")
        raise RowErrors([CellError(line, "event_type", mapped.event_type_name, reason)])
    if not mapped.sub_event_type_name:
        return event_type_id, None
    sub_event_type_id = sub_types.get((event_type_id, mapped.sub_event_type_name.casefold()))
    if sub_event_type_id is None:
        reason = _("is not a sub-event type of “%(type)s”") % {"type": mapped.event_type_name}
        raise RowErrors([CellError(line, "sub_event_type", mapped.sub_event_type_name, reason)])
    return event_type_id, sub_event_type_id


def _fingerprint(values, record_json):
    """md5 of the mapped row and the row as read (JSON with sorted keys: a new column order changes nothing)."""
    return hashlib.md5((repr(values) + record_json).encode(), usedforsecurity=False).hexdigest()


def _stream_into_staging(*, event_file, table, progress):
    """COPY every valid row into the staging table; returns (errors, warnings, actor kinds by name, source names,
    last ACLED timestamp)."""
    types, sub_types = _taxonomy()
    map_row = ROW_MAPPERS[event_file.dataset]
    errors, warnings, actor_kinds, source_names = [], Warnings(), {}, set()
    latest_timestamp = 0
    rows = 0
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
        for line, row, problem in event_file.rows():
            rows += 1
            if rows % PROGRESS_EVERY == 0:
                progress.note(rows, event_file.bytes_read)
            if problem:
                errors.append(CellError(line, "", "", problem))
                continue
            try:
                mapped = map_row(row, line)
                event_type_id, sub_event_type_id = _resolve_types(mapped, line, types, sub_types)
            except RowErrors as bad:
                errors.extend(bad.errors)
                warnings.extend(bad.warnings)
                continue
            if len(mapped.event_id) > 100:
                errors.append(CellError(line, "event_id", mapped.event_id, _("is longer than 100 characters")))
                continue
            warnings.extend(mapped.warnings)
            for name, kind in mapped.actor_kinds.items():
                actor_kinds.setdefault(name, kind)
            source_names.update(mapped.sources)
            timestamp = str(mapped.record.get("timestamp", ""))
            if timestamp.isdigit():
                latest_timestamp = max(latest_timestamp, int(timestamp))
            values = [
                mapped.event_id,
                mapped.start_date,
                mapped.end_date,
                int(mapped.date_precision),
                mapped.longitude,
                mapped.latitude,
                mapped.place_reported[:300],
                mapped.place_name[:200],
                mapped.admin1[:100],
                mapped.admin2[:100],
                mapped.country,
                int(mapped.location_precision),
                event_type_id,
                sub_event_type_id,
                mapped.title[:300],
                mapped.description,
                mapped.fatalities_low,
                mapped.fatalities_best,
                mapped.fatalities_high,
                mapped.side_a,
                mapped.side_a_associated,
                mapped.side_b,
                mapped.side_b_associated,
                mapped.sources,
            ]
            # serialised once, for the fingerprint and for COPY (which parses the text into jsonb)
            record_json = json.dumps(mapped.record, ensure_ascii=False, sort_keys=True)
            # the incident keeps its row's warnings without the line, which is the file's, not the incident's
            row_warnings = [
                {"column": warning.column, "value": warning.value[:100], "reason": warning.reason}
                for warning in mapped.warnings
            ]
            copy.write_row(
                [
                    line,
                    *values[:-5],
                    *map(_text_array, values[-5:]),
                    record_json,
                    _fingerprint(values, record_json),
                    mapped.fatalities_as_published,
                    json.dumps(row_warnings, ensure_ascii=False) if row_warnings else "[]",
                    # Not in the fingerprint's values: the record it also covers holds the publisher's code.
                    mapped.event_clarity,
                ]
            )
    progress.note(rows, event_file.bytes_read)
    return errors, warnings, actor_kinds, source_names, latest_timestamp


def _text_array(names):
    """A list of names as PostgreSQL's text[] literal, for COPY to parse: psycopg's list dumper, in Python, was about
    a seventh of the import's Python time (five lists a row). Every element quoted, its backslashes and quotes
    escaped (array_in's rules), so a name may hold any character."""
    quoted = ('"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"' for name in names)
    return "{" + ",".join(quoted) + "}"


def _duplicate_errors(cursor, table, column):
    cursor.execute(f"SELECT event_id, array_agg(line ORDER BY line) FROM {table} GROUP BY event_id HAVING count(*) > 1")
    errors = []
    for event_id, lines in cursor.fetchall():
        for line in lines[1:]:
            reason = _("the same event id as line %(line)s") % {"line": lines[0]}
            errors.append(CellError(line, column, event_id, reason))
    return errors


def _dataset_version(dataset, path, latest_timestamp, given):
    if given:
        return given
    if dataset == Dataset.ACLED:
        exported = datetime.fromtimestamp(latest_timestamp, tz=UTC).date() if latest_timestamp else date.today()
        return f"export of {exported.isoformat()}"
    # UCDP names its files after the version: GEDEvent_v24_1.csv, ged241.csv
    match = re.search(r"v(\d{2})[._-](\d+)", Path(path).name) or re.search(r"ged(\d{2})(\d)", Path(path).name, re.I)
    return f"{match[1]}.{match[2]}" if match else "(version not given)"


def dataset_source(dataset, version):
    """The dataset itself as a cited source. Its publisher field holds the attribution the publisher requires, so
    that every output naming sources (incident page, GeoJSON, CSV `source`, OGC API) carries it verbatim."""
    if dataset == Dataset.ACLED:
        publisher, title = DATASET_ATTRIBUTION[dataset], f"ACLED {version}"
    else:
        publisher, title = f"{DATASET_ATTRIBUTION[dataset]} {version}", f"UCDP GED {version}"
    source, _created = Source.objects.get_or_create(
        publisher=publisher[:200], title=title[:500], url=DATASET_URL[dataset], defaults={"published_on": None}
    )
    return source


def sources_for_names(names, *, dataset):
    """One Source per outlet the dataset cites ("SOHR", "Rudaw"), shared by all incidents that cite it."""
    label = Dataset(dataset).label
    resolved = {}
    for name in sorted(names):
        # Not translated: the row is shared by every import, whatever language the importer's page was in.
        title = f"as cited by {label}"
        source, _created = Source.objects.get_or_create(publisher=name[:200], title=title, url="")
        resolved[name] = source.pk
    return resolved


def _name_table(cursor, table, mapping, column):
    cursor.execute(f"CREATE TEMP TABLE {table} (name text PRIMARY KEY, {column} bigint)")
    with cursor.copy(f"COPY {table} (name, {column}) FROM STDIN") as copy:
        for name, key in mapping.items():
            copy.write_row([name, key])


def _history_columns():
    history_model = Incident.history.model
    skip = {"history_id", "history_date", "history_change_reason", "history_type", "history_user_id"}
    return [field.column for field in history_model._meta.concrete_fields if field.column not in skip]


def record_history(cursor, *, incident_ids_sql, params, history_type, user, reason):
    """simple-history rows for the incidents the SQL selects, as the admin's History page lists them."""
    columns = ", ".join(_history_columns())
    cursor.execute(
        f"""INSERT INTO incidents_historicalincident
              ({columns}, history_date, history_change_reason, history_type, history_user_id)
            SELECT {columns}, clock_timestamp(), %s, %s, %s FROM incidents_incident
             WHERE id IN ({incident_ids_sql})""",
        [reason, history_type, user.pk if user else None, *params],
    )


def snapshot_links(cursor, *, batch, action, incident_ids_sql, params):
    """Keep each incident's actors, sources and original record as they are before the batch changes them (for
    --revert; the history leaves the record out)."""
    cursor.execute(
        f"""INSERT INTO incidents_importchange (batch_id, incident_id, action, previous_links)
            SELECT %s, ids.id, %s, jsonb_build_object(
              'actors', COALESCE((SELECT jsonb_agg(jsonb_build_object('actor_id', actor_id, 'side', side,
                                                   'is_associated', is_associated) ORDER BY id)
                                    FROM incidents_incidentactor WHERE incident_id = ids.id), '[]'),
              'sources', COALESCE((SELECT jsonb_agg(jsonb_build_object('source_id', source_id, 'original_reporter',
                                                    original_reporter, 'note', note) ORDER BY id)
                                     FROM incidents_incidentsource WHERE incident_id = ids.id), '[]'),
              'record', (SELECT import_record FROM incidents_incident WHERE id = ids.id))
              FROM ({incident_ids_sql}) AS ids (id)""",
        [batch.pk, action, *params],
    )


def _load(*, batch, path, dataset, dataset_version, user, progress):
    table = f"import_staging_{batch.pk}"
    reason = change_reason(batch)
    user_id = user.pk if user else None
    with open(path, "rb") as binary, connection.cursor() as cursor:
        previous = _set_local(cursor, IMPORT_SESSION_SETTINGS)
        event_file = EventFile(binary, dataset=dataset)
        batch.dataset = event_file.dataset
        cursor.execute(f"DROP TABLE IF EXISTS {table}; CREATE TEMP TABLE {table} ({STAGING_COLUMNS})")
        errors, warnings, actor_kinds, source_names, latest = _stream_into_staging(
            event_file=event_file, table=table, progress=progress
        )
        errors += _duplicate_errors(cursor, table, "event_id_cnty" if event_file.dataset == Dataset.ACLED else "id")
        if errors:
            raise RowsRejected(sorted(errors, key=lambda error: error.line), warnings)
        cursor.execute(f"SELECT count(*) FROM {table}")
        if cursor.fetchone()[0] == 0:
            raise FileProblem(_("The file has a header but no events."))
        cursor.execute(
            # 'created' until matched below: a default is not written into the rows, so the rows not matched need no
            # second pass (a million-row file's staging table is rewritten once less).
            f"ALTER TABLE {table} ADD COLUMN incident_id bigint, ADD COLUMN state text NOT NULL DEFAULT 'created'; "
            f"CREATE UNIQUE INDEX ON {table} (event_id); ANALYZE {table}"
        )
        batch.dataset_version = _dataset_version(event_file.dataset, path, latest, dataset_version)
        admin_areas_from_boundaries(cursor=cursor, table=table)

        # Which events are new, changed or the same as last time (the fingerprint of the mapped row).
        cursor.execute(
            f"""UPDATE {table} s SET incident_id = i.id,
                       state = CASE WHEN i.import_fingerprint = s.fingerprint THEN 'unchanged' ELSE 'updated' END
                  FROM incidents_incident i WHERE i.dataset = %s AND i.event_id = s.event_id""",
            [batch.dataset],
        )
        cursor.execute(f"SELECT state, count(*) FROM {table} GROUP BY state")
        counts = dict(cursor.fetchall())
        batch.created, batch.updated = counts.get("created", 0), counts.get("updated", 0)
        batch.unchanged, batch.rejected = counts.get("unchanged", 0), 0
        sample_rows = _sample_rows(cursor, table)
        # A preview lists the possible duplicates of its new rows among the incidents already there (staff only).
        duplicates = _duplicates_report(cursor, table) if batch.dry_run else {}

        new_actors = []
        if batch.created or batch.updated:
            new_actors = new_actors_report(cursor, table=table, actor_kinds=actor_kinds, dataset=batch.dataset)
            _write_events(
                cursor,
                batch=batch,
                table=table,
                actor_kinds=actor_kinds,
                source_names=source_names,
                user=user,
                reason=reason,
            )

        # Events of this dataset that the file no longer has: listed, retracted only when asked.
        missing_sql = f"""SELECT i.id FROM incidents_incident i WHERE i.dataset = %s AND i.status <> 'retracted'
                             AND NOT EXISTS (SELECT 1 FROM {table} s WHERE s.event_id = i.event_id)"""
        cursor.execute(
            f"SELECT event_id FROM incidents_incident WHERE id IN ({missing_sql}) ORDER BY event_id", [batch.dataset]
        )
        missing = [event_id for (event_id,) in cursor.fetchall()]
        batch.missing = len(missing)
        batch.retracted = 0
        if missing and batch.retract_missing:
            snapshot_links(
                cursor,
                batch=batch,
                action=ImportChangeAction.RETRACTED,
                incident_ids_sql=missing_sql,
                params=[batch.dataset],
            )
            retraction = _("Not in the %(dataset)s file %(file)s (import batch %(batch)s).") % {
                "dataset": Dataset(batch.dataset).label,
                "file": batch.file_name,
                "batch": batch.pk,
            }
            changed_sql = "SELECT incident_id FROM incidents_importchange WHERE batch_id = %s AND action = %s"
            cursor.execute(
                f"""UPDATE incidents_incident SET status = 'retracted', retraction_reason = %s, updated_at = now(),
                           updated_by_id = %s, version = version + 1 WHERE id IN ({changed_sql})""",
                [retraction, user_id, batch.pk, ImportChangeAction.RETRACTED],
            )
            batch.retracted = cursor.rowcount
            record_history(
                cursor,
                incident_ids_sql=changed_sql,
                params=[batch.pk, ImportChangeAction.RETRACTED],
                history_type="~",
                user=user,
                reason=reason,
            )
        batch.report = {
            "errors": [],
            "missing": missing[:MISSING_LISTED],
            "new_actors": new_actors,
            "rows": sample_rows,
            **({"duplicates": duplicates} if duplicates.get("rows") else {}),
            **_warnings_report(batch, warnings),
        }

        places_from_import(cursor=cursor, table=table, batch=batch)
        cursor.execute(f"DROP TABLE {table}")
        # Back to the caller's values: inside a caller's transaction (a savepoint here) SET LOCAL would outlast us.
        _set_local(cursor, previous)


def _set_local(cursor, values):
    """SET LOCAL each of `values` ({name: value}); returns their values before."""
    previous = {}
    for name, value in values.items():
        cursor.execute("SELECT current_setting(%s), set_config(%s, %s, true)", [name, name, value])
        previous[name] = cursor.fetchone()[0]
    return previous


# How many rows of each kind (created, updated, unchanged) the batch page shows, the file's first ones.
SAMPLE_ROWS = 5


def _sample_rows(cursor, table):
    """{state: [{line, event_id, start_date, title, place, fatalities}]}: what the preview shows of each kind."""
    cursor.execute(
        f"""SELECT state, line, event_id, start_date::text, title, place_reported, fatalities_best
              FROM (SELECT *, row_number() OVER (PARTITION BY state ORDER BY line) AS n FROM {table}) s
             WHERE n <= %s ORDER BY state, line""",
        [SAMPLE_ROWS],
    )
    samples = {}
    for state, line, event_id, start_date, title, place, fatalities in cursor.fetchall():
        samples.setdefault(state, []).append(
            {"line": line, "event_id": event_id, "start_date": start_date, "title": title, "place": place,
             "fatalities": fatalities}
        )  # fmt: skip
    return samples


# Rows with possible duplicates a preview lists (their number is always exact).
DUPLICATES_LISTED = 1000


def _duplicates_report(cursor, table):
    """{"rows": new rows with possible duplicates, "listed": [{line, event_id, title, hints: [hint dicts]}]}."""
    hints = staging_duplicate_hints(cursor=cursor, table=table)
    lines = sorted(hints)[:DUPLICATES_LISTED]
    cursor.execute(f"SELECT line, event_id, title FROM {table} WHERE line = ANY(%s)", [lines])
    rows = {line: (event_id, title) for line, event_id, title in cursor.fetchall()}
    listed = [
        {
            "line": line,
            "event_id": rows[line][0],
            "title": rows[line][1],
            "hints": [hint.as_dict() for hint in hints[line]],
        }
        for line in lines
    ]
    return {"rows": len(hints), "listed": listed}


def _write_events(cursor, *, batch, table, actor_kinds, source_names, user, reason):
    user_id = user.pk if user else None
    actor_ids = actors_for_names(actor_kinds, dataset=batch.dataset, user=user, reason=reason)
    source_ids = sources_for_names(source_names, dataset=batch.dataset)
    dataset_source_id = dataset_source(batch.dataset, batch.dataset_version).pk
    actor_table, source_table = f"{table}_actors", f"{table}_sources"
    cursor.execute(f"DROP TABLE IF EXISTS {actor_table}, {source_table}")
    _name_table(cursor, actor_table, actor_ids, "actor_id")
    _name_table(cursor, source_table, source_ids, "source_id")

    # The incidents, their actors and their sources are written by three statements for each chunk of the file's
    # rows: their kept GeoJSON features (IncidentFeature) are rebuilt once, at the end, rather than by each
    # statement's trigger.
    cursor.execute("SET LOCAL conflictmap.features_deferred = 'on'")
    # "A published incident cites a source" is checked once below for all the file's incidents, not by a deferred
    # trigger per incident at commit (migration 0025).
    cursor.execute("SET LOCAL conflictmap.sources_checked = 'on'")
    chunks = _write_chunks(cursor, table=table, rows=settings.IMPORT_WRITE_CHUNK_ROWS)
    updated_sql = f"SELECT incident_id FROM {table} WHERE state = 'updated'"
    # A file of new events only updates nothing: its chunks are not read three times over to find no updated rows.
    updated_chunks = chunks if batch.updated else []
    snapshot_links(cursor, batch=batch, action=ImportChangeAction.UPDATED, incident_ids_sql=updated_sql, params=[])
    for chunk in updated_chunks:
        cursor.execute(
            f"""UPDATE incidents_incident SET {IMPORTED_COLUMNS}, updated_at = now(), updated_by_id = %s,
                       version = incidents_incident.version + 1
                  FROM {table} s WHERE s.state = 'updated' AND incidents_incident.id = s.incident_id
                   AND s.line >= %s AND s.line < %s""",
            [user_id, *chunk],
        )
    for chunk in updated_chunks:
        cursor.execute(f"DELETE FROM incidents_incidentactor WHERE incident_id IN ({updated_sql} {IN_CHUNK})", chunk)
    for chunk in updated_chunks:
        cursor.execute(f"DELETE FROM incidents_incidentsource WHERE incident_id IN ({updated_sql} {IN_CHUNK})", chunk)

    published = batch.requested_status == Status.PUBLISHED
    for chunk in chunks:
        cursor.execute(
            f"""INSERT INTO incidents_incident (start_date, end_date, date_precision, location, place_reported,
                      place_name, admin1, admin2, country, location_precision, title, description, event_type_id,
                      sub_event_type_id, fatalities_low, fatalities_best, fatalities_high, notable_casualties, status,
                      retraction_reason, published_at, is_demo, dataset, event_id, import_record, import_fingerprint,
                      fatalities_as_published, import_warnings, created_at, updated_at, created_by_id, updated_by_id,
                      version, event_clarity)
                SELECT start_date, end_date, date_precision, ST_SetSRID(ST_MakePoint(longitude, latitude), 4326),
                       place_reported, place_name, admin1, admin2, country, location_precision, title, description,
                       event_type_id, sub_event_type_id, fatalities_low, fatalities_best, fatalities_high, '', %s, '',
                       CASE WHEN %s THEN now() END, false, %s, event_id, record, fingerprint, fatalities_as_published,
                       warnings, now(), now(), %s, %s, 1, event_clarity
                  FROM {table} WHERE state = 'created' {IN_CHUNK} ORDER BY line""",
            [batch.requested_status, published, batch.dataset, user_id, user_id, *chunk],
        )
    cursor.execute(
        f"""UPDATE {table} s SET incident_id = i.id FROM incidents_incident i
             WHERE s.state = 'created' AND i.dataset = %s AND i.event_id = s.event_id""",
        [batch.dataset],
    )
    cursor.execute(
        f"""INSERT INTO incidents_importchange (batch_id, incident_id, action, previous_links)
            SELECT %s, incident_id, %s, '{{}}' FROM {table} WHERE state = 'created'""",
        [batch.pk, ImportChangeAction.CREATED],
    )

    # Side A before B and main before associated: an actor named on both keeps its first role.
    for chunk in chunks:
        cursor.execute(
            f"""INSERT INTO incidents_incidentactor (incident_id, actor_id, side, is_associated)
                SELECT DISTINCT ON (s.incident_id, n.actor_id) s.incident_id, n.actor_id, role.side, role.associated
                  FROM {table} s
                  CROSS JOIN LATERAL (
                    SELECT unnest(s.side_a), 'a', false, 1 UNION ALL SELECT unnest(s.side_a_associated), 'a', true, 2
                    UNION ALL SELECT unnest(s.side_b), 'b', false, 3
                    UNION ALL SELECT unnest(s.side_b_associated), 'b', true, 4
                  ) AS role (name, side, associated, rank)
                  JOIN {actor_table} n ON n.name = role.name
                 WHERE s.state IN ('created', 'updated') AND s.line >= %s AND s.line < %s
                 ORDER BY s.incident_id, n.actor_id, role.rank""",
            chunk,
        )
    for chunk in chunks:
        cursor.execute(
            # The dataset is cited first (outputs list sources in citation order), then the outlets as the file
            # names them.
            f"""WITH written AS (SELECT incident_id, sources FROM {table}
                                  WHERE state IN ('created', 'updated') {IN_CHUNK})
                INSERT INTO incidents_incidentsource (incident_id, source_id, original_reporter, note)
                SELECT incident_id, source_id, '', '' FROM (
                  SELECT DISTINCT ON (incident_id, source_id) incident_id, source_id, rank FROM (
                    SELECT s.incident_id, %s::bigint AS source_id, 0 AS rank FROM written s
                    UNION ALL
                    SELECT s.incident_id, n.source_id, cited.position FROM written s
                     CROSS JOIN LATERAL unnest(s.sources) WITH ORDINALITY AS cited (name, position)
                      JOIN {source_table} n ON n.name = cited.name
                  ) AS citations ORDER BY incident_id, source_id, rank
                ) AS cited ORDER BY incident_id, rank""",
            [*chunk, dataset_source_id],
        )
    _check_published_have_sources(cursor, table=table)
    for state, history_type in (("created", "+"), ("updated", "~")):
        record_history(
            cursor,
            incident_ids_sql=f"SELECT incident_id FROM {table} WHERE state = %s",
            params=[state],
            history_type=history_type,
            user=user,
            reason=reason,
        )
    cursor.execute("SET LOCAL conflictmap.features_deferred = 'off'")
    for chunk in chunks:
        cursor.execute(
            f"""SELECT conflictmap_incident_features_rebuild(
                         ARRAY(SELECT incident_id FROM {table} WHERE state IN ('created', 'updated') {IN_CHUNK}))""",
            chunk,
        )
    cursor.execute(f"DROP TABLE {actor_table}, {source_table}")


def _check_published_have_sources(cursor, *, table):
    """The import's own check that each published incident it wrote cites a source (what the deferred trigger of
    migration 0004 checks per incident), in one query; then later writes in the transaction are checked again."""
    cursor.execute(
        f"""SELECT i.id FROM {table} s JOIN incidents_incident i ON i.id = s.incident_id
             WHERE s.state IN ('created', 'updated') AND i.status = 'published'
               AND NOT EXISTS (SELECT 1 FROM incidents_incidentsource c WHERE c.incident_id = i.id)
             LIMIT 1"""
    )
    unsourced = cursor.fetchone()
    if unsourced:
        raise IntegrityError(f"published incident {unsourced[0]} cites no source")
    cursor.execute("SET LOCAL conflictmap.sources_checked = 'off'")


# The rows of one chunk of the staging table (see _write_chunks), for a statement that already has a WHERE.
IN_CHUNK = "AND line >= %s AND line < %s"


def _write_chunks(cursor, *, table, rows):
    """[first line, next chunk's first line) of the staging table's created and updated rows, `rows` at a time.

    Each write statement of the import then carries at most one chunk, so the kept tables' statement-level triggers
    see a bounded transition table: their plans, hash tables and sorts stay those of a chunk whatever the file's
    size. Same transaction, so still all or nothing."""
    cursor.execute(
        f"""SELECT line FROM (SELECT line, row_number() OVER (ORDER BY line) AS position FROM {table}
                               WHERE state IN ('created', 'updated')) AS numbered
             WHERE (position - 1) %% %s = 0 ORDER BY line""",
        [rows],
    )
    firsts = [line for (line,) in cursor.fetchall()]
    if len(firsts) > 1:
        cursor.execute(f"CREATE INDEX ON {table} (line)")
    return list(zip(firsts, [*firsts[1:], 2**31 - 1], strict=True))


def admin_areas_from_boundaries(*, cursor, table):
    """admin1 / admin2 as the governorate and district whose boundaries cover the point (places.Region and
    District), so imported incidents share the region filter's vocabulary ("Hims governorate" becomes "Homs");
    a point that no region covers keeps the file's spelling. One lookup per distinct point, not per row."""
    cursor.execute(
        f"""WITH points AS MATERIALIZED (SELECT DISTINCT longitude, latitude FROM {table}),
                 areas AS (
                   SELECT DISTINCT ON (p.longitude, p.latitude) p.longitude, p.latitude, r.name AS admin1,
                          d.name AS admin2
                     FROM points p
                     CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(p.longitude, p.latitude), 4326) AS point) g
                     JOIN places_region r ON ST_Covers(r.boundary, g.point)
                     LEFT JOIN places_district d ON d.region_id = r.id AND ST_Covers(d.boundary, g.point)
                    ORDER BY p.longitude, p.latitude, r.id, d.id)
            UPDATE {table} s SET admin1 = a.admin1, admin2 = COALESCE(a.admin2, s.admin2)
              FROM areas a WHERE s.longitude = a.longitude AND s.latitude = a.latitude"""
    )


def places_from_import(*, cursor, table, batch):
    """Each (place, point, admin1) of the file becomes a gazetteer place marked with its provenance
    ("acled:<batch>:…"), unless a place of that name already lies within PLACE_MERGE_METRES.

    Region-only rows are left out: their point is an area's centre, not the named place.
    """
    # Distinct places first (a few thousand), then the proximity check for each, not for each of the rows.
    cursor.execute(
        f"""WITH imported AS MATERIALIZED (
              SELECT DISTINCT ON (lower(place_name), round(latitude::numeric, 3), round(longitude::numeric, 3))
                     place_name, latitude, longitude, admin1, admin2, country,
                     ST_SetSRID(ST_MakePoint(longitude, latitude), 4326) AS point
                FROM {table}
               WHERE place_name <> '' AND country <> '' AND location_precision < 3
               ORDER BY lower(place_name), round(latitude::numeric, 3), round(longitude::numeric, 3), line)
            SELECT place_name, latitude, longitude, admin1, admin2, country FROM imported s
             WHERE NOT EXISTS (
                 SELECT 1 FROM incidents_place p
                  WHERE p.point && ST_Expand(s.point, 0.01)
                    AND ST_DWithin(p.point::geography, s.point::geography, %s)
                    AND (lower(p.name) = lower(s.place_name)
                         OR lower(s.place_name) = ANY (SELECT lower(alt) FROM unnest(p.alternate_names) alt)))
             ORDER BY lower(place_name), latitude, longitude""",
        [PLACE_MERGE_METRES],
    )
    places = []
    for number, (name, latitude, longitude, admin1, admin2, country) in enumerate(cursor.fetchall(), start=1):
        place = Place(
            name=name,
            point=Point(longitude, latitude, srid=4326),
            admin1=admin1,
            admin2=admin2,
            country=country,
            source=f"{batch.dataset}:{batch.pk}:{number}",
        )
        place.set_search_keys()
        places.append(place)
    if places:
        bulk_create_with_history(places, Place, default_change_reason=change_reason(batch))
    batch.report["places_added"] = len(places)
