"""OGC API – Features Part 3 on /ogcapi/collections/incidents: queryables, CQL2 `filter` (text and JSON), `sortby`.

Every expected answer is worked out in Python from the incidents the fixture made, never read back from the API."""

import datetime
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.gis.geos import Point, Polygon
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents.models import EventType, Incident, Status, SubEventType
from tests.factories import IncidentFactory
from tests.shared_rows import fresh_copy, rows_for_the_module

pytestmark = pytest.mark.django_db

ITEMS = reverse("incidents:ogc-items", args=["incidents"])
QUERYABLES = reverse("incidents:ogc-queryables", args=["incidents"])
TYPES = ["battles", "explosions-remote-violence", "protests"]
TITLES = ["Shelling of Aleppo", "Clashes near Homs", "Protest in Mosul"]


@pytest.fixture(scope="module")
def incidents_once(django_db_setup, django_db_blocker):
    """Twelve published incidents that differ in every queryable, and a draft and a retraction that match
    everything a test asks for (so any leak shows). Returned as the stored rows. Made once for the module
    (tests/shared_rows.py)."""
    yield from rows_for_the_module(django_db_blocker, make_incidents)


@pytest.fixture
def incidents(incidents_once, db):
    return fresh_copy(incidents_once)


def make_incidents():
    clash = SubEventType.objects.get(slug="battles-armed-clash")
    made = []
    for n in range(12):
        start = datetime.date(2019, 1, 1) + datetime.timedelta(days=20 * n)
        made.append(
            IncidentFactory(
                published=True,
                title=f"{TITLES[n % 3]} #{n}",
                start_date=start,
                end_date=start + datetime.timedelta(days=n % 3 * 5),
                date_precision=1 + n % 3,
                location=Point(36 + n * 0.5, 33 + n * 0.3, srid=4326),
                country="IQ" if n % 3 == 2 else "SY",
                admin1=["Aleppo", "Homs", "Nineveh"][n % 3],
                location_precision=1 + n % 2,
                event_type=EventType.objects.get(slug=TYPES[n % 3]),
                sub_event_type=clash if n % 3 == 1 and n != 10 else None,
                fatalities_low=None if n % 4 == 0 else n,
                fatalities_best=None if n % 4 == 0 else n * 2,
                fatalities_high=None if n % 4 == 0 else n * 3,
            )
        )
    for status in (Status.DRAFT, Status.RETRACTED):
        IncidentFactory(
            status=status,
            title="Shelling of Aleppo (not public)",
            start_date=datetime.date(2019, 3, 1),
            location=Point(37, 34, srid=4326),
            fatalities_low=500,
            fatalities_best=900,
            fatalities_high=1000,
            retraction_reason="Duplicate" if status == Status.RETRACTED else "",
        )
    return list(Incident.objects.filter(pk__in=[incident.pk for incident in made]).order_by("pk"))


def page(client, **params):
    response = client.get(ITEMS, params)
    assert response.status_code == 200, response.content if not response.streaming else params
    return json.loads(b"".join(response.streaming_content))


def ids(client, **params):
    return {feature["id"] for feature in page(client, limit=1000, **params)["features"]}


def expected(incidents, keep):
    return {incident.pk for incident in incidents if keep(incident)}


def intersects(incident, first, last):
    return incident.start_date <= last and incident.end_date >= first


BOX = Polygon.from_bbox((37, 33, 40, 36))
D = datetime.date

