from django.contrib import admin
from django.db import models
from leaflet.admin import LeafletGeoAdminMixin
from simple_history.admin import SimpleHistoryAdmin

from .models import District, Place, Region
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


class AdminAreaAdmin(LeafletGeoAdminMixin, admin.ModelAdmin):
    """Read-only: regions and districts come from the Who's On First extract (`manage.py load_gazetteer`)."""

    list_display = ["name", "name_ar", "country"]
    list_filter = ["country"]
    fields = ["name", "name_ar", "country", "names", "wof_id", "geonames_id", "boundary"]

    def get_search_results(self, request, queryset, search_term):
        key = name_key(search_term)
        return (queryset.filter(name_keys__contains=[key]), False) if key else (queryset, False)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Region)
class RegionAdmin(AdminAreaAdmin):
    search_fields = ["name"]


@admin.register(District)
class DistrictAdmin(AdminAreaAdmin):
    list_display = ["name", "name_ar", "region", "country"]
    search_fields = ["name"]
