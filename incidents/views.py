from django.http import Http404
from django.views.generic import DetailView, TemplateView

from . import selectors
from .models import Incident


class HomeView(TemplateView):
    template_name = "incidents/home.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "incidents": selectors.incident_public_list()[:50]}


class IncidentDetailView(DetailView):
    template_name = "incidents/incident_detail.html"
    context_object_name = "incident"

    def get_object(self, queryset=None):
        try:
            return selectors.incident_public_get(pk=self.kwargs["pk"])
        except Incident.DoesNotExist:
            raise Http404("No published incident with that number.") from None
