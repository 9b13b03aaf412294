from django.core.management.base import BaseCommand
from django.db import transaction

from incidents.models import Incident
from incidents.services import incidents_geocode_missing


class Command(BaseCommand):
    help = (
        "Code incidents that have a place text (as reported, or coded place name) but no point to their best "
        "confident gazetteer match, and list those that could not be resolved."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Report what would be coded, change nothing.")

    def handle(self, *args, dry_run=False, **options):
        with transaction.atomic():
            coded, unresolved = incidents_geocode_missing(incidents=Incident.objects.all())
            for incident in coded:
                self.stdout.write(
                    f"#{incident.pk} {incident.title}: {incident.place_name} ({incident.admin1}, {incident.country}),"
                    f" precision {incident.get_location_precision_display().lower()}"
                )
            for incident, reason in unresolved:
                self.stderr.write(f"#{incident.pk} {incident.title}: not resolved, {reason}")
            self.stdout.write(f"{len(coded)} coded, {len(unresolved)} not resolved{' (dry run)' if dry_run else ''}.")
            if dry_run:
                transaction.set_rollback(True)
