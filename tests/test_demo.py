import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from incidents.models import Incident, Source

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
