"""The map feed for a view: markers when few incidents are in view, PostGIS clusters above, and a server-paged list.

Expected numbers are worked out here in Python from the rows the test made, not by the selectors under test.
"""

import datetime
import itertools
import json
import random

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import (
    EventType,
    Incident,
    IncidentActor,
    LocationPrecision,
    MapActorCell,
    MapActorPairCell,
    MapCell,
    MapDetailCell,
    Side,
    Status,
    SubEventType,
)
from tests.factories import ActorFactory, IncidentFactory, SourceFactory, incidents_bulk_create
from tests.map_helpers import (
    DETAIL_STORED_KEY,
    FEED,
    LIST,
    NORTH_SYRIA,
    POINTS_MAX,
    STORED_KEY,
    SYRIA_AND_IRAQ,
    WORLD,
    assert_cells_equal,
    detail_key,
    expected,
    get_feed,
    incident_key,
    overlaps,
)
from tests.random_writes import random_write
from tests.shared_rows import fresh_copy, rows_for_the_module

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("map_thresholds")]


@pytest.fixture(scope="module")
def many_incidents_once(django_db_setup, django_db_blocker):
    """3,000 published incidents over Syria and Iraq (a tenth of them stacked on Aleppo's centre), with varied
    types, dates and fatalities; 300 drafts among them, and 50 drafts alone near Mosul that nothing may count.
    Made once for the module (tests/shared_rows.py); each test reads them through `many_incidents`."""
    yield from rows_for_the_module(django_db_blocker, make_many_incidents)


@pytest.fixture
def many_incidents(many_incidents_once, db):
    return fresh_copy(many_incidents_once)


def make_many_incidents():
    rng = random.Random(11)
    kinds = list(EventType.objects.order_by("slug"))
    aleppo = (37.1343, 36.2021)

    def row(number):
        lon, lat = (
            aleppo if number % 10 == 0 else (round(rng.uniform(35.7, 45.0), 5), round(rng.uniform(32.3, 37.2), 5))
        )
        start = datetime.date(2012, 1, 1) + datetime.timedelta(days=rng.randrange(0, 4000))
        return {
            "location": Point(lon, lat, srid=4326),
            "start_date": start,
            # Some span days or weeks, across month ends: MapCell keeps months, the edges are counted live.
            "end_date": start + datetime.timedelta(days=rng.choice([0, 0, 0, 2, 45])),
            "event_type": kinds[number % len(kinds)],
            "fatalities_best": rng.choice([None, 0, 1, 3, 12, 40]),
            "location_precision": rng.choice(list(LocationPrecision)),
            "country": "IQ" if lon > 42.0 else "SY",
            "admin1": rng.choice(["Aleppo", "Homs", ""]) if lon <= 42.0 else "Ninewa",
        }

    published = incidents_bulk_create(row(number) for number in range(3000))
    drafts = incidents_bulk_create((row(number) for number in range(300)), published=False)
    mosul_drafts = incidents_bulk_create(
        ({"location": Point(43.13 + number / 1000, 36.34, srid=4326)} for number in range(50)), published=False
    )
    return {"published": published, "drafts": drafts + mosul_drafts}


def test_cluster_counts_add_up_to_the_incidents_in_view(client, many_incidents):
    for bbox in (SYRIA_AND_IRAQ, NORTH_SYRIA, WORLD, (40.0, 33.0, 41.5, 34.5)):
        total, fatalities, _ = expected(many_incidents["published"], bbox)
        assert total > POINTS_MAX
        for zoom in (3, 6, 8, 11):
            body = get_feed(client, bbox, zoom)
            assert body["mode"] == "clusters"
            assert body["total"] == total
            assert sum(cluster["count"] for cluster in body["clusters"]) == total, (bbox, zoom)
            assert sum(cluster["fatalities"] for cluster in body["clusters"]) == body["total_fatalities"] == fatalities
            assert body["summary"].startswith(f"{total} incidents, {fatalities} fatalities")


FILTER_CASES = [
    ({"event_type": "battles"}, lambda incident: incident.event_type.slug == "battles"),
    ({"fatalities_min": "12"}, lambda incident: (incident.fatalities_best or 0) >= 12),
    ({"start": "2015-01-01", "end": "2016-12-31"}, lambda i: overlaps(i, "2015-01-01", "2016-12-31")),
    ({"precision": "3"}, lambda incident: incident.location_precision == 3),
    ({"q": "Bulk incident 12"}, lambda incident: incident.title.startswith("Bulk incident 12")),
]


def test_cluster_counts_add_up_under_filters(client, many_incidents):
    for filters, keep in FILTER_CASES:
        total, fatalities, _ = expected(many_incidents["published"], SYRIA_AND_IRAQ, keep)
        body = get_feed(client, SYRIA_AND_IRAQ, 6, **filters)
        assert body["mode"] == "clusters", filters
        assert sum(cluster["count"] for cluster in body["clusters"]) == body["total"] == total, filters
        assert body["total_fatalities"] == fatalities


