from django.db import migrations

from incidents.aggregates.operations import InstallKeptTables


class Migration(migrations.Migration):
    dependencies = [("incidents", "0035_incident_media")]

    operations = [InstallKeptTables(version=3, fill=True, previous=2)]
