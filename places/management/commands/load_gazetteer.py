from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from places.loaders import gazetteer_load


class Command(BaseCommand):
    help = (
        "Load the GeoNames places (cities with population ≥ 500, with alternate names, and their admin1 regions) "
        "of the countries in GAZETTEER_COUNTRIES. Countries already loaded are skipped; editors' places are kept."
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
            self.stdout.write(f"Gazetteer already loaded for {', '.join(countries)}.")
        else:
            self.stdout.write(f"Gazetteer: {inserted} places added for {', '.join(countries)}.")
