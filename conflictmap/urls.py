from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import LocalePrefixPattern, URLResolver, include, path
from django.urls.resolvers import RoutePattern
from django.utils.translation import gettext_lazy as _

from conflictmap.views import healthz
from incidents import urls as incidents_urls
from incidents.api import urls as api_urls

admin.site.site_header = _("conflictmap editors")
admin.site.site_title = _("conflictmap")
admin.site.index_title = _("Incidents, actors and sources")

# One "incidents" namespace: the data endpoints (/api/, /ogcapi/) are language-neutral, so scripts, caches and OGC
# clients get one URL whatever the visitor's language, while the pages keep the /ar/ prefix. include() refuses a
# language prefix one level down, so both resolvers are built here exactly as path()/i18n_patterns() build them.
incidents_resolver = URLResolver(
    RoutePattern(""),
    [
        *api_urls.urlpatterns,
        URLResolver(LocalePrefixPattern(prefix_default_language=False), incidents_urls.urlpatterns),
    ],
    app_name="incidents",
    namespace="incidents",
)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    incidents_resolver,
]
# This top-level i18n_patterns() is also what tells LocaleMiddleware to read the language from the path.
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    prefix_default_language=False,
)
