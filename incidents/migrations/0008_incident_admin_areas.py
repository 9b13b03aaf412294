"""Existing incidents' admin1 / admin2 become the governorate and district names of places.Region / District.

With a point: the region and district whose polygons cover it. Without one (or a point in no polygon): a typed
admin1 that is a known spelling of a region ("Deir-ez-Zor", "Dayr az Zawr governorate") becomes its name. Anything
else is kept exactly as typed rather than blanked, so no editor's text is lost; an editor saving the incident with
a point later brings it into the vocabulary.
"""

from django.db import migrations

from places.names import name_key

REGION_ONLY = 3  # LocationPrecision.REGION


def _named(queryset, text):
    key = name_key(text)
    found = list(queryset.filter(name_keys__contains=[key])[:2]) if key else []
    return found[0] if len(found) == 1 else None


def incidents_admin_areas(apps, schema_editor):
    Incident = apps.get_model("incidents", "Incident")
    Region = apps.get_model("places", "Region")
    District = apps.get_model("places", "District")
    for incident in Incident.objects.only(
        "pk", "location", "location_precision", "admin1", "admin2", "country"
    ).iterator():
        region = district = None
        if incident.location is not None:
            region = Region.objects.filter(boundary__covers=incident.location).first()
            # A region-only event sits on its region's centre: the district there is not the event's.
            if region is not None and incident.location_precision != REGION_ONLY:
                district = District.objects.filter(region=region, boundary__covers=incident.location).first()
        country = str(incident.country or "")
        if region is None and incident.admin1:
            region = _named(
                Region.objects.filter(country=country) if country else Region.objects.all(), incident.admin1
            )
        if district is None and region is not None and incident.admin2:
            district = _named(District.objects.filter(region=region), incident.admin2)
        admin1 = region.name if region is not None else incident.admin1
        admin2 = district.name if district is not None else incident.admin2
        if (admin1, admin2) != (incident.admin1, incident.admin2):
            # update(), not save(): the record did not change in substance, so no new history row or updated_at.
            Incident.objects.filter(pk=incident.pk).update(admin1=admin1, admin2=admin2)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0007_place_moves_to_places"),
        ("places", "0002_regions"),
    ]

    operations = [migrations.RunPython(incidents_admin_areas, migrations.RunPython.noop)]
