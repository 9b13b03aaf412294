from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError

# Local sign-ins printed by `make run`; never created under production settings.
DEMO_ACCOUNTS = [
    ("admin", "Superuser: everything", None),
    ("editor", "Editors group: drafts only", "Editors"),
    ("publisher", "Publishers group: publish and retract", "Publishers"),
]
DEMO_PASSWORD = "conflictmap-local"


class Command(BaseCommand):
    help = "Create local demo accounts (admin, editor, publisher) and print how to sign in."

    def handle(self, *args, **options):
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError("Demo accounts are for local use and are refused under these settings.")
        for username, role, group_name in DEMO_ACCOUNTS:
            user, _created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
            # The printed sign-in must work, even if someone changed the password since the last run.
            if not (user.is_active and user.is_staff and user.check_password(DEMO_PASSWORD)):
                user.is_active = user.is_staff = True
                user.set_password(DEMO_PASSWORD)
                user.save()
            if group_name is None and not user.is_superuser:
                user.is_superuser = True
                user.save(update_fields=["is_superuser"])
            if group_name:
                user.groups.add(Group.objects.get(name=group_name))
            self.stdout.write(f"  {username:<10} / {DEMO_PASSWORD}   ({role})")
