"""Write paths that fill the database from files: the seed report's incidents and the synthetic demo set."""

import json
import random
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext
from simple_history.utils import bulk_create_with_history

from places.regions import admin_area_label

from .models import (
    Actor,
    DatePrecision,
    EventType,
    Incident,
    IncidentActor,
    IncidentSource,
    LocationPrecision,
    Side,
    Source,
    Status,
    SubEventType,
)
from .services import incident_admin_areas_set

SEEDS_DIR = settings.BASE_DIR / "seeds"


@dataclass
class LoadReport:
    created: int = 0
    kept: int = 0

    def count(self, created):
        if created:
            self.created += 1
        else:
            self.kept += 1

    def __str__(self):
        return f"{self.created} created, {self.kept} already there (left as they are)"


# Seeds run on every `make run` / `make test`, on a database editors work in: a seed creates what is missing and
# never writes over a row that exists, since that row may carry a publisher's correction, a retraction or a
# citation an editor added. A changed seed file therefore only affects databases that lack the record.


def _create_missing(model, lookup, values):
    """The row matching `lookup` (keywords or a Q), created from `values` only when there is none; returns (row,
    created)."""
    instance = model.objects.filter(lookup if isinstance(lookup, Q) else Q(**lookup)).order_by("pk").first()
    if instance is not None:
        return instance, False
    return model.objects.create(**values), True


def _source_for(entry):
    source, _created = _create_missing(
        Source,
        {"publisher": entry["publisher"], "title": entry["title"], "url": entry.get("url", "")},
        {
            "publisher": entry["publisher"],
            "title": entry["title"],
            "url": entry.get("url", ""),
            "published_on": _date(entry.get("published_on")),
        },
    )
    return source


def _date(text):
    return date.fromisoformat(text) if text else None


def _time(text):
    return time.fromisoformat(text) if text else None


def _seed_actor(name):
    """A seed actor is "there" under its name in any case, or under a new name that keeps the old one as an alias
    (an editor who renamed "Islamic State" to "Islamic State (IS)" and kept the alias gets no duplicate)."""
    return Q(name__iexact=name) | Q(aliases__contains=[name])


@transaction.atomic
def actors_load(*, path: Path = SEEDS_DIR / "actors.json") -> LoadReport:
    report = LoadReport()
    for entry in json.loads(path.read_text(encoding="utf-8")):
        _actor, created = _create_missing(
            Actor,
            _seed_actor(entry["name"]),
            {
                "name": entry["name"],
                "kind": entry["kind"],
                "aliases": entry.get("aliases", []),
                "country": entry.get("country", ""),
            },
        )
        report.count(created)
    return report


@transaction.atomic
def incidents_load(*, path: Path = SEEDS_DIR / "incidents.geojson") -> LoadReport:
    """Create the features of a GeoJSON file that are missing, keyed by feature id; existing incidents (and their
    actors and citations) are left exactly as editors left them."""
    report = LoadReport()
    collection = json.loads(path.read_text(encoding="utf-8"))
    existing = set(
        Incident.objects.filter(external_id__in=[str(feature["id"]) for feature in collection["features"]]).values_list(
            "external_id", flat=True
        )
    )
    for feature in collection["features"]:
        if str(feature["id"]) in existing:
            report.count(False)
            continue
        props = feature["properties"]
        event_type = EventType.objects.get(name=props["event_type"])
        sub_event_type = (
            SubEventType.objects.get(event_type=event_type, name=props["sub_event_type"])
            if props.get("sub_event_type")
            else None
        )
        longitude, latitude = feature["geometry"]["coordinates"]
        numbers = ["date_precision", "location_precision", "fatalities_low", "fatalities_best", "fatalities_high"]
        texts = ["title", "title_ar", "description", "description_ar", "place_reported", "place_name", "admin1"]
        texts += ["admin2", "country"]
        incident = Incident(
            external_id=str(feature["id"]),
            **{key: props.get(key) for key in numbers},
            **{key: props.get(key) or "" for key in [*texts, "notable_casualties"]},
            start_date=_date(props["start_date"]),
            end_date=_date(props.get("end_date") or props["start_date"]),
            time_of_day=_time(props.get("time_of_day")),
            location=Point(longitude, latitude, srid=4326),
            event_type=event_type,
            sub_event_type=sub_event_type,
            status=props.get("status", Status.DRAFT),
        )
        # admin1 / admin2 as the polygons say, so a seed spelt another way still lands in the shared vocabulary.
        incident_admin_areas_set(incident=incident)
        incident.save()
        IncidentActor.objects.bulk_create(
            IncidentActor(
                incident=incident,
                actor=Actor.objects.filter(_seed_actor(role["name"])).order_by("pk").first(),
                side=role["side"],
                is_associated=role.get("associated", False),
            )
            for role in props.get("actors", [])
        )
        IncidentSource.objects.bulk_create(
            IncidentSource(
                incident=incident, source=_source_for(entry), original_reporter=entry.get("original_reporter", "")
            )
            for entry in props.get("sources", [])
        )
        report.count(True)
    return report


