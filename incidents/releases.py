"""Releases: the published set frozen under a name and a number, to cite and to read back exactly as it was.

release_create() writes the GeoJSON and the CSV of every published incident (the full downloads' own writers, so a
release is byte for byte what the full download was at its data version), then a manifest (counts, SHA-256
checksums, the data version) and a citation (text and CITATION.cff), and records the Release with its incidents'
frozen features (ReleaseFeature: what `?release=` pages, filters and finds by id on the JSON and OGC APIs). The
files and the rows are read in one REPEATABLE READ snapshot, so they hold the same incidents whatever editors do
meanwhile. Written to a
temporary folder and renamed, so a release appears whole or not at all. A service function: `manage.py release`
calls it (and a job queue can).
"""

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.exceptions import EmptyResultSet, ValidationError
from django.core.validators import validate_slug
from django.db import connections, router, transaction
from django.utils import timezone

from conflictmap import jobs

from . import selectors
from .api import sql
from .api.views import csv_stream, feature_collection_download
from .models import Incident, Release

# name: (content type, what writes it from the exported queryset)
RELEASE_FILES = {
    "incidents.geojson": (
        "application/geo+json",
        lambda exported: feature_collection_download(sql.feature_batches(exported)),
    ),
    "incidents.csv": ("text/csv; charset=utf-8", lambda exported: csv_stream(sql.csv_rows(exported))),
}


# Each exported incident's kept feature (the text the files hold) and the columns the filters a release can apply read
# (selectors.RELEASE_FILTERS), copied in one statement: no row passes through Python. The location and precision are
# the public ones the feature's geometry shows (incidents/public.py): a bbox on a release must not find a sensitive
# incident's exact point either.
_FEATURES_SQL = """INSERT INTO incidents_releasefeature
       (release_id, incident_id, start_date, end_date, event_type, sub_event_type, country, admin1, fatalities_best,
        location_precision, location, feature)
SELECT %s, i.id, i.start_date, i.end_date, et.slug, COALESCE(st.slug, ''), i.country, i.admin1, i.fatalities_best,
       i.public_location_precision, i.public_location, f.feature
  FROM ({chosen}) AS chosen (id, start_date)
  JOIN incidents_incident i ON i.id = chosen.id
  JOIN incidents_incidentfeature f ON f.incident_id = chosen.id
  JOIN incidents_eventtype et ON et.id = i.event_type_id
  LEFT JOIN incidents_subeventtype st ON st.id = i.sub_event_type_id"""


def _features_freeze(*, release, exported):
    """Copy the exported incidents' features into the release's rows; returns how many."""
    try:
        chosen, params = exported.order_by().values_list("pk", "start_date").query.sql_with_params()
    except EmptyResultSet:
        return 0
    with connections[exported.db].cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")  # as for the files: a cheap statement PostgreSQL would compile
        cursor.execute(_FEATURES_SQL.replace("{chosen}", chosen), [release.pk, *params])
        return cursor.rowcount


class ReleaseError(Exception):
    pass


def release_dir(release_or_name):
    name = release_or_name.name if isinstance(release_or_name, Release) else release_or_name
    return Path(settings.RELEASES_DIR) / name


def release_file_path(*, release, filename):
    return release_dir(release) / filename


def _citation(*, number, name, created_at, data_version, incidents):
    day = created_at.date().isoformat()
    text = (
        f"conflictmap contributors ({created_at.year}). conflictmap: armed-conflict incidents, release {number} "
        f"“{name}” ({incidents:,} published incidents, data version {data_version}), {day}."
    )
    cff = "\n".join(
        [
            "cff-version: 1.2.0",
            'message: "If you use these data, please cite them as below."',
            "type: dataset",
            f'title: "conflictmap: armed-conflict incidents, release {number} ({name})"',
            "authors:",
            '  - name: "conflictmap contributors"',
            f'version: "{number} ({name})"',
            f"date-released: {day}",
            f'abstract: "{incidents} published incidents, data version {data_version}."',
            "",
        ]
    )
    return text, cff


def release_create(*, name, user=None) -> Release:
    """Freeze the published incidents as release `name` (a slug, not used before); the next number."""
    try:
        validate_slug(name)
    except ValidationError:
        raise ReleaseError(f"“{name}” is not a release name: letters, digits, hyphens and underscores only.") from None
    if Release.objects.filter(name=name).exists() or release_dir(name).exists():
        raise ReleaseError(f"There is already a release “{name}”.")
    database = router.db_for_write(Incident)
    Path(settings.RELEASES_DIR).mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=settings.RELEASES_DIR, prefix=f".{name}."))
    folder.chmod(0o755)  # mkdtemp's is private; a release is public (a proxy may serve the folder)
    # One snapshot for the count, the version and both files; a caller already in a transaction (a test) keeps its
    # own, where nothing else writes anyway.
    own_transaction = not connections[database].in_atomic_block
    try:
        with transaction.atomic(using=database):
            with connections[database].cursor() as cursor:
                if own_transaction:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute("LOCK TABLE incidents_release IN SHARE ROW EXCLUSIVE MODE")  # one number each
            number = (
                Release.objects.using(database).order_by("-number").values_list("number", flat=True).first() or 0
            ) + 1
            data_version = selectors.public_data_version()[0]
            exported = selectors.incident_export_queryset(queryset=selectors.published_incidents().using(database))
            incidents = exported.count()
            files = {}
            for filename, (_content_type, write) in RELEASE_FILES.items():
                digest, size = hashlib.sha256(), 0
                with open(folder / filename, "wb") as output:
                    for chunk in write(exported):
                        data = chunk.encode()
                        digest.update(data)
                        size += len(data)
                        output.write(data)
                    output.flush()
                    os.fsync(output.fileno())
                files[filename] = {"bytes": size, "sha256": digest.hexdigest()}
            created_at = timezone.now()
            citation, cff = _citation(
                number=number, name=name, created_at=created_at, data_version=data_version, incidents=incidents
            )
            manifest = {
                "name": name,
                "number": number,
                "created_at": created_at.isoformat(),
                "data_version": data_version,
                "incidents": incidents,
                "files": files,
                "citation": citation,
            }
            (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
            (folder / "CITATION.cff").write_text(cff)
            release = Release.objects.using(database).create(
                name=name,
                number=number,
                data_version=data_version,
                incidents=incidents,
                manifest=manifest,
                created_by=user if user and user.is_authenticated else None,
            )
            frozen = _features_freeze(release=release, exported=exported)
            if frozen != incidents:  # the files and the rows come from one snapshot; anything else is a defect
                raise ReleaseError(f"The release holds {frozen} features for {incidents} incidents.")
            os.replace(folder, release_dir(name))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return release


def release_queue(*, name, user):
    """Ask a worker to make release `name` (the job incidents.release_create, which calls release_create)."""
    jobs.job_defer("incidents.release_create", name=name, user_id=user.pk)
