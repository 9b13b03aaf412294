from django.conf import settings
from django.http import Http404, JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext, ngettext
from django.views import View
from django.views.generic import DetailView, TemplateView
from django_countries import countries

from . import selectors
from .api.views import PublicGetMixin
from .models import ActorKind, Incident, LocationPrecision, Side
from .templatetags.incident_format import dates_label, fatalities_label, optional_url

# Markers past this many are left out (the feed says so); the timeline and summary still count them all.
MAP_FEED_LIMIT = 5000


class HomeView(TemplateView):
    """The timeline map; its data comes from MapFeedView and the timeline API, driven by static/incidents/js/map.js."""

    template_name = "incidents/home.html"

    def get_context_data(self, **kwargs):
        choices = selectors.map_filter_choices()
        event_types = [
            {"slug": kind.slug, "name": gettext(kind.name), "color": kind.color} for kind in choices["event_types"]
        ]
        map_config = {
            "feedUrl": reverse("incidents:map-feed"),
            "timelineUrl": reverse("incidents:api-timeline"),
            "incidentJsonUrl": reverse("incidents:detail-json", args=[0]),
            "geojsonUrl": optional_url("incidents:api-geojson"),
            "csvUrl": optional_url("incidents:api-csv"),
            "outlinesUrl": static("vendor/world-atlas/countries-50m.json"),
            "hasTiles": bool(settings.LEAFLET_CONFIG.get("TILES")),
            "eventTypes": event_types,
            "strings": {
                "loading": gettext("Loading…"),
                "noIncidents": gettext("No incidents match these filters in this part of the map."),
                "page": gettext("Page %(page)s of %(pages)s"),
                "inView": gettext("%(n)s in the current map view"),
                "sideA": gettext("Side A"),
                "sideB": gettext("Side B"),
                "associated": gettext("associated"),
                "sources": gettext("Sources"),
                "fatalities": gettext("Fatalities"),
                "incidents": gettext("Incidents"),
                "openPage": gettext("Open the incident page"),
                "play": gettext("Play"),
                "pause": gettext("Pause"),
                "rangeStart": gettext("Start of the selected range"),
                "rangeEnd": gettext("End of the selected range"),
                "loadFailed": gettext("Could not load the incidents."),
                "timeline": gettext("Timeline of incidents"),
            },
        }
        return {
            **super().get_context_data(**kwargs),
            "event_types": event_types,
            "sub_event_types": [
                {"slug": sub.slug, "name": gettext(sub.name), "event_type": gettext(sub.event_type.name)}
                for sub in choices["sub_event_types"]
            ],
            "actors": [
                {"id": actor.pk, "name": actor.name, "kind": actor.get_kind_display()} for actor in choices["actors"]
            ],
            "sides": Side.choices,
            "countries": sorted((code, countries.name(code)) for code in choices["country_codes"]),
            "admin1_choices": choices["admin1_choices"],
            "precisions": LocationPrecision.choices,
            "map_config": map_config,
        }


class MapFeedView(PublicGetMixin, View):
    """Compact points for the map markers and the list under the query-string filters (published only).

    Public data like the API's: CORS, 400s naming bad filters, an ETag and 304s (PublicGetMixin). The ETag is hashed
    from the body rather than taken from selectors.incident_freshness, whose three extra queries (and actor and source
    history, which the feed does not show) would double the feed's two.
    """

    def get(self, request):
        incidents = selectors.incident_filter(params=request.GET)
        rows = selectors.incident_map_points(queryset=incidents, limit=MAP_FEED_LIMIT)
        counts = selectors.incident_totals(queryset=incidents)
        return JsonResponse(
            {
                "incidents": [map_point(row) for row in rows[:MAP_FEED_LIMIT]],
                "truncated": len(rows) > MAP_FEED_LIMIT,
                "total": counts["total"],
                "total_fatalities": counts["total_fatalities"],
                "summary": map_summary(counts),
            }
        )


def map_point(row):
    return {
        "id": row["id"],
        "title": row["title"],
        "start": row["start_date"],
        "end": row["end_date"],
        "when": dates_label(row["start_date"], row["end_date"], row["date_precision"]),
        "precision": row["location_precision"],
        "place": row["place_reported"] or row["place_name"],
        "lat": round(row["lat"], 5),
        "lon": round(row["lon"], 5),
        "type": row["event_type__slug"],
        "fatalities": row["fatalities_best"] if row["fatalities_best"] is not None else row["fatalities_low"],
        "fatalities_label": fatalities_label(row["fatalities_low"], row["fatalities_best"], row["fatalities_high"]),
    }


def map_summary(counts):
    """'4 incidents, 48 fatalities, from 18 Apr 2019 to 20 Apr 2019'."""
    if not counts["total"]:
        return gettext("No incidents match these filters.")
    return ngettext(
        "%(n)s incident, %(f)s fatalities, from %(first)s to %(last)s",
        "%(n)s incidents, %(f)s fatalities, from %(first)s to %(last)s",
        counts["total"],
    ) % {
        "n": counts["total"],
        "f": counts["total_fatalities"],
        "first": date_format(counts["first"], "j M Y"),
        "last": date_format(counts["last"], "j M Y"),
    }


class IncidentDetailView(DetailView):
    template_name = "incidents/incident_detail.html"
    context_object_name = "incident"

    def get_object(self, queryset=None):
        try:
            return selectors.incident_public_get(pk=self.kwargs["pk"])
        except Incident.DoesNotExist:
            raise Http404("No published incident with that number.") from None

    def get_context_data(self, **kwargs):
        incident = self.object
        return {
            **super().get_context_data(**kwargs),
            "page_url": self.request.build_absolute_uri(incident.get_absolute_url()),
            "map_has_tiles": bool(settings.LEAFLET_CONFIG.get("TILES")),
        }


class IncidentJsonView(PublicGetMixin, IncidentDetailView):
    """What a map popup shows about one published incident (public: CORS, ETag / Last-Modified, 304s)."""

    def get(self, request, *args, **kwargs):
        incident = selectors.incident_filter(params={}).filter(pk=self.kwargs["pk"])
        if (response := self.not_modified(incident)) is not None and self.number_matched:
            return response
        return self.with_validators(JsonResponse(incident_popup(self.get_object())))


def incident_popup(incident):
    return {
        "id": incident.pk,
        "title": incident.title,
        "when": dates_label(incident.start_date, incident.end_date, incident.date_precision),
        "place": incident.place_reported or incident.place_name,
        "region": ", ".join(part for part in (incident.admin1_label, incident.country.name) if part),
        "precision": incident.location_precision,
        "precision_label": incident.get_location_precision_display(),
        "lat": incident.latitude,
        "lon": incident.longitude,
        "event_type": gettext(incident.event_type.name),
        "event_type_slug": incident.event_type.slug,
        "color": incident.event_type.color,
        "sub_event_type": gettext(incident.sub_event_type.name) if incident.sub_event_type else "",
        "actors": [
            {
                "name": role.actor.name,
                "side": role.side,
                "kind": ActorKind(role.actor.kind).label,
                "associated": role.is_associated,
            }
            for role in incident.incident_actors.all()
        ],
        "fatalities": fatalities_label(incident.fatalities_low, incident.fatalities_best, incident.fatalities_high),
        "sources": [
            {"publisher": source.publisher, "title": source.title, "url": source.url}
            for source in incident.sources.all()
        ],
        "url": incident.get_absolute_url(),
    }
