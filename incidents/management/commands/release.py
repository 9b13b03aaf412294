"""`manage.py release NAME`: freeze the published incidents as the next numbered release (incidents/releases.py)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from incidents.releases import ReleaseError, release_create, release_dir


class Command(BaseCommand):
    help = "Freeze the published incidents as a numbered release: GeoJSON, CSV, manifest, citation."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The release's name (letters, digits, hyphens, underscores), e.g. 2026-12.")
        parser.add_argument("--user", help="The username recorded as its author.")

    def handle(self, *args, name, user=None, **options):
        author = None
        if user:
            try:
                author = get_user_model().objects.get(username=user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user “{user}”.") from None
        try:
            release = release_create(name=name, user=author)
        except ReleaseError as error:
            raise CommandError(str(error)) from None
        files = ", ".join(
            f"{filename} ({entry['bytes']:,} bytes)" for filename, entry in release.manifest["files"].items()
        )
        self.stdout.write(
            f"Release {release.number} “{release.name}”: {release.incidents:,} incidents at data version "
            f"{release.data_version}; {files} in {release_dir(release)}."
        )
