# The text filter `q` reads these instead of scanning every incident in view (issue 11); pg_trgm is from 0005.

import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0014_map_cells"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="incident",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.search.SearchVector(
                    "title", "description", "place_reported", "place_name", config="simple"
                ),
                name="incident_text_words",
            ),
        ),
        migrations.AddIndex(
            model_name="incident",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper(
                        django.db.models.functions.text.Concat(
                            "title",
                            models.Value("\x1f"),
                            "place_reported",
                            models.Value("\x1f"),
                            "description",
                            output_field=models.TextField(),
                        )
                    ),
                    name="gin_trgm_ops",
                ),
                name="incident_text_trigrams",
            ),
        ),
    ]
