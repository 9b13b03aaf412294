# The change feed's log (/api/changes). Every incident public now enters it once as created, so a client that applies
# the feed from its start to an empty copy ends with the full download.

import django.contrib.postgres.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0025_incident_text_in_arabic"),
    ]

    operations = [
        migrations.CreateModel(
            name="IncidentChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("incident_id", models.BigIntegerField(verbose_name="incident id")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("created", "Created"),
                            ("updated", "Updated"),
                            ("unpublished", "Unpublished"),
                            ("retracted", "Retracted"),
                            ("deleted", "Deleted"),
                        ],
                        max_length=12,
                        verbose_name="kind",
                    ),
                ),
                (
                    "fields",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.TextField(),
                        blank=True,
                        default=list,
                        size=None,
                        verbose_name="changed fields",
                    ),
                ),
                ("note", models.TextField(blank=True, verbose_name="retraction note")),
                ("data_version", models.BigIntegerField(verbose_name="data version")),
                ("changed_at", models.DateTimeField(verbose_name="changed at")),
            ],
            options={
                "verbose_name": "public change",
                "verbose_name_plural": "public changes",
            },
        ),
        migrations.RunSQL(
            """INSERT INTO incidents_incidentchange (incident_id, kind, fields, note, data_version, changed_at)
               SELECT incident_id, 'created', '{}', '',
                      COALESCE((SELECT version FROM incidents_dataversion WHERE id = 1), 0), now()
                 FROM incidents_incidentfeature ORDER BY incident_id""",
            migrations.RunSQL.noop,
        ),
    ]
