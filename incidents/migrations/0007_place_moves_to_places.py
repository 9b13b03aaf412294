"""Place now lives in the places app (same table, same rows): repoint the foreign keys in Django's state, drop the
old model state, and move the content types so editors' place permissions (granted in 0005) carry over."""

import django.db.models.deletion
from django.db import migrations, models

MOVED_MODELS = ["place", "historicalplace"]


def _move(apps, source, target):
    """Relabel `source`'s content types as `target`'s; where `target` already has one (created by a post_migrate
    after a rollback), hand the groups' and users' permissions over to it instead."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    for model in MOVED_MODELS:
        old = ContentType.objects.filter(app_label=source, model=model).first()
        if old is None:
            continue
        new = ContentType.objects.filter(app_label=target, model=model).first()
        if new is None:
            old.app_label = target
            old.save()
            continue
        for permission in Permission.objects.filter(content_type=old):
            replacement = Permission.objects.filter(content_type=new, codename=permission.codename).first()
            if replacement is not None:
                for group in permission.group_set.all():
                    group.permissions.add(replacement)
                for user in permission.user_set.all():
                    user.user_permissions.add(replacement)
        old.delete()


def move_content_types(apps, schema_editor):
    _move(apps, "incidents", "places")


def move_content_types_back(apps, schema_editor):
    _move(apps, "places", "incidents")


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("incidents", "0006_incident_newest_first_index"),
        ("places", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="historicalincident",
                    name="place",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        help_text="The gazetteer place the incident is coded to.",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="places.place",
                        verbose_name="gazetteer place",
                    ),
                ),
                migrations.AlterField(
                    model_name="incident",
                    name="place",
                    field=models.ForeignKey(
                        blank=True,
                        help_text="The gazetteer place the incident is coded to.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="incidents",
                        to="places.place",
                        verbose_name="gazetteer place",
                    ),
                ),
                migrations.DeleteModel(name="HistoricalPlace"),
                migrations.DeleteModel(name="Place"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
