import math

from django.conf import settings
from django.http import Http404, JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.translation import get_language, gettext, ngettext, pgettext
from django.views import View
from django.views.generic import DetailView, TemplateView
from django_countries import countries

from places.models import arabic_name, place_arabic_names

from . import selectors
from .api import docs as api_docs
from .api import openapi
from .api.views import PublicGetMixin
from .filters import MapViewForm, map_filter_keys
from .map import feed as map_feed
from .models import (
    DATASET_ATTRIBUTION,
    ActorKind,
    Dataset,
    DatePrecision,
    EventClarity,
    Incident,
    LocationPrecision,
    ShownText,
    Side,
)
from .templatetags.incident_format import confidence_label, dates_label, fatalities_label


class HomeView(TemplateView):
    """The timeline map; its data comes from MapFeedView and the timeline API, driven by static/incidents/js/map.js."""

    template_name = "incidents/home.html"

    def get_context_data(self, **kwargs):
        choices = map_feed.map_filter_choices()
        event_types = [
            {"slug": kind.slug, "name": gettext(kind.name), "color": kind.color} for kind in choices["event_types"]
        ]
        map_config = {
            "feedUrl": reverse("incidents:map-feed"),
            "listUrl": reverse("incidents:map-list"),
            "filterKeys": map_filter_keys(),
            "timelineUrl": reverse("incidents:api-timeline"),
            "incidentJsonUrl": reverse("incidents:detail-json", args=[0]),
            "geojsonUrl": reverse("incidents:api-geojson"),
            "csvUrl": reverse("incidents:api-csv"),
            "atomUrl": reverse("incidents:map-atom"),
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
                "clusterLabel": gettext("%(n)s incidents, %(f)s fatalities: zoom in to see them"),
                "groupLabel": gettext("%(n)s incidents close together: zoom in to see them"),
                "buckets": {
                    "incidents": {
                        "day": gettext("Bars: incidents per day"),
                        "week": gettext("Bars: incidents per week"),
                        "month": gettext("Bars: incidents per month"),
                        "year": gettext("Bars: incidents per year"),
                    },
                    "fatalities": {
                        "day": gettext("Bars: fatalities per day"),
                        "week": gettext("Bars: fatalities per week"),
                        "month": gettext("Bars: fatalities per month"),
                        "year": gettext("Bars: fatalities per year"),
                    },
                },
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
                {"id": actor.pk, "name": actor.display_name, "kind": actor.get_kind_display()}
                for actor in choices["actors"]
            ],
            "sides": Side.choices,
            "countries": sorted((code, countries.name(code)) for code in choices["country_codes"]),
            "admin1_choices": choices["admin1_choices"],
            "precisions": LocationPrecision.choices,
            "clarities": EventClarity.choices,
            "map_config": map_config,
        }


class MapView(PublicGetMixin, View):
    """Map data for a view (bbox, zoom) under the query-string filters, published incidents only.

    Public data like the API's: CORS, 400s naming bad parameters, an ETag and 304s (PublicGetMixin); the ETag is
    hashed from the body.
    """

    def map_request(self):
        """(validated FilterSet, cleaned view parameters); InvalidFilters names every bad parameter at once."""
        view, filter_params = MapViewForm.split(self.request.GET)
        errors = {} if view.is_valid() else {name: list(messages) for name, messages in view.errors.items()}
        try:
            filters = selectors.incident_filterset(params=filter_params)
        except selectors.InvalidFilters as invalid:
            errors.update(invalid.errors)
        if errors:
            raise selectors.InvalidFilters(errors)
        return filters, view.cleaned_data


class MapFeedView(MapView):
    """Markers when few incidents are in view (settings.MAP_POINTS_MAX), grid clusters counted in PostGIS otherwise."""

    def get(self, request):
        filters, view = self.map_request()
        feed = map_feed.incident_map_feed(
            filters=filters, viewport=view["bbox"], zoom=view["zoom"], points_max=settings.MAP_POINTS_MAX
        )
        body = {"mode": feed["mode"]}
        if feed["mode"] == "points":
            body["incidents"] = [map_marker(row) for row in feed["rows"]]
        else:
            body["clusters"] = [map_cluster(cluster) for cluster in feed["clusters"]]
        totals = feed["totals"]
        return JsonResponse(
            {
                **body,
                "total": totals["total"],
                "total_fatalities": totals["total_fatalities"],
                "summary": map_summary(totals),
            }
        )


class MapListView(MapView):
    """The list under the map: the incidents in view, newest first, a page at a time, with the exact total."""

    def get(self, request):
        filters, view = self.map_request()
        page_size = settings.MAP_LIST_PAGE_SIZE
        listed = map_feed.incident_map_page(
            filters=filters, viewport=view["bbox"], page=view["page"], page_size=page_size
        )
        places_ar = list_place_names_ar(listed["rows"]) if get_language() == "ar" else {}
        return JsonResponse(
            {
                "total": listed["total"],
                "page": view["page"],
                "pages": max(1, math.ceil(listed["total"] / page_size)),
                "page_size": page_size,
                "incidents": [map_point(row, place_ar=places_ar.get(row["id"])) for row in listed["rows"]],
            }
        )


