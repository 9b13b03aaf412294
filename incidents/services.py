"""Write paths for incidents. Each runs in one transaction, so a failure leaves nothing half-done."""

from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from places import geocoding
from places.regions import admin_areas_at, country_has_regions

from .models import Incident, LocationPrecision, Status


def _check_permission(user, codename):
    if user is not None and not user.has_perm(f"incidents.{codename}"):
        raise PermissionDenied(_("You do not have permission to do that."))


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
            % {"title": incident.title, "problems": _(" and ").join(problems)}
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
    """Kept for the record, never shown publicly."""
    _check_permission(user, "retract_incident")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the incident is retracted.")})
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    incident.status = Status.RETRACTED
    incident.retraction_reason = reason
    return _save_status(incident, user=user, fields=["status", "retraction_reason"])


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
