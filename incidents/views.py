import math
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse, JsonResponse, QueryDict, StreamingHttpResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.dateformat import format as date_format
from django.utils.translation import get_language, gettext, ngettext, pgettext
from django.views import View
from django.views.generic import DetailView, TemplateView
from django_countries import countries

from places.models import Region, arabic_name, place_arabic_names

from . import archive, regional, selectors
from .api import docs as api_docs
from .api import openapi
from .api.downloads import byte_range, file_part
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
    IncidentMedia,
    LocationPrecision,
    MediaKind,
    ShownText,
    Side,
    SourceCapture,
)
from .templatetags.incident_format import confidence_label, dates_label, fatalities_label


class HomeView(TemplateView):
    """The timeline map; its data comes from MapFeedView and the timeline API, driven by static/incidents/js/map.js."""

    template_name = "incidents/home.html"
    embed = False

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
            "homeUrl": reverse("incidents:home"),
            "embedUrl": reverse("incidents:embed"),
            "embed": self.embed,
            "incidentJsonUrl": reverse("incidents:detail-json", args=[0]),
            "geojsonUrl": reverse("incidents:api-geojson"),
            "csvUrl": reverse("incidents:api-csv"),
            "atomUrl": reverse("incidents:map-atom"),
            "regionsUrl": reverse("incidents:api-regions"),
            "regionsCsvUrl": reverse("incidents:api-regions-csv"),
            "regionBoundariesUrl": reverse("incidents:api-region-boundaries"),
            "regionPageUrl": reverse("incidents:region", args=[0]),
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
                "embedTitle": gettext("Map of conflict incidents (conflictmap)"),
                "copied": gettext("Copied: paste it into your page's HTML."),
                "copyByHand": gettext("Select the code and copy it (Ctrl+C or ⌘C)."),
                "timeline": gettext("Timeline of incidents"),
                "clusterLabel": gettext("%(n)s incidents, %(f)s fatalities: zoom in to see them"),
                "groupLabel": gettext("%(n)s incidents close together: zoom in to see them"),
                "regionTooltip": gettext("%(n)s incidents, %(f)s fatalities (%(low)s–%(high)s)"),
                "regionNone": gettext("no incidents"),
                "regionLegend": gettext("%(measure)s per %(level)s: quantile classes of the areas with any"),
                "regionIncidents": gettext("Incidents"),
                "regionFatalities": gettext("Fatalities (best estimate)"),
                "governorates": gettext("governorate"),
                "districts": gettext("district"),
                "regionCaption": gettext("%(n)s incidents by area, most first"),
                "noRegion": gettext("(no region given)"),
                "regionPage": gettext("%(name)s: the governorate's page, with its trends"),
                "trendIncidents": gettext("%(name)s: %(n)s incidents from %(first)s to %(last)s"),
                "trendFatalities": gettext("%(name)s: %(n)s fatalities from %(first)s to %(last)s"),
                "trendTable": gettext("Numbers"),
                "trendPeriod": gettext("Period"),
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
            "embed": self.embed,
        }


class EmbedView(HomeView):
    """The map of a permalink without the site's chrome, for an <iframe> on another site: map, timeline, legend,
    attribution and a link back to the full view. The one page that may be framed, by the origins in
    settings.EMBED_FRAME_ANCESTORS (CSP frame-ancestors); every other page keeps X-Frame-Options DENY."""

    embed = True

    def dispatch(self, request, *args, **kwargs):
        response = super().dispatch(request, *args, **kwargs)
        response.xframe_options_exempt = True  # XFrameOptionsMiddleware leaves this response alone
        response._csp_replace = {"frame-ancestors": list(settings.EMBED_FRAME_ANCESTORS)}  # read by django-csp
        return response


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
        "precision": row["public_location_precision"],
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
    names = {row["id"]: "" if row["shown_generalised"] else arabic_name(row["place__alternate_names"]) for row in rows}
    by_name = place_arabic_names(
        (row["country"], row["admin1"], row["place_name"])
        for row in rows
        if not names[row["id"]] and not row["shown_generalised"]
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
        "precision": row["public_location_precision"],
        # A generalised incident's row names its district (or region), never the place its public location hides.
        "place": (row["admin2"] or row["admin1"])
        if row["shown_generalised"]
        else (place_ar or row["place_reported"] or row["place_name"]),
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
        selectors.sources_archived_copies_set(sources=incident.sources.all())
        media = list(selectors.incident_media_shown(incident=incident))
        return {
            **super().get_context_data(**kwargs),
            "page_url": self.request.build_absolute_uri(incident.get_absolute_url()),
            "map_has_tiles": bool(settings.LEAFLET_CONFIG.get("TILES")),
            "media": media,
            # Link previews (OpenGraph cards) show a picture only when it is neither graphic nor identifying.
            "preview_image_url": next(
                (
                    self.request.build_absolute_uri(item.get_absolute_url())
                    for item in media
                    if item.kind == MediaKind.IMAGE and not item.sensitive
                ),
                "",
            ),
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
        "place": incident.public_place_label,
        "region": pgettext("list separator", ", ").join(
            part for part in (incident.admin1_label, incident.country.name) if part
        ),
        # The public location only (aggregates/privacy.py): the exact point of a sensitive incident is the admin's.
        "precision": incident.public_location_precision,
        "precision_label": incident.public_precision_label,
        "lat": incident.public_latitude,
        "lon": incident.public_longitude,
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
            {"publisher": source.publisher, "title": source.public_title, "url": source.public_url}
            for source in incident.sources.all()
        ],
        "url": incident.get_absolute_url(),
    }


