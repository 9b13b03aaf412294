from django.urls import path

from . import views

# Included under the "incidents" namespace; names are what templates and scripts link to.
urlpatterns = [
    path("api/timeline", views.TimelineView.as_view(), name="api-timeline"),
]
