from django.db import migrations

from incidents.aggregates.operations import InstallKeptTables


class Migration(migrations.Migration):
    dependencies = [("incidents", "0029_import_batch_job")]

    operations = [InstallKeptTables(version=2, fill=True, previous=1)]
