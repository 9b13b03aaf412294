from django.urls import path

from places import views as places_views

from . import feeds, views

app_name = "incidents"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("embed/", views.EmbedView.as_view(), name="embed"),
    path("incidents/<int:pk>/", views.IncidentDetailView.as_view(), name="detail"),
    path("regions/<int:pk>/", views.RegionDetailView.as_view(), name="region"),
    path("about/", views.AboutView.as_view(), name="about"),
    path("archive/<int:pk>/", views.SourceCapturePageView.as_view(), name="source-capture"),
    path("archive/<int:pk>.warc", views.SourceCaptureWarcView.as_view(), name="source-capture-warc"),
    path("releases/", views.ReleaseListView.as_view(), name="releases"),
    path("api/", views.ApiDocsView.as_view(), name="api-docs"),
    path("places/search.json", places_views.PlaceSearchView.as_view(), name="place-search"),
    path("places/reverse.json", places_views.PlaceReverseView.as_view(), name="place-reverse"),
    path("incidents/<int:pk>.json", views.IncidentJsonView.as_view(), name="detail-json"),
    path("map/incidents.json", views.MapFeedView.as_view(), name="map-feed"),
    path("map/list.json", views.MapListView.as_view(), name="map-list"),
    path("map/incidents.atom", feeds.MapAtomFeed(), name="map-atom"),
]
