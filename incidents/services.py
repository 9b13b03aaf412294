"""Write paths for incidents. Each runs in one transaction, so a failure leaves nothing half-done."""

import hashlib
import os
import time

from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile, File
from django.db import connection, transaction
from django.db.models import DO_NOTHING, Q, UniqueConstraint
from django.utils import timezone
from django.utils.translation import gettext as _

from places import geocoding
from places.regions import admin_areas_at, country_has_regions

from . import archive
from . import media as media_files
from .models import Actor, Incident, IncidentActor, IncidentSource, LocationPrecision, MediaKind, Source, Status


def _check_permission(user, codename):
    if user is not None and not user.has_perm(f"incidents.{codename}"):
        raise PermissionDenied(_("You do not have permission to do that."))


def incident_editable_by(*, incident: Incident, user) -> bool:
    """Editors work on drafts; once an incident is public (or retracted) only a publisher may change it.

    Reads the stored status, never the one on the instance, which may be an old version from the history."""
    if not user.has_perm("incidents.change_incident"):
        return False
    if incident.pk is None:
        return True
    stored = Incident.objects.filter(pk=incident.pk).values_list("status", flat=True).first()
    return stored in (None, Status.DRAFT) or user.has_perm("incidents.publish_incident")


def shared_record_in_public_use(record) -> bool:
    """Whether a published or retracted incident cites this source or names this actor."""
    if record.pk is None:
        return False
    link_model, field = {Source: (IncidentSource, "source"), Actor: (IncidentActor, "actor")}[type(record)]
    return link_model.objects.filter(**{field: record}).exclude(incident__status=Status.DRAFT).exists()


def shared_record_editable_by(*, record, user) -> bool:
    """Sources and actors show on every incident that uses them, so once a published (or retracted) incident uses
    one, changing it is a publisher's decision; editors may change only the ones that drafts alone use."""
    return user.has_perm("incidents.publish_incident") or not shared_record_in_public_use(record)


def _check_shared_record_editable(record, user):
    if user is not None and not shared_record_editable_by(record=record, user=user):
        raise PermissionDenied(
            _("A published or retracted incident uses this %(model)s; only a Publisher may change it.")
            % {"model": record._meta.verbose_name}
        )


@transaction.atomic
def shared_record_save(*, record, user=None):
    """Save a source or actor an editor changed, re-checking under a row lock that no public incident uses it."""
    if record.pk is not None:
        type(record)._base_manager.select_for_update().filter(pk=record.pk).first()
    _check_shared_record_editable(record, user)
    record.save()
    if isinstance(record, Source):
        archive.source_capture_request(source=record, user=user)
    return record


# Not restored by a revert: the editorial state changes only through publish / unpublish / retract below.
REVERT_KEEPS = {
    "id",
    "status",
    "retraction_reason",
    "published_at",
    "external_id",
    "is_demo",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "version",
    "import_record",  # the publisher's row of the last import: not in the history, not an editor's to revert
    # Computed by the database from `location`, `sensitive` and the sources (aggregates/privacy.py): not in the
    # history; the restored fields bring them back.
    *Incident.DATABASE_COMPUTED,
}


@transaction.atomic
def record_revert(*, record, history_id, user=None):
    """Put an incident, source or actor back to an earlier version from its history, as a new version.

    The content comes from the history, never from the request. An incident's status is not copied: if the old
    version had another status, the change goes through incident_publish / incident_unpublish / incident_retract,
    so a revert needs the same permission and passes the same checks as publishing."""
    model = type(record)
    record = model._base_manager.select_for_update().get(pk=record.pk)
    old = model.history.get(id=record.pk, history_id=history_id)
    if isinstance(record, Incident):
        if user is not None and not incident_editable_by(incident=record, user=user):
            raise PermissionDenied(_("Only a Publisher may change a published or retracted incident."))
    else:
        _check_shared_record_editable(record, user)
    for field in model._meta.concrete_fields:
        # A generated column (Incident.search_words) follows the fields it comes from and cannot be written.
        if field.name not in REVERT_KEEPS and not field.generated:
            setattr(record, field.attname, getattr(old, field.attname))
    if isinstance(record, Incident) and user is not None and user.is_authenticated:
        record.updated_by = user
    record._change_reason = f"reverted to version {old.version}"
    record.full_clean(exclude=["external_id"])
    record.save()
    if isinstance(record, Source):
        archive.source_capture_request(source=record, user=user)
    if isinstance(record, Incident) and old.status != record.status:
        if old.status == Status.PUBLISHED:
            record = incident_publish(incident=record, user=user)
        elif old.status == Status.RETRACTED:
            record = incident_retract(incident=record, reason=old.retraction_reason, user=user)
        else:
            record = incident_unpublish(incident=record, user=user)
    return record


