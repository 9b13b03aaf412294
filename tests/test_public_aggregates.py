"""The database keeps the public data version and the pre-aggregated counts current on every write.

ETags come from the data version: a write that only touches drafts leaves every public ETag as it was, a write to
anything a published incident shows changes it. The aggregates (timeline cells, days, regions, actors) always
equal a live GROUP BY over the published incidents, whatever the sequence of writes, and never count a draft.
"""

import datetime
import random

import pytest
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse

from incidents import selectors, services
from incidents.models import (
    EventType,
    Incident,
    IncidentActor,
    IncidentSource,
    PublishedActor,
    PublishedRegion,
    Side,
    Status,
    TimelineCell,
    TimelineDay,
)
from tests.factories import ActorFactory, IncidentFactory, SourceFactory
from tests.random_writes import random_write

pytestmark = pytest.mark.django_db

PUBLIC_URLS = [
    reverse("incidents:api-geojson"),
    reverse("incidents:api-geojson") + "?download=1",
    reverse("incidents:api-csv"),
    reverse("incidents:api-timeline"),
    reverse("incidents:ogc-items", args=["incidents"]),
    reverse("incidents:ogc-collections"),
]


def etags(client):
    return {url: client.get(url)["ETag"] for url in PUBLIC_URLS}


@pytest.fixture
def shown():
    """A published incident with an actor and a source, and a draft with its own actor and source."""
    public_actor, draft_actor = ActorFactory(name="Shown army"), ActorFactory(name="Draft-only militia")
    public_source, draft_source = SourceFactory(), SourceFactory()
    published = IncidentFactory(published=True, actors=[(public_actor, Side.A)], sources=[public_source])
    draft = IncidentFactory(actors=[(draft_actor, Side.B)], sources=[draft_source])
    return {
        "published": published,
        "draft": draft,
        "public_actor": public_actor,
        "draft_actor": draft_actor,
        "public_source": public_source,
        "draft_source": draft_source,
    }


def test_draft_only_writes_leave_every_etag_unchanged(client, shown):
    before = etags(client)
    version = selectors.public_data_version()

    shown["draft"].title = "Renamed draft"
    shown["draft"].save()
    IncidentFactory(title="Another draft", actors=[(shown["draft_actor"], Side.A)])
    shown["draft_actor"].name = "Renamed draft-only militia"
    shown["draft_actor"].save()
    shown["draft_source"].title = "Corrected draft source"
    shown["draft_source"].save()
    IncidentSource.objects.create(incident=shown["draft"], source=SourceFactory())
    IncidentActor.objects.filter(incident=shown["draft"]).delete()
    Incident.objects.filter(pk=shown["draft"].pk).delete()

    assert selectors.public_data_version() == version
    assert etags(client) == before


@pytest.mark.parametrize(
    "write",
    [
        "edit published incident",
        "rename shown actor",
        "correct shown source",
        "cite a source on the published incident",
        "drop an actor from the published incident",
        "rename the shown event type",
        "publish the draft",
        "retract the published incident",
        "delete the published incident",
    ],
)
def test_public_writes_change_every_etag(client, shown, write):
    before = etags(client)
    _, changed_before = selectors.public_data_version()
    published = shown["published"]
    if write == "edit published incident":
        published.title = "Corrected title"
        published.save()
    elif write == "rename shown actor":
        shown["public_actor"].name = "Shown army (renamed)"
        shown["public_actor"].save()
    elif write == "correct shown source":
        shown["public_source"].title = "Corrected"
        shown["public_source"].save()
    elif write == "cite a source on the published incident":
        IncidentSource.objects.create(incident=published, source=shown["draft_source"])
    elif write == "drop an actor from the published incident":
        IncidentActor.objects.filter(incident=published).delete()
    elif write == "rename the shown event type":
        EventType.objects.filter(pk=published.event_type_id).update(name="Battles (renamed)")
    elif write == "publish the draft":
        services.incident_publish(incident=shown["draft"])
    elif write == "retract the published incident":
        services.incident_retract(incident=published, reason="Wrong place")
    elif write == "delete the published incident":
        published.delete()
    after = etags(client)
    assert all(after[url] != before[url] for url in PUBLIC_URLS)
    assert selectors.public_data_version()[1] >= changed_before


def test_a_conditional_get_is_answered_304_until_a_public_write(client, shown):
    url = reverse("incidents:api-timeline")
    first = client.get(url)
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    shown["draft"].fatalities_best = 99
    shown["draft"].save()
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    shown["published"].fatalities_best = 7
    shown["published"].save()
    fresh = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert fresh.status_code == 200
    assert fresh.json()["total_fatalities"] == 7


def live_counts():
    """The aggregates as a live GROUP BY over the published incidents computes them."""
    published = Incident.objects.published().order_by()
    keys = ("start_date", "end_date", "event_type_id", "country", "admin1")
    cells = {
        tuple(row[key] for key in keys): (row["n"], row["f"])
        for row in published.values(*keys).annotate(n=Count("id"), f=Coalesce(Sum("fatalities_best"), 0))
    }
    days = {}
    regions = {}
    for key, (n, f) in cells.items():
        day = key[:3]
        days[day] = (days.get(day, (0, 0))[0] + n, days.get(day, (0, 0))[1] + f)
        regions[key[3:]] = regions.get(key[3:], 0) + n
    actors = dict(
        IncidentActor.objects.filter(incident__status=Status.PUBLISHED)
        .values("actor_id")
        .annotate(n=Count("id"))
        .values_list("actor_id", "n")
    )
    return cells, days, regions, actors


