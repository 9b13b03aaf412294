"""The gazetteer: Place (GeoNames and editor-added places) and the place an incident is coded to.

pg_trgm is created here, before the trigram index, so a fresh test database gets it too.
"""

import django.contrib.gis.db.models.fields
import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.db.models.deletion
import django_countries.fields
import simple_history.models
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

PLACE_PERMISSIONS = ["view_place", "add_place", "change_place"]


def grant_place_permissions(apps, schema_editor):
    # Editors add places the gazetteer lacks (Baghouz, al-Tanf) and correct the ones it has.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(content_type__app_label="incidents", codename__in=PLACE_PERMISSIONS)
    for group in Group.objects.filter(name__in=["Editors", "Publishers"]):
        group.permissions.add(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0004_published_incident_has_source"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        TrigramExtension(),
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
                    models.CharField(blank=True, max_length=100, verbose_name="admin1 (governorate / province)"),
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
                    models.CharField(choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1),
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
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="Place",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
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
                    models.CharField(blank=True, max_length=100, verbose_name="admin1 (governorate / province)"),
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
                "verbose_name": "place",
                "verbose_name_plural": "places",
                "ordering": ["name"],
                "indexes": [
                    django.contrib.postgres.indexes.GinIndex(fields=["name_keys"], name="place_name_keys"),
                    django.contrib.postgres.indexes.GinIndex(fields=["skeleton_keys"], name="place_skeleton_keys"),
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
        migrations.AddField(
            model_name="historicalincident",
            name="place",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="The gazetteer place the incident is coded to.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="incidents.place",
                verbose_name="gazetteer place",
            ),
        ),
        migrations.AddField(
            model_name="incident",
            name="place",
            field=models.ForeignKey(
                blank=True,
                help_text="The gazetteer place the incident is coded to.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="incidents",
                to="incidents.place",
                verbose_name="gazetteer place",
            ),
        ),
        migrations.RunPython(grant_place_permissions, migrations.RunPython.noop),
    ]