def trends_strings():
    """What the trends' script (static/incidents/js/trends.js) writes, in the page's language."""
    return {
        "loadFailed": gettext("Could not load the incidents."),
        "noIncidents": gettext("No incidents match these filters."),
        "incidents": gettext("Incidents"),
        "fatalities": gettext("Fatalities"),
        "trendIncidents": gettext("%(name)s: %(n)s incidents from %(first)s to %(last)s"),
        "trendFatalities": gettext("%(name)s: %(n)s fatalities from %(first)s to %(last)s"),
        "trendTable": gettext("Numbers"),
        "trendPeriod": gettext("Period"),
    }


class RegionDetailView(DetailView):
    """A governorate's page: its totals and its trends by event type and actor (the map's region filter)."""

    template_name = "incidents/region_detail.html"
    context_object_name = "region"

    def get_object(self, queryset=None):
        try:
            return selectors.region_get(pk=self.kwargs["pk"])
        except Region.DoesNotExist:
            raise Http404("No region with that number.") from None

    def get_context_data(self, **kwargs):
        region = self.object
        query = QueryDict(mutable=True)
        query.update({"country": str(region.country), "admin1": region.name})
        totals = regional.region_totals(filters=selectors.incident_filterset(params=query), dimensions=[])
        empty = dict.fromkeys(regional.SUMS, 0)
        return {
            **super().get_context_data(**kwargs),
            "totals": totals[0] if totals else empty,
            "map_query": query.urlencode(),
            "page_strings": trends_strings(),
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


class SourceCaptureMixin:
    """A successful capture of a source that a published incident cites; 404 for any other (drafts never leak)."""

    def get_capture(self):
        try:
            return selectors.source_capture_public_get(pk=self.kwargs["pk"])
        except SourceCapture.DoesNotExist:
            raise Http404("No archived copy with that number.") from None


class SourceCaptureWarcView(SourceCaptureMixin, View):
    """The capture's WARC file, as kept."""

    def get(self, request, *args, **kwargs):
        capture = self.get_capture()
        return archive_warc_response(capture)


class SourceCapturePageView(SourceCaptureMixin, View):
    """The captured page itself, sandboxed: it runs no script, has no origin of its own and loads nothing."""

    def get(self, request, *args, **kwargs):
        capture = self.get_capture()
        content_type, inline = archive.capture_shown_type(capture.content_type)
        response = HttpResponse(archive.capture_page(capture), content_type=content_type)
        response["Content-Security-Policy"] = archive.CAPTURE_VIEW_POLICY
        response["X-Content-Type-Options"] = "nosniff"
        response["Referrer-Policy"] = "no-referrer"
        response["Cross-Origin-Resource-Policy"] = "same-origin"
        if not inline:
            response["Content-Disposition"] = f'attachment; filename="source-{capture.source_id}-{capture.pk}"'
        return response


def archive_warc_response(capture):
    """The WARC file of a capture as a download (the public view and the admin's share it)."""
    response = FileResponse(
        capture.warc.open("rb"),
        as_attachment=True,
        filename=f"source-{capture.source_id}-capture-{capture.pk}.warc",
        content_type="application/warc",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


class MediaFileView(View):
    """The public copy of a media item of a published incident (never an original; a draft's is a 404), with Range
    for video seeking. Staff who may view media also get drafts' copies, for the preview page, never cached."""

    def get(self, request, pk):
        try:
            media = selectors.media_public_get(pk=pk)
            public = True
        except IncidentMedia.DoesNotExist:
            try:
                media = selectors.media_staff_preview_get(pk=pk, user=request.user)
            except IncidentMedia.DoesNotExist:
                raise Http404("No public media item with that number.") from None
            public = False
        path = Path(media.public_copy.path)
        size = path.stat().st_size
        etag = f'"{media.sha256[:16]}-{media.pk}-{path.stem}"'
        if (not_modified := get_conditional_response(request, etag=etag)) is not None:
            return not_modified
        requested = request.headers.get("Range")
        if requested and request.headers.get("If-Range", etag) != etag:
            requested = None
        part = byte_range(requested, size) if requested else None
        if part == "unsatisfiable":
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
        elif part is not None:
            first, last = part
            response = StreamingHttpResponse(file_part(path, first, last), status=206, content_type=media.content_type)
            response["Content-Range"] = f"bytes {first}-{last}/{size}"
            response["Content-Length"] = str(last - first + 1)
        else:
            response = FileResponse(path.open("rb"), content_type=media.content_type)
        response["Accept-Ranges"] = "bytes"
        response["ETag"] = etag
        response["Content-Disposition"] = "inline"
        if public:
            # Short: a copy withdrawn (incident unpublished, item removed) stops being served within minutes.
            patch_cache_control(response, public=True, max_age=settings.MEDIA_CACHE_SECONDS)
        else:
            patch_cache_control(response, private=True, no_store=True)
            response["X-Robots-Tag"] = "noindex, nofollow"
        return response
