"""Editors write drafts; Publishers also publish, unpublish and retract."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITOR_PERMISSIONS = [
    "view_incident",
    "add_incident",
    "change_incident",
    "view_incidentactor",
    "add_incidentactor",
    "change_incidentactor",
    "delete_incidentactor",
    "view_incidentsource",
    "add_incidentsource",
    "change_incidentsource",
    "delete_incidentsource",
    "view_actor",
    "add_actor",
    "change_actor",
    "view_source",
    "add_source",
    "change_source",
    "view_eventtype",
    "view_subeventtype",
]
PUBLISHER_PERMISSIONS = [
    *EDITOR_PERMISSIONS,
    "publish_incident",
    "retract_incident",
    "change_eventtype",
    "add_eventtype",
    "change_subeventtype",
    "add_subeventtype",
]


def add_groups(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in [("Editors", EDITOR_PERMISSIONS), ("Publishers", PUBLISHER_PERMISSIONS)]:
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(content_type__app_label="incidents", codename__in=codenames))


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Editors", "Publishers"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0002_acled_taxonomy"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(add_groups, remove_groups)]