def test_clusters_sit_at_the_centroid_of_their_members_inside_their_bounds(client, many_incidents):
    body = get_feed(client, SYRIA_AND_IRAQ, 5)
    stacked = max(body["clusters"], key=lambda cluster: cluster["count"])
    # A tenth of the incidents share Aleppo's centre: their cell's centroid is pulled close to it.
    west, south, east, north = stacked["bounds"]
    assert west <= 37.1343 <= east and south <= 36.2021 <= north
    for cluster in body["clusters"]:
        west, south, east, north = cluster["bounds"]
        assert west <= cluster["lon"] <= east and south <= cluster["lat"] <= north
        assert SYRIA_AND_IRAQ[0] <= west and east <= SYRIA_AND_IRAQ[2]
    # One incident alone in a cell sits exactly where it is.
    lone = [cluster for cluster in body["clusters"] if cluster["count"] == 1]
    for cluster in lone:
        assert cluster["bounds"] == [cluster["lon"], cluster["lat"], cluster["lon"], cluster["lat"]]


def test_zooming_in_gives_smaller_cells_and_then_markers(client, many_incidents):
    coarse = get_feed(client, NORTH_SYRIA, 5)
    fine = get_feed(client, NORTH_SYRIA, 9)
    assert len(fine["clusters"]) > len(coarse["clusters"])
    near_homs = (36.60, 34.60, 36.75, 34.75)
    total, _, chosen = expected(many_incidents["published"], near_homs)
    body = get_feed(client, near_homs, 13)
    assert 0 < total <= POINTS_MAX
    assert body["mode"] == "points"
    assert sorted(point["id"] for point in body["incidents"]) == sorted(incident.pk for incident in chosen)
    assert body["total"] == total


def test_drafts_never_appear_in_clusters_markers_list_or_totals(client, many_incidents):
    mosul = (43.0, 36.2, 43.3, 36.5)
    published_there, _, _ = expected(many_incidents["published"], mosul)
    drafts_there, _, _ = expected(many_incidents["drafts"], mosul)
    assert drafts_there >= 50
    for zoom in (4, 10):
        body = get_feed(client, mosul, zoom)
        assert body["total"] == published_there
        shown = body["clusters"] if body["mode"] == "clusters" else body["incidents"]
        assert sum(item.get("count", 1) for item in shown) == published_there
    listed = client.get(LIST, {"bbox": ",".join(map(str, mosul))}).json()
    assert listed["total"] == published_there
    draft_ids = {incident.pk for incident in many_incidents["drafts"]}
    assert not draft_ids & {point["id"] for point in listed["incidents"]}
    world = get_feed(client, WORLD, 2)
    assert world["total"] == 3000


def test_list_pages_through_the_incidents_in_view_newest_first(client, many_incidents):
    bbox = NORTH_SYRIA
    total, _, chosen = expected(many_incidents["published"], bbox)
    newest_first = [incident.pk for incident in sorted(chosen, key=lambda i: (i.start_date, i.pk), reverse=True)]
    first = client.get(LIST, {"bbox": ",".join(map(str, bbox))}).json()
    assert first["total"] == total
    assert first["pages"] == -(-total // 50)
    assert first["page"] == 1 and first["page_size"] == 50
    seen = []
    for page in range(1, first["pages"] + 1):
        body = client.get(LIST, {"bbox": ",".join(map(str, bbox)), "page": page}).json()
        assert len(body["incidents"]) == (50 if page < first["pages"] else total - 50 * (first["pages"] - 1))
        seen += [point["id"] for point in body["incidents"]]
    assert seen == newest_first
    past_the_end = client.get(LIST, {"bbox": ",".join(map(str, bbox)), "page": first["pages"] + 1}).json()
    assert past_the_end["incidents"] == [] and past_the_end["total"] == total


def test_list_total_and_feed_total_agree_under_filters(client, many_incidents):
    query = {"bbox": ",".join(map(str, SYRIA_AND_IRAQ)), "event_type": "protests", "fatalities_min": "1"}
    feed = client.get(FEED, {**query, "zoom": 6}).json()
    listed = client.get(LIST, query).json()
    assert feed["total"] == listed["total"] == sum(cluster["count"] for cluster in feed["clusters"])


def test_a_common_word_is_counted_exactly_and_follows_edits(client, many_incidents):
    """`q` on a word a third of the incidents carry, as a word, only as part of a longer one (a substring), or only in
    the gazetteer's name (not a substring of what is searched for one): clusters, list and a count worked out here
    agree, drafts carrying it aside; an edit is found at once (the stored words follow the text they come from)."""
    published, drafts = many_incidents["published"], many_incidents["drafts"]
    as_word = [incident.pk for incident in published[0::6]]
    in_longer_word = [incident.pk for incident in published[1::6]]
    gazetteer_only = [incident.pk for incident in published[2::6]]
    Incident.objects.filter(pk__in=as_word).update(title="Shelling near Aleppo")
    Incident.objects.filter(pk__in=in_longer_word).update(description="Reported from the two Aleppos.")
    Incident.objects.filter(pk__in=gazetteer_only).update(place_name="Aleppo")
    Incident.objects.filter(pk__in=[draft.pk for draft in drafts]).update(title="Draft: Aleppo")
    found = set(as_word + in_longer_word + gazetteer_only)
    total, fatalities, _ = expected(published, SYRIA_AND_IRAQ, lambda incident: incident.pk in found)
    assert total > POINTS_MAX
    query = {"bbox": ",".join(map(str, SYRIA_AND_IRAQ)), "q": "aleppo"}
    body = client.get(FEED, {**query, "zoom": 6}).json()
    assert body["mode"] == "clusters"
    assert sum(cluster["count"] for cluster in body["clusters"]) == body["total"] == total
    assert body["total_fatalities"] == fatalities
    assert client.get(LIST, query).json()["total"] == total
    # Web-search syntax still means words: only the gazetteer's "Aleppo" has no "shelling" ("Aleppos" is another word).
    gazetteer_total = expected(published, SYRIA_AND_IRAQ, lambda incident: incident.pk in gazetteer_only)[0]
    assert client.get(LIST, {**query, "q": "aleppo -shelling"}).json()["total"] == gazetteer_total
    edited = Incident.objects.get(pk=as_word[0])
    edited.title = "Shelling near Homs"
    edited.save()
    assert client.get(LIST, query).json()["total"] == total - 1
    assert client.get(LIST, {**query, "q": "Homs"}).json()["total"] == 1


def test_views_across_the_antimeridian_and_round_the_world(client):
    east_of_it = incidents_bulk_create([{"location": Point(179.5, 0.5, srid=4326)}])[0]
    west_of_it = incidents_bulk_create([{"location": Point(-179.5, -0.5, srid=4326)}])[0]
    incidents_bulk_create([{"location": Point(0, 0, srid=4326)}])

    def ids(bbox):
        return sorted(point["id"] for point in client.get(FEED, {"bbox": bbox, "zoom": 6}).json()["incidents"])

    both = sorted([east_of_it.pk, west_of_it.pk])
    assert ids("179,-1,-179,1") == both  # west > east: across the antimeridian
    assert ids("179,-1,181,1") == both  # Leaflet's unwrapped longitudes after panning east
    assert ids("-181,-1,-179,1") == both
    assert ids("539,-1,540,1") == [east_of_it.pk]  # one and a half turns east: 179° to 180°
    assert len(ids("-200,-90,200,90")) == 3  # more than the whole world is the world


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"bbox": "1,2,3"}, "bbox needs four numbers"),
        ({"bbox": "a,b,c,d"}, "bbox values must be numbers."),
        ({"bbox": "0,nan,1,1"}, "bbox values must be finite numbers."),
        ({"bbox": "0,-91,1,1"}, "bbox latitudes must be between -90 and 90."),
        ({"bbox": "0,5,1,1"}, "bbox south is greater than north."),
        ({"bbox": "0,0,1000,1"}, "bbox longitudes must be between -540 and 540."),
    ],
)
def test_bad_bbox_is_a_400_naming_it(client, query, message):
    for url in (FEED, LIST):
        response = client.get(url, query)
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["bbox"]
        assert response.json()["errors"]["bbox"][0].startswith(message)


