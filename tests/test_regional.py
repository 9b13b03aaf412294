"""The region view, the trends and the aggregated export: their counts are the point view's counts summed by region
and period (kept table or live), drafts never count, bad parameters get a 400 naming them."""

import csv
import datetime
import io
import random
from collections import Counter, defaultdict

import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse

from incidents.models import Actor, EventType, Incident, Side, Status, SubEventType
from incidents.regional import kept_read
from incidents.selectors import incident_filterset
from places.regions import admin_areas_at
from tests.factories import ActorFactory, IncidentFactory, SourceFactory
from tests.kept_recount import kept_tables_differing
from tests.random_writes import random_write
from tests.shared_rows import fresh_copy, rows_for_the_module

pytestmark = pytest.mark.django_db

REGIONS = reverse("incidents:api-regions")
TRENDS = reverse("incidents:api-trends")
AGGREGATED = reverse("incidents:api-aggregated")
# Points in five governorates (two Aleppo districts among them) and one at sea, with no region.
POINTS = [(37.16, 36.20), (37.40, 36.55), (36.72, 34.73), (38.27, 34.56), (40.14, 35.33), (43.13, 36.34), (35.2, 34.2)]


def located(lon, lat):
    areas = admin_areas_at(Point(lon, lat, srid=4326))
    return {"location": Point(lon, lat, srid=4326), "admin1": areas.admin1, "admin2": areas.admin2}


@pytest.fixture(scope="module")
def spread_once(django_db_setup, django_db_blocker):
    """60 published incidents over the points, months and types, with actors and tolls; and drafts and a retraction
    with large tolls in the same regions, which must count nowhere. Made once for the module (tests/shared_rows.py)."""
    yield from rows_for_the_module(django_db_blocker, make_spread)


@pytest.fixture
def spread(spread_once, db):
    return fresh_copy(spread_once)


def make_spread():
    rng = random.Random(5)
    types = list(EventType.objects.all())
    actors = [ActorFactory(name=f"Actor {number}") for number in range(7)]
    incidents = []
    for number in range(60):
        lon, lat = rng.choice(POINTS)
        start = datetime.date(2018, 11, 1) + datetime.timedelta(days=rng.randint(0, 150))
        event_type = rng.choice(types)
        best = rng.choice([None, 0, 2, 9])
        incidents.append(
            IncidentFactory(
                published=True,
                country="IQ" if lon > 42 else "SY",
                start_date=start,
                end_date=start + datetime.timedelta(days=rng.choice([0, 0, 20])),
                event_type=event_type,
                sub_event_type=SubEventType.objects.filter(event_type=event_type).order_by("?").first(),
                fatalities_low=None if best is None else max(0, best - 1),
                fatalities_best=best,
                fatalities_high=None if best is None or number % 3 else best + 5,
                actors=[(actor, rng.choice([Side.A, Side.B])) for actor in rng.sample(actors, rng.randint(0, 3))],
                **located(lon, lat),
            )
        )
    for lon, lat in POINTS[:3]:
        IncidentFactory(start_date=datetime.date(2019, 1, 10), fatalities_best=900, **located(lon, lat))
    IncidentFactory(
        status=Status.RETRACTED,
        retraction_reason="wrong",
        start_date=datetime.date(2019, 1, 10),
        fatalities_best=900,
        **located(*POINTS[0]),
    )
    return incidents


def point_feed_ids(client, query):
    """The ids of the markers the map's point feed draws for the whole world under the filters."""
    response = client.get(reverse("incidents:map-feed"), {"bbox": "-180,-89,180,89", "zoom": "18", **query})
    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "points"
    return [marker["id"] for marker in body["incidents"]]


def points_by_region(client, query, *, level):
    counts, fatalities = Counter(), Counter()
    for incident in Incident.objects.filter(pk__in=point_feed_ids(client, query)):
        key = "/".join([str(incident.country), incident.admin1, *([incident.admin2] if level == "admin2" else [])])
        counts[key] += 1
        fatalities[key] += incident.fatalities_best or 0
    return counts, fatalities


