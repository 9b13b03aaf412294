"""Atom feeds of the map's filters: subscribe to a permalink's filters and hear of what is published or changed.

Django's syndication framework writes the Atom (and escapes every text it is given); the filters are the one
FilterSet's, read from the same query string as the map's permalink, /map/list.json and the downloads (the other
keys of a permalink, its view and timeline zoom, are not filters and are ignored).
"""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext

from . import selectors
from .api.http import parameter_errors
from .filters import IncidentFilterSet


class MapAtomFeed(Feed):
    """The most recently published or changed incidents under the filters, newest change first."""

    feed_type = Atom1Feed
    description_template = "incidents/atom_entry.html"

    def __call__(self, request, *args, **kwargs):
        # A bad parameter is a 400 naming it, as on every public data route (the framework would make it a 500).
        try:
            selectors.incident_filterset(params=request.GET)
        except selectors.InvalidFilters as invalid:
            return parameter_errors(invalid.errors)
        response = super().__call__(request, *args, **kwargs)
        response["Access-Control-Allow-Origin"] = "*"
        return response

    def get_object(self, request):
        # The feed is named by its filters only; the permalink it links back to keeps the view as well.
        filters = request.GET.copy()
        for name in list(filters):
            if name not in IncidentFilterSet.base_filters:
                del filters[name]
        return {
            "filters": selectors.incident_filterset(params=request.GET),
            "query": filters.urlencode(),
            "described": "; ".join(f"{name}: {', '.join(filters.getlist(name))}" for name in filters),
            "permalink": request.GET.urlencode(),
            # The feed's Atom id: its own address with its filters, the same whatever map view it was found from.
            "id": request.build_absolute_uri(
                reverse("incidents:map-atom") + (f"?{filters.urlencode()}" if filters else "")
            ),
        }

    def title(self, obj):
        return gettext("Conflict incidents: latest published and changed") + (
            gettext(" (filtered)") if obj["query"] else ""
        )

    def subtitle(self, obj):
        return gettext("Published incidents matching %(filters)s, the most recently changed first.") % {
            "filters": obj["described"] or gettext("no filter")
        }

    def link(self, obj):
        return reverse("incidents:home") + (f"?{obj['permalink']}" if obj["permalink"] else "")

    def feed_url(self, obj):
        return reverse("incidents:map-atom") + (f"?{obj['query']}" if obj["query"] else "")

    def feed_guid(self, obj):
        return obj["id"]

    def items(self, obj):
        return selectors.incident_recently_changed(filters=obj["filters"], limit=settings.ATOM_FEED_ENTRIES)

    def item_title(self, item):
        return item.title

    def item_link(self, item):
        return item.get_absolute_url()

    def item_updateddate(self, item):
        return item.updated_at

    def item_pubdate(self, item):
        return item.published_at or item.created_at

    def item_categories(self, item):
        return [item.event_type.name]
