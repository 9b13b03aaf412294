from django.urls import path

from .. import views as incident_views
from . import ogc, tiles, views

# Part of the "incidents" namespace but outside the language prefix (see conflictmap/urls.py): the map page and
# scripts link to these names.
urlpatterns = [
    path("api/incidents.geojson", views.GeoJSONView.as_view(), name="api-geojson"),
    path("api/incidents.csv", views.CSVView.as_view(), name="api-csv"),
    path("api/changes", views.ChangesView.as_view(), name="api-changes"),
    path("api/releases.json", views.ReleasesView.as_view(), name="api-releases"),
    path("api/timeline", views.TimelineView.as_view(), name="api-timeline"),
    path("api/regions.json", views.RegionCountsView.as_view(), name="api-regions"),
    path("api/regions.csv", views.RegionCountsView.as_view(format="csv"), name="api-regions-csv"),
    path("api/regions/boundaries.geojson", views.RegionBoundariesView.as_view(), name="api-region-boundaries"),
    path("api/trends.json", views.TrendsView.as_view(), name="api-trends"),
    path("api/trends.csv", views.TrendsView.as_view(format="csv"), name="api-trends-csv"),
    path("api/aggregated.json", views.AggregatedView.as_view(), name="api-aggregated"),
    path("api/aggregated.csv", views.AggregatedView.as_view(format="csv"), name="api-aggregated-csv"),
    path("api/openapi.json", views.OpenAPIView.as_view(), name="api-openapi"),
    path("tiles/tiles.json", tiles.TileJSONView.as_view(), name="tilejson"),
    # str, not int: a negative or non-numeric z, x or y gets a 400 naming it rather than a bare 404.
    path("tiles/<str:z>/<str:x>/<str:y>.mvt", tiles.TileView.as_view(), name="tile"),
    # Media files are the same in every language: the public copy of an item of a published incident.
    path("media/<int:pk>", incident_views.MediaFileView.as_view(), name="media-public"),
    path("ogcapi/", ogc.LandingView.as_view(), name="ogc-landing"),
    path("ogcapi/conformance", ogc.ConformanceView.as_view(), name="ogc-conformance"),
    path("ogcapi/collections", ogc.CollectionsView.as_view(), name="ogc-collections"),
    path("ogcapi/collections/<str:collection_id>", ogc.CollectionView.as_view(), name="ogc-collection"),
    path("ogcapi/collections/<str:collection_id>/items", ogc.ItemsView.as_view(), name="ogc-items"),
    path("ogcapi/collections/<str:collection_id>/queryables", ogc.QueryablesView.as_view(), name="ogc-queryables"),
    path("ogcapi/collections/<str:collection_id>/items/<str:feature_id>", ogc.ItemView.as_view(), name="ogc-item"),
    path("ogcapi/api", ogc.OGCOpenAPIView.as_view(), name="ogc-openapi"),
]