CASES = [
    {},  # kept, no dates
    {"start": "2018-12-01", "end": "2019-01-31"},  # kept, whole months
    {"start": "2018-12-13", "end": "2019-02-09"},  # kept, edge months counted live and taken back out
    {"start": "2019-01-05", "event_type": ["battles", "riots"], "country": "SY"},
    {"admin1": ["Aleppo", "Homs"], "precision": ["1"]},
    {"end": "2019-01-20", "actor": "ACTOR"},  # kept (RegionActorMonth), the edge month counted live
    {"actor": "ACTOR", "side": "a", "start": "2018-12-13"},  # kept (RegionActorMonth)
    {"actor": ["ACTOR", "ACTOR3"]},  # kept, less the incidents naming both, counted live
    {"actor": ["ACTOR", "ACTOR3", "ACTOR4"], "start": "2018-12-13", "end": "2019-02-09"},  # and the edge months
    {"actor": ["ACTOR", "ACTOR3", "ACTOR4"], "side": "b", "end": "2019-01-20"},  # on one side
    {"actor": "ACTOR", "precision": ["1", "2"]},  # live: no precision in the actor table
    {"fatalities_min": "2", "start": "2018-12-02"},  # live
    {"q": "Incident"},  # live
]


@pytest.fixture
def with_actor(spread):
    actors = {f"ACTOR{number}": str(Actor.objects.get(name=f"Actor {number}").pk) for number in (2, 3, 4)}
    actors["ACTOR"] = actors["ACTOR2"]

    def resolve(case):
        return {
            name: [actors.get(item, item) for item in value] if isinstance(value, list) else actors.get(value, value)
            for name, value in case.items()
        }

    return resolve


@pytest.mark.parametrize("level", ["admin1", "admin2"])
@pytest.mark.parametrize("case", CASES)
def test_region_counts_equal_the_point_feed_summed_by_region(settings, client, with_actor, case, level):
    settings.MAP_POINTS_MAX = 10_000
    query = with_actor(case)
    counts, fatalities = points_by_region(client, query, level=level)
    assert sum(counts.values()) > 0
    body = client.get(REGIONS, {**query, "level": level}).json()
    assert {row["key"]: row["incidents"] for row in body["regions"]} == dict(counts)
    assert {row["key"]: row["fatalities_best"] for row in body["regions"]} == dict(fatalities)
    assert body["total"] == sum(counts.values())
    for row in body["regions"]:
        assert row["fatalities_low"] <= row["fatalities_best"] <= row["fatalities_high"]


# (query, dimensions of the answer, the kept table that answers it): each table read, with its edge months.
KEPT_CASES = [
    ({"start": "2018-12-13", "end": "2019-02-09", "event_type": "battles", "period": "month"},
     ["month", "country", "admin1", "event_type", "sub_event_type"], "incidents_regionmonth"),
    ({"start": "2018-12-13", "end": "2019-02-09", "country": "SY", "period": "week"},
     ["week", "country", "admin1", "event_type", "sub_event_type"], "incidents_regionweek"),
]  # fmt: skip
WORLD = {"bbox": "-180,-90,180,90"}  # matches every incident, but only the live path answers it


@pytest.mark.parametrize("query, dimensions, table", KEPT_CASES)
def test_each_kept_table_is_read_and_agrees_with_the_live_count(client, spread, query, dimensions, table):
    assert kept_read(filters=incident_filterset(params=query), dimensions=dimensions).table.table == table
    assert kept_read(filters=incident_filterset(params={**query, **WORLD}), dimensions=dimensions) is None
    kept = client.get(AGGREGATED, query).json()["rows"]
    assert kept == client.get(AGGREGATED, {**query, **WORLD}).json()["rows"] and kept


@pytest.mark.parametrize(
    "query, kept",
    [
        ({"by": "actor"}, True),
        ({"by": "actor", "start": "2018-12-13", "admin1": "Aleppo"}, True),
        ({"by": "event_type", "actor": "ACTOR", "side": "a", "end": "2019-02-09"}, True),
        ({"by": "actor", "event_type": ["battles", "riots"], "country": "SY"}, True),
        ({"by": "event_type", "actor": ["ACTOR", "ACTOR3", "ACTOR4"], "start": "2018-12-13"}, True),
        # Grouped by actor, an actor filter's incidents count for every actor they name: live.
        ({"by": "actor", "actor": "ACTOR"}, False),
        ({"by": "actor", "precision": "1"}, False),
    ],
)
def test_actor_trends_are_read_from_the_actor_table_and_agree(client, with_actor, query, kept):
    query = with_actor(query)
    dimensions = ["month", query["by"]]
    read = kept_read(filters=incident_filterset(params=query), dimensions=dimensions)
    assert (read.table.table if read else None) == ("incidents_regionactormonth" if kept else None)
    answer = client.get(TRENDS, {**query, "top": "20"}).json()
    assert answer == client.get(TRENDS, {**query, **WORLD, "top": "20"}).json() and answer["series"]


