from django.core.management.base import BaseCommand, CommandError

from incidents import seeding


class Command(BaseCommand):
    help = "Generate the synthetic demo incidents (fiction, labelled as such) unless they are already loaded."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=400)
        parser.add_argument("--seed", type=int, default=2011, help="Random seed, for a repeatable set.")

    def handle(self, *args, count, seed, **options):
        try:
            created = seeding.demo_load(count=count, seed=seed)
        except Exception as error:  # ImproperlyConfigured in production settings
            raise CommandError(str(error)) from error
        if created:
            self.stdout.write(f"Loaded {created} synthetic demo incidents. Remove them with: manage.py remove_demo")
        else:
            self.stdout.write("Synthetic demo incidents already loaded (manage.py remove_demo removes them).")
