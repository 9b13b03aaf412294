# The kept tables' triggers, until now written by migrations 0010, 0014, 0017, 0018, 0020, 0021 and 0023, replaced in place
# by the same counts written from one registry (incidents/aggregates). No fill: the tables already hold what the new
# triggers would keep.

from django.db import migrations

from incidents.aggregates.operations import InstallKeptTables


class Migration(migrations.Migration):
    dependencies = [("incidents", "0023_map_actor_pair_cells_joins")]

    operations = [InstallKeptTables(version=1)]
