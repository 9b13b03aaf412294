"""Public, read-only data endpoints. Each validates its query string with the one FilterSet (via selectors)."""

from django.http import JsonResponse
from django.views import View

from .. import selectors


def parameter_errors(errors, status=400):
    """400 with a body naming each bad parameter and what is wrong with it."""
    return JsonResponse(
        {
            "code": "InvalidParameterValue",
            "description": "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items()),
            "errors": errors,
        },
        status=status,
    )


class TimelineView(View):
    """Counts and fatalities per bucket and event type: the data behind the map's histogram."""

    def get(self, request):
        bucket = request.GET.get("bucket") or None
        if bucket is not None and bucket not in selectors.TIMELINE_BUCKETS:
            return parameter_errors({"bucket": [f"must be one of {', '.join(selectors.TIMELINE_BUCKETS)}."]})
        try:
            incidents = selectors.incident_filter(params=request.GET)
        except selectors.InvalidFilters as invalid:
            return parameter_errors(invalid.errors)
        return JsonResponse(selectors.timeline_counts(queryset=incidents, bucket=bucket))
