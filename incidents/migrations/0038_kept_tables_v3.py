from django.db import migrations

from incidents.aggregates.operations import InstallKeptTables


class Migration(migrations.Migration):
    dependencies = [("incidents", "0037_confidence_and_duplicates")]

    operations = [InstallKeptTables(version=3, fill=True, previous=2)]
