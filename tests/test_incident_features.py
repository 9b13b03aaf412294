"""The feature text the database keeps per published incident (models.IncidentFeature) follows every write that
changes what a feature shows, so the API pages, OGC items and the full download never serve a stale one."""

import datetime
import json
import random

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse

from incidents import services
from incidents.models import (
    Actor,
    EventType,
    Incident,
    IncidentActor,
    IncidentFeature,
    IncidentSource,
    Side,
    Source,
    Status,
    SubEventType,
)
from tests.factories import ActorFactory, IncidentFactory, SourceFactory

pytestmark = pytest.mark.django_db

URL = reverse("incidents:api-geojson")


def served(client, **params):
    """{id: properties} of every feature the GeoJSON API serves (all pages)."""
    body = json.loads(b"".join(client.get(URL, {"limit": 1000, **params}).streaming_content))
    return {feature["id"]: feature["properties"] for feature in body["features"]}


def kept():
    return dict(IncidentFeature.objects.values_list("incident_id", "feature"))


def rebuilt():
    """The features built from scratch by the triggers' own rebuild, in a savepoint that is rolled back."""
    with transaction.atomic():
        sid = transaction.savepoint()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM incidents_incidentfeature")
            cursor.execute("SELECT conflictmap_incident_features_rebuild(ARRAY(SELECT id FROM incidents_incident))")
        features = kept()
        transaction.savepoint_rollback(sid)
    return features


def test_renaming_an_actor_a_source_or_a_type_shows_in_the_next_page(client, export_incidents):
    _aleppo, palmyra, _mosul = export_incidents
    Actor.objects.filter(name="Islamic State").update(name="Islamic State (ISIS)")
    Source.objects.filter(publisher="DW").update(title="IS kills 35 soldiers near Palmyra")
    EventType.objects.filter(slug="battles").update(name="Armed battles")
    SubEventType.objects.filter(slug="battles-armed-clash").update(name="Clash")

    properties = served(client)[palmyra.pk]
    assert properties["actors"][0]["name"] == "Islamic State (ISIS)"
    assert properties["sources"][0]["title"] == "IS kills 35 soldiers near Palmyra"
    assert (properties["event_type_name"], properties["sub_event_type_name"]) == ("Armed battles", "Clash")
    assert kept() == rebuilt()


def test_links_added_and_removed_show_in_the_feature(client, export_incidents):
    aleppo, palmyra, _mosul = export_incidents
    newcomer = ActorFactory(name="Hayat Tahrir al-Sham")
    IncidentActor.objects.create(incident=aleppo, actor=newcomer, side=Side.B)
    IncidentSource.objects.filter(incident=palmyra, source__publisher="SANA").delete()

    features = served(client)
    assert "Hayat Tahrir al-Sham" in [actor["name"] for actor in features[aleppo.pk]["actors"]]
    assert [source["publisher"] for source in features[palmyra.pk]["sources"]] == ["DW"]
    assert kept() == rebuilt()


def test_only_published_incidents_have_a_feature(client, export_incidents):
    aleppo, palmyra, mosul = export_incidents
    assert set(kept()) == {aleppo.pk, palmyra.pk, mosul.pk}

    Incident.objects.filter(pk=aleppo.pk).update(status=Status.DRAFT)
    mosul.delete()
    assert set(kept()) == {palmyra.pk}
    assert set(served(client)) == {palmyra.pk}

    Incident.objects.filter(pk=aleppo.pk).update(status=Status.PUBLISHED, title="Shelling of Aleppo, revised")
    assert served(client)[aleppo.pk]["title"] == "Shelling of Aleppo, revised"


def test_any_sequence_of_writes_leaves_the_features_a_rebuild_would_make(export_incidents):
    """Random edits, link changes, renames, publishing and deletes, compared after each with a rebuild."""
    rng = random.Random(11)
    actors = list(Actor.objects.all()) + [ActorFactory() for _ in range(3)]
    sources = list(Source.objects.all()) + [SourceFactory() for _ in range(3)]
    with transaction.atomic():
        incidents = list(export_incidents) + [
            IncidentFactory(published=True, title=f"Random {n}", start_date=datetime.date(2020, 1, n + 1))
            for n in range(6)
        ]

    def edit():
        pk = rng.choice(incidents).pk
        toll = rng.randint(0, 50)
        Incident.objects.filter(pk=pk).update(
            title=f"Edited {rng.random():.6f}", fatalities_low=toll, fatalities_best=toll, fatalities_high=toll
        )

    def link_actor():
        incident = rng.choice(incidents)
        # An actor the incident names already (a merge moves links too) is left as it is.
        IncidentActor.objects.get_or_create(
            incident=incident, actor=rng.choice(actors), defaults={"side": rng.choice([Side.A, Side.B])}
        )

    def unlink_actor():
        link = IncidentActor.objects.order_by("?").first()
        if link:
            link.delete()

    def cite():
        IncidentSource.objects.get_or_create(
            incident=rng.choice(incidents), source=rng.choice(sources), defaults={"original_reporter": "Local team"}
        )

    def rename():
        actor = rng.choice(actors)
        Actor.objects.filter(pk=actor.pk).update(name=f"Renamed {actor.pk} {rng.random():.6f}")
        Source.objects.filter(pk=rng.choice(sources).pk).update(url=f"https://example.org/{rng.random():.6f}")

    def toggle():
        pk = rng.choice(incidents).pk
        status = rng.choice([Status.DRAFT, Status.PUBLISHED, Status.RETRACTED])
        Incident.objects.filter(pk=pk).update(status=status)

    def delete():
        if len(incidents) > 4:
            incident = incidents.pop(rng.randrange(len(incidents)))
            Incident.objects.filter(pk=incident.pk).delete()

    def merge():  # the duplicate's links move to the kept incident, the duplicate is retracted
        kept, duplicate = rng.sample(incidents, 2)
        try:
            services.incident_merge(kept=kept, duplicate=duplicate, user=None)
        except ValidationError:
            pass  # refused (already retracted; a published one into a draft): nothing written

    for _ in range(40):
        with transaction.atomic():
            rng.choice([edit, link_actor, unlink_actor, cite, rename, toggle, delete, merge])()
        assert kept() == rebuilt()
    published = set(Incident.objects.filter(status=Status.PUBLISHED).values_list("pk", flat=True))
    assert set(kept()) == published


def test_imports_and_their_revert_leave_the_features_a_rebuild_would_make(client, db):
    """An import defers the triggers and rebuilds its incidents once; the newer file updates some events and
    retracts the missing ones; a revert puts the first state back."""
    from incidents.importing import import_batch_create, import_batch_revert, import_events
    from tests.test_import import ACLED, ACLED_NEWER

    def run(path, **options):
        batch = import_batch_create(path=path, user=None, requested_status=Status.PUBLISHED, **options)
        return import_events(batch=batch, path=path)

    first = run(ACLED)
    assert first.status == "done" and first.created > 0
    published = set(Incident.objects.filter(status=Status.PUBLISHED).values_list("pk", flat=True))
    assert set(kept()) == published == set(served(client))
    assert kept() == rebuilt()

    newer = run(ACLED_NEWER, retract_missing=True)
    assert newer.updated > 0 and newer.retracted > 0
    assert set(kept()) == set(Incident.objects.filter(status=Status.PUBLISHED).values_list("pk", flat=True))
    assert kept() == rebuilt()

    import_batch_revert(batch=newer, user=None)
    assert set(kept()) == published
    assert kept() == rebuilt()
