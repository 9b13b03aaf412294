"""`q` on a common word read from MapTermCell: the clusters of the words `manage.py refresh_map_terms` chose.

Expected counts are worked out here in Python from the incidents' own text, not by the SQL under test.
"""

import datetime
import io
import random
import re

import pytest
from django.contrib.gis.geos import Point
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import services
from incidents.aggregates.triggers import HAYSTACK
from incidents.map.cells import map_term_id
from incidents.models import (
    EventType,
    Incident,
    IncidentActor,
    LocationPrecision,
    MapTerm,
    MapTermCell,
    SubEventType,
    incident_text_haystack,
)
from tests.factories import ActorFactory, IncidentFactory, SourceFactory, incidents_bulk_create
from tests.map_helpers import (
    LIST,
    POINTS_MAX,
    SYRIA_AND_IRAQ,
    WORLD,
    expected,
    get_feed,
    incident_key,
    overlaps,
)
from tests.random_writes import random_write
from tests.shared_rows import fresh_copy, rows_for_the_module

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("map_thresholds")]


def matches(incident, q):
    """`q` (one word) as the text filter means it, worked out here: a word of the title, description, reported place
    or gazetteer name, or a substring, in any case, of title, reported place or description (not the gazetteer's)."""
    q = q.strip().lower()
    words = re.findall(r"\w+", " ".join([incident.title, incident.description, incident.place_reported,
                                          incident.place_name]).lower())  # fmt: skip
    haystack = "\x1f".join([incident.title, incident.place_reported, incident.description]).lower()
    return q in words or q in haystack


# Texts by incident number (modulo 6): "near" as a word, only inside "nearby" (a substring), in capitals in the
# reported place; "aleppo" as a word, inside "Aleppos", or only in the gazetteer's name (a word, not a substring of
# what is searched for one).
TEXTS = [
    {"title": "Shelling near Aleppo"},
    {"description": "Reported from nearby Aleppos."},
    {"place_name": "Aleppo"},
    {"place_reported": "NEAR the river"},
    {},
    {},
]


@pytest.fixture(scope="module")
def worded_incidents_once(django_db_setup, django_db_blocker):
    """1,800 published incidents over Syria and Iraq carrying the words of TEXTS, varied in type, dates (some across
    month ends), fatalities and precision; 200 drafts among them saying "Draft near Aleppo". Then the terms chosen
    among words in at least 2 published incidents. Made once for the module (tests/shared_rows.py)."""
    yield from rows_for_the_module(django_db_blocker, make_worded_incidents)


@pytest.fixture
def worded_incidents(worded_incidents_once, db):
    return fresh_copy(worded_incidents_once)


def make_worded_incidents():
    rng = random.Random(19)
    kinds = list(EventType.objects.order_by("slug"))

    def row(number):
        lon, lat = round(rng.uniform(35.7, 45.0), 5), round(rng.uniform(32.3, 37.2), 5)
        start = datetime.date(2012, 1, 1) + datetime.timedelta(days=rng.randrange(0, 4000))
        return {
            "location": Point(lon, lat, srid=4326),
            "start_date": start,
            "end_date": start + datetime.timedelta(days=rng.choice([0, 0, 2, 45])),
            "event_type": kinds[number % len(kinds)],
            "fatalities_best": rng.choice([None, 0, 1, 3, 12]),
            "location_precision": rng.choice(list(LocationPrecision)),
            "country": "IQ" if lon > 42.0 else "SY",
            "admin1": rng.choice(["Aleppo", "Homs", ""]) if lon <= 42.0 else "Ninewa",
            **TEXTS[number % len(TEXTS)],
        }

    published = incidents_bulk_create(row(number) for number in range(1800))
    drafts = incidents_bulk_create(
        ({**row(number), "title": "Draft near Aleppo"} for number in range(200)), published=False
    )
    call_command("refresh_map_terms", "--min-incidents", "2", stdout=io.StringIO())
    return {"published": published, "drafts": drafts}


def feed_and_tables(client, bbox, zoom, **filters):
    with CaptureQueriesContext(connection) as queries:
        body = get_feed(client, bbox, zoom, **filters)
    return body, {table for table in ("incidents_maptermcell", "incidents_mapcell") if table_read(queries, table)}


