from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("conflictmap editors")
admin.site.site_title = _("conflictmap")
admin.site.index_title = _("Incidents, actors and sources")

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("", include("incidents.urls")),
    prefix_default_language=False,
)
