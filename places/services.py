"""Write paths for the gazetteer."""

from django.db import IntegrityError, transaction

from .models import Place, PlaceKind
from .names import name_key


def place_remember(*, name, query, point, provider, admin1="", admin2="", country=""):
    """Keep an online geocoder's answer, which an editor has just saved a record with, as a place named by the
    wording that found it, so the same wording is found offline next time. Returns the place (an existing one when
    that wording from that provider was kept before), or None if it cannot be stored."""
    key = name_key(query) or name_key(name)
    if not key or not country or point is None:
        return None
    source = f"{provider}:{key}"[:100]
    try:
        with transaction.atomic():
            place, _created = Place.objects.get_or_create(
                source=source,
                defaults={
                    "name": name[:200],
                    "alternate_names": [query[:200]] if query and query != name else [],
                    "point": point,
                    "kind": PlaceKind.OTHER,
                    "admin1": admin1,
                    "admin2": admin2,
                    "country": country,
                },
            )
    except IntegrityError:
        return None
    return place