def incident_publication_problems(incident):
    """What stops an incident from going public, as sentences an editor can act on."""
    problems = []
    if incident.location is None:
        problems.append(_("it has no location"))
    if not incident.incident_sources.exists():
        problems.append(_("it cites no source"))
    return problems


def _save_status(incident, *, user, fields):
    incident.updated_by = user if user and user.is_authenticated else incident.updated_by
    incident._change_reason = f"status → {incident.status}"
    incident.save(update_fields=[*fields, "updated_by", "updated_at"])
    return incident


@transaction.atomic
def incident_publish(*, incident: Incident, user=None) -> Incident:
    _check_permission(user, "publish_incident")
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    problems = incident_publication_problems(incident)
    if problems:
        raise ValidationError(
            _("“%(title)s” cannot be published: %(problems)s.")
            % {"title": incident, "problems": _(" and ").join(problems)}
        )
    incident.status = Status.PUBLISHED
    incident.retraction_reason = ""
    incident.published_at = incident.published_at or timezone.now()
    return _save_status(incident, user=user, fields=["status", "retraction_reason", "published_at"])


@transaction.atomic
def incident_unpublish(*, incident: Incident, user=None) -> Incident:
    """Back to draft: off the public site, editable by editors again."""
    _check_permission(user, "publish_incident")
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    incident.status = Status.DRAFT
    incident.retraction_reason = ""
    return _save_status(incident, user=user, fields=["status", "retraction_reason"])


@transaction.atomic
def incident_retract(*, incident: Incident, reason: str, user=None) -> Incident:
    """Kept for the record, off every public page; the change feed's tombstone carries the reason alone."""
    _check_permission(user, "retract_incident")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the incident is retracted.")})
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    incident.status = Status.RETRACTED
    incident.retraction_reason = reason
    return _save_status(incident, user=user, fields=["status", "retraction_reason"])


def _unique_sets(model, field_name):
    """The sets of fields unique together on `model` that include `field_name` (the key to the incident)."""
    sets = [set(fields) for fields in model._meta.unique_together if field_name in fields]
    sets += [
        set(constraint.fields)
        for constraint in model._meta.constraints
        if isinstance(constraint, UniqueConstraint) and field_name in constraint.fields
    ]
    if model._meta.get_field(field_name).unique:
        sets.append({field_name})
    return sets


def _rows_move(*, duplicate, kept):
    """Every row that points to `duplicate` (sources and actors cited, merged duplicates, media, anything another
    app adds with a foreign key to Incident) re-pointed to `kept`, where it is safe: a row that would repeat one
    `kept` already has (the same source cited twice, the same actor named twice) stays with the retracted duplicate,
    as part of its record. Rows with their own history are saved one by one, so the history shows the move.
    Returns {model verbose name: rows moved}."""
    moved = {}
    for relation in Incident._meta.related_objects:
        model, field = relation.related_model, relation.field
        # The database's own rows (kept tables, the change log) and history rows are not the incident's content.
        if relation.many_to_many or hasattr(model, "instance_type") or field.remote_field.on_delete is DO_NOTHING:
            continue
        rows = model._base_manager.filter(**{field.name: duplicate})
        for unique in _unique_sets(model, field.name):
            others = sorted(unique - {field.name})
            present = model._base_manager.filter(**{field.name: kept}).values(*others) if others else None
            if present is None:
                if model._base_manager.filter(**{field.name: kept}).exists():
                    rows = rows.none()
                continue
            for values in present:
                rows = rows.exclude(**values)
        count = 0
        if hasattr(model, "history"):
            for row in rows:
                setattr(row, field.attname, kept.pk)
                row._change_reason = f"merged from incident {duplicate.pk} into {kept.pk}"
                row.save()
                count += 1
        else:
            count = rows.update(**{field.attname: kept.pk})
        if count:
            moved[str(model._meta.verbose_name_plural)] = count
    return moved


