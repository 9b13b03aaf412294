"""The admin side of geocoding: the staff-only JSON endpoints, the place search box, the geocode action, PlaceAdmin."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from incidents.models import Incident
from places.models import LocationPrecision, Place
from tests.factories import IncidentFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("gazetteer")]

SEARCH_URL = reverse("incidents:place-search")
REVERSE_URL = reverse("incidents:place-reverse")


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def test_endpoints_are_staff_only(client):
    for url in [f"{SEARCH_URL}?q=Homs", f"{REVERSE_URL}?lat=34.7&lon=36.7"]:
        response = client.get(url)
        assert response.status_code == 403
        assert response.json() == {"error": "Staff sign-in required."}
    client.force_login(User.objects.create_user("reader", password="pw", is_staff=False))
    assert client.get(f"{SEARCH_URL}?q=Homs").status_code == 403


def test_search_suggests_places_with_everything_the_form_needs(editor_client):
    response = editor_client.get(SEARCH_URL, {"q": "north of Palmyra"})
    assert response.status_code == 200
    best = response.json()["results"][0]
    assert {"name", "latitude", "longitude", "admin1", "admin2", "country", "precision", "location_precision"} <= set(
        best
    )
    assert (best["name"], best["admin1"], best["country"], best["precision"]) == ("Tadmur", "Homs", "SY", "near")
    assert best["location_precision"] == LocationPrecision.NEAR
    assert Place.objects.get(pk=best["place_id"]).name == "Tadmur"
    assert response.json()["warnings"] == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": ""}, "Type a place name"),
        ({"q": "x" * 10_000}, "at most 300 characters"),
        ({"q": "Homs", "country": "ZZ"}, "not an ISO 3166-1 country code"),
        ({"q": "Homs", "limit": "many"}, "limit must be a whole number from 1 to 20 (got “many”)."),
        ({"q": "Palmyra", "limit": "abc"}, "limit must be a whole number from 1 to 20"),
        ({"q": "Palmyra", "limit": "2.5"}, "limit must be a whole number from 1 to 20"),
        ({"q": "Palmyra", "limit": "1e23"}, "limit must be a whole number from 1 to 20"),
    ],
)
def test_search_bad_input_is_a_400_with_a_message(editor_client, params, message):
    response = editor_client.get(SEARCH_URL, params)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert response.json()["results"] == []


@pytest.mark.parametrize(("limit", "read_as"), [("-5", 1), ("0", 1), ("21", 20), ("99999", 20)])
def test_search_limit_out_of_range_is_clamped_and_says_so(editor_client, limit, read_as):
    response = editor_client.get(SEARCH_URL, {"q": "Raqqa", "limit": limit})
    assert response.status_code == 200
    assert response.json()["warnings"] == [f"limit must be a whole number from 1 to 20; {limit} was read as {read_as}."]
    assert 1 <= len(response.json()["results"]) <= read_as


def test_search_limit_in_range_gives_no_warning(editor_client):
    response = editor_client.get(SEARCH_URL, {"q": "Hama", "limit": "1"})
    assert [result["name"] for result in response.json()["results"]] == ["Ḩamāh"]
    assert response.json()["warnings"] == []


@pytest.mark.parametrize("query", ["Khirbet Jawzafa", "Tell Xurbanik"])
def test_search_unknown_place_suggests_nothing(editor_client, query):
    assert editor_client.get(SEARCH_URL, {"q": query}).json() == {"results": [], "warnings": []}


@pytest.mark.parametrize(
    "query", ["'; DROP TABLE incidents_place; --", "Qwxzyplorp", "%%", "<script>alert(1)</script>"]
)
def test_search_junk_gives_an_empty_list(editor_client, query):
    response = editor_client.get(SEARCH_URL, {"q": query})
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_reverse_names_the_nearest_place(editor_client):
    result = editor_client.get(REVERSE_URL, {"lat": "36.2", "lon": "37.15"}).json()["result"]
    assert (result["name"], result["admin1"], result["country"]) == ("Aleppo", "Aleppo", "SY")
    assert result["distance_km"] < 3
    assert result["admin2"] == "Jebel Saman"  # the district containing the point
    desert = editor_client.get(REVERSE_URL, {"lat": "34", "lon": "38"}).json()["result"]
    assert (desert["admin1"], desert["country"]) == ("Homs", "SY")
    assert 0 < desert["distance_km"] < 150
    assert editor_client.get(REVERSE_URL, {"lat": "35", "lon": "20"}).json() == {"result": None}


@pytest.mark.parametrize(
    "params", [{"lat": "abc", "lon": "1"}, {"lat": "95", "lon": "1"}, {"lat": "nan", "lon": "1"}, {}]
)
def test_reverse_bad_input_is_a_400(editor_client, params):
    response = editor_client.get(REVERSE_URL, params)
    assert response.status_code == 400
    assert response.json()["error"]


def test_incident_form_has_the_place_search_box_and_its_script(editor_client):
    html = editor_client.get(reverse("admin:incidents_incident_add")).content.decode()
    assert 'id="id_place_search"' in html
    assert f'data-search-url="{SEARCH_URL}"' in html and f'data-reverse-url="{REVERSE_URL}"' in html
    assert 'role="combobox"' in html
    assert "incidents/js/admin_geocode.js" in html and "incidents/css/admin_geocode.css" in html
    assert 'name="place"' in html


def test_geocode_action_fills_incidents_and_reports_the_rest(client, publisher):
    coded = IncidentFactory(location=None, place_reported="Dayr az Zawr", admin1="", country="")
    unknown = IncidentFactory(location=None, place_reported="Qwxzyplorp", title="Unknown place")
    client.force_login(publisher)
    response = client.post(
        reverse("admin:incidents_incident_changelist"),
        {"action": "geocode", "_selected_action": [coded.pk, unknown.pk]},
        follow=True,
    )
    messages = [str(message) for message in response.context["messages"]]
    assert "1 incident geocoded." in messages
    assert any("Unknown place" in message and "Qwxzyplorp" in message for message in messages)
    coded.refresh_from_db()
    assert (coded.place_name, coded.admin1, coded.country.code) == ("Deir ez-Zor", "Deir ez-Zor", "SY")
    assert coded.updated_by == publisher
    assert Incident.objects.get(pk=unknown.pk).location is None


def test_editors_add_places_and_the_admin_search_knows_every_spelling(editor_client, editor):
    assert editor.has_perm("places.add_place") and editor.has_perm("places.change_place")
    changelist = reverse("admin:places_place_changelist")
    for spelling in ["دير الزور", "Dayr az Zawr"]:
        html = editor_client.get(changelist, {"q": spelling}).content.decode()
        assert "Deir ez-Zor" in html