# (CQL2 text, the same filter in CQL2 JSON, which incidents it keeps)
CASES = [
    ("country = 'SY'", {"op": "=", "args": [{"property": "country"}, "SY"]}, lambda i: i.country == "SY"),
    ("country <> 'SY'", {"op": "<>", "args": [{"property": "country"}, "SY"]}, lambda i: i.country != "SY"),
    (
        "fatalities_best > 10",
        {"op": ">", "args": [{"property": "fatalities_best"}, 10]},
        lambda i: i.fatalities_best is not None and i.fatalities_best > 10,
    ),
    (
        "fatalities_best >= 10",
        {"op": ">=", "args": [{"property": "fatalities_best"}, 10]},
        lambda i: i.fatalities_best is not None and i.fatalities_best >= 10,
    ),
    (
        "fatalities_best < 6",
        {"op": "<", "args": [{"property": "fatalities_best"}, 6]},
        lambda i: i.fatalities_best is not None and i.fatalities_best < 6,
    ),
    (
        "fatalities_best <= 6",
        {"op": "<=", "args": [{"property": "fatalities_best"}, 6]},
        lambda i: i.fatalities_best is not None and i.fatalities_best <= 6,
    ),
    # SQL's three values: an incident without a figure is neither above 10 nor, negated, not above it.
    (
        "NOT (fatalities_best > 10)",
        {"op": "not", "args": [{"op": ">", "args": [{"property": "fatalities_best"}, 10]}]},
        lambda i: i.fatalities_best is not None and not i.fatalities_best > 10,
    ),
    (
        "event_type = 'battles' AND fatalities_best > 4",
        {
            "op": "and",
            "args": [
                {"op": "=", "args": [{"property": "event_type"}, "battles"]},
                {"op": ">", "args": [{"property": "fatalities_best"}, 4]},
            ],
        },
        lambda i: i.event_type.slug == "battles" and (i.fatalities_best or 0) > 4,
    ),
    (
        "event_type = 'protests' OR admin1 = 'Homs'",
        {
            "op": "or",
            "args": [
                {"op": "=", "args": [{"property": "event_type"}, "protests"]},
                {"op": "=", "args": [{"property": "admin1"}, "Homs"]},
            ],
        },
        lambda i: i.event_type.slug == "protests" or i.admin1 == "Homs",
    ),
    (
        "title LIKE 'Shelling%'",
        {"op": "like", "args": [{"property": "title"}, "Shelling%"]},
        lambda i: i.title.startswith("Shelling"),
    ),
    (
        "title LIKE '%#1_'",
        {"op": "like", "args": [{"property": "title"}, "%#1_"]},
        lambda i: i.title.split("#")[1] in ("10", "11"),
    ),
    (
        "CASEI(title) LIKE CASEI('%ALEPPO%')",
        {
            "op": "like",
            "args": [{"op": "casei", "args": [{"property": "title"}]}, {"op": "casei", "args": ["%ALEPPO%"]}],
        },
        lambda i: "aleppo" in i.title.lower(),
    ),
    (
        "title NOT LIKE '%Mosul%'",
        {"op": "not", "args": [{"op": "like", "args": [{"property": "title"}, "%Mosul%"]}]},
        lambda i: "Mosul" not in i.title,
    ),
    (
        "event_type IN ('battles', 'protests')",
        {"op": "in", "args": [{"property": "event_type"}, ["battles", "protests"]]},
        lambda i: i.event_type.slug in ("battles", "protests"),
    ),
    (
        "date_precision NOT IN (1, 2)",
        {"op": "not", "args": [{"op": "in", "args": [{"property": "date_precision"}, [1, 2]]}]},
        lambda i: i.date_precision not in (1, 2),
    ),
    (
        "fatalities_best BETWEEN 6 AND 14",
        {"op": "between", "args": [{"property": "fatalities_best"}, 6, 14]},
        lambda i: i.fatalities_best is not None and 6 <= i.fatalities_best <= 14,
    ),
    (
        "fatalities_best IS NULL",
        {"op": "isNull", "args": [{"property": "fatalities_best"}]},
        lambda i: i.fatalities_best is None,
    ),
    (
        "sub_event_type IS NOT NULL",
        {"op": "not", "args": [{"op": "isNull", "args": [{"property": "sub_event_type"}]}]},
        lambda i: i.sub_event_type_id is not None,
    ),
    (
        "sub_event_type = 'battles-armed-clash' OR country = 'IQ'",
        {
            "op": "or",
            "args": [
                {"op": "=", "args": [{"property": "sub_event_type"}, "battles-armed-clash"]},
                {"op": "=", "args": [{"property": "country"}, "IQ"]},
            ],
        },
        lambda i: i.sub_event_type_id is not None or i.country == "IQ",
    ),
    (
        "fatalities_high > fatalities_best",
        None,  # property against property
        lambda i: i.fatalities_best is not None and i.fatalities_high > i.fatalities_best,
    ),
    (
        "S_INTERSECTS(geometry, BBOX(37, 33, 40, 36))",
        {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [37, 33, 40, 36]}]},
        lambda i: BOX.intersects(i.location),
    ),
    (
        "S_WITHIN(geometry, POLYGON((37 33, 40 33, 40 36, 37 36, 37 33)))",
        {
            "op": "s_within",
            "args": [
                {"property": "geometry"},
                {"type": "Polygon", "coordinates": [[[37, 33], [40, 33], [40, 36], [37, 36], [37, 33]]]},
            ],
        },
        lambda i: i.location.within(BOX),
    ),
    (
        "S_INTERSECTS(geometry, POINT(38.5 34.5))",
        {"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [38.5, 34.5]}]},
        lambda i: (i.location.x, i.location.y) == (38.5, 34.5),
    ),
    (
        "S_DISJOINT(geometry, BBOX(37, 33, 40, 36))",
        {"op": "s_disjoint", "args": [{"property": "geometry"}, {"bbox": [37, 33, 40, 36]}]},
        lambda i: not BOX.intersects(i.location),
    ),
    (
        "start_date >= DATE('2019-06-01')",
        {"op": ">=", "args": [{"property": "start_date"}, {"date": "2019-06-01"}]},
        lambda i: i.start_date >= D(2019, 6, 1),
    ),
    (
        "start_date < '2019-03-02'",
        {"op": "<", "args": [{"property": "start_date"}, "2019-03-02"]},
        lambda i: i.start_date < D(2019, 3, 2),
    ),
    (
        "T_INTERSECTS(INTERVAL(start_date, end_date), INTERVAL('2019-03-05', '2019-04-11'))",
        {
            "op": "t_intersects",
            "args": [
                {"interval": [{"property": "start_date"}, {"property": "end_date"}]},
                {"interval": ["2019-03-05", "2019-04-11"]},
            ],
        },
        lambda i: intersects(i, D(2019, 3, 5), D(2019, 4, 11)),
    ),
    (
        "T_INTERSECTS(start_date, INTERVAL('2019-06-01', '..'))",
        {"op": "t_intersects", "args": [{"property": "start_date"}, {"interval": ["2019-06-01", ".."]}]},
        lambda i: i.start_date >= D(2019, 6, 1),
    ),
    (
        "T_DURING(INTERVAL(start_date, end_date), INTERVAL('2019-01-01', '2019-05-01'))",
        {
            "op": "t_during",
            "args": [
                {"interval": [{"property": "start_date"}, {"property": "end_date"}]},
                {"interval": ["2019-01-01", "2019-05-01"]},
            ],
        },
        lambda i: i.start_date > D(2019, 1, 1) and i.end_date < D(2019, 5, 1),
    ),
    (
        "T_BEFORE(end_date, DATE('2019-03-01'))",
        {"op": "t_before", "args": [{"property": "end_date"}, {"date": "2019-03-01"}]},
        lambda i: i.end_date < D(2019, 3, 1),
    ),
    (
        "T_AFTER(start_date, TIMESTAMP('2019-07-20T23:00:00Z'))",
        {"op": "t_after", "args": [{"property": "start_date"}, {"timestamp": "2019-07-20T23:00:00Z"}]},
        lambda i: i.start_date > D(2019, 7, 20),
    ),
    (
        "T_EQUALS(start_date, DATE('2019-01-21'))",
        {"op": "t_equals", "args": [{"property": "start_date"}, {"date": "2019-01-21"}]},
        lambda i: i.start_date == D(2019, 1, 21),
    ),
    (
        "T_DISJOINT(INTERVAL(start_date, end_date), INTERVAL('2019-03-05', '2019-04-11'))",
        {
            "op": "t_disjoint",
            "args": [
                {"interval": [{"property": "start_date"}, {"property": "end_date"}]},
                {"interval": ["2019-03-05", "2019-04-11"]},
            ],
        },
        lambda i: not intersects(i, D(2019, 3, 5), D(2019, 4, 11)),
    ),
    (
        "T_OVERLAPS(INTERVAL(start_date, end_date), INTERVAL('2019-01-23', '2019-12-31'))",
        {
            "op": "t_overlaps",
            "args": [
                {"interval": [{"property": "start_date"}, {"property": "end_date"}]},
                {"interval": ["2019-01-23", "2019-12-31"]},
            ],
        },
        lambda i: i.start_date < D(2019, 1, 23) < i.end_date < D(2019, 12, 31),
    ),
    # CASEI() makes a vocabulary term plain text: no value is refused, and the capitals find nothing.
    (
        "CASEI(event_type) = CASEI('BATTLES') AND CASEI(event_type) <> 'BATTLES'",
        None,
        lambda i: i.event_type.slug == "battles",
    ),
    (
        "S_EQUALS(geometry, geometry) AND S_INTERSECTS(geometry, BBOX(37, 33, 40, 36))",
        None,  # property against property, spatially
        lambda i: BOX.intersects(i.location),
    ),
    ("TRUE", True, lambda i: True),
    ("1 = 2", {"op": "=", "args": [1, 2]}, lambda i: False),
]


