"""The admin's place search: JSON endpoints the incident form's scripts call as an editor types or clicks the map."""

import math
import re

from django.http import JsonResponse
from django.utils.translation import gettext
from django.views import View

from . import geocoding


class StaffJSONView(View):
    """JSON for the admin's scripts: staff only, and a 403 in JSON (not a login page) for anyone else."""

    def dispatch(self, request, *args, **kwargs):
        if not (request.user.is_active and request.user.is_staff):
            return JsonResponse({"error": "Staff sign-in required."}, status=403)
        return super().dispatch(request, *args, **kwargs)


class PlaceSearchView(StaffJSONView):
    """Place suggestions as an editor types: ?q=north of Palmyra[&country=SY][&admin1=Idleb][&limit=8]."""

    LIMIT_DEFAULT, LIMIT_MAX = 8, 20

    def get(self, request):
        warnings = []
        try:
            limit = self._limit(request.GET.get("limit"), warnings)
            result = geocoding.geocoder_chain().geocode(
                request.GET.get("q", ""),
                country=geocoding.country_clean(request.GET.get("country")),
                admin1=request.GET.get("admin1", "")[:100] or None,
                limit=limit,
            )
        except geocoding.GeocodeQueryError as error:
            return JsonResponse({"error": str(error), "results": []}, status=400)
        return JsonResponse({"results": result.candidates, "warnings": warnings + result.warnings})

    def _limit(self, text, warnings):
        """A whole number, clamped to 1..LIMIT_MAX with a warning saying so; anything else is refused."""
        message = gettext("limit must be a whole number from 1 to %(max)d") % {"max": self.LIMIT_MAX}
        if text is None or text == "":
            return self.LIMIT_DEFAULT
        if not re.fullmatch(r"[+-]?\d{1,50}", text.strip()):  # "abc", "2.5", "1e23": not whole numbers as typed
            raise geocoding.GeocodeQueryError(
                gettext("%(message)s (got “%(text)s”).") % {"message": message, "text": text[:20]}
            )
        limit = int(text)
        clamped = min(max(limit, 1), self.LIMIT_MAX)
        if clamped != limit:
            warnings.append(
                gettext("%(message)s; %(limit)s was read as %(clamped)d.")
                % {"message": message, "limit": text.strip()[:20], "clamped": clamped}
            )
        return clamped


class PlaceReverseView(StaffJSONView):
    """The nearest gazetteer place to a clicked point: ?lat=34.55&lon=38.3."""

    def get(self, request):
        try:
            latitude, longitude = float(request.GET["lat"]), float(request.GET["lon"])
            if not (math.isfinite(latitude) and math.isfinite(longitude)):
                raise ValueError
            return JsonResponse({"result": geocoding.geocoder_chain().reverse(latitude, longitude)})
        except geocoding.GeocodeQueryError as error:
            return JsonResponse({"error": str(error)}, status=400)
        except (KeyError, ValueError):
            return JsonResponse({"error": "Give lat and lon in decimal degrees."}, status=400)
