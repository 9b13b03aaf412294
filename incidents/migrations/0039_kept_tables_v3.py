from django.db import migrations

from incidents.aggregates.operations import InstallKeptTables


class Migration(migrations.Migration):
    dependencies = [("incidents", "0038_public_place_names_unsearched")]

    operations = [InstallKeptTables(version=3, fill=True, previous=2)]