def test_incidents_with_no_region_are_a_row_of_their_own(client, spread):
    body = client.get(REGIONS).json()
    nameless = [row for row in body["regions"] if row["admin1"] == ""]
    assert len(nameless) == 1 and nameless[0]["region_id"] is None and nameless[0]["lat"] is None
    aleppo = next(row for row in body["regions"] if row["key"] == "SY/Aleppo")
    assert (aleppo["name"], aleppo["name_ar"]) == ("Aleppo", "حلب")
    assert aleppo["region_id"] is not None and 35 < aleppo["lat"] < 37


def test_drafts_and_retractions_count_nowhere(client, spread):
    published = Incident.objects.published()
    assert client.get(REGIONS).json()["total"] == published.count()
    fatalities = sum(incident.fatalities_best or 0 for incident in published)
    assert client.get(REGIONS).json()["total_fatalities"] == fatalities
    trends = client.get(TRENDS, {"top": "20"}).json()["series"]
    assert sum(series["incidents"] for series in trends) == published.count()
    rows = client.get(AGGREGATED).json()["rows"]
    assert sum(row["events"] for row in rows) == published.count()
    assert sum(row["fatalities_best"] for row in rows) == fatalities
    assert all(row["fatalities_best"] < 900 for row in rows)


def test_trends_are_the_top_groups_and_other_adding_up_per_month(client, spread):
    by_actor = defaultdict(Counter)
    for incident in Incident.objects.published().prefetch_related("actors"):
        for actor in incident.actors.all():
            by_actor[actor.pk][incident.start_date.replace(day=1).isoformat()] += 1
    body = client.get(TRENDS, {"by": "actor", "top": "3"}).json()
    assert [series["key"] for series in body["series"]][-1] == "other"
    assert len(body["series"]) == 4
    ranked = sorted(by_actor, key=lambda pk: (-sum(by_actor[pk].values()), pk))
    assert [series["key"] for series in body["series"][:3]] == ranked[:3]
    for series in body["series"][:3]:
        assert {point["period"]: point["incidents"] for point in series["points"]} == dict(by_actor[series["key"]])
    other = Counter()
    for pk in ranked[3:]:
        other.update(by_actor[pk])
    assert {point["period"]: point["incidents"] for point in body["series"][3]["points"]} == dict(other)
    assert body["series"][0]["label_ar"]