@pytest.mark.parametrize(("text", "as_json", "keep"), CASES, ids=[case[0] for case in CASES])
def test_each_filter_keeps_the_incidents_python_keeps_in_both_encodings(client, incidents, text, as_json, keep):
    wanted = expected(incidents, keep)
    assert ids(client, filter=text) == wanted
    if as_json is not None:
        assert ids(client, **{"filter": json.dumps(as_json), "filter-lang": "cql2-json"}) == wanted


def test_the_table_is_not_trivially_true(incidents):
    """Each case keeps some incidents and leaves out others (bar the two constants), so each can fail."""
    for text, _json, keep in CASES:
        kept = expected(incidents, keep)
        assert text in ("TRUE", "1 = 2") or 0 < len(kept) < len(incidents), text


def test_drafts_and_retractions_never_match(client, incidents):
    assert ids(client, filter="fatalities_best = 900 OR title LIKE '%not public%'") == set()
    assert len(ids(client, filter="TRUE")) == 12


def test_the_filter_narrows_bbox_datetime_and_our_filters(client, incidents):
    wanted = expected(
        incidents,
        lambda i: i.country == "SY" and BOX.intersects(i.location) and intersects(i, D(2019, 3, 1), D(2019, 12, 31)),
    )
    assert wanted
    assert ids(client, filter="country = 'SY'", bbox="37,33,40,36", datetime="2019-03-01/2019-12-31") == wanted
    # `event_type` the query parameter and the filter: both hold.
    both = expected(incidents, lambda i: i.event_type.slug == "battles" and i.fatalities_best is not None)
    assert ids(client, event_type="battles", filter="fatalities_best IS NOT NULL") == both


