"""ACLED's six event types and their sub-event types, as editable rows."""

from django.db import migrations
from django.utils.text import slugify
from django.utils.translation import gettext_noop as _

# Names are marked for translation so the public pages can show them in Arabic.
TAXONOMY = [
    (
        _("Battles"),
        "#c0392b",
        [_("Armed clash"), _("Government regains territory"), _("Non-state actor overtakes territory")],
    ),
    (
        _("Explosions/Remote violence"),
        "#d35400",
        [
            _("Chemical weapon"),
            _("Air/drone strike"),
            _("Suicide bomb"),
            _("Shelling/artillery/missile attack"),
            _("Remote explosive/landmine/IED"),
            _("Grenade"),
        ],
    ),
    (
        _("Violence against civilians"),
        "#8e44ad",
        [_("Sexual violence"), _("Attack"), _("Abduction/forced disappearance")],
    ),
    (
        _("Protests"),
        "#2980b9",
        [_("Peaceful protest"), _("Protest with intervention"), _("Excessive force against protesters")],
    ),
    (_("Riots"), "#16a085", [_("Violent demonstration"), _("Mob violence")]),
    (
        _("Strategic developments"),
        "#7f8c8d",
        [
            _("Agreement"),
            _("Arrests"),
            _("Change to group/activity"),
            _("Disrupted weapons use"),
            _("Headquarters or base established"),
            _("Looting/property destruction"),
            _("Non-violent transfer of territory"),
            _("Other"),
        ],
    ),
]


def slug(name):
    return slugify(name.replace("/", " "))  # "Explosions/Remote violence" → explosions-remote-violence


def add_taxonomy(apps, schema_editor):
    EventType = apps.get_model("incidents", "EventType")
    SubEventType = apps.get_model("incidents", "SubEventType")
    for order, (name, color, sub_types) in enumerate(TAXONOMY, start=1):
        event_type, _created = EventType.objects.get_or_create(
            slug=slug(name), defaults={"name": name, "color": color, "order": order}
        )
        for sub_order, sub_name in enumerate(sub_types, start=1):
            SubEventType.objects.get_or_create(
                slug=f"{event_type.slug}-{slug(sub_name)}",
                defaults={"event_type": event_type, "name": sub_name, "order": sub_order},
            )


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]

    operations = [migrations.RunPython(add_taxonomy, migrations.RunPython.noop)]