# --- Synthetic demo data -------------------------------------------------------------------------------------

DEMO_LABEL = "Synthetic demo data"
DEMO_PREFIX = f"[{DEMO_LABEL}]"
DEMO_LABEL_AR = "بيانات تجريبية مصطنعة"

# Real towns, so the fiction lands in plausible places: (name, admin1, country, latitude, longitude). admin1 is
# spelt as the gazetteer spells it (one vocabulary for the region filter); the first town of each admin1 is its
# main town, where a region-only event is put (as ACLED codes it, and as the gazetteer places the region).
DEMO_PLACES = [
    ("Aleppo", "Aleppo", "SY", 36.2021, 37.1343),
    ("Azaz", "Aleppo", "SY", 36.5866, 37.0463),
    ("Manbij", "Aleppo", "SY", 36.5281, 37.9549),
    ("Idlib", "Idlib", "SY", 35.9306, 36.6339),
    ("Maarat al-Numan", "Idlib", "SY", 35.6436, 36.6717),
    ("Hama", "Hama", "SY", 35.1318, 36.7578),
    ("Homs", "Homs", "SY", 34.7324, 36.7137),
    ("Palmyra", "Homs", "SY", 34.5560, 38.2673),
    ("Damascus", "Damascus", "SY", 33.5102, 36.2913),
    ("Douma", "Rif Dimashq", "SY", 33.5711, 36.4019),
    ("Daraa", "Daraa", "SY", 32.6189, 36.1021),
    ("As-Suwayda", "As-Suwayda", "SY", 32.7089, 36.5695),
    ("Latakia", "Latakia", "SY", 35.5317, 35.7915),
    ("Raqqa", "Ar-Raqqah", "SY", 35.9528, 39.0079),
    ("Deir ez-Zor", "Deir ez-Zor", "SY", 35.3359, 40.1408),
    ("Al-Mayadin", "Deir ez-Zor", "SY", 35.0209, 40.4513),
    ("Al-Hasakah", "Al-Hasakah", "SY", 36.5024, 40.7477),
    ("Qamishli", "Al-Hasakah", "SY", 37.0522, 41.2317),
    ("Baghdad", "Baghdad", "IQ", 33.3152, 44.3661),
    ("Mosul", "Nineveh", "IQ", 36.3350, 43.1189),
    ("Tal Afar", "Nineveh", "IQ", 36.3768, 42.4483),
    ("Kirkuk", "Kirkuk", "IQ", 35.4681, 44.3922),
    ("Tikrit", "Salah ad Din", "IQ", 34.6071, 43.6782),
    ("Samarra", "Salah ad Din", "IQ", 34.1959, 43.8857),
    ("Ramadi", "Al Anbar", "IQ", 33.4206, 43.3078),
    ("Fallujah", "Al Anbar", "IQ", 33.3500, 43.7833),
    ("Basra", "Basra", "IQ", 30.5085, 47.7804),
    ("Karbala", "Karbala", "IQ", 32.6160, 44.0249),
    ("Erbil", "Erbil", "IQ", 36.1911, 44.0092),
    ("Baqubah", "Diyala", "IQ", 33.7466, 44.6437),
]
DEMO_REGION_TOWNS = {(place[2], place[1]): place for place in reversed(DEMO_PLACES)}  # reversed: the first wins
# How reports word an event near a town; the point stays on the town (no invented offset).
DEMO_NEAR_WORDING = ["near {}", "the outskirts of {}", "north of {}", "south of {}", "east of {}", "west of {}"]

