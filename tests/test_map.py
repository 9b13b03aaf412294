import datetime

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.urls import reverse
from django.utils import translation

from incidents.filters import IncidentFilterSet
from incidents.models import DatePrecision, EventType, Incident, LocationPrecision, Side, Status
from tests.factories import ActorFactory, IncidentFactory

pytestmark = pytest.mark.django_db

FEED = reverse("incidents:map-feed")
LIST = reverse("incidents:map-list")


@pytest.fixture
def spring_2019():
    """Published incidents in March, April and May 2019, plus a draft and a retraction that must never show."""
    battles = EventType.objects.get(slug="battles")
    protests = EventType.objects.get(slug="protests")
    islamic_state = ActorFactory(name="Islamic State")
    army = ActorFactory(name="Syrian Arab Army")
    return {
        "march": IncidentFactory(published=True, title="March clash", start_date=datetime.date(2019, 3, 30)),
        "palmyra": IncidentFactory(
            published=True,
            title="IS assault north of Palmyra",
            start_date=datetime.date(2019, 4, 18),
            end_date=datetime.date(2019, 4, 20),
            fatalities_low=35,
            fatalities_best=35,
            event_type=battles,
            location=Point(38.2673, 34.556, srid=4326),
            location_precision=LocationPrecision.NEAR,
            actors=[(islamic_state, Side.A), (army, Side.B)],
        ),
        "protest": IncidentFactory(
            published=True,
            title="Protest in Idlib",
            start_date=datetime.date(2019, 4, 26),
            event_type=protests,
            admin1="Idlib",
            location=Point(36.63, 35.93, srid=4326),
            fatalities_best=0,
        ),
        "may": IncidentFactory(
            published=True,
            title="May shelling",
            start_date=datetime.date(2019, 5, 2),
            date_precision=DatePrecision.MONTH,
            fatalities_best=4,
        ),
        "draft": IncidentFactory(title="Unpublished draft", start_date=datetime.date(2019, 4, 19)),
        "retracted": IncidentFactory(
            title="Retracted report",
            status=Status.RETRACTED,
            retraction_reason="Wrong place",
            start_date=datetime.date(2019, 4, 19),
        ),
    }


def titles(response):
    return [point["title"] for point in response.json()["incidents"]]


def test_feed_lists_published_incidents_newest_first_with_what_markers_need(client, spring_2019):
    response = client.get(FEED)
    assert response.status_code == 200
    assert titles(response) == ["May shelling", "Protest in Idlib", "IS assault north of Palmyra", "March clash"]
    palmyra = response.json()["incidents"][2]
    assert palmyra == {
        "id": spring_2019["palmyra"].pk,
        "title": "IS assault north of Palmyra",
        "precision": LocationPrecision.NEAR,
        "lat": 34.556,
        "lon": 38.2673,
        "type": "battles",
        "fatalities": 35,
    }
    body = response.json()
    assert body["total"] == 4
    assert body["total_fatalities"] == 39
    assert body["summary"] == "4 incidents, 39 fatalities, from 30 Mar 2019 to 2 May 2019"
    assert body["mode"] == "points"


def test_list_rows_say_when_where_and_how_many_in_words(client, spring_2019):
    body = client.get(LIST).json()
    assert [row["title"] for row in body["incidents"]] == [
        "May shelling",
        "Protest in Idlib",
        "IS assault north of Palmyra",
        "March clash",
    ]
    assert body["incidents"][2] == {
        "id": spring_2019["palmyra"].pk,
        "title": "IS assault north of Palmyra",
        "title_lang": "en",
        "title_mark": "",
        "start": "2019-04-18",
        "end": "2019-04-20",
        "when": "18–20 Apr 2019",
        "precision": LocationPrecision.NEAR,
        "place": "north of Palmyra",
        "lat": 34.556,
        "lon": 38.2673,
        "type": "battles",
        "fatalities": 35,
        "fatalities_label": "at least 35",
    }
    assert body["incidents"][0]["when"] == "May 2019"  # month precision is said as a month
    assert (body["total"], body["page"], body["pages"]) == (4, 1, 1)


