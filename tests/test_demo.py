import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from incidents.models import Incident, LocationPrecision, Source
from incidents.seeding import DEMO_NEAR_WORDING, DEMO_PLACES, DEMO_REGION_TOWNS
from places.geocoding import phrase_parse
from places.names import name_key

pytestmark = pytest.mark.django_db

NOTICE = "synthetic demo data"


def quiet(*args):
    call_command(*args, stdout=open("/dev/null", "w"))


def test_demo_set_is_labelled_as_fiction_everywhere():
    quiet("load_demo", "--count", "120")
    demo = Incident.objects.demo()
    assert demo.count() == 120
    assert all(title.startswith("[Synthetic demo data]") for title in demo.values_list("title", flat=True))
    publishers = set(Source.objects.filter(incidents__in=demo).values_list("publisher", flat=True))
    assert publishers == {"Synthetic demo data (not real reporting)"}
    assert demo.values("event_type").distinct().count() == 6
    assert demo.values("location_precision").distinct().count() == 3
    assert demo.values("date_precision").distinct().count() == 3
    assert set(demo.values_list("country", flat=True)) == {"SY", "IQ"}
    years = {incident.start_date.year for incident in demo}
    assert min(years) >= 2011 and max(years) <= 2024


def test_demo_wording_agrees_with_the_location_precision():
    """exact: the town; near: "near X" and the like, on X; region: "X province", on the region's main town."""
    quiet("load_demo", "--count", "150")
    towns = {(name, country): (latitude, longitude) for name, _admin1, country, latitude, longitude in DEMO_PLACES}
    near_wordings = {wording.format(name): name for wording in DEMO_NEAR_WORDING for name, _country in towns}
    seen = set()
    for incident in Incident.objects.demo():
        country, point = incident.country.code, (round(incident.location.y, 4), round(incident.location.x, 4))
        seen.add(incident.location_precision)
        if incident.location_precision == LocationPrecision.EXACT:
            assert incident.place_reported == incident.place_name
            assert point == towns[(incident.place_name, country)]
        elif incident.location_precision == LocationPrecision.NEAR:
            assert near_wordings[incident.place_reported] == incident.place_name
            assert point == towns[(incident.place_name, country)]
        else:
            assert incident.place_reported == f"{incident.admin1} province"
            assert point == DEMO_REGION_TOWNS[(country, incident.admin1)][3:]
        # and the geocoder reads the wording with the same precision
        phrase = phrase_parse(incident.place_reported)[0][0]
        assert phrase.precision == incident.location_precision, incident.place_reported
        assert phrase.text in {name_key(incident.place_name), name_key(incident.admin1)}
        assert incident.title.startswith("[Synthetic demo data]") and incident.place_reported in incident.title
    assert seen == set(LocationPrecision.values)


def test_loading_twice_adds_nothing():
    quiet("load_demo", "--count", "30")
    quiet("load_demo", "--count", "30")
    assert Incident.objects.demo().count() == 30


def test_notice_is_shown_while_demo_data_is_loaded(client, editor):
    call_command("load_seeds", stdout=open("/dev/null", "w"))
    assert NOTICE not in client.get(reverse("incidents:home")).content.decode().lower()
    quiet("load_demo", "--count", "20")
    assert NOTICE in client.get(reverse("incidents:home")).content.decode().lower()
    client.force_login(editor)
    assert NOTICE in client.get(reverse("admin:index")).content.decode().lower()


def test_remove_demo_keeps_the_real_incidents():
    call_command("load_seeds", stdout=open("/dev/null", "w"))
    quiet("load_demo", "--count", "25")
    quiet("remove_demo")
    assert not Incident.objects.demo().exists()
    assert not Incident.history.filter(is_demo=True).exists()
    assert Incident.objects.count() == 4
    assert not Source.objects.filter(publisher__startswith="Synthetic").exists()


@override_settings(DEMO_DATA_ALLOWED=False)
def test_production_settings_refuse_demo_data_and_accounts():
    with pytest.raises(CommandError):
        quiet("load_demo")
    with pytest.raises(CommandError):
        quiet("ensure_demo_user")
    assert not Incident.objects.exists()


def test_demo_accounts_sign_in_with_the_printed_password(client):
    out = io.StringIO()
    call_command("ensure_demo_user", stdout=out)
    User.objects.filter(username="editor").update(password="changed-elsewhere")
    call_command("ensure_demo_user", stdout=out)
    for username in ["admin", "editor", "publisher"]:
        assert f"{username:<10} / conflictmap-local" in out.getvalue()
        assert client.login(username=username, password="conflictmap-local"), username
    assert User.objects.get(username="editor").groups.get().name == "Editors"
    assert not User.objects.get(username="editor").is_superuser
    assert User.objects.get(username="admin").is_superuser
