# `q` on a common word (issue 11): the words as a stored column, so that rechecking tens of thousands of matching rows
# reads a vector instead of parsing the text again; its GIN index replaces the expression index of 0015. Adding the
# column rewrites the table (25 s at 1 M incidents).

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0015_text_search_indexes"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="incident",
            name="incident_text_words",
        ),
        migrations.AddField(
            model_name="incident",
            name="search_words",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.contrib.postgres.search.SearchVector(
                    "title", "description", "place_reported", "place_name", config="simple"
                ),
                output_field=django.contrib.postgres.search.SearchVectorField(),
                verbose_name="words searched by the text filter",
            ),
        ),
        migrations.AddIndex(
            model_name="incident",
            index=django.contrib.postgres.indexes.GinIndex(fields=["search_words"], name="incident_search_words"),
        ),
    ]