def test_bad_zoom_page_and_filters_are_named_together(client):
    response = client.get(FEED, {"zoom": "far", "start": "April"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"zoom", "start"}
    assert client.get(FEED, {"zoom": "23"}).json()["errors"]["zoom"]
    assert client.get(LIST, {"page": "0"}).json()["errors"]["page"]


def test_clusters_stay_few_and_small_whatever_zoom_is_claimed(client, many_incidents):
    body = get_feed(client, WORLD, 22)  # a world view claiming street zoom: cells grow to keep the answer small
    assert body["mode"] == "clusters"
    assert len(body["clusters"]) <= 1024
    assert sum(cluster["count"] for cluster in body["clusters"]) == 3000
    assert len(json.dumps(body)) < 150_000


def test_map_answers_in_a_fixed_number_of_queries(client, many_incidents, django_assert_num_queries):
    syria_and_iraq = ",".join(map(str, SYRIA_AND_IRAQ))
    # Each request also counts itself against the rate limit (one upsert).
    with django_assert_num_queries(4):  # JIT off, the clusters from MapCell, the exact first and last dates
        client.get(FEED, {"bbox": syria_and_iraq, "zoom": 6})
    # `q` on a word no MapTerm keeps: the look-up, JIT off, the clusters (their sum is the count)
    with django_assert_num_queries(4):
        client.get(FEED, {"bbox": syria_and_iraq, "zoom": 6, "q": "Bulk"})
    with django_assert_num_queries(4):  # past zoom 11: JIT off, the clusters (too few to draw), the points
        client.get(FEED, {"bbox": "36.60,34.60,36.75,34.75", "zoom": 13})
    with django_assert_num_queries(5):  # JIT off, the total from MapCell, JIT off, the page
        client.get(LIST, {"bbox": syria_and_iraq})
    with django_assert_num_queries(5):  # the term look-up, JIT off, the count, the page
        client.get(LIST, {"bbox": syria_and_iraq, "q": "Bulk"})


# --- The MapCell path: clusters read from the pre-aggregated table must count exactly what the live query counts. ---

# Filters MapCell answers, with dates that cut months in the middle (their edge months are counted live).
CELL_FILTER_CASES = [
    ({}, lambda incident: True),
    ({"start": "2014-03-17", "end": "2016-08-09"}, lambda i: overlaps(i, "2014-03-17", "2016-08-09")),
    ({"start": "2015-06-15"}, lambda i: overlaps(i, start="2015-06-15")),
    ({"end": "2013-02-10"}, lambda i: overlaps(i, end="2013-02-10")),
    ({"start": "2016-03-01", "end": "2016-03-31"}, lambda i: overlaps(i, "2016-03-01", "2016-03-31")),
    ({"event_type": ["battles", "riots"]}, lambda i: i.event_type.slug in ("battles", "riots")),
    ({"country": "SY"}, lambda incident: incident.country == "SY"),
    ({"admin1": "Aleppo,Homs"}, lambda incident: incident.admin1 in ("Aleppo", "Homs")),
    ({"precision": ["2", "3"]}, lambda incident: incident.location_precision in (2, 3)),
    (
        {"start": "2013-05-20", "end": "2017-11-03", "event_type": "battles", "country": "SY"},
        lambda i: overlaps(i, "2013-05-20", "2017-11-03") and i.event_type.slug == "battles" and i.country == "SY",
    ),
]


def feed_reads_map_cells(client, bbox, zoom, **filters):
    with CaptureQueriesContext(connection) as queries:
        body = get_feed(client, bbox, zoom, **filters)
    return body, any("incidents_mapcell" in query["sql"] for query in queries.captured_queries)


def test_clusters_from_map_cells_add_up_exactly_under_the_filters_they_keep(client, many_incidents):
    # Views whose edges cut through cells (and one with its edge on Aleppo's stacked tenth), at zooms up to 11.
    for bbox, zoom in ((SYRIA_AND_IRAQ, 6), (NORTH_SYRIA, 8), ((36.5, 35.0, 41.3, 36.2021), 7), (WORLD, 3)):
        for filters, keep in CELL_FILTER_CASES:
            total, fatalities, chosen = expected(many_incidents["published"], bbox, keep)
            if total <= POINTS_MAX:
                continue
            body, from_cells = feed_reads_map_cells(client, bbox, zoom, **filters)
            assert from_cells, (bbox, filters)
            assert body["mode"] == "clusters"
            assert sum(cluster["count"] for cluster in body["clusters"]) == body["total"] == total, (bbox, filters)
            assert sum(cluster["fatalities"] for cluster in body["clusters"]) == fatalities, (bbox, filters)
            # The summary's dates are exact, though the table keeps months.
            first, last = min(i.start_date for i in chosen), max(i.start_date for i in chosen)
            assert body["summary"] == (
                f"{total} incidents, {fatalities} fatalities, from {first.day} {first:%b %Y} to {last.day} {last:%b %Y}"
            ), (bbox, filters)
            for cluster in body["clusters"]:
                west, south, east, north = cluster["bounds"]
                assert west <= cluster["lon"] <= east and south <= cluster["lat"] <= north
                assert bbox[0] <= west and east <= bbox[2] and bbox[1] <= south and north <= bbox[3]
            if bbox == SYRIA_AND_IRAQ:  # the list's total reads MapCell too
                listed = client.get(LIST, {"bbox": ",".join(map(str, bbox)), **filters}).json()
                assert listed["total"] == total, filters


def test_filters_map_cells_lack_are_counted_live_and_agree(client, many_incidents):
    for filters in ({"q": "Bulk incident 12"},):
        body, from_cells = feed_reads_map_cells(client, SYRIA_AND_IRAQ, 6, **filters)
        assert not from_cells, filters
    # Across the antimeridian, or zoomed in past the table's cells: live too, and the same counts.
    body, from_cells = feed_reads_map_cells(client, (30, -60, 20, 60), 3)  # 30°E round to 20°E
    assert not from_cells and body["total"] == 3000
    around_aleppo = (37.0, 36.1, 37.3, 36.3)
    cells_body, from_cells = feed_reads_map_cells(client, around_aleppo, 11)
    live_body, from_live = feed_reads_map_cells(client, around_aleppo, 13)
    assert from_cells and not from_live
    assert cells_body["mode"] == live_body["mode"] == "clusters"
    assert cells_body["total"] == live_body["total"] == expected(many_incidents["published"], around_aleppo)[0]


def test_publishing_unpublishing_moving_and_deleting_show_at_once_in_the_clusters(client, many_incidents):
    def total():
        body, from_cells = feed_reads_map_cells(client, SYRIA_AND_IRAQ, 6)
        assert from_cells
        return body["total"], body["total_fatalities"]

    before, fatalities = total()
    unpublished = many_incidents["published"][0]
    Incident.objects.filter(pk=unpublished.pk).update(status=Status.DRAFT)
    assert total() == (before - 1, fatalities - (unpublished.fatalities_best or 0))
    Incident.objects.filter(pk=unpublished.pk).update(status=Status.PUBLISHED, fatalities_best=7)
    fatalities += 7 - (unpublished.fatalities_best or 0)
    assert total() == (before, fatalities)
    Incident.objects.filter(pk__in=[draft.pk for draft in many_incidents["drafts"]]).update(fatalities_best=500)
    assert total() == (before, fatalities)  # drafts count nowhere
    moved = many_incidents["published"][1]
    Incident.objects.filter(pk=moved.pk).update(location=Point(10.0, 50.0, srid=4326))  # out of the view
    assert total() == (before - 1, fatalities - (moved.fatalities_best or 0))
    Incident.objects.filter(pk=many_incidents["published"][2].pk).delete()
    gone = many_incidents["published"][2].fatalities_best or 0
    assert total() == (before - 2, fatalities - (moved.fatalities_best or 0) - gone)


def live_map_cells():
    cells = {}
    for incident in Incident.objects.published().exclude(location=None):
        key = incident_key(incident)
        n, f, x, y = cells.get(key, (0, 0, 0.0, 0.0))
        point = incident.public_location  # where the public sees it
        cells[key] = (n + 1, f + (incident.fatalities_best or 0), x + point.x, y + point.y)
    return cells


def stored_map_cells():
    return {
        tuple(row[key] for key in STORED_KEY): (row["incidents"], row["fatalities"], row["sum_x"], row["sum_y"])
        for row in MapCell.objects.values(*STORED_KEY, "incidents", "fatalities", "sum_x", "sum_y")
    }


def assert_map_cells_match(message):
    assert_cells_equal(live_map_cells(), stored_map_cells(), message)


def test_map_cells_equal_a_live_count_through_any_sequence_of_writes():
    rng = random.Random(12)
    types = list(EventType.objects.all())
    regions = [("SY", "Homs"), ("SY", "Aleppo"), ("IQ", "Ninewa"), ("IQ", "")]

    def random_fields():
        start = datetime.date(2016, 1, 1) + datetime.timedelta(days=rng.randint(0, 90))
        country, admin1 = rng.choice(regions)
        return {
            "start_date": start,
            "end_date": start + datetime.timedelta(days=rng.choice([0, 0, 2, 31])),
            "event_type": rng.choice(types),
            "country": country,
            "admin1": admin1,
            "fatalities_best": rng.choice([None, 0, 4, 30]),
            "location_precision": rng.choice(list(LocationPrecision)),
            # A few kilometres round one spot: incidents share cells, and moves cross cell edges.
            "location": Point(37.1 + rng.uniform(-0.15, 0.15), 36.2 + rng.uniform(-0.15, 0.15), srid=4326),
        }

    incidents = [
        IncidentFactory(published=rng.random() < 0.6, sources=[SourceFactory()], **random_fields()) for _ in range(40)
    ]
    assert_map_cells_match("after the first inserts")
    assert MapCell.objects.exists()

    for step in range(100):
        incident = rng.choice(incidents)
        incident.refresh_from_db()
        action = rng.choice(
            ["edit", "move", "publish", "unpublish", "retract", "delete", "bulk", "sensitive", "sensitive source"]
        )
        random_write(action, incident, incidents, random_fields, admin1="Homs", country="SY")
        assert_map_cells_match(f"after step {step} ({action})")


# --- MapActorCell: one actor's clusters read from the table split by actor and side. ---


@pytest.fixture(scope="module")
def actor_roles_once(many_incidents_once, django_db_blocker):
    """Three actors named on overlapping thirds, quarters and fifths of the incidents (drafts too), some on side A,
    some on B: {actor: {incident id: side}}. Made once for the module, after the incidents (conftest.py runs the
    tests that use it after those that use only the incidents, which must not see these links)."""
    yield from rows_for_the_module(django_db_blocker, lambda: make_actor_roles(many_incidents_once))


@pytest.fixture
def actor_roles(actor_roles_once, many_incidents):
    return {actor: dict(sides) for actor, sides in actor_roles_once.items()}


def make_actor_roles(incidents):
    army, rebels, militia = (ActorFactory(name=name) for name in ("Army", "Rebels", "Militia"))
    roles = {army: {}, rebels: {}, militia: {}}
    links = []
    for number, incident in enumerate(incidents["published"] + incidents["drafts"]):
        for actor, named, side in (
            (army, number % 3 == 0, Side.A),
            (rebels, number % 4 == 0, Side.B),
            (militia, number % 5 in (0, 1), Side.A if number % 2 else Side.B),
        ):
            if named:
                links.append(IncidentActor(incident=incident, actor=actor, side=side))
                roles[actor][incident.pk] = side
    # Statistics first: this transaction's 3,600 new incidents are invisible to autovacuum, and planned as an empty
    # table the link statement's kept-table triggers ran for more than twenty minutes (a nested loop over all of them
    # for each link). ANALYZE inside the transaction counts its own new rows.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_incident")
    IncidentActor.objects.bulk_create(links)
    return roles


def test_one_actors_clusters_come_from_the_actor_cells_and_add_up_exactly(client, many_incidents, actor_roles):
    army, rebels, militia = actor_roles
    published = many_incidents["published"]
    cases = [
        ({"actor": army.pk}, lambda i: i.pk in actor_roles[army]),
        ({"actor": militia.pk, "side": "b"}, lambda i: actor_roles[militia].get(i.pk) == Side.B),
        ({"actor": rebels.pk, "side": "a"}, lambda i: actor_roles[rebels].get(i.pk) == Side.A),  # none
        (
            {"actor": militia.pk, "start": "2014-03-17", "end": "2016-08-09", "country": "SY"},
            lambda i: i.pk in actor_roles[militia] and overlaps(i, "2014-03-17", "2016-08-09") and i.country == "SY",
        ),
        (
            {"actor": army.pk, "event_type": "battles", "end": "2015-02-10"},
            lambda i: i.pk in actor_roles[army] and i.event_type.slug == "battles" and overlaps(i, end="2015-02-10"),
        ),
    ]
    for bbox, zoom in ((SYRIA_AND_IRAQ, 6), ((36.5, 35.0, 41.3, 36.2021), 7)):
        for filters, keep in cases:
            total, fatalities, _chosen = expected(published, bbox, keep)
            with CaptureQueriesContext(connection) as queries:
                body = get_feed(client, bbox, zoom, **filters)
            if total > POINTS_MAX:
                assert any("incidents_mapactorcell" in query["sql"] for query in queries.captured_queries), filters
                assert sum(cluster["count"] for cluster in body["clusters"]) == total, (bbox, filters)
                assert sum(cluster["fatalities"] for cluster in body["clusters"]) == fatalities, (bbox, filters)
            assert body["total"] == total and body["total_fatalities"] == fatalities, (bbox, filters)
            listed = client.get(LIST, {"bbox": ",".join(map(str, bbox)), **filters}).json()
            assert listed["total"] == total, (bbox, filters)


def test_several_actors_at_once_come_from_the_actor_cells_each_incident_once(client, many_incidents, actor_roles):
    # The actors share incidents (every 12th names the army and the rebels, every 15th the army and the militia...):
    # the tables' sums hold those once per actor and once per pair, and the feed must count each once.
    army, rebels, militia = actor_roles
    published = list(many_incidents["published"])
    # All three named at Aleppo (an inner cell), in the month a date range starts, before and after its first day:
    # the tables count such an incident 3 - 3 = 0 times, and what is subtracted for the edge month must agree.
    for start in (datetime.date(2014, 3, 2), datetime.date(2014, 3, 20)):
        incident = IncidentFactory(
            published=True,
            location=Point(37.1343, 36.2021, srid=4326),
            start_date=start,
            end_date=start,
            actors=[(army, Side.A), (rebels, Side.B), (militia, Side.A)],
        )
        published.append(incident)
        for actor, side in ((army, Side.A), (rebels, Side.B), (militia, Side.A)):
            actor_roles[actor][incident.pk] = side

    def names(*actors, side=None):
        return lambda i: any(i.pk in actor_roles[a] and side in (None, actor_roles[a][i.pk]) for a in actors)

    cases = [
        ({"actor": [army.pk, rebels.pk]}, names(army, rebels)),
        ({"actor": [army.pk, rebels.pk, militia.pk]}, names(army, rebels, militia)),
        (
            {"actor": [army.pk, rebels.pk, militia.pk], "start": "2014-03-17", "end": "2016-08-09"},
            lambda i: names(army, rebels, militia)(i) and overlaps(i, "2014-03-17", "2016-08-09"),
        ),
        ({"actor": [army.pk, militia.pk], "side": "a"}, names(army, militia, side=Side.A)),
        (
            {"actor": [rebels.pk, militia.pk], "start": "2014-03-17", "end": "2016-08-09"},
            lambda i: names(rebels, militia)(i) and overlaps(i, "2014-03-17", "2016-08-09"),
        ),
        (
            {"actor": [army.pk, militia.pk], "side": "b", "end": "2015-02-10", "fatalities_min": 3},
            lambda i: (
                names(army, militia, side=Side.B)(i) and overlaps(i, end="2015-02-10") and (i.fatalities_best or 0) >= 3
            ),
        ),
    ]
    for bbox, zoom in ((SYRIA_AND_IRAQ, 6), ((36.5, 35.0, 41.3, 36.2021), 7)):
        for filters, keep in cases:
            total, fatalities, chosen = expected(published, bbox, keep)
            assert total, filters  # the case must test something
            with CaptureQueriesContext(connection) as queries:
                body = get_feed(client, bbox, zoom, **filters)
            if total > POINTS_MAX:
                sql = " ".join(query["sql"] for query in queries.captured_queries)
                assert "incidents_mapactorcell" in sql and "incidents_mapactorpaircell" in sql, filters
                assert sum(cluster["count"] for cluster in body["clusters"]) == total, (bbox, filters)
                assert sum(cluster["fatalities"] for cluster in body["clusters"]) == fatalities, (bbox, filters)
                first, last = min(i.start_date for i in chosen), max(i.start_date for i in chosen)
                assert body["summary"].endswith(f"from {first.day} {first:%b %Y} to {last.day} {last:%b %Y}"), filters
            assert body["total"] == total and body["total_fatalities"] == fatalities, (bbox, filters)
            listed = client.get(LIST, {"bbox": ",".join(map(str, bbox)), **filters}).json()
            assert listed["total"] == total, (bbox, filters)


def live_actor_cells():
    cells = {}
    links = IncidentActor.objects.filter(incident__status=Status.PUBLISHED).exclude(incident__location=None)
    for link in links.select_related("incident"):
        incident = link.incident
        key = (link.actor_id, link.side, *detail_key(incident))
        n, f, x, y = cells.get(key, (0, 0, 0.0, 0.0))
        cells[key] = (
            n + 1,
            f + (incident.fatalities_best or 0),
            x + incident.public_location.x,
            y + incident.public_location.y,
        )
    return cells


def stored_actor_cells():
    keys = ("actor_id", "side", *DETAIL_STORED_KEY)
    return {
        tuple(row[key] for key in keys): (row["incidents"], row["fatalities"], row["sum_x"], row["sum_y"])
        for row in MapActorCell.objects.values(*keys, "incidents", "fatalities", "sum_x", "sum_y")
    }


def live_pair_cells():
    cells = {}
    links = IncidentActor.objects.filter(incident__status=Status.PUBLISHED).exclude(incident__location=None)
    by_incident = {}
    for link in links.select_related("incident").order_by("actor_id"):
        by_incident.setdefault(link.incident, []).append(link)
    for incident, named in by_incident.items():
        for low, high in itertools.combinations(named, 2):  # in actor order
            key = (low.actor_id, high.actor_id, low.side, high.side, *detail_key(incident))
            n, f, x, y = cells.get(key, (0, 0, 0.0, 0.0))
            cells[key] = (
                n + 1,
                f + (incident.fatalities_best or 0),
                x + incident.public_location.x,
                y + incident.public_location.y,
            )
    return cells


def stored_pair_cells():
    keys = ("actor_low_id", "actor_high_id", "side_low", "side_high", *DETAIL_STORED_KEY)
    return {
        tuple(row[key] for key in keys): (row["incidents"], row["fatalities"], row["sum_x"], row["sum_y"])
        for row in MapActorPairCell.objects.values(*keys, "incidents", "fatalities", "sum_x", "sum_y")
    }


def test_actor_and_pair_cells_equal_a_live_count_through_any_sequence_of_writes():
    rng = random.Random(13)
    actors = [ActorFactory() for _ in range(4)]
    types = list(EventType.objects.all())

    def random_fields():
        start = datetime.date(2016, 1, 1) + datetime.timedelta(days=rng.randint(0, 90))
        return {
            "start_date": start,
            "end_date": start + datetime.timedelta(days=rng.choice([0, 2, 31])),
            "event_type": rng.choice(types),
            "fatalities_best": rng.choice([None, 0, 4, 30]),
            "location": Point(37.1 + rng.uniform(-0.15, 0.15), 36.2 + rng.uniform(-0.15, 0.15), srid=4326),
        }

    def check(message):
        assert_cells_equal(live_actor_cells(), stored_actor_cells(), message)
        assert_cells_equal(live_pair_cells(), stored_pair_cells(), message)

    incidents = [
        IncidentFactory(
            published=rng.random() < 0.6,
            sources=[SourceFactory()],
            actors=[(actor, rng.choice([Side.A, Side.B])) for actor in rng.sample(actors, rng.randint(0, 3))],
            **random_fields(),
        )
        for _ in range(30)
    ]
    check("after the first inserts")
    assert MapActorCell.objects.exists() and MapActorPairCell.objects.exists()
    actions = ["edit", "publish", "unpublish", "name", "name two", "unname", "unname all", "switch side", "swap actor"]
    for step in range(120):
        incident = rng.choice(incidents)
        incident.refresh_from_db()
        action = rng.choice([*actions, "delete", "bulk", "merge"])
        named = list(IncidentActor.objects.filter(incident=incident))
        if action == "delete":  # and a new incident naming an actor
            incidents.remove(incident)
            incident.delete()
            incidents.append(IncidentFactory(published=True, actors=[(rng.choice(actors), Side.A)], **random_fields()))
        elif action == "name":
            free = [actor for actor in actors if actor.pk not in {link.actor_id for link in named}]
            if free:
                IncidentActor.objects.create(incident=incident, actor=rng.choice(free), side=rng.choice(list(Side)))
        elif action == "name two":  # one statement, two new links: their pair is counted once
            free = [actor for actor in actors if actor.pk not in {link.actor_id for link in named}]
            IncidentActor.objects.bulk_create(
                IncidentActor(incident=incident, actor=actor, side=rng.choice(list(Side)))
                for actor in rng.sample(free, min(2, len(free)))
            )
        elif action == "unname" and named:
            rng.choice(named).delete()
        elif action == "unname all":  # one statement, every link of the incident: each pair subtracted once
            IncidentActor.objects.filter(incident=incident).delete()
        elif action == "switch side" and named:
            IncidentActor.objects.filter(incident=incident).update(side=rng.choice(list(Side)))
        elif action == "swap actor" and named:  # a link names another actor: its pairs go and come
            free = [actor for actor in actors if actor.pk not in {link.actor_id for link in named}]
            if free:
                IncidentActor.objects.filter(pk=rng.choice(named).pk).update(actor=rng.choice(free))
        else:
            random_write(action, incident, incidents, random_fields)
        check(f"after step {step} ({action})")


# --- MapDetailCell: a sub-type's or a fatality threshold's clusters, from the table split by both. ---


@pytest.fixture
def sub_typed(many_incidents):
    """Every other battle an armed clash (one statement: the triggers move those incidents between cells)."""
    clash = SubEventType.objects.get(slug="battles-armed-clash")
    battles = [i for i in many_incidents["published"] + many_incidents["drafts"] if i.event_type.slug == "battles"]
    chosen = battles[::2]
    Incident.objects.filter(pk__in=[incident.pk for incident in chosen]).update(sub_event_type=clash)
    for incident in chosen:
        incident.sub_event_type = clash
    return clash


def is_clash(incident):
    return incident.sub_event_type_id is not None and incident.sub_event_type.slug == "battles-armed-clash"


def test_sub_type_and_fatality_threshold_clusters_come_from_detail_cells_exactly(client, many_incidents, sub_typed):
    published = many_incidents["published"]
    cases = [
        ({"fatalities_min": "0"}, lambda i: i.fatalities_best is not None),  # an unknown estimate reaches no threshold
        ({"fatalities_min": "3"}, lambda i: (i.fatalities_best or 0) >= 3),
        ({"sub_event_type": "battles-armed-clash"}, is_clash),
        ({"sub_event_type": "battles-armed-clash", "fatalities_min": "1", "country": "SY"},
         lambda i: is_clash(i) and (i.fatalities_best or 0) >= 1 and i.country == "SY"),
        ({"fatalities_min": "12", "start": "2014-03-17", "end": "2016-08-09", "event_type": "battles"},
         lambda i: (i.fatalities_best or 0) >= 12 and overlaps(i, "2014-03-17", "2016-08-09")
         and i.event_type.slug == "battles"),
    ]  # fmt: skip
    read = 0
    for bbox, zoom in ((SYRIA_AND_IRAQ, 6), ((36.5, 35.0, 41.3, 36.2021), 7)):
        for filters, keep in cases:
            total, fatalities, _chosen = expected(published, bbox, keep)
            with CaptureQueriesContext(connection) as queries:
                body = get_feed(client, bbox, zoom, **filters)
            if total > POINTS_MAX:
                assert any("incidents_mapdetailcell" in q["sql"] for q in queries.captured_queries), filters
                assert sum(cluster["count"] for cluster in body["clusters"]) == total
                read += 1
            assert body["total"] == total and body["total_fatalities"] == fatalities, (bbox, filters)
            listed = client.get(LIST, {"bbox": ",".join(map(str, bbox)), **filters}).json()
            assert listed["total"] == total, (bbox, filters)
    assert read >= 6


def test_one_actor_with_a_sub_type_or_threshold_comes_from_the_actor_cells(
    client, many_incidents, actor_roles, sub_typed
):
    army, _rebels, militia = actor_roles
    cases = [
        ({"actor": army.pk, "fatalities_min": "3"}, lambda i: i.pk in actor_roles[army] and (i.fatalities_best or 0) >= 3),
        ({"actor": militia.pk, "side": "a", "sub_event_type": "battles-armed-clash"},
         lambda i: actor_roles[militia].get(i.pk) == Side.A and is_clash(i)),
    ]  # fmt: skip
    for filters, keep in cases:
        total, fatalities, _chosen = expected(many_incidents["published"], SYRIA_AND_IRAQ, keep)
        with CaptureQueriesContext(connection) as queries:
            body = get_feed(client, SYRIA_AND_IRAQ, 6, **filters)
        assert any("incidents_mapactorcell" in q["sql"] for q in queries.captured_queries), filters
        assert body["total"] == total and body["total_fatalities"] == fatalities, filters


def test_detail_cells_equal_a_live_count_through_any_sequence_of_writes():
    rng = random.Random(14)
    types = list(EventType.objects.all())

    def random_fields():
        start = datetime.date(2016, 1, 1) + datetime.timedelta(days=rng.randint(0, 90))
        event_type = rng.choice(types)
        return {
            "start_date": start,
            "end_date": start + datetime.timedelta(days=rng.choice([0, 2, 31])),
            "event_type": event_type,
            "sub_event_type": rng.choice([None, *SubEventType.objects.filter(event_type=event_type)[:2]]),
            "fatalities_low": None,
            "fatalities_high": None,
            "fatalities_best": rng.choice([None, 0, 4, 30]),
            "location": Point(37.1 + rng.uniform(-0.15, 0.15), 36.2 + rng.uniform(-0.15, 0.15), srid=4326),
        }

    def live():
        cells = {}
        for incident in Incident.objects.published().exclude(location=None):
            key = detail_key(incident)
            n, f = cells.get(key, (0, 0))
            cells[key] = (n + 1, f + (incident.fatalities_best or 0))
        return cells

    def stored():
        keys = DETAIL_STORED_KEY
        return {
            tuple(row[key] for key in keys): (row["incidents"], row["fatalities"])
            for row in MapDetailCell.objects.values(*keys, "incidents", "fatalities")
        }

    incidents = [
        IncidentFactory(published=rng.random() < 0.6, sources=[SourceFactory()], **random_fields()) for _ in range(30)
    ]
    assert stored() == live()
    assert MapDetailCell.objects.exists()
    for step in range(60):
        incident = rng.choice(incidents)
        incident.refresh_from_db()
        action = rng.choice(["edit", "toll", "sub-type", "publish", "unpublish", "delete", "bulk"])
        if action == "toll":
            Incident.objects.filter(pk=incident.pk).update(fatalities_best=rng.choice([None, 1, 7]))
        elif action == "sub-type":
            Incident.objects.filter(pk=incident.pk).update(sub_event_type=random_fields()["sub_event_type"])
        else:
            random_write(action, incident, incidents, random_fields)
        assert stored() == live(), f"after step {step} ({action})"
