# Version 2 of the kept tables' SQL: the map terms' cells matched one array of terms per incident (a 100,000-row
# import no longer reads its incidents once per term from a spilled copy), and every count's sums written in the order
# of its table's key. No fill: no table's key or count changed.
from django.db import migrations

from incidents.aggregates.operations import InstallKeptTables


class Migration(migrations.Migration):
    dependencies = [("incidents", "0025_published_has_source_set_based")]

    operations = [InstallKeptTables(version=2, fill=False, previous=1)]