def test_trends_by_event_type_as_csv(client, spread):
    response = client.get(reverse("incidents:api-trends-csv"), {"period": "year", "top": "20"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    expected = Counter(
        (str(incident.start_date.year), incident.event_type.slug)
        for incident in Incident.objects.published().select_related("event_type")
    )
    assert {(row["year"][:4], row["event_type"]): int(row["incidents"]) for row in rows} == dict(expected)


def test_aggregated_export_has_acled_shape_with_centroids(client, spread):
    response = client.get(reverse("incidents:api-aggregated-csv"), {"period": "week"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == [
        "period",
        "country",
        "admin1",
        "admin2",
        "event_type",
        "sub_event_type",
        "events",
        "fatalities_low",
        "fatalities_best",
        "fatalities_high",
        "centroid_latitude",
        "centroid_longitude",
    ]
    expected = Counter(
        (
            (incident.start_date - datetime.timedelta(days=incident.start_date.weekday())).isoformat(),
            incident.admin1,
            incident.event_type.slug,
            incident.sub_event_type.slug if incident.sub_event_type else "",
        )
        for incident in Incident.objects.published().select_related("event_type", "sub_event_type")
    )
    got = {(row["period"], row["admin1"], row["event_type"], row["sub_event_type"]): int(row["events"]) for row in rows}
    assert got == dict(expected)
    homs = next(row for row in rows if row["admin1"] == "Homs")
    assert 34 < float(homs["centroid_latitude"]) < 35.5 and 36 < float(homs["centroid_longitude"]) < 40
    # By district and month, without sub-types.
    rows = client.get(AGGREGATED, {"period": "month", "level": "admin2", "sub_event_types": "0"}).json()["rows"]
    assert {row["sub_event_type"] for row in rows} == {""}
    assert {row["admin2"] for row in rows if row["admin1"] == "Aleppo"} >= {"Jebel Saman"}


@pytest.mark.parametrize(
    "url, query, name",
    [
        (REGIONS, {"level": "admin3"}, "level"),
        (REGIONS, {"start": "2019-13-01"}, "start"),
        (REGIONS, {"event_type": "nonsense"}, "event_type"),
        (TRENDS, {"by": "colour"}, "by"),
        (TRENDS, {"top": "many"}, "top"),
        (TRENDS, {"top": ["3", "4"]}, "top"),
        (TRENDS, {"period": "day"}, "period"),
        (AGGREGATED, {"period": "year"}, "period"),
        (AGGREGATED, {"sub_event_types": "yes"}, "sub_event_types"),
        (AGGREGATED, {"bbox": "1,2,3"}, "bbox"),
        (reverse("incidents:api-aggregated-csv"), {"end": "2019-01-01", "start": "2019-02-01"}, "end"),
    ],
)
def test_bad_parameters_get_a_400_naming_them(client, url, query, name):
    response = client.get(url, query)
    assert response.status_code == 400
    assert name in response.json()["errors"]


def test_repeated_and_comma_parameters_mean_the_same(client, spread, with_actor):
    repeated = client.get(AGGREGATED, {"event_type": ["battles", "riots"], "period": ["month", "month"]}).json()
    comma = client.get(AGGREGATED, {"event_type": "battles,riots", "period": "month"}).json()
    assert repeated == comma and repeated["rows"]
    # Several actors (the actor table less those naming more than one, counted live).
    actors = with_actor({"actor": ["ACTOR", "ACTOR3"]})["actor"]
    repeated = client.get(REGIONS, {"actor": actors, "start": "2018-12-13"}).json()
    assert repeated["total"] > 0
    assert client.get(REGIONS, {"actor": ",".join(actors), "start": "2018-12-13"}).json() == repeated


def test_the_boundaries_are_simplified_and_keyed_like_the_counts(client, spread):
    response = client.get(reverse("incidents:api-region-boundaries"))
    assert response.status_code == 200 and "max-age" in response["Cache-Control"]
    assert len(response.content) < 200_000  # simplified: the full boundaries are megabytes
    features = {feature["id"]: feature for feature in response.json()["features"]}
    assert len([key for key in features if key.startswith("SY/")]) == 14
    counts = client.get(REGIONS).json()["regions"]
    assert {row["key"] for row in counts if row["region_id"]} <= set(features)
    districts = client.get(reverse("incidents:api-region-boundaries"), {"level": "admin2"}).json()["features"]
    assert "SY/Aleppo/Jebel Saman" in {feature["id"] for feature in districts}


def test_the_kept_table_stays_exact_through_random_writes():
    rng = random.Random(3)
    types = list(EventType.objects.all())

    def random_fields():
        lon, lat = rng.choice(POINTS)
        start = datetime.date(2016, 1, 25) + datetime.timedelta(days=rng.randint(0, 20))
        best = rng.choice([None, 0, 4])
        return {
            "start_date": start,
            "end_date": start + datetime.timedelta(days=rng.choice([0, 10])),
            "event_type": rng.choice(types),
            "fatalities_best": best,
            "fatalities_high": None if best is None else rng.choice([None, best + 1]),
            **located(lon, lat),
        }

    incidents = [
        IncidentFactory(published=rng.random() < 0.6, sources=[SourceFactory()], **random_fields()) for _ in range(25)
    ]
    for step in range(40):
        incident = rng.choice(incidents)
        incident.refresh_from_db()
        action = rng.choice(["edit", "publish", "unpublish", "retract", "delete", "bulk"])
        random_write(action, incident, incidents, random_fields, admin2="Jebel Saman", admin1="Aleppo")
        differing = kept_tables_differing()
        for table in ("incidents_regionmonth", "incidents_regionweek", "incidents_regionactormonth"):
            assert differing[table] == 0, f"{table} after step {step} ({action})"


def test_region_pages_show_their_trends_in_both_languages(client, spread):
    region = next(row for row in client.get(REGIONS).json()["regions"] if row["key"] == "SY/Aleppo")
    url = reverse("incidents:region", args=[region["region_id"]])
    english = client.get(url)
    assert english.status_code == 200
    assert "Aleppo" in english.content.decode() and 'id="trends"' in english.content.decode()
    arabic = client.get("/ar" + url)
    assert arabic.status_code == 200 and "حلب" in arabic.content.decode()
    assert client.get(reverse("incidents:region", args=[999_999])).status_code == 404
