"""Check or write the kept tables' SQL: `--check` fails when the registry (incidents/aggregates/registry.py) no
longer writes the newest installed version; `--write` freezes it as the next version, with the migration that
installs it and counts the tables again."""

from django.core.management.base import BaseCommand, CommandError
from django.db.migrations.loader import MigrationLoader

from incidents.aggregates.operations import SQL_DIR, sql_version_text, sql_versions
from incidents.aggregates.triggers import kept_tables_sql

MIGRATION = """from django.db import migrations

from incidents.aggregates.operations import InstallKeptTables


class Migration(migrations.Migration):
    dependencies = [("incidents", "{leaf}")]

    operations = [InstallKeptTables(version={version}, fill=True, previous={previous})]
"""


class Command(BaseCommand):
    help = "Check (--check) or freeze as a new version with its migration (--write) the kept tables' SQL."

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--check", action="store_true", help="Fail if the newest version is not the registry's.")
        action.add_argument("--write", action="store_true", help="Write the next version and its migration.")

    def handle(self, *args, check, write, **options):
        generated, newest = kept_tables_sql(), max(sql_versions())
        if generated == sql_version_text(newest):
            self.stdout.write(f"The kept tables' SQL is version {newest}.")
            return
        if check:
            raise CommandError(
                f"The registry's SQL differs from version {newest}: run `manage.py kept_tables_sql --write`."
            )
        version = newest + 1
        (SQL_DIR / f"v{version}.sql").write_text(generated)
        loader = MigrationLoader(None, ignore_no_migrations=True)
        (leaf,) = (name for app, name in loader.graph.leaf_nodes() if app == "incidents")
        number = int(leaf.split("_")[0]) + 1
        path = loader.disk_migrations["incidents", leaf].__module__.replace(".", "/").rsplit("/", 1)[0]
        migration = f"{path}/{number:04d}_kept_tables_v{version}.py"
        with open(migration, "w") as file:
            file.write(MIGRATION.format(leaf=leaf, version=version, previous=newest))
        self.stdout.write(f"Wrote {SQL_DIR / f'v{version}.sql'} and {migration}.")
