"""The one migration operation that installs the kept tables' SQL: a frozen version of triggers.kept_tables_sql(),
sql/v<N>.sql, so a migration means the same thing whenever it runs, however the registry changes later."""

from pathlib import Path

from django.db import migrations

SQL_DIR = Path(__file__).parent / "sql"


def sql_versions():
    """The versions there are files of, in order."""
    return sorted(int(path.stem.removeprefix("v")) for path in SQL_DIR.glob("v*.sql"))


def sql_version_text(version):
    return (SQL_DIR / f"v{version}.sql").read_text()


class InstallKeptTables(migrations.RunSQL):
    """Replace the kept tables' triggers and functions with version `version` of the script; with `fill`, count
    every kept table again from the incidents (a table's key changed). Backwards: the previous version, if any."""

    def __init__(self, version, *, fill=False, previous=None):
        self.version, self.fill, self.previous = version, fill, previous
        forward = sql_version_text(version) + ("\nSELECT conflictmap_kept_tables_fill();" if fill else "")
        backward = sql_version_text(previous) if previous else migrations.RunSQL.noop
        super().__init__(forward, backward)

    def deconstruct(self):
        kwargs = {"version": self.version, "fill": self.fill, "previous": self.previous}
        return self.__class__.__name__, [], kwargs

    def describe(self):
        return f"Install the kept tables' SQL, version {self.version}" + (" and fill them" if self.fill else "")