def stored_counts():
    keys = ("start_date", "end_date", "event_type_id", "country", "admin1")
    cells = {
        tuple(row[key] for key in keys): (row["incidents"], row["fatalities"])
        for row in TimelineCell.objects.values(*keys, "incidents", "fatalities")
    }
    days = {
        (row["start_date"], row["end_date"], row["event_type_id"]): (row["incidents"], row["fatalities"])
        for row in TimelineDay.objects.values("start_date", "end_date", "event_type_id", "incidents", "fatalities")
    }
    regions = {(row.country, row.admin1): row.incidents for row in PublishedRegion.objects.all()}
    actors = dict(PublishedActor.objects.values_list("actor_id", "incidents"))
    return cells, days, regions, actors


def test_aggregates_equal_a_live_group_by_through_any_sequence_of_writes():
    rng = random.Random(11)
    types = list(EventType.objects.all())
    actors = [ActorFactory() for _ in range(4)]
    regions = [("SY", "Homs"), ("SY", "Aleppo"), ("IQ", "Nineveh"), ("IQ", "")]

    def random_fields():
        start = datetime.date(2016, 1, 1) + datetime.timedelta(days=rng.randint(0, 60))
        country, admin1 = rng.choice(regions)
        return {
            "start_date": start,
            "end_date": start + datetime.timedelta(days=rng.choice([0, 0, 2])),
            "event_type": rng.choice(types),
            "country": country,
            "admin1": admin1,
            "fatalities_best": rng.choice([None, 0, 4, 30]),
        }

    incidents = [
        IncidentFactory(
            published=rng.random() < 0.6,
            actors=[(actor, Side.A) for actor in rng.sample(actors, 2)],
            sources=[SourceFactory()],
            **random_fields(),
        )
        for _ in range(40)
    ]
    assert stored_counts() == live_counts()
    assert TimelineCell.objects.exists()

    for step in range(120):
        incident = rng.choice(incidents)
        incident.refresh_from_db()
        action = rng.choice(["edit", "publish", "unpublish", "retract", "actor", "delete", "bulk"])
        if action == "actor":
            actor = rng.choice(actors)
            roles = IncidentActor.objects.filter(incident=incident, actor=actor)
            if roles.exists():
                roles.delete()
            else:
                IncidentActor.objects.create(incident=incident, actor=actor, side=Side.B)
        else:
            random_write(action, incident, incidents, random_fields, admin1="Homs", country="SY")
        assert stored_counts() == live_counts(), f"after step {step} ({action})"


def test_drafts_and_retractions_are_in_no_aggregate_or_count(client):
    actor = ActorFactory(name="Only in drafts")
    IncidentFactory(admin1="Raqqa", country="SY", fatalities_best=40, actors=[(actor, Side.A)])
    IncidentFactory(
        status=Status.RETRACTED, retraction_reason="wrong", admin1="Anbar", country="IQ", actors=[(actor, Side.B)]
    )
    assert not TimelineCell.objects.exists()
    assert not TimelineDay.objects.exists()
    assert not PublishedRegion.objects.exists()
    assert not PublishedActor.objects.exists()

    timeline = client.get(reverse("incidents:api-timeline")).json()
    assert (timeline["total"], timeline["total_fatalities"], timeline["buckets"]) == (0, 0, [])
    page = client.get(reverse("incidents:ogc-items", args=["incidents"]))
    assert b'"numberMatched":0' in b"".join(page.streaming_content)
    home = client.get(reverse("incidents:home")).content.decode()
    assert "Raqqa" not in home
    assert "Anbar" not in home
    assert "Only in drafts" not in home


def test_timeline_from_the_aggregate_equals_the_live_count(client):
    """Filters the aggregate answers and filters it cannot give the same answer as counting the incidents."""
    rng = random.Random(5)
    types = list(EventType.objects.all())
    for _ in range(50):
        start = datetime.date(2018, 1, 1) + datetime.timedelta(days=rng.randint(0, 700))
        IncidentFactory(
            published=True,
            start_date=start,
            end_date=start + datetime.timedelta(days=rng.choice([0, 3])),
            event_type=rng.choice(types),
            country=rng.choice(["SY", "IQ"]),
            admin1=rng.choice(["Homs", "Aleppo", "Nineveh"]),
            fatalities_best=rng.choice([None, 2, 9]),
        )
    url = reverse("incidents:api-timeline")
    cases = [
        {},
        {"bucket": "day"},
        {"start": "2018-06-01", "end": "2019-02-03", "bucket": "week"},
        {"event_type": ["battles", "explosions-remote-violence"], "bucket": "month"},
        {"country": "IQ", "start": "2018-03-04"},
        {"admin1": "Homs,Aleppo", "bucket": "year"},
    ]
    for params in cases:
        body = client.get(url, params).json()
        filters = {name: value for name, value in params.items() if name != "bucket"}
        matching = selectors.incident_filter(params=filters).select_related("event_type")
        expected_counts, expected_fatalities = {}, {}
        for incident in matching:
            key = (bucket_start(incident.start_date, body["bucket"]).isoformat(), incident.event_type.slug)
            expected_counts[key] = expected_counts.get(key, 0) + 1
            expected_fatalities[key] = expected_fatalities.get(key, 0) + (incident.fatalities_best or 0)
        counts = {(entry["date"], slug): n for entry in body["buckets"] for slug, n in entry["counts"].items()}
        fatalities = {(entry["date"], slug): n for entry in body["buckets"] for slug, n in entry["fatalities"].items()}
        assert counts == expected_counts, params
        assert fatalities == expected_fatalities, params
        assert body["total"] == len(matching) > 0, params


def bucket_start(day, bucket):
    if bucket == "day":
        return day
    if bucket == "week":
        return day - datetime.timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)
