"""The random writes the tests of tables kept by triggers make (timeline and map cells, terms, actors): each test
compares its table with a count worked out in Python after every write."""

from django.db.models import Case, When

from incidents import services
from incidents.models import Incident, Source, Status
from tests.factories import IncidentFactory


def random_write(action, incident, incidents, random_fields, **bulk_fields):
    """Make one of the writes every kept-table test makes to `incident` (one of `incidents`, which a delete replaces
    with a new published one); False when `action` is none of them. "bulk" is one statement over ten incidents: the
    statement-level triggers see them all at once."""
    if action == "edit":
        for name, value in random_fields().items():
            setattr(incident, name, value)
        incident.save()
    elif action == "move":
        incident.location = random_fields()["location"]
        incident.save()
    elif action == "publish":
        if incident.status != Status.PUBLISHED:
            services.incident_publish(incident=incident)
    elif action == "unpublish":
        if incident.status == Status.PUBLISHED:
            services.incident_unpublish(incident=incident)
    elif action == "retract":
        services.incident_retract(incident=incident, reason="Duplicate")
    elif action == "delete":
        incidents.remove(incident)
        incident.delete()
        incidents.append(IncidentFactory(published=True, **random_fields()))
    elif action == "sensitive":  # shown generalised, or exactly again: the public location moves
        incident.sensitive = not incident.sensitive
        incident.save()
    elif action == "sensitive source":  # one statement over sources: every incident citing one moves with it
        Source.objects.filter(incidents=incident).update(sensitive=Case(When(sensitive=True, then=False), default=True))
    elif action == "merge":  # into the first other incident that may keep it: its actor and source links move there
        if incident.status != Status.RETRACTED:
            others = Incident.objects.filter(pk__in=[other.pk for other in incidents if other.pk != incident.pk])
            others = others.exclude(status=Status.RETRACTED).order_by("pk")
            if incident.status == Status.PUBLISHED:
                others = others.filter(status=Status.PUBLISHED)
            kept = others.first()
            if kept is not None:
                services.incident_merge(kept=kept, duplicate=incident, user=None)
                # The merged duplicate may cite nothing now: the other writes (publish, bulk) leave it alone.
                incidents.remove(incident)
                incidents.append(IncidentFactory(published=True, **random_fields()))
    elif action == "bulk":
        Incident.objects.filter(pk__in=[i.pk for i in incidents[:10]]).update(status=Status.PUBLISHED, **bulk_fields)
    else:
        return False
    return True
