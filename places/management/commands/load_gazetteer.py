from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from places.loaders import gazetteer_load, wof_places_load


class Command(BaseCommand):
    help = (
        "Load the gazetteer: GeoNames places (population ≥ 500, alternate names, admin1 regions) of the countries in "
        "GAZETTEER_COUNTRIES, then the Who's On First villages, governorates and districts of Syria and Iraq "
        "(merged into the GeoNames rows: one place per GeoNames id). Idempotent; editors' places are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--country", action="append", help="ISO code; repeat for several (default: the setting).")
        parser.add_argument(
            "--force", action="store_true", help="Also look at loaded countries and add places they lack."
        )

    def handle(self, *args, country=None, force=False, **options):
        countries = [code.upper() for code in (country or settings.GAZETTEER_COUNTRIES)]
        if bad := [code for code in countries if len(code) != 2 or not code.isalpha()]:
            raise CommandError(f"Not ISO 3166-1 alpha-2 country codes: {', '.join(bad)}")
        inserted, skipped = gazetteer_load(countries, force=force)
        if inserted == 0 and skipped == len(countries):
            self.stdout.write(f"GeoNames: already loaded for {', '.join(countries)}.")
        else:
            self.stdout.write(f"GeoNames: {inserted} places added for {', '.join(countries)}.")
        added, merged = wof_places_load(countries)
        self.stdout.write(f"Who's On First: {added} places added, {merged} merged into GeoNames places.")