def map_cluster(cluster):
    return {
        "lat": round(cluster["lat"], 5),
        "lon": round(cluster["lon"], 5),
        "count": cluster["count"],
        "fatalities": cluster["fatalities"],
        "bounds": [round(cluster[edge], 5) for edge in ("west", "south", "east", "north")],
    }


def map_marker(row):
    """What a marker needs; the list's rows (map_point) carry the dates and place in words."""
    return {
        "id": row["id"],
        "title": ShownText.of(english=row["title"], arabic=row["title_ar"]).text,
        "precision": row["location_precision"],
        "lat": round(row["lat"], 5),
        "lon": round(row["lon"], 5),
        "type": row["event_type__slug"],
        "fatalities": row["fatalities_best"] if row["fatalities_best"] is not None else row["fatalities_low"],
    }


def shown_text_members(name, shown):
    """`name`, `name_lang` and `name_mark` of a ShownText: the page marks text in the other language as such."""
    return {name: shown.text, f"{name}_lang": shown.language, f"{name}_mark": shown.mark}


def list_place_names_ar(rows):
    """{incident id: its place's Arabic name} for list rows: the linked gazetteer place's, else the place of that
    name (one query for the page)."""
    names = {row["id"]: arabic_name(row["place__alternate_names"]) for row in rows}
    by_name = place_arabic_names(
        (row["country"], row["admin1"], row["place_name"]) for row in rows if not names[row["id"]]
    )
    for row in rows:
        names[row["id"]] = names[row["id"]] or by_name.get((str(row["country"]), row["admin1"], row["place_name"]), "")
    return names


def map_point(row, *, place_ar=""):
    return {
        "id": row["id"],
        **shown_text_members("title", ShownText.of(english=row["title"], arabic=row["title_ar"])),
        "start": row["start_date"],
        "end": row["end_date"],
        "when": dates_label(row["start_date"], row["end_date"], row["date_precision"]),
        "precision": row["location_precision"],
        "place": place_ar or row["place_reported"] or row["place_name"],
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
        incident = self.get_object()  # 404 for drafts and retractions, even to a conditional GET
        if (response := self.not_modified()) is not None:
            return response
        return self.with_validators(JsonResponse(incident_popup(incident)))


def incident_popup(incident):
    return {
        "id": incident.pk,
        **shown_text_members("title", incident.shown_title),
        "when": dates_label(incident.start_date, incident.end_date, incident.date_precision),
        "place": incident.place_label,
        "region": pgettext("list separator", ", ").join(
            part for part in (incident.admin1_label, incident.country.name) if part
        ),
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
                "name": role.actor.display_name,
                "side": role.side,
                "kind": ActorKind(role.actor.kind).label,
                "associated": role.is_associated,
            }
            for role in incident.incident_actors.all()
        ],
        "fatalities": fatalities_label(incident.fatalities_low, incident.fatalities_best, incident.fatalities_high),
        "confidence": confidence_label(incident.independent_sources, incident.event_clarity),
        "independent_sources": incident.independent_sources,
        "event_clarity": incident.event_clarity,
        "sources": [
            {"publisher": source.publisher, "title": source.title, "url": source.url}
            for source in incident.sources.all()
        ],
        "url": incident.get_absolute_url(),
    }


class ReleaseListView(TemplateView):
    """Every release with its counts, checksums, citation and files (incidents/releases.py)."""

    template_name = "incidents/releases.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "releases": selectors.release_list()}


class AboutView(TemplateView):
    """How the data is made, what its codes mean, whom to credit, and where to get it."""

    template_name = "incidents/about.html"

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "location_precisions": LocationPrecision.choices,
            "date_precisions": DatePrecision.choices,
            "acled_attribution": DATASET_ATTRIBUTION[Dataset.ACLED],
            "ucdp_attribution": DATASET_ATTRIBUTION[Dataset.UCDP_GED],
            "site_url": self.request.build_absolute_uri(reverse("incidents:home")),
        }


class ApiDocsView(TemplateView):
    """/api/: the JSON API's reference, rendered here from its OpenAPI document (no script, no CDN)."""

    template_name = "incidents/api_docs.html"

    def get_context_data(self, **kwargs):
        document = openapi.api_document(server=self.request.build_absolute_uri("/").rstrip("/"))
        return {
            **super().get_context_data(**kwargs),
            "api": document["info"],
            "version": document["openapi"],
            "operations": api_docs.operations(document),
            "openapi_url": reverse("incidents:api-openapi"),
        }