# Who plausibly acts in each event type, by country: (side A candidates, side B candidates).
DEMO_ACTORS = {
    "SY": {
        "Battles": (
            ["Islamic State", "Hay'at Tahrir al-Sham", "Free Syrian Army"],
            ["Syrian Arab Army", "Syrian Democratic Forces"],
        ),
        "Explosions/Remote violence": (
            ["Russian Armed Forces", "Syrian Arab Army", "US-led coalition", "Turkish Armed Forces"],
            ["Islamic State", "Hay'at Tahrir al-Sham", "Civilians (Syria)"],
        ),
        "Violence against civilians": (
            ["Islamic State", "Syrian Arab Army", "Pro-government militias (Syria)"],
            ["Civilians (Syria)"],
        ),
        "Protests": (["Protesters (Syria)"], []),
        "Riots": (["Protesters (Syria)"], ["Syrian Arab Army"]),
        "Strategic developments": (
            ["Government of Syria", "Syrian Democratic Forces", "Government of Russia"],
            ["Hay'at Tahrir al-Sham", "Free Syrian Army"],
        ),
    },
    "IQ": {
        "Battles": (["Islamic State", "Popular Mobilization Forces"], ["Iraqi Security Forces", "Peshmerga"]),
        "Explosions/Remote violence": (
            ["Islamic State", "US-led coalition", "Iraqi Security Forces"],
            ["Civilians (Iraq)", "Islamic State"],
        ),
        "Violence against civilians": (["Islamic State", "Popular Mobilization Forces"], ["Civilians (Iraq)"]),
        "Protests": (["Protesters (Iraq)"], ["Iraqi Security Forces"]),
        "Riots": (["Rioters (Iraq)"], ["Iraqi Security Forces"]),
        "Strategic developments": (["Iraqi Security Forces", "Peshmerga"], ["Islamic State"]),
    },
}

DEMO_TOLL = {  # (chance of any deaths, typical best estimate)
    "Battles": (0.8, 12),
    "Explosions/Remote violence": (0.7, 8),
    "Violence against civilians": (0.8, 5),
    "Protests": (0.1, 1),
    "Riots": (0.3, 2),
    "Strategic developments": (0.0, 0),
}


def _demo_fatalities(rng, event_type_name):
    chance, typical = DEMO_TOLL[event_type_name]
    if rng.random() >= chance:
        return 0, 0, 0
    best = max(1, int(rng.expovariate(1 / typical)))
    shape = rng.random()
    if shape < 0.4:
        return best, best, best
    if shape < 0.7:
        return best, best, None  # "at least"
    return max(0, best - rng.randint(0, best)), best, best + rng.randint(1, best + 2)


def _demo_arabic(sub_event_type, admin1, country):
    with translation.override("ar"):
        what, where = gettext(sub_event_type.name), admin_area_label(admin1, country=country)
    return {
        "title_ar": f"[{DEMO_LABEL_AR}] {what}، {where}",
        "description_ar": f"{DEMO_LABEL_AR}: وُلّدت للعرض، ليست حدثاً ولا تقريراً حقيقياً.",
    }


