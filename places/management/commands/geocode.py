import json

from django.core.management.base import BaseCommand, CommandError

from places.geocoding import GeocodeQueryError, country_clean, geocoder_chain

OUTPUT_KEYS = ["name", "latitude", "longitude", "admin1", "country", "precision", "score", "provider"]


class Command(BaseCommand):
    help = (
        'Geocode report wording ("north of Palmyra", "Homs province", "دير الزور") with the gazetteer, then the '
        "online provider if one is configured; or, with --reverse LAT LON, name the nearest place."
    )

    def add_arguments(self, parser):
        parser.add_argument("query", nargs="?", default=None, help="What the report says, in quotes.")
        parser.add_argument("--country", help="Only places in this country (ISO 3166-1 alpha-2, e.g. SY).")
        parser.add_argument("--limit", type=int, default=5, help="How many candidates, best first (default 5).")
        parser.add_argument("--reverse", nargs=2, type=float, metavar=("LAT", "LON"), help="Reverse geocode a point.")
        parser.add_argument("--json", action="store_true", help="Print JSON (an array, or one object for --reverse).")

    def handle(self, *args, query=None, country=None, limit=5, reverse=None, json=False, **options):
        chain = geocoder_chain()
        try:
            if reverse is not None:
                if query:
                    raise CommandError("Give either a query or --reverse LAT LON, not both.")
                self._print_reverse(chain.reverse(*reverse), as_json=json)
                return
            if not 1 <= limit <= 50:
                raise CommandError("--limit must be between 1 and 50.")
            if query is None:
                raise CommandError('Give a place to look up, e.g. manage.py geocode "Deir ez-Zor".')
            result = chain.geocode(query, country=country_clean(country), limit=limit)
        except GeocodeQueryError as error:
            raise CommandError(str(error)) from None
        for warning in result.warnings:
            self.stderr.write(warning)
        if json:
            self.stdout.write(_json([{key: candidate[key] for key in OUTPUT_KEYS} for candidate in result.candidates]))
            return
        if not result.candidates:
            self.stdout.write(f"No place found for “{query}”.")
        for candidate in result.candidates:
            self.stdout.write(_line(candidate))

    def _print_reverse(self, candidate, *, as_json):
        if as_json:
            self.stdout.write(
                _json({key: candidate[key] for key in [*OUTPUT_KEYS, "distance_km"]} if candidate else None)
            )
        elif candidate is None:
            self.stdout.write("No gazetteer place within 150 km.")
        else:
            self.stdout.write(f"{_line(candidate)}  {candidate['distance_km']} km away")


def _json(value):
    return json.dumps(value, ensure_ascii=False, indent=2)


def _line(candidate):
    where = ", ".join(part for part in (candidate["admin1"], candidate["country"]) if part)
    return (
        f"{candidate['score']:.3f}  {candidate['name']} ({where})  {candidate['latitude']}, {candidate['longitude']}"
        f"  precision={candidate['precision']}  [{candidate['provider']}]"
    )