def table_read(queries, table):
    return any(re.search(rf"\b{table}\b", query["sql"]) for query in queries.captured_queries)


TERM_CASES = [
    ({"q": "near"}, lambda i: matches(i, "near")),
    ({"q": "  NEAR "}, lambda i: matches(i, "near")),  # stripped and in any case: the same term
    ({"q": "Aleppo"}, lambda i: matches(i, "aleppo")),
    ({"q": "aleppos"}, lambda i: matches(i, "aleppos")),
    ({"q": "near", "start": "2014-03-17", "end": "2016-08-09"},
     lambda i: matches(i, "near") and overlaps(i, "2014-03-17", "2016-08-09")),
    ({"q": "aleppo", "event_type": "battles", "country": "SY", "end": "2015-02-10"},
     lambda i: matches(i, "aleppo") and i.event_type.slug == "battles" and i.country == "SY"
     and overlaps(i, end="2015-02-10")),
    ({"q": "near", "precision": ["2", "3"], "admin1": "Aleppo,Homs", "start": "2013-05-20"},
     lambda i: matches(i, "near") and i.location_precision in (2, 3) and i.admin1 in ("Aleppo", "Homs")
     and overlaps(i, start="2013-05-20")),
]  # fmt: skip


def test_clusters_under_a_kept_term_add_up_to_the_matching_incidents(client, worded_incidents):
    assert {"near", "aleppo", "aleppos", "nearby"} <= set(MapTerm.objects.values_list("term", flat=True))
    published = worded_incidents["published"]
    read = 0
    # Views whose edges cut through cells, at zooms up to 11 (the table's reach).
    for bbox, zoom in ((SYRIA_AND_IRAQ, 6), ((36.5, 35.0, 41.3, 36.2021), 7), (WORLD, 3)):
        for filters, keep in TERM_CASES:
            total, fatalities, chosen = expected(published, bbox, keep)
            body, tables = feed_and_tables(client, bbox, zoom, **filters)
            assert body["total"] == total and body["total_fatalities"] == fatalities, (bbox, filters)
            listed = client.get(LIST, {"bbox": ",".join(map(str, bbox)), **filters}).json()
            assert listed["total"] == total, (bbox, filters)
            if total <= POINTS_MAX:
                continue
            read += 1
            assert tables == {"incidents_maptermcell"}, (bbox, filters)
            assert body["mode"] == "clusters"
            assert sum(cluster["count"] for cluster in body["clusters"]) == total, (bbox, filters)
            assert sum(cluster["fatalities"] for cluster in body["clusters"]) == fatalities, (bbox, filters)
            # The summary's dates are exact, though the table keeps months.
            first, last = min(i.start_date for i in chosen), max(i.start_date for i in chosen)
            assert body["summary"].endswith(f"from {first.day} {first:%b %Y} to {last.day} {last:%b %Y}"), filters
    assert read >= 12


def test_drafts_and_other_words_are_never_in_a_terms_cells(client, worded_incidents):
    published = worded_incidents["published"]
    # Drafts carry "near" (and alone "draft"): neither the word's cells nor the choice of words count them.
    near = MapTerm.objects.get(term="near")
    in_cells = sum(MapTermCell.objects.filter(term=near).values_list("incidents", flat=True))
    assert in_cells == near.incidents == sum(matches(incident, "near") for incident in published)
    assert not MapTerm.objects.filter(term="draft").exists()
    assert get_feed(client, WORLD, 3, q="draft")["total"] == 0
    # "aleppo" in the gazetteer's name alone is a match; "river" only where the reported place says it.
    aleppo = MapTerm.objects.get(term="aleppo")
    assert aleppo.incidents == sum(matches(incident, "aleppo") for incident in published) == 900
    assert MapTerm.objects.get(term="river").incidents == 300


