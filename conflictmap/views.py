import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from .middleware import DATABASE_ERRORS

logger = logging.getLogger(__name__)


# csrf_exempt: a POST gets the 405 it is, not a 403 about a token /healthz has no use for.
@csrf_exempt
@require_safe
@never_cache
def healthz(request):
    """For load balancers: 200 when the database answers, 503 (with Retry-After) when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DATABASE_ERRORS as error:
        logger.warning("Health check: database unreachable: %s", error)
        response = JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
        response["Retry-After"] = str(settings.DATABASE_UNAVAILABLE_RETRY_AFTER)
        return response
    return JsonResponse({"status": "ok", "database": "ok"})
