import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from incidents.services import map_terms_refresh


class Command(BaseCommand):
    help = (
        "Choose the words of the text filter whose map clusters are kept (MapTerm: every word at least "
        "MAP_TERM_MIN_INCIDENTS published incidents carry, at most MAP_TERM_MAX_TERMS, no function words) and refill their map cells. Run it after a large import "
        "(or from cron): a word chosen or left out only changes which are counted live, never a count."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--min-incidents",
            type=int,
            default=None,
            help="Keep words carried by at least this many published incidents (default: MAP_TERM_MIN_INCIDENTS).",
        )

        parser.add_argument(
            "--max-terms",
            type=int,
            default=None,
            help="Keep at most this many words, the most common first (default: MAP_TERM_MAX_TERMS).",
        )

    def handle(self, *args, min_incidents=None, max_terms=None, **options):
        if min_incidents is None:
            min_incidents = settings.MAP_TERM_MIN_INCIDENTS
        if max_terms is None:
            max_terms = settings.MAP_TERM_MAX_TERMS
        if min_incidents < 1:
            raise CommandError(f"--min-incidents must be at least 1 (got {min_incidents}).")
        if max_terms < 0:
            raise CommandError(f"--max-terms must be 0 or more (got {max_terms}).")
        started = time.perf_counter()
        refreshed = map_terms_refresh(min_incidents=min_incidents, max_terms=max_terms)
        chosen = ", ".join(f"{term} ({incidents:,})" for term, incidents in refreshed["terms"]) or "none"
        self.stdout.write(f"Terms in at least {min_incidents:,} published incidents: {chosen}.")
        self.stdout.write(
            f"{len(refreshed['terms'])} terms, {refreshed['cells']:,} map cells filled in "
            f"{refreshed['fill_seconds']:.1f} s ({time.perf_counter() - started:.1f} s in all)."
        )
