from django.core.management.base import BaseCommand

from incidents import seeding


class Command(BaseCommand):
    help = "Delete every synthetic demo incident; real incidents stay."

    def handle(self, *args, **options):
        removed = seeding.demo_remove()
        self.stdout.write(f"Removed {removed} synthetic demo incidents.")
