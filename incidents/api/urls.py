from django.urls import path

from .. import views as incident_views
from . import ogc, views

# Part of the "incidents" namespace but outside the language prefix (see conflictmap/urls.py): the map page and
# scripts link to these names.
urlpatterns = [
    path("api/incidents.geojson", views.GeoJSONView.as_view(), name="api-geojson"),
    path("api/incidents.csv", views.CSVView.as_view(), name="api-csv"),
    path("api/changes", views.ChangesView.as_view(), name="api-changes"),
    path("api/releases.json", views.ReleasesView.as_view(), name="api-releases"),
    path("api/timeline", views.TimelineView.as_view(), name="api-timeline"),
    path("api/openapi.json", views.OpenAPIView.as_view(), name="api-openapi"),
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