def _demo_incident(rng, number, event_types, actors, source):
    name, admin1, country, latitude, longitude = rng.choice(DEMO_PLACES)
    location_precision = rng.choice(LocationPrecision.values)
    # What the "report" says agrees with how precisely it is coded: the town, near the town, or only the region.
    if location_precision == LocationPrecision.REGION:
        _town, _admin1, _country, latitude, longitude = DEMO_REGION_TOWNS[(country, admin1)]
        place_reported, place_name = f"{admin1} province", admin1
    elif location_precision == LocationPrecision.NEAR:
        place_reported, place_name = rng.choice(DEMO_NEAR_WORDING).format(name), name
    else:
        place_reported = place_name = name
    event_type = rng.choice(event_types)
    sub_event_type = rng.choice(list(event_type.sub_types.all()))
    start = date(2011, 3, 15) + timedelta(days=rng.randint(0, (date(2024, 12, 31) - date(2011, 3, 15)).days))
    duration = rng.choice([0, 0, 0, 0, 1, 2, 6])
    low, best, high = _demo_fatalities(rng, event_type.name)
    incident = Incident(
        external_id=f"demo-{number:04d}",
        is_demo=True,
        title=f"{DEMO_PREFIX} {sub_event_type.name}, {place_reported}",
        description=f"{DEMO_LABEL}: generated for demonstration, not a real event or report.",
        # Every other one also in Arabic, so /ar/ shows both cases: Arabic text, and English marked as the original.
        **(_demo_arabic(sub_event_type, admin1, country) if number % 2 else {}),
        start_date=start,
        end_date=start + timedelta(days=duration),
        date_precision=rng.choices(DatePrecision.values, weights=[8, 2, 1])[0],
        location=Point(longitude, latitude, srid=4326),
        place_reported=place_reported,
        place_name=place_name,
        admin1=admin1,
        country=country,
        location_precision=location_precision,
        event_type=event_type,
        sub_event_type=sub_event_type,
        fatalities_low=low,
        fatalities_best=best,
        fatalities_high=high,
        status=Status.DRAFT if rng.random() < 0.08 else Status.PUBLISHED,
    )
    side_a, side_b = DEMO_ACTORS[country][event_type.name]
    roles = [(actors[rng.choice(side_a)], Side.A)]
    if side_b:
        roles.append((actors[rng.choice(side_b)], Side.B))
    if roles[-1][0] == roles[0][0]:
        roles.pop()
    return incident_admin_areas_set(incident=incident), roles, source


@transaction.atomic
def demo_load(*, count: int = 400, seed: int = 2011) -> int:
    """Generate the demo set once; returns how many incidents were created (0 when it is already there)."""
    if not settings.DEMO_DATA_ALLOWED:
        raise ImproperlyConfigured("Synthetic demo data is not allowed with these settings.")
    if Incident.objects.demo().exists():
        return 0
    actors_load()
    rng = random.Random(seed)
    event_types = list(EventType.objects.prefetch_related("sub_types"))
    actors = {actor.name: actor for actor in Actor.objects.all()}
    source, _created = Source.objects.get_or_create(
        publisher=f"{DEMO_LABEL} (not real reporting)",
        title=f"{DEMO_LABEL}: generated by conflictmap for demonstration",
        url="",
    )
    generated = [_demo_incident(rng, number, event_types, actors, source) for number in range(1, count + 1)]
    incidents = bulk_create_with_history([incident for incident, _roles, _source in generated], Incident)
    IncidentActor.objects.bulk_create(
        IncidentActor(incident=incident, actor=actor, side=side)
        for incident, (_unsaved, roles, _source) in zip(incidents, generated, strict=True)
        for actor, side in roles
    )
    IncidentSource.objects.bulk_create(IncidentSource(incident=incident, source=source) for incident in incidents)
    return len(incidents)


@transaction.atomic
def demo_remove() -> int:
    """Delete every synthetic incident, its history and the demo source; real incidents are untouched."""
    removed = Incident.objects.demo().count()
    Incident.objects.demo().delete()
    Incident.history.filter(is_demo=True).delete()
    Source.objects.filter(publisher__startswith=DEMO_LABEL, cited_by__isnull=True).delete()
    return removed
