"""Read paths. The public side starts from Incident.objects.published() and nowhere else."""

from django.db.models import Prefetch

from .models import Incident, IncidentActor


def demo_data_loaded() -> bool:
    return Incident.objects.demo().exists()


def incident_public_list():
    return (
        Incident.objects.published()
        .select_related("event_type", "sub_event_type")
        .prefetch_related(
            Prefetch("incident_actors", queryset=IncidentActor.objects.select_related("actor")),
            "sources",
        )
    )


def incident_public_get(*, pk):
    """A published incident, or Incident.DoesNotExist (drafts and retractions are not public)."""
    return incident_public_list().get(pk=pk)
