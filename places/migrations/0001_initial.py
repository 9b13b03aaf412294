"""Place moves from incidents to this app. Its table (incidents_place) and its history table keep their names and
rows, so this migration only tells Django's state; incidents/0007 drops the old state and repoints the foreign keys.
"""

import django.contrib.gis.db.models.fields
import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.db.models.deletion
import django_countries.fields
import simple_history.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        # The table is created there (on a fresh database) before this state starts to describe it.
        ("incidents", "0005_gazetteer_place"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="HistoricalPlace",
                    fields=[
                        ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                        ("name", models.CharField(max_length=200, verbose_name="name")),
                        ("ascii_name", models.CharField(blank=True, max_length=200, verbose_name="ASCII name")),
                        (
                            "alternate_names",
                            django.contrib.postgres.fields.ArrayField(
                                base_field=models.CharField(max_length=200),
                                blank=True,
                                default=list,
                                help_text="Other spellings, comma-separated: transliterations and Arabic (e.g. Tadmur, Tadmor, تدمر).",
                                size=None,
                                verbose_name="alternate names",
                            ),
                        ),
                        ("point", django.contrib.gis.db.models.fields.PointField(srid=4326, verbose_name="point")),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("populated", "Populated place"),
                                    ("admin1", "Admin region (governorate / province)"),
                                    ("natural", "Natural feature"),
                                    ("other", "Other"),
                                ],
                                default="populated",
                                max_length=20,
                                verbose_name="kind",
                            ),
                        ),
                        (
                            "admin1",
                            models.CharField(
                                blank=True, max_length=100, verbose_name="admin1 (governorate / province)"
                            ),
                        ),
                        ("admin2", models.CharField(blank=True, max_length=100, verbose_name="admin2 (district)")),
                        ("country", django_countries.fields.CountryField(max_length=2, verbose_name="country")),
                        ("population", models.PositiveBigIntegerField(default=0, verbose_name="population")),
                        (
                            "source",
                            models.CharField(
                                blank=True,
                                help_text="Where the entry comes from, e.g. geonames:170794; empty for places added by an editor.",
                                max_length=100,
                                verbose_name="source",
                            ),
                        ),
                        (
                            "name_keys",
                            django.contrib.postgres.fields.ArrayField(
                                base_field=models.CharField(max_length=200), default=list, editable=False, size=None
                            ),
                        ),
                        (
                            "skeleton_keys",
                            django.contrib.postgres.fields.ArrayField(
                                base_field=models.CharField(max_length=200), default=list, editable=False, size=None
                            ),
                        ),
                        ("search_text", models.TextField(default="", editable=False)),
                        ("history_id", models.AutoField(primary_key=True, serialize=False)),
                        ("history_date", models.DateTimeField(db_index=True)),
                        ("history_change_reason", models.CharField(max_length=100, null=True)),
                        (
                            "history_type",
                            models.CharField(
                                choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                            ),
                        ),
                        (
                            "history_user",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "historical place",
                        "verbose_name_plural": "historical places",
                        "db_table": "incidents_historicalplace",
                        "ordering": ("-history_date", "-history_id"),
                        "get_latest_by": ("history_date", "history_id"),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name="Place",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=200, verbose_name="name")),
                        ("ascii_name", models.CharField(blank=True, max_length=200, verbose_name="ASCII name")),
                        (
                            "alternate_names",
                            django.contrib.postgres.fields.ArrayField(
                                base_field=models.CharField(max_length=200),
                                blank=True,
                                default=list,
                                help_text="Other spellings, comma-separated: transliterations and Arabic (e.g. Tadmur, Tadmor, تدمر).",
                                size=None,
                                verbose_name="alternate names",
                            ),
                        ),
                        ("point", django.contrib.gis.db.models.fields.PointField(srid=4326, verbose_name="point")),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("populated", "Populated place"),
                                    ("admin1", "Admin region (governorate / province)"),
                                    ("natural", "Natural feature"),
                                    ("other", "Other"),
                                ],
                                default="populated",
                                max_length=20,
                                verbose_name="kind",
                            ),
                        ),
                        (
                            "admin1",
                            models.CharField(
                                blank=True, max_length=100, verbose_name="admin1 (governorate / province)"
                            ),
                        ),
                        ("admin2", models.CharField(blank=True, max_length=100, verbose_name="admin2 (district)")),
                        ("country", django_countries.fields.CountryField(max_length=2, verbose_name="country")),
                        ("population", models.PositiveBigIntegerField(default=0, verbose_name="population")),
                        (
                            "source",
                            models.CharField(
                                blank=True,
                                help_text="Where the entry comes from, e.g. geonames:170794; empty for places added by an editor.",
                                max_length=100,
                                verbose_name="source",
                            ),
                        ),
                        (
                            "name_keys",
                            django.contrib.postgres.fields.ArrayField(
                                base_field=models.CharField(max_length=200), default=list, editable=False, size=None
                            ),
                        ),
                        (
                            "skeleton_keys",
                            django.contrib.postgres.fields.ArrayField(
                                base_field=models.CharField(max_length=200), default=list, editable=False, size=None
                            ),
                        ),
                        ("search_text", models.TextField(default="", editable=False)),
                    ],
                    options={
                        "db_table": "incidents_place",
                        "verbose_name": "place",
                        "verbose_name_plural": "places",
                        "ordering": ["name"],
                        "indexes": [
                            django.contrib.postgres.indexes.GinIndex(fields=["name_keys"], name="place_name_keys"),
                            django.contrib.postgres.indexes.GinIndex(
                                fields=["skeleton_keys"], name="place_skeleton_keys"
                            ),
                            django.contrib.postgres.indexes.GinIndex(
                                django.contrib.postgres.indexes.OpClass("search_text", name="gin_trgm_ops"),
                                name="place_search_trgm",
                            ),
                            models.Index(fields=["country", "kind"], name="place_country_kind"),
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("source", ""), _negated=True),
                                fields=("source",),
                                name="place_unique_source",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