@transaction.atomic
def incident_merge(*, kept: Incident, duplicate: Incident, user, note: str = "") -> Incident:
    """Merge `duplicate` into `kept` (a Publisher's act): `kept` takes every source, actor and other row of the
    duplicate that it does not already have and keeps its own fields and history; the duplicate is retracted,
    pointing to `kept` (`duplicate_of`, also in the change feed's tombstone). Returns the kept incident."""
    _check_permission(user, "publish_incident")
    _check_permission(user, "retract_incident")
    if kept.pk == duplicate.pk:
        raise ValidationError(_("An incident cannot be merged into itself."))
    # Both rows locked in id order, so two merges of the same pair cannot deadlock.
    locked = {
        incident.pk: incident
        for incident in Incident.objects.select_for_update().filter(pk__in=[kept.pk, duplicate.pk]).order_by("pk")
    }
    kept, duplicate = locked[kept.pk], locked[duplicate.pk]
    if duplicate.status == Status.RETRACTED:
        raise ValidationError(_("“%(title)s” is already retracted; nothing was merged.") % {"title": duplicate})
    if kept.status == Status.RETRACTED:
        raise ValidationError(_("“%(title)s” is retracted: merge into an incident that is not.") % {"title": kept})
    if duplicate.status == Status.PUBLISHED and kept.status != Status.PUBLISHED:
        raise ValidationError(
            _(
                "“%(duplicate)s” is published and “%(kept)s” is not: publish “%(kept)s” first, or keep the published one."
            )
            % {"duplicate": duplicate, "kept": kept}
        )
    moved = _rows_move(duplicate=duplicate, kept=kept)
    editor = user if user is not None and user.is_authenticated else None
    kept.updated_by = editor or kept.updated_by
    kept._change_reason = f"merged incident {duplicate.pk} into this one ({moved})"
    kept.save(update_fields=["updated_by", "updated_at"])
    duplicate.status = Status.RETRACTED
    duplicate.duplicate_of = kept
    duplicate.retraction_reason = _("Duplicate of incident %(id)s.") % {"id": kept.pk} + (
        f" {note.strip()}" if note and note.strip() else ""
    )
    _save_status(duplicate, user=editor, fields=["status", "retraction_reason", "duplicate_of"])
    return kept


def incidents_geocode_missing(*, incidents, user=None, chain=None):
    """Code incidents that have place text but no point to their best candidate; returns (coded, unresolved).

    Only confident matches are written: a fuzzy guess is reported for an editor to decide, not saved.
    """
    chain = chain or geocoding.geocoder_chain()
    coded, unresolved = [], []
    for incident in incidents.filter(location__isnull=True).exclude(place_reported="", place_name=""):
        query = incident.place_reported or incident.place_name
        try:
            candidates = chain.geocode(query, country=str(incident.country) or None, limit=1).candidates
        except geocoding.GeocodeQueryError as error:
            unresolved.append((incident, str(error)))
            continue
        if not candidates or candidates[0]["score"] < geocoding.CONFIDENT_SCORE:
            unresolved.append((incident, _("no confident match for “%(query)s”") % {"query": query}))
            continue
        incident_code_to_candidate(incident=incident, candidate=candidates[0], user=user)
        coded.append(incident)
    return coded, unresolved


def incident_code_to_candidate(*, incident, candidate, user=None):
    incident.location = Point(candidate["longitude"], candidate["latitude"], srid=4326)
    incident.place_id = candidate["place_id"]
    incident.place_name = candidate["name"]
    incident.admin1 = candidate["admin1"]
    incident.admin2 = candidate.get("admin2", "")
    incident.country = candidate["country"]
    incident.location_precision = candidate["location_precision"]
    incident_admin_areas_set(incident=incident)
    if user is not None:
        incident.updated_by = user
    incident.save()
    return incident