def test_feed_date_range_keeps_only_april(client, spring_2019):
    response = client.get(FEED, {"start": "2019-04-01", "end": "2019-04-30"})
    assert titles(response) == ["Protest in Idlib", "IS assault north of Palmyra"]


def test_feed_filters_by_event_type_actor_side_and_text(client, spring_2019):
    assert titles(client.get(FEED, {"event_type": "protests"})) == ["Protest in Idlib"]
    assert "Protest in Idlib" not in titles(client.get(f"{FEED}?event_type=battles&event_type=riots"))
    islamic_state = spring_2019["palmyra"].incident_actors.get(side=Side.A).actor
    assert titles(client.get(FEED, {"actor": islamic_state.pk, "side": "a"})) == ["IS assault north of Palmyra"]
    assert titles(client.get(FEED, {"actor": islamic_state.pk, "side": "b"})) == []
    assert titles(client.get(FEED, {"q": "shell"})) == ["May shelling"]
    assert titles(client.get(FEED, {"admin1": "Idlib"})) == ["Protest in Idlib"]
    assert titles(client.get(FEED, {"precision": "2"})) == ["IS assault north of Palmyra"]
    assert titles(client.get(FEED, {"fatalities_min": "5"})) == ["IS assault north of Palmyra"]


def test_text_finds_a_substring_of_a_description_and_a_word_of_a_place_name_never_a_draft(client):
    shelling = IncidentFactory(
        published=True,
        title="Shelling of the old city",
        description="Barrel bombs hit the Bab al-Nasr quarter.",
        place_reported="old city",
        place_name="Aleppo",
    )
    checkpoint = IncidentFactory(
        published=True, title="Checkpoint attack", place_reported="road south of town", place_name="Kafr Nabl"
    )
    IncidentFactory(  # the same words in a draft: never shown
        title="Draft: Bab al-Nasr again",
        description="Barrel bombs hit the Bab al-Nasr quarter.",
        place_reported="old city",
        place_name="Aleppo Kafr Nabl",
    )
    assert titles(client.get(FEED, {"q": "l-nas"})) == [shelling.title]  # a substring inside a description word
    assert titles(client.get(FEED, {"q": "BARREL BOMB"})) == [shelling.title]  # any case
    assert titles(client.get(FEED, {"q": "nabl"})) == [checkpoint.title]  # a word only in the gazetteer's name
    assert titles(client.get(FEED, {"q": "Aleppo"})) == [shelling.title]
    # The substring is looked for in each field, not across the join of two (title "…attack", place "road…").
    assert titles(client.get(FEED, {"q": "attackroad"})) == []
    assert titles(client.get(FEED, {"q": "attack road"})) == [checkpoint.title]  # words: anywhere, in any field


def test_text_filter_reads_the_two_text_indexes(spring_2019):
    """The query's expressions are the indexes' own, so PostgreSQL can read them instead of every incident."""
    # Only the text condition (no status, no order), on a handful of rows with sequential scans off: the plan shows
    # whether the index can be used at all, which is what breaks when the two expressions drift apart.
    everything = Incident.objects.order_by()
    found = IncidentFilterSet(queryset=everything).filter_text(everything, "q", "assaul")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = found.only("pk").explain()
    assert "incident_search_words" in plan and "incident_text_trigrams" in plan
    # A trigram match is only a candidate, rechecked with the whole condition: the stored words are tested first, so
    # the rows of a common word stop at reading their vector instead of upper-casing their text (issue 11).
    recheck = next(line for line in plan.splitlines() if "Recheck Cond" in line)
    assert recheck.index("search_words @@") < recheck.index("~~")
    assert [incident.title for incident in found] == ["IS assault north of Palmyra"]