def test_q_the_table_cannot_answer_is_counted_live_and_agrees(client, worded_incidents):
    published = worded_incidents["published"]
    clash = SubEventType.objects.get(slug="battles-armed-clash")
    battles = [incident for incident in published if incident.event_type.slug == "battles"][::2]
    Incident.objects.filter(pk__in=[incident.pk for incident in battles]).update(sub_event_type=clash)
    army = ActorFactory(name="Army")
    IncidentActor.objects.bulk_create(
        IncidentActor(incident=incident, actor=army, side="a") for incident in published[:600]
    )
    cases = [
        # Two words mean both (web-search syntax), which no one term's cells say: only "Shelling near Aleppo" has both.
        ({"q": "near aleppo"}, lambda i: i.title == "Shelling near Aleppo"),
        ({"q": "nea"}, lambda i: matches(i, "nea")),  # a substring of a term is not the term
        # A term with a filter only the detail or actor tables keep.
        ({"q": "near", "fatalities_min": "3"}, lambda i: matches(i, "near") and (i.fatalities_best or 0) >= 3),
        ({"q": "near", "sub_event_type": "battles-armed-clash"}, lambda i: matches(i, "near") and i in battles),
        ({"q": "aleppo", "actor": army.pk}, lambda i: matches(i, "aleppo") and i in published[:600]),
    ]
    for filters, keep in cases:
        total, fatalities, _ = expected(published, SYRIA_AND_IRAQ, keep)
        body, tables = feed_and_tables(client, SYRIA_AND_IRAQ, 6, **filters)
        assert total > POINTS_MAX, filters
        assert not tables, filters  # neither table: counted over the incidents
        assert body["mode"] == "clusters"
        assert body["total"] == total and body["total_fatalities"] == fatalities, filters


def test_the_command_chooses_words_over_the_threshold_and_replaces_them(settings):
    for title in ["Shelling near Aleppo"] * 3 + ["Shelling near Homs"] * 2:
        IncidentFactory(published=True, title=title)
    IncidentFactory(published=True, title="Quiet", description="Troops nearby.")
    for _ in range(5):
        IncidentFactory(title="Draft near Raqqa")  # drafts: never counted, so "raqqa" is in no published incident
    out = io.StringIO()
    call_command("refresh_map_terms", "--min-incidents", "3", stdout=out)
    chosen = dict(MapTerm.objects.values_list("term", "incidents"))
    # Every factory incident's reported place is "north of Palmyra"; "near" also matches inside "nearby".
    # "of" too, but a function word is never kept.
    assert chosen == {"shelling": 5, "near": 6, "aleppo": 3, "north": 6, "palmyra": 6}
    assert "near (6)" in out.getvalue() and "5 terms" in out.getvalue()
    near = MapTerm.objects.get(term="near")
    aleppo = MapTerm.objects.get(term="aleppo")
    assert MapTermCell.objects.filter(term=aleppo).exists()
    # What `q` the map reads a term's cells for: the word itself, in any case, with spaces round it; nothing else.
    assert map_term_id(text=" Near\n", using="default") == near.pk
    assert map_term_id(text="near aleppo", using="default") is None
    assert map_term_id(text="nea", using="default") is None

    call_command("refresh_map_terms", "--min-incidents", "4", stdout=io.StringIO())
    assert set(MapTerm.objects.values_list("term", flat=True)) == {"shelling", "near", "north", "palmyra"}
    assert MapTerm.objects.get(term="near").pk == near.pk  # kept terms keep their id
    assert not MapTermCell.objects.filter(term_id=aleppo.pk).exists()  # a dropped term's cells go with it
    assert sum(MapTermCell.objects.filter(term=near).values_list("incidents", flat=True)) == 6

    # The default comes from the settings. The threshold counts incidents carrying the word (5 for "near"), the
    # term's count every match.
    settings.MAP_TERM_MIN_INCIDENTS = 6
    call_command("refresh_map_terms", stdout=io.StringIO())
    assert set(MapTerm.objects.values_list("term", flat=True)) == {"north", "palmyra"}
    with pytest.raises(CommandError, match="at least 1"):
        call_command("refresh_map_terms", "--min-incidents", "0")

    # At most MAP_TERM_MAX_TERMS (or --max-terms) words, the most common first; Arabic function words are not kept.
    for _ in range(7):
        IncidentFactory(published=True, title="قصف في حلب")
    call_command("refresh_map_terms", "--min-incidents", "6", stdout=io.StringIO())
    assert set(MapTerm.objects.values_list("term", flat=True)) == {"north", "palmyra", "قصف", "حلب"}
    call_command("refresh_map_terms", "--min-incidents", "3", "--max-terms", "2", stdout=io.StringIO())
    assert set(MapTerm.objects.values_list("term", flat=True)) == {"north", "palmyra"}  # 13 incidents each
    settings.MAP_TERM_MAX_TERMS = 3
    call_command("refresh_map_terms", "--min-incidents", "3", stdout=io.StringIO())
    assert MapTerm.objects.count() == 3