def test_repeated_filters_must_all_hold(client, incidents):
    wanted = expected(incidents, lambda i: i.country == "SY" and (i.fatalities_best or 0) > 10)
    response = client.get(ITEMS, {"filter": ["country = 'SY'", "fatalities_best > 10"], "limit": 100})
    assert {feature["id"] for feature in json.loads(b"".join(response.streaming_content))["features"]} == wanted
    # The same language given twice is one language; two languages are a contradiction.
    assert client.get(ITEMS, {"filter": "country = 'SY'", "filter-lang": ["cql2-text"] * 2}).status_code == 200
    twice = client.get(ITEMS, {"filter": "country = 'SY'", "filter-lang": ["cql2-text", "cql2-json"]})
    assert twice.status_code == 400
    assert list(twice.json()["errors"]) == ["filter-lang"]


def test_paging_through_a_filter_follows_next_links_that_keep_it(client, incidents, settings):
    wanted = sorted(
        (i for i in incidents if i.country == "SY"), key=lambda i: (i.start_date, i.pk), reverse=True
    )  # newest first, the default order
    seen, url, params = [], ITEMS, {"filter": "country = 'SY'", "limit": 3}
    while url:
        response = client.get(url, params)
        body = json.loads(b"".join(response.streaming_content))
        assert "numberMatched" not in body  # the aggregates do not know a CQL2 filter's count
        seen += [feature["id"] for feature in body["features"]]
        following = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url, params = (following[0], None) if following else (None, None)
        if url:
            assert parse_qs(urlsplit(url).query)["filter"] == ["country = 'SY'"]
    assert seen == [incident.pk for incident in wanted]


