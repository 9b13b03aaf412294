from django.db import migrations

from incidents.aggregates.operations import InstallKeptTables


# v5 writes the same feature text in one pass over each incident's citations (the independent sources counted with
# the sources' list): nothing kept changes, so nothing is counted again.
class Migration(migrations.Migration):
    dependencies = [("incidents", "0043_kept_references_unindexed")]

    operations = [InstallKeptTables(version=5, previous=4)]