def test_the_triggers_haystack_is_the_one_django_builds_for_q():
    """The substring half of the match must be the filter's own expression, written out in the triggers."""
    compiled = Incident.objects.annotate(haystack=incident_text_haystack()).values("haystack")
    sql, params = compiled.query.sql_with_params()
    sql = connection.ops.compose_sql(sql, params)
    expression = re.match(r'SELECT \((.*)\) AS "haystack" FROM', sql).group(1)
    assert expression.replace('"incidents_incident".', "i.").replace('"', "") == HAYSTACK


def live_term_cells():
    """{(term id, MapCell key): (incidents, fatalities)} worked out here over every published incident."""
    terms = dict(MapTerm.objects.values_list("term", "id"))
    cells = {}
    for incident in Incident.objects.published():
        for term, term_id in terms.items():
            if matches(incident, term):
                key = (term_id, *incident_key(incident))
                n, f = cells.get(key, (0, 0))
                cells[key] = (n + 1, f + (incident.fatalities_best or 0))
    return cells


def stored_term_cells():
    keys = ("term_id", "cell_x", "cell_y", "start_month", "end_month", "event_type_id", "country", "admin1",
            "location_precision")  # fmt: skip
    return {
        tuple(row[key] for key in keys): (row["incidents"], row["fatalities"])
        for row in MapTermCell.objects.values(*keys, "incidents", "fatalities")
    }


def test_term_cells_equal_a_live_count_through_any_sequence_of_writes():
    rng = random.Random(20)
    types = list(EventType.objects.all())
    titles = ["Shelling near Aleppo", "Quiet day", "Shelling of Homs", "Fighting in ALEPPO's east"]

    def random_fields():
        start = datetime.date(2016, 1, 1) + datetime.timedelta(days=rng.randint(0, 90))
        return {
            "title": rng.choice(titles),
            "description": rng.choice(["", "Troops nearby.", "Near the river."]),
            "place_name": rng.choice(["", "Aleppo", "Homs"]),
            "start_date": start,
            "end_date": start + datetime.timedelta(days=rng.choice([0, 2, 31])),
            "event_type": rng.choice(types),
            "fatalities_best": rng.choice([None, 0, 4]),
            "location": Point(37.1 + rng.uniform(-0.15, 0.15), 36.2 + rng.uniform(-0.15, 0.15), srid=4326),
        }

    incidents = [
        IncidentFactory(published=rng.random() < 0.6, sources=[SourceFactory()], **random_fields()) for _ in range(30)
    ]
    services.map_terms_refresh(min_incidents=2, max_terms=50)
    assert {"near", "aleppo", "shelling"} <= set(MapTerm.objects.values_list("term", flat=True))
    assert stored_term_cells() == live_term_cells()
    for step in range(80):
        incident = rng.choice(incidents)
        incident.refresh_from_db()
        action = rng.choice(["text", "gazetteer", "edit", "move", "publish", "unpublish", "delete", "bulk"])
        if action == "text":  # a match appears or disappears
            incident.title, incident.description = rng.choice(titles), rng.choice(["", "Troops nearby."])
            incident.save()
        elif action == "gazetteer":
            Incident.objects.filter(pk=incident.pk).update(place_name=rng.choice(["", "Aleppo"]))
        else:
            random_write(action, incident, incidents, random_fields, title=rng.choice(titles))
        assert stored_term_cells() == live_term_cells(), f"after step {step} ({action})"