def test_sortby_orders_with_nulls_last_and_ties_by_id(client, incidents):
    body = page(client, sortby="-fatalities_best", limit=100)
    with_figure = sorted((i for i in incidents if i.fatalities_best is not None), key=lambda i: -i.fatalities_best)
    without = sorted((i for i in incidents if i.fatalities_best is None), key=lambda i: i.pk)
    assert [feature["id"] for feature in body["features"]] == [i.pk for i in with_figure + without]
    by_type = page(client, sortby="event_type,-start_date", limit=100)
    wanted = sorted(incidents, key=lambda i: (i.event_type.slug, -i.start_date.toordinal()))
    assert [feature["id"] for feature in by_type["features"]] == [i.pk for i in wanted]
    # Equal keys (three admin1 values for twelve incidents) come in id order.
    by_region = page(client, sortby="+admin1", limit=100)
    assert [feature["id"] for feature in by_region["features"]] == [
        i.pk for i in sorted(incidents, key=lambda i: (i.admin1, i.pk))
    ]


def test_sortby_pages_with_next_and_prev_links_and_the_filter(client, incidents):
    wanted = [
        i.pk
        for i in sorted((i for i in incidents if i.country == "SY"), key=lambda i: (-(i.fatalities_best or -1), i.pk))
    ]
    pages, url, params = [], ITEMS, {"filter": "country = 'SY'", "sortby": "-fatalities_best", "limit": 3}
    while url:
        body = json.loads(b"".join(client.get(url, params).streaming_content))
        pages.append(body)
        links = {link["rel"]: link["href"] for link in body["links"]}
        assert ("prev" in links) == (len(pages) > 1)
        url, params = links.get("next"), None
    assert [feature["id"] for body in pages for feature in body["features"]] == wanted
    last_prev = {link["rel"]: link["href"] for link in pages[-1]["links"]}["prev"]
    back = json.loads(b"".join(client.get(last_prev).streaming_content))
    assert back["features"] == pages[-2]["features"]
    # A cursor of one order does not page another.
    foreign = client.get(ITEMS, {"sortby": "title", "cursor": parse_qs(urlsplit(last_prev).query)["cursor"][0]})
    assert foreign.status_code == 400
    assert list(foreign.json()["errors"]) == ["cursor"]


def test_repeated_and_comma_sortby_mean_the_same(client, incidents):
    comma = page(client, sortby="country,-fatalities_best", limit=100)
    repeated = client.get(ITEMS, {"sortby": ["country", "-fatalities_best"], "limit": 100})
    assert json.loads(b"".join(repeated.streaming_content))["features"] == comma["features"]


