from django.contrib import admin
from django.db import models
from leaflet.admin import LeafletGeoAdminMixin
from simple_history.admin import SimpleHistoryAdmin

from .models import Place
from .names import name_key


@admin.register(Place)
class PlaceAdmin(LeafletGeoAdminMixin, SimpleHistoryAdmin):
    list_display = ["name", "kind", "admin1", "country", "population", "source"]
    list_filter = ["kind", "country"]
    search_fields = ["name"]
    fields = [
        "name",
        "ascii_name",
        "alternate_names",
        "point",
        "kind",
        ("admin1", "admin2", "country"),
        "population",
        "source",
    ]

    def get_search_results(self, request, queryset, search_term):
        # Any spelling an editor knows ("Deir Ezzor", "دير الزور") finds the place, as in the geocoder.
        key = name_key(search_term)
        if not key:
            return queryset, False
        return queryset.filter(models.Q(name_keys__contains=[key]) | models.Q(search_text__contains=key)), False
