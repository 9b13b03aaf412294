import datetime
import random

import pytest
from django.urls import reverse

from incidents.models import EventType, Status
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db

URL = reverse("incidents:api-timeline")


@pytest.fixture
def scattered():
    """Published incidents on random days over three years, plus a draft and a retraction that must not count."""
    rng = random.Random(7)
    types = list(EventType.objects.all())
    incidents = [
        IncidentFactory(
            published=True,
            start_date=datetime.date(2017, 1, 1) + datetime.timedelta(days=rng.randint(0, 3 * 365)),
            event_type=rng.choice(types),
            fatalities_best=rng.choice([None, 0, 3, 12]),
        )
        for _ in range(60)
    ]
    IncidentFactory(start_date=datetime.date(2018, 6, 1), fatalities_best=500)
    IncidentFactory(status=Status.RETRACTED, retraction_reason="wrong", start_date=datetime.date(2018, 6, 1))
    return incidents


@pytest.mark.parametrize("bucket", ["day", "week", "month", "year"])
def test_bucket_counts_equal_a_brute_force_count(client, scattered, bucket):
    body = client.get(URL, {"bucket": bucket}).json()
    assert body["bucket"] == bucket

    def bucket_of(day):
        if bucket == "day":
            return day
        if bucket == "week":
            return day - datetime.timedelta(days=day.weekday())
        if bucket == "month":
            return day.replace(day=1)
        return day.replace(month=1, day=1)

    expected_counts, expected_fatalities = {}, {}
    for incident in scattered:
        key = (bucket_of(incident.start_date).isoformat(), incident.event_type.slug)
        expected_counts[key] = expected_counts.get(key, 0) + 1
        expected_fatalities[key] = expected_fatalities.get(key, 0) + (incident.fatalities_best or 0)
    counts = {(entry["date"], slug): n for entry in body["buckets"] for slug, n in entry["counts"].items()}
    fatalities = {(entry["date"], slug): n for entry in body["buckets"] for slug, n in entry["fatalities"].items()}
    assert counts == expected_counts
    assert fatalities == expected_fatalities
    assert body["total"] == 60
    assert body["total_fatalities"] == sum(incident.fatalities_best or 0 for incident in scattered)


def test_timeline_follows_the_filters(client, scattered):
    body = client.get(URL, {"start": "2018-01-01", "end": "2018-12-31", "event_type": "battles"}).json()
    expected = [i for i in scattered if i.start_date.year == 2018 and i.event_type.slug == "battles"]
    assert body["total"] == len(expected)
    assert all(set(entry["counts"]) == {"battles"} for entry in body["buckets"])


def test_bucket_is_chosen_from_the_span(client, scattered):
    assert client.get(URL).json()["bucket"] == "week"
    assert client.get(URL, {"start": "2018-04-01", "end": "2018-04-30"}).json()["bucket"] == "day"


@pytest.mark.parametrize(
    "params, parameter",
    [
        ({"bucket": "fortnight"}, "bucket"),
        ({"start": "2019-13-01"}, "start"),
        ({"start": "2019-05-01", "end": "2019-04-01"}, "end"),
        ({"event_type": "picnics"}, "event_type"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "40,36,38,34"}, "bbox"),
        ({"bbox": "38,34,40,91"}, "bbox"),
        ({"bbox": "NaN,34,40,36"}, "bbox"),
        ({"fatalities_min": "-1"}, "fatalities_min"),
        ({"precision": "7"}, "precision"),
    ],
)
def test_bad_parameters_get_a_400_naming_them(client, params, parameter):
    response = client.get(URL, params)
    assert response.status_code == 400
    assert parameter in response.json()["errors"]
