from django.db import migrations

from incidents.aggregates.operations import InstallKeptTables


class Migration(migrations.Migration):
    dependencies = [("incidents", "0030_published_has_source_set_based")]

    operations = [InstallKeptTables(version=2, fill=True, previous=1)]