@pytest.mark.parametrize(
    ("params", "parameter", "reason"),
    [
        ({"filter": "colour = 'red'"}, "filter", "“colour” is not a queryable"),
        ({"filter": "country = "}, "filter", "is not valid cql2-text"),
        ({"filter": "(((country = 'SY'"}, "filter", "is not valid cql2-text"),
        ({"filter": "fatalities_best > 'many'"}, "filter", "is a whole number"),
        ({"filter": "fatalities_best = 2.5"}, "filter", "is a whole number"),
        ({"filter": "title = 3"}, "filter", "is text"),
        ({"filter": "start_date > '2019-02-30'"}, "filter", "is not a date"),
        ({"filter": "event_type = 'skirmish'"}, "filter", "is not a value of “event_type”"),
        ({"filter": "geometry = 'x'"}, "filter", "spatial functions"),
        ({"filter": "S_INTERSECTS(geometry, POINT(200 10))"}, "filter", "within ±180"),
        ({"filter": "S_INTERSECTS(title, POINT(20 10))"}, "filter", "is not a geometry"),
        ({"filter": "S_INTERSECTS(geometry, POINT EMPTY)"}, "filter", "is not valid cql2-text"),
        ({"filter": "S_INTERSECTS(geometry, MULTIPOINT EMPTY)"}, "filter", "is empty"),
        ({"filter": "S_WITHIN(geometry, POLYGON((0 0, 10 10, 10 0, 0 10, 0 0)))"}, "filter", "Self-intersection"),
        ({"filter": "fatalities_best = title"}, "filter", "cannot be compared"),
        ({"filter": "fatalities_best > 9223372036854775808"}, "filter", "out of range"),
        ({"filter": "T_INTERSECTS(fatalities_best, DATE('2019-01-01'))"}, "filter", "is not a date"),
        ({"filter": "T_DURING(start_date, INTERVAL('2019-05-01', '2019-01-01'))"}, "filter", "ends before"),
        ({"filter": "fatalities_best + 1 > 3"}, "filter", "arithmetic is not supported"),
        ({"filter": "ACCENTI(title) = 'x'"}, "filter", "ACCENTI"),
        ({"filter": "title = 'a\x00b'"}, "filter", "NUL"),
        ({"filter": "NOT " * 100 + "country = 'SY'"}, "filter", "nests too deep"),
        ({"filter": "(" * 500 + "country = 'SY'" + ")" * 500}, "filter", "nests too deep"),
        ({"filter": "fatalities_best = " + "-" * 5000 + "1"}, "filter", "nests too deep"),
        ({"filter": "country = 'SY'", "filter-lang": "cql2-json"}, "filter", "is not valid cql2-json"),
        (
            {"filter": '{"op": "=", "args": [{"property": "country"}]}', "filter-lang": "cql2-json"},
            "filter",
            "takes 2 arguments",
        ),
        ({"filter": "country = 'SY'", "filter-lang": "sql"}, "filter-lang", "cql2-text or cql2-json"),
        (
            {"filter": "country = 'SY'", "filter-crs": "http://www.opengis.net/def/crs/EPSG/0/3857"},
            "filter-crs",
            "CRS84",
        ),
        ({"sortby": "description"}, "sortby", "cannot sort by “description”"),
        ({"sortby": "+nope"}, "sortby", "cannot sort by “nope”"),
        ({"sortby": "title,-title"}, "sortby", "given twice"),
        ({"filterr": "country = 'SY'"}, "filterr", "is not a parameter"),
    ],
)
def test_bad_filters_and_sorts_are_400s_naming_the_parameter(client, incidents, params, parameter, reason):
    response = client.get(ITEMS, params)
    assert response.status_code == 400
    body = response.json()
    assert list(body["errors"]) == [parameter]
    assert reason in body["errors"][parameter][0], body


def test_the_draft_name_of_cql2_text_that_older_gdal_sends_is_accepted(client, incidents):
    wanted = expected(incidents, lambda i: i.start_date >= D(2019, 6, 1))
    # GDAL 3.6 writes dates with a trailing T.
    assert ids(client, **{"filter": "start_date >= '2019-06-01T'", "filter-lang": "cql-text"}) == wanted


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@given(
    text=st.one_of(
        st.text(max_size=60),
        st.builds(
            lambda name, op, value: f"{name} {op} {value}",
            st.sampled_from(["country", "title", "fatalities_best", "start_date", "geometry", "id", "nope"]),
            st.sampled_from(["=", "<>", "<", ">=", "LIKE", "IN", "BETWEEN"]),
            st.one_of(st.integers(), st.floats(allow_nan=False), st.text(max_size=10).map(repr)),
        ),
    ),
    language=st.sampled_from(["cql2-text", "cql2-json"]),
)
def test_no_filter_text_gives_a_server_error(client, incidents, text, language):
    response = client.get(ITEMS, {"filter": text, "filter-lang": language})
    assert response.status_code in (200, 400), (text, response.status_code)


def test_the_queryables_are_a_json_schema_linked_from_the_collection(client, incidents):
    collection = client.get(reverse("incidents:ogc-collection", args=["incidents"])).json()
    links = [link for link in collection["links"] if link["rel"].endswith("/queryables")]
    assert {link["type"] for link in links} == {"application/schema+json", "text/html"}
    response = client.get(QUERYABLES)
    assert response["Content-Type"] == "application/schema+json"
    schema = response.json()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"http://testserver{QUERYABLES}"
    assert schema["additionalProperties"] is False
    properties = schema["properties"]
    assert properties["geometry"]["x-ogc-role"] == "primary-geometry"
    assert properties["start_date"] == {
        "title": "First day",
        "type": "string",
        "format": "date",
        "x-ogc-role": "primary-interval-start",
        "x-sortable": True,
    }
    assert properties["event_type"]["enum"] == sorted(EventType.objects.values_list("slug", flat=True))
    assert properties["fatalities_best"]["type"] == ["integer", "null"]
    assert "x-sortable" not in properties["description"]
    # Every public feature property a filter may test is there, and nothing the feature does not show.
    feature = page(client, limit=1)["features"][0]
    assert set(properties) - {"id", "geometry"} <= set(feature["properties"])


