from django.core.management.base import BaseCommand

from incidents import seeding


class Command(BaseCommand):
    help = "Load the actors and incidents in seeds/ (creates what is missing, never overwrites an existing record)."

    def handle(self, *args, **options):
        actors = seeding.actors_load()
        incidents = seeding.incidents_load()
        self.stdout.write(f"Seed actors: {actors}. Seed incidents: {incidents}.")
