"""Regions (governorates) and districts as records with their boundaries, loaded here from the committed Who's On
First extract so that every database (tests included) can place a point in its region from the first migration on;
`manage.py load_gazetteer` refreshes them when the extract changes."""

import django.contrib.gis.db.models.fields
import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.db.models.deletion
import django_countries.fields
from django.db import migrations, models


def load_admin_areas(apps, schema_editor):
    from places.loaders import admin_areas_load

    admin_areas_load(
        region_model=apps.get_model("places", "Region"), district_model=apps.get_model("places", "District")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("places", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalplace",
            name="wof_id",
            field=models.BigIntegerField(blank=True, db_index=True, null=True, verbose_name="Who's On First id"),
        ),
        migrations.AddField(
            model_name="place",
            name="wof_id",
            field=models.BigIntegerField(blank=True, null=True, unique=True, verbose_name="Who's On First id"),
        ),
        migrations.CreateModel(
            name="Region",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("wof_id", models.BigIntegerField(unique=True, verbose_name="Who's On First id")),
                ("geonames_id", models.BigIntegerField(blank=True, null=True, verbose_name="GeoNames id")),
                ("country", django_countries.fields.CountryField(max_length=2, verbose_name="country")),
                ("name", models.CharField(max_length=100, verbose_name="name (English)")),
                ("name_ar", models.CharField(blank=True, max_length=100, verbose_name="name (Arabic)")),
                (
                    "names",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(max_length=200),
                        blank=True,
                        default=list,
                        help_text="Every spelling the sources use: ACLED, UCDP, GeoNames, Who's On First, Arabic.",
                        size=None,
                        verbose_name="spellings",
                    ),
                ),
                (
                    "name_keys",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(max_length=200), default=list, editable=False, size=None
                    ),
                ),
                ("boundary", django.contrib.gis.db.models.fields.MultiPolygonField(srid=4326, verbose_name="boundary")),
            ],
            options={
                "verbose_name": "region (governorate)",
                "verbose_name_plural": "regions (governorates)",
                "ordering": ["country", "name"],
                "abstract": False,
                "indexes": [django.contrib.postgres.indexes.GinIndex(fields=["name_keys"], name="region_name_keys")],
                "constraints": [models.UniqueConstraint(fields=("country", "name"), name="region_unique_name")],
            },
        ),
        migrations.CreateModel(
            name="District",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("wof_id", models.BigIntegerField(unique=True, verbose_name="Who's On First id")),
                ("geonames_id", models.BigIntegerField(blank=True, null=True, verbose_name="GeoNames id")),
                ("country", django_countries.fields.CountryField(max_length=2, verbose_name="country")),
                ("name", models.CharField(max_length=100, verbose_name="name (English)")),
                ("name_ar", models.CharField(blank=True, max_length=100, verbose_name="name (Arabic)")),
                (
                    "names",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(max_length=200),
                        blank=True,
                        default=list,
                        help_text="Every spelling the sources use: ACLED, UCDP, GeoNames, Who's On First, Arabic.",
                        size=None,
                        verbose_name="spellings",
                    ),
                ),
                (
                    "name_keys",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(max_length=200), default=list, editable=False, size=None
                    ),
                ),
                ("boundary", django.contrib.gis.db.models.fields.MultiPolygonField(srid=4326, verbose_name="boundary")),
                (
                    "region",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="districts",
                        to="places.region",
                        verbose_name="region",
                    ),
                ),
            ],
            options={
                "verbose_name": "district",
                "verbose_name_plural": "districts",
                "ordering": ["country", "name"],
                "abstract": False,
                "indexes": [django.contrib.postgres.indexes.GinIndex(fields=["name_keys"], name="district_name_keys")],
            },
        ),
        migrations.RunPython(load_admin_areas, migrations.RunPython.noop),
    ]
