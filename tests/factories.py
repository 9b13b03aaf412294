import datetime

import factory
from django.contrib.auth.models import Group, User
from django.contrib.gis.geos import Point

from incidents.models import Actor, ActorKind, EventType, Incident, IncidentActor, IncidentSource, Side, Source, Status


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw")
    is_staff = True

    @factory.post_generation
    def group(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


class ActorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Actor

    name = factory.Sequence(lambda n: f"Armed group {n}")
    kind = ActorKind.REBEL_GROUP


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    publisher = "Test Wire"
    title = factory.Sequence(lambda n: f"Report number {n}")
    url = factory.Sequence(lambda n: f"https://news.example.org/report/{n}")
    published_on = datetime.date(2019, 4, 20)


class IncidentFactory(factory.django.DjangoModelFactory):
    """A draft by default; `IncidentFactory(published=True)` cites a source and publishes it."""

    class Meta:
        model = Incident
        skip_postgeneration_save = True

    class Params:
        published = factory.Trait(status=Status.PUBLISHED)

    title = factory.Sequence(lambda n: f"Incident {n}")
    start_date = datetime.date(2019, 4, 18)
    location = factory.LazyFunction(lambda: Point(38.2673, 34.5560, srid=4326))
    place_reported = "north of Palmyra"
    admin1 = "Homs"
    country = "SY"
    event_type = factory.LazyFunction(lambda: EventType.objects.get(name="Battles"))
    status = Status.DRAFT

    @factory.post_generation
    def sources(self, create, extracted, **kwargs):
        if not create:
            return
        for source in extracted or ([SourceFactory()] if self.status == Status.PUBLISHED else []):
            IncidentSource.objects.create(incident=self, source=source)

    @factory.post_generation
    def actors(self, create, extracted, **kwargs):
        for actor, side in extracted or []:
            IncidentActor.objects.create(incident=self, actor=actor, side=side or Side.A)


def incidents_bulk_create(rows, *, published=True, **fields):
    """Many incidents in three queries (bulk inserts), for tests that need thousands: `rows` are dicts of fields
    per incident (location, start_date, …) over the shared `fields`. Published ones all cite one source, which is
    what the database's "a published incident cites a source" trigger asks for."""
    defaults = {
        "start_date": datetime.date(2019, 4, 18),
        "place_reported": "a bulk-made place",
        "country": "SY",
        "event_type": EventType.objects.get(slug="battles"),
        "status": Status.PUBLISHED if published else Status.DRAFT,
    }
    incidents = [
        Incident(**{**defaults, "title": f"Bulk incident {number}", **fields, **row}) for number, row in enumerate(rows)
    ]
    for incident in incidents:
        incident.end_date = incident.end_date or incident.start_date  # bulk_create skips save(), which sets it
    Incident.objects.bulk_create(incidents)
    if published:
        source = SourceFactory()
        IncidentSource.objects.bulk_create(IncidentSource(incident=incident, source=source) for incident in incidents)
    return incidents