def test_feed_names_the_bad_parameter(client):
    response = client.get(FEED, {"start": "April", "fatalities_min": "-1"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"start", "fatalities_min"}


def test_feed_with_no_match_says_so(client, spring_2019):
    body = client.get(FEED, {"q": "nothing like this"}).json()
    assert body["incidents"] == []
    assert body["summary"] == "No incidents match these filters."


def test_feed_query_count_does_not_grow_with_incidents(client, spring_2019, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        client.get(FEED)


def test_incident_json_has_actors_by_side_sources_and_fatalities_in_words(client, spring_2019):
    palmyra = spring_2019["palmyra"]
    body = client.get(reverse("incidents:detail-json", args=[palmyra.pk])).json()
    assert body["title"] == "IS assault north of Palmyra"
    assert body["when"] == "18–20 Apr 2019"
    assert body["fatalities"] == "at least 35"
    assert body["precision_label"] == "Near a named place"
    assert [(actor["name"], actor["side"]) for actor in body["actors"]] == [
        ("Islamic State", "a"),
        ("Syrian Arab Army", "b"),
    ]
    assert body["sources"][0]["url"].startswith("https://news.example.org/")
    assert body["url"] == f"/incidents/{palmyra.pk}/"


@pytest.mark.parametrize("which", ["draft", "retracted"])
def test_unpublished_incidents_are_404_as_json_and_page(client, spring_2019, which):
    pk = spring_2019[which].pk
    assert client.get(reverse("incidents:detail-json", args=[pk])).status_code == 404
    assert client.get(reverse("incidents:detail", args=[pk])).status_code == 404


def test_home_page_carries_the_map_config_and_filters_without_inline_scripts(client, spring_2019):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="map-config"' in html
    assert 'name="event_type" value="protests"' in html
    assert "Islamic State" in html
    nonce = response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    # Every inline script is django-leaflet's nonce'd one or our JSON data block.
    for chunk in html.split("<script")[1:]:
        head = chunk.split(">", 1)[0]
        assert "src=" in head or f'nonce="{nonce}"' in head or 'type="application/json"' in head, head


def test_incident_page_has_open_graph_meta(client, spring_2019):
    palmyra = spring_2019["palmyra"]
    html = client.get(reverse("incidents:detail", args=[palmyra.pk])).content.decode()
    assert '<meta property="og:title" content="IS assault north of Palmyra">' in html
    assert f'<meta property="og:url" content="http://testserver/incidents/{palmyra.pk}/">' in html
    assert '<meta name="twitter:card" content="summary">' in html
    assert "at least 35" in html


def test_arabic_pages_are_right_to_left_with_translated_event_types(client, spring_2019):
    html = client.get("/ar/").content.decode()
    assert 'dir="rtl"' in html
    assert "معارك" in html  # "Battles"
    with translation.override("ar"):
        feed_url = reverse("incidents:map-feed")
    body = client.get(feed_url).json()
    assert body["summary"] == "4 حوادث، 39 قتيلًا، من 30 مارس 2019 إلى 2 مايو 2019"


def test_filter_panel_offers_each_country_and_region_once(client):
    from tests.factories import IncidentFactory

    for _ in range(3):
        IncidentFactory(published=True, country="SY", admin1="Homs")
    IncidentFactory(published=True, country="IQ", admin1="Nineveh")
    IncidentFactory(country="TR", admin1="Hatay")  # a draft: its country and region are not offered
    page = client.get("/").content.decode()
    assert page.count('<option value="SY"') == 1
    assert page.count('<option value="IQ"') == 1
    assert '<option value="TR"' not in page
    assert page.count('<option value="Homs"') == 1
    assert '<option value="Hatay"' not in page


def test_map_filter_keys_come_from_the_filterset_and_each_has_a_field(client):
    import json
    import re

    from incidents.filters import IncidentFilterSet

    html = client.get("/").content.decode()
    config = json.loads(re.search(r'<script id="map-config" type="application/json">(.*?)</script>', html).group(1))
    assert config["filterKeys"] == [name for name in IncidentFilterSet.base_filters if name != "bbox"]
    for key in config["filterKeys"]:
        assert f'name="{key}"' in html, key  # the page's form can set every filter it sends
    assert config["listUrl"] == reverse("incidents:map-list")