def test_the_queryables_as_html_are_a_table(client, incidents):
    response = client.get(QUERYABLES, {"f": "html"})
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert "<caption>Properties a filter may test</caption>" in html
    assert '<th scope="row"><code>fatalities_best</code></th>' in html
    assert "explosions-remote-violence" in html
    browser = client.get(QUERYABLES, HTTP_ACCEPT="text/html,*/*;q=0.8")
    assert browser["Content-Type"] == "text/html; charset=utf-8"
    assert client.get(QUERYABLES, {"f": "xml"}).status_code == 400
    assert client.get(reverse("incidents:ogc-queryables", args=["tanks"])).status_code == 404


def test_the_items_page_has_a_filter_form_that_keeps_what_was_asked(client, incidents):
    response = client.get(ITEMS, {"f": "html", "filter": "title LIKE '<b>%'", "sortby": "-start_date"})
    html = response.content.decode()
    assert '<form class="ogc-filter" method="get"' in html
    assert "title LIKE &#x27;&lt;b&gt;%&#x27;</textarea>" in html
    assert 'name="sortby" value="-start_date"' in html


def test_conformance_lists_part_3_and_cql2(client):
    conforms_to = client.get(reverse("incidents:ogc-conformance")).json()["conformsTo"]
    for uri in (
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
        "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
        "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    ):
        assert uri in conforms_to
    # Only what is implemented: no arithmetic, arrays or accent-insensitive comparison.
    assert not any(
        uri.endswith(("/arithmetic", "/array-functions", "/accent-insensitive-comparison")) for uri in conforms_to
    )


def test_an_arabic_reader_gets_the_same_answers(client, incidents):
    params = {"filter": "country = 'SY'", "sortby": "-start_date", "limit": 100}
    english = json.loads(b"".join(client.get(ITEMS, params).streaming_content))
    arabic = json.loads(b"".join(client.get(ITEMS, params, HTTP_ACCEPT_LANGUAGE="ar").streaming_content))
    assert arabic["features"] == english["features"]
    assert client.get(QUERYABLES, HTTP_ACCEPT_LANGUAGE="ar").json() == client.get(QUERYABLES).json()


OPERATORS = ["and", "or", "not", "=", "<>", "<", ">=", "like", "in", "between", "isNull", "casei", "s_intersects",
             "s_within", "t_intersects", "t_during", "t_disjoint", "+", "accenti", "a_contains", "nope"]  # fmt: skip
PROPERTIES = ["country", "title", "fatalities_best", "start_date", "updated_at", "geometry", "event_type", "nope"]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(PROPERTIES).map(lambda name: {"property": name}),
    st.sampled_from(["2019-04-20", "2019-02-30", "..", "x"]).map(lambda day: {"date": day}),
    st.sampled_from(["2019-04-20T10:00:00Z", "nope"]).map(lambda moment: {"timestamp": moment}),
    st.lists(st.sampled_from(["2019-01-01", "..", "2018-01-01", "x"]), min_size=0, max_size=3).map(
        lambda ends: {"interval": ends}
    ),
    st.lists(st.floats(min_value=-200, max_value=200), min_size=0, max_size=5).map(lambda box: {"bbox": box}),
    st.sampled_from([{"type": "Point", "coordinates": [37, 34]}, {"type": "Polygon", "coordinates": []}]),
)
TREES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.builds(
            lambda op, args: {"op": op, "args": args}, st.sampled_from(OPERATORS), st.lists(children, max_size=3)
        ),
        st.lists(children, max_size=3),
    ),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@given(tree=TREES)
def test_no_cql2_json_tree_gives_a_server_error(client, incidents, tree):
    response = client.get(ITEMS, {"filter": json.dumps(tree), "filter-lang": "cql2-json"})
    assert response.status_code in (200, 400), (tree, response.status_code)
