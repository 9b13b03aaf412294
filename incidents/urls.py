from django.urls import include, path

from . import views

app_name = "incidents"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("incidents/<int:pk>/", views.IncidentDetailView.as_view(), name="detail"),
    path("", include("incidents.api.urls")),
]