def report_checksum(text):
    """SHA-256 of a report's text with its whitespace normalised, so a re-pasted copy is recognised."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def report_already_entered(*, url, checksum):
    """The source whose incidents were already created from this report (same URL or same text), or None."""
    same = Q(text_checksum=checksum) if checksum else Q(pk__in=[])
    if url:
        same |= Q(url=url)
    return Source.objects.filter(same, cited_by__isnull=False).distinct().first()


@transaction.atomic
def incidents_create_from_report(*, source: dict, text: str, candidates: list, user=None) -> list:
    """Create the editor's chosen candidates as drafts citing the report; returns the incidents.

    `source` holds publisher, title, url and published_on; each candidate holds Incident field values plus
    `actors` as [(actor, side)]. Nothing is published. A report whose incidents were already created (same URL
    or same text) is refused with a ValidationError, and any invalid candidate undoes the whole batch.
    """
    _check_permission(user, "add_incident")
    if not candidates:
        raise ValidationError(_("Tick at least one candidate to create."))
    checksum = report_checksum(text)
    # Serialise concurrent submissions of the same report (by text and by URL): the second waits for the first
    # transaction, then sees its source and is refused.
    with connection.cursor() as cursor:
        for key in sorted({checksum, hashlib.sha256((source.get("url") or checksum).encode()).hexdigest()}):
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int(key[:15], 16)])
    existing = report_already_entered(url=source.get("url"), checksum=checksum)
    if existing is not None:
        raise ValidationError(
            _("The incidents of this report were already created (source “%(source)s”); nothing was created.")
            % {"source": existing}
        )
    report = Source(**source, text_checksum=checksum)
    report.full_clean()
    report.save()
    archive.source_capture_request(source=report, user=user)
    incidents = []
    editor = user if user is not None and user.is_authenticated else None
    for values in candidates:
        values = dict(values)
        actors = values.pop("actors", [])
        incident = Incident(**values, status=Status.DRAFT, created_by=editor, updated_by=editor)
        incident.full_clean(exclude=["place"])
        incident._change_reason = _("created from a report by the editors' assistant")
        incident.save()
        for actor, side in actors:
            IncidentActor.objects.get_or_create(incident=incident, actor=actor, defaults={"side": side})
        IncidentSource.objects.create(incident=incident, source=report)
        incidents.append(incident)
    return incidents


def incident_admin_areas_set(*, incident):
    """Derive admin1 / admin2 (and the country) from the incident's point by polygon containment; no save.

    One vocabulary: whatever the editor or the source typed, a point inside a governorate gets that governorate's
    name, so the map filter, downloads and the incident page agree (a region-only event gets no district). A point in no polygon of a country that has
    them (at sea, say) keeps the country only; in a country without polygons the typed names stay.
    """
    if incident.location is None:
        return incident
    areas = admin_areas_at(incident.location)
    if areas.region is not None:
        incident.admin1, incident.admin2, incident.country = areas.admin1, areas.admin2, areas.region.country
        if incident.location_precision == LocationPrecision.REGION:
            incident.admin2 = ""  # the point is the region's centre: its district says nothing about the event
    elif country_has_regions(incident.country):
        incident.admin1 = incident.admin2 = ""
    return incident


# Words the map may keep clusters for (MapTerm): those of the published, located incidents' stored words in at least
# `min_incidents` of them, of letters and digits only (one lexeme each for websearch_to_tsquery), no longer than `q`.
# The words worth keeping: common ones, most common first, but no function word ("the", "of", "de", "في"), which no
# one looks for and which would cost a row per map cell of nearly every incident. English and French by
# PostgreSQL's own stop lists (an empty tsvector), Arabic by ours (PostgreSQL has none).
_MAP_TERM_CANDIDATES_SQL = """
SELECT word FROM ts_stat('SELECT search_words FROM incidents_incident
                           WHERE status = ''published'' AND location IS NOT NULL')
 WHERE ndoc >= %s AND word ~ '^[[:alnum:]]+$' AND word = lower(word) AND length(word) <= 200
   AND numnode(websearch_to_tsquery('simple', word)) = 1
   AND to_tsvector('english', word) <> ''::tsvector AND to_tsvector('french', word) <> ''::tsvector
   AND word <> ALL(%s)
 ORDER BY ndoc DESC, word LIMIT %s"""
ARABIC_FUNCTION_WORDS = [
    "في", "من", "على", "إلى", "الى", "عن", "مع", "أن", "ان", "إن", "التي", "الذي", "هذا", "هذه", "بعد", "قبل", "بين",
    "حيث", "كما", "قد", "لا", "ما", "و", "أو", "او", "ثم", "كان", "عند", "خلال", "ضد",
]  # fmt: skip


def map_terms_refresh(*, min_incidents: int, max_terms: int) -> dict:
    """Choose the map's terms afresh (the `max_terms` most common words carried by at least `min_incidents`
    published incidents) and refill their cells from the incidents, in one transaction.

    Terms still chosen keep their ids (a map read that looked one up finds it again); the cells are all refilled by
    the same SQL as the triggers' (incidents/aggregates/triggers.py). Writes to the incidents wait meanwhile, reads do
    not. {"terms": [(term, incidents it matches)], "cells": rows, "fill_seconds": the fill's time}.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        # A write committed after the fill's snapshot, counted by the triggers under the old terms, would be missing.
        cursor.execute("LOCK TABLE incidents_incident IN SHARE MODE")
        # The fill groups millions of (term, incident) matches: in memory rather than through files.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(_MAP_TERM_CANDIDATES_SQL, [min_incidents, ARABIC_FUNCTION_WORDS, max_terms])
        words = [word for (word,) in cursor.fetchall()]
        cursor.execute("DELETE FROM incidents_maptermcell")
        cursor.execute("DELETE FROM incidents_mapterm WHERE term <> ALL(%s)", [words])
        cursor.execute(
            "INSERT INTO incidents_mapterm (term, incidents) SELECT unnest(%s::text[]), 0 ON CONFLICT (term) DO NOTHING",
            [words],
        )
        started = time.perf_counter()
        cursor.execute("SELECT incidents_maptermcell_fill()")
        fill_seconds = time.perf_counter() - started
        cursor.execute(
            "UPDATE incidents_mapterm t SET incidents = "
            "COALESCE((SELECT sum(c.incidents) FROM incidents_maptermcell c WHERE c.term_id = t.id), 0)"
        )
        cursor.execute("ANALYZE incidents_maptermcell")
        cursor.execute("SELECT count(*) FROM incidents_maptermcell")
        (cells,) = cursor.fetchone()
        cursor.execute("SELECT term, incidents FROM incidents_mapterm ORDER BY incidents DESC, term")
        terms = cursor.fetchall()
    return {"terms": terms, "cells": cells, "fill_seconds": fill_seconds}


# --- Media attached to incidents (incidents/media.py reads the files; docs/editors.md, "Media").


def incident_media_check_editable(*, media, user):
    """Media are part of their incident: whoever may not change the incident may not change its media."""
    if not incident_editable_by(incident=media.incident, user=user):
        raise PermissionDenied(_("You may not change this incident's media."))


@transaction.atomic
def incident_media_save(*, media, user, facts=None, video_cleared=False):
    """Save a media item an editor attached or changed. `facts` (media.MediaFacts) come with a new file: its
    fingerprints are stored and, for an image, the public copy is written without metadata. A video gets its public
    copy (the file as uploaded) only when `video_cleared`: its metadata cannot be stripped here, so a person vouches."""
    incident_media_check_editable(media=media, user=user)
    if facts is not None:
        media.kind, media.content_type, media.size, media.sha256 = (
            facts.kind,
            facts.content_type,
            facts.size,
            facts.sha256,
        )
        media.width, media.height, media.perceptual_hash = facts.width, facts.height, facts.perceptual_hash
        media.original_name = os.path.basename(media.original.name)[:255]
        media.uploaded_by = user
        media.public_copy = None
        media.video_cleared_by, media.video_cleared_at = None, None
    if video_cleared and media.kind == MediaKind.VIDEO and media.video_cleared_at is None:
        media.video_cleared_by, media.video_cleared_at = user, timezone.now()
    media.save()
    if not media.public_copy:
        if media.kind == MediaKind.IMAGE:
            with media.original.open("rb") as original:
                copy = media_files.image_public_copy(original, media.content_type)
            media.public_copy.save("public", ContentFile(copy), save=True)
        elif media.video_cleared_at is not None:
            with media.original.open("rb") as original:
                media.public_copy.save("public", File(original), save=True)
    return media
