"""Candidate incidents: sentences about one event clustered together, their fields read from the sentences, each
field with its evidence (sentence and character span), and a confidence for the whole.

A sentence that names a new place where something happened ("a separate attack in Deir Ezzor province") starts
a candidate; sentences that only go on about the event ("the war monitor said the attack killed 13") join the
current one; an event sentence with no place yet ("Russian envoys held meetings …") waits for the next sentence
with a place, within a paragraph. Background (headlines, "since 2011", the war's total toll) starts nothing.
"""

import math
import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from django.utils import translation
from django.utils.translation import gettext

from places.regions import admin_area_label

from ..models import Actor, DatePrecision, LocationPrecision
from . import gazetteer
from .actors import (
    actor_mentions,
    actor_patterns,
    civilians_actor,
    civilians_actors,
    civilians_targeted,
    sub_event_types,
    trigger_mentions,
    victim_mentions,
)
from .dates import date_mentions, dateline_date, day_offset
from .places import place_mentions
from .text import report_language, split_sentences
from .tolls import toll_mentions

PRECISION_NAMES = {LocationPrecision.EXACT: "exact", LocationPrecision.NEAR: "near", LocationPrecision.REGION: "region"}
SEPARATE = re.compile(
    r"\b(?:separate|another|second|elsewhere|meanwhile|separately|in a different|also reported)\b|"
    r"في حادث منفصل|في سياق آخر|في سياق منفصل|في حادثة أخرى|من جهة أخرى|وفي سياق|في هجوم آخر|هجوم منفصل",
    re.IGNORECASE,
)
SAME_GROUP = re.compile(
    r"^(?:the|this) (?:group|militants|jihadists|organisation|organization)\b|^it\b|"
    r"^(?:كما )?(?:نفذ|شن) التنظيم",
    re.IGNORECASE,
)
BACKGROUND = re.compile(
    r"\bsince (?:19|20)\d\d\b|\bsince the (?:start|beginning|outbreak|fall)\b|\b(?:has|have) been (?:\w+ing|engulfed)\b|"
    r"\b(?:has|have) (?:killed|displaced)\b|\bcivil war\b|\bfor decades\b|\bin (?:late |early )?(?:19|20)\d\d\b|"
    r"\b(?:last|previous) year\b|\byears ago\b|العام الماضي|\bin recent (?:weeks|months|years)\b|"
    r"\bon (?:several|many|numerous|repeated) occasions\b|\bin the past\b(?! (?:day|two|three|24|48))|"
    r"\b(?:have|has) (?:stepped up|intensified|escalated)\b|في الآونة الأخيرة|خلال الأشهر الماضية|"
    r"منذ عام|منذ بداية|منذ اندلاع",
    re.IGNORECASE,
)
# An event more than this long before the report is background history, not news.
BACKGROUND_DAYS = 366
# A report that never says when tells only that the event happened before it was filed; news reports what
# happened in the last days, so the proposal is the week up to the report's day, at ACLED's "within a week".
REPORTED_WINDOW_DAYS = 7
# How much the date adds to a candidate's confidence, by where it came from.
DATE_CONFIDENCE = {"stated": 0.25, "carried": 0.2, "reported": 0.1}


@dataclass
class Evidence:
    field: str
    sentence: int
    start: int  # offsets within that sentence
    end: int


@dataclass
class SentenceReading:
    sentence: object
    places: list
    dates: list
    tolls: list
    actors: list
    triggers: list
    region_named: str | None = None  # the governorate named last in the story up to this sentence

    @property
    def incident_places(self):
        return [place for place in self.places if not place.context]

    @property
    def event_dates(self):
        return [mention for mention in self.dates if mention.role == "event"]


@dataclass
class Candidate:
    readings: list = field(default_factory=list)
    inherited_side_a: list = field(default_factory=list)
    # The nearest earlier sentence with an event date, for a candidate whose own sentences give none.
    date_source: SentenceReading | None = None
    # Filled by resolve():
    title: str = ""
    language: str = "en"  # the report's: the title is written in it, and the draft's original language is it
    start_date: date | None = None
    end_date: date | None = None
    date_precision: int | None = None
    date_basis: str | None = None  # "stated", "carried" (from an earlier sentence) or "reported" (by the report's day)
    place_reported: str | None = None
    place_name: str | None = None
    place_id: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    location_precision: int | None = None
    admin1: str | None = None
    admin2: str | None = None
    country: str | None = None
    fatalities_low: int | None = None
    fatalities_best: int | None = None
    fatalities_high: int | None = None
    event_type: str | None = None
    event_type_id: int | None = None
    sub_event_type: str | None = None
    sub_event_type_id: int | None = None
    sub_event_type_slug: str | None = None
    actors: list = field(default_factory=list)  # [{"id", "name", "side"}]
    evidence: list = field(default_factory=list)  # [Evidence]
    confidence: float = 0.0

    @property
    def sentences(self):
        return [reading.sentence for reading in self.readings]

    @property
    def shown_readings(self):
        """The sentences its evidence points into, in report order: its own, and the one its date came from."""
        cited = {item.sentence for item in self.evidence}
        own = {reading.sentence.index for reading in self.readings}
        source = self.date_source
        extra = [source] if source is not None and source.sentence.index in cited - own else []
        return sorted([*self.readings, *extra], key=lambda reading: reading.sentence.index)

    def main_place(self):
        places = [place for reading in self.readings for place in reading.incident_places]
        return min(places, key=lambda place: place.precision) if places else None


def _read(sentence, published, lookups):
    text = sentence.text
    triggers = trigger_mentions(text)
    actors = actor_mentions(text, triggers=triggers, patterns=lookups["actors"])
    places = place_mentions(text, blocked=[(a.start, a.end) for a in actors], index=lookups["places"])
    return SentenceReading(
        sentence, places, date_mentions(text, published=published), toll_mentions(text), actors, triggers
    )


def _same_place(candidate, places):
    main = candidate.main_place()
    if main is None:
        return True
    keys = {place.key for reading in candidate.readings for place in reading.incident_places}
    finest = min(places, key=lambda place: place.precision)
    if finest.precision == LocationPrecision.EXACT and main.precision == LocationPrecision.EXACT:
        # Two villages, each the most precise place of its sentence, are two places, though both sentences measure
        # their distance from the same city ("30 km south of Hama", "65 km east of Hama").
        return finest.key in keys
    return any(place.key in keys for place in places)


def _family(readings):
    slugs = [trigger.slug for reading in readings for trigger in reading.triggers if trigger.strength >= 2]
    return {"violent" if re.match(r"battles|explosions|violence", slug) else slug.split("-")[0] for slug in slugs}


def extract(text, *, published):
    """Resolved candidates, in report order, for a report published on `published`."""
    # Once per report, not per sentence or candidate: each stamp check is a query.
    lookups = {
        "actors": actor_patterns(),
        "places": gazetteer.name_index(),
        "sub_types": sub_event_types(),
        "civilians": civilians_actors(),
    }
    with gazetteer.report_memo():
        return _extract(text, published, lookups)


def _extract(text, published, lookups):
    candidates, current, pending = [], None, []
    last_dated = None  # the latest story sentence with an event date, for candidates whose sentences give none
    region_named = None  # the latest governorate the story named: where its villages are looked for first
    report_day = dateline_date(text, published=published) or published
    last_paragraph = None
    # Paragraph distances count story paragraphs only: a "Read more" teaser or a caption between two paragraphs
    # does not separate them.
    story = [sentence for sentence in split_sentences(text) if sentence.narrative]
    paragraph_numbers = {number: rank for rank, number in enumerate(dict.fromkeys(s.paragraph for s in story))}
    for sentence in story:
        sentence = replace(sentence, paragraph=paragraph_numbers[sentence.paragraph])
        reading = _read(sentence, published, lookups)
        background = bool(BACKGROUND.search(sentence.text))
        regions = [place.text for place in reading.incident_places if place.region]
        region_named = regions[0] if regions else region_named
        reading.region_named = region_named
        has_event = bool(reading.triggers) and not background
        places = reading.incident_places
        if has_event and places:
            separate = bool(SEPARATE.search(sentence.text))
            if (
                current is not None
                and not separate
                and _same_place(current, places)
                and (not _family([reading]) or _family(current.readings) & _family([reading]))
            ):
                current.readings.append(reading)
            else:
                previous = current
                current = Candidate()
                # Waiting sentences join unless this one is expressly another event or their days do not overlap.
                current.readings = [
                    r
                    for r in pending
                    if sentence.paragraph - r.sentence.paragraph <= 1
                    and not separate
                    and _days_overlap(r.event_dates, reading.event_dates)
                ]
                current.readings.append(reading)
                if last_dated is not None and not separate and sentence.paragraph - last_dated.sentence.paragraph <= 1:
                    current.date_source = last_dated
                if previous is not None and SAME_GROUP.search(sentence.text):
                    current.inherited_side_a = _side_a(previous)
                candidates.append(current)
                pending = []
        elif has_event or (reading.tolls and not background):
            topic_change = (
                current is not None and _family([reading]) and not (_family(current.readings) & _family([reading]))
            )
            close = current is not None and sentence.paragraph - last_paragraph <= 1
            if current is not None and close and not topic_change and not SEPARATE.search(sentence.text):
                current.readings.append(reading)
            else:
                pending = [r for r in pending if sentence.paragraph - r.sentence.paragraph <= 1] + [reading]
                if topic_change or SEPARATE.search(sentence.text):
                    current = None
        elif places and current is not None and _same_place(current, places) and not background:
            current.readings.append(reading)
        if current is not None and current.readings[-1] is reading:
            last_paragraph = sentence.paragraph
        if reading.event_dates and not background:
            last_dated = reading
    # Event sentences that never met a place still make a candidate when they say when and who or how many.
    if pending and any(r.event_dates for r in pending) and any(r.tolls or r.actors for r in pending):
        orphan = Candidate()
        orphan.readings = pending
        candidates.append(orphan)
    language = report_language(text)
    for candidate in candidates:
        candidate.language = language
    resolved = [_resolve(candidate, published, report_day, lookups) for candidate in candidates]
    return [
        candidate
        for candidate in resolved
        if candidate.start_date is None or (published - candidate.start_date).days <= BACKGROUND_DAYS
    ]


def _days_overlap(dates, other_dates):
    if not dates or not other_dates:
        return True
    return any(a.first <= b.last and b.first <= a.last for a in dates for b in other_dates)


def _side_a(candidate):
    return [
        (actor.actor_id, actor.name) for reading in candidate.readings for actor in reading.actors if actor.side == "A"
    ]


def _resolve(candidate, published, report_day, lookups):
    evidence = []
    index = {id(reading): reading.sentence.index for reading in candidate.readings}
    if candidate.date_source is not None:
        index[id(candidate.date_source)] = candidate.date_source.sentence.index

    def cite(field_name, reading, mention):
        evidence.append(Evidence(field_name, index[id(reading)], mention.start, mention.end))

    # Where: the most precise incident place; the region named beside it fills admin1 if the geocoder cannot.
    # (A named place the gazetteer cannot place gives way to the next most precise one.)
    ranked = sorted(
        ((reading, mention) for reading in candidate.readings for mention in reading.incident_places),
        key=lambda item: item[1].precision,
    )
    place_reading, place, coded = (ranked[0][0], ranked[0][1], None) if ranked else (None, None, None)
    fallback = None
    for reading, mention in ranked:
        found, found_coded = _place_consistent_with_its_sentence(mention, reading)
        if found_coded is not None and found is mention:
            place_reading, place, coded = reading, found, found_coded
            break
        if found_coded is not None and fallback is None:
            fallback = (reading, found, found_coded)  # the place it was described by, if nothing better is found
    else:
        if fallback is not None:
            place_reading, place, coded = fallback
    if place is not None:
        cite("place", place_reading, place)
        candidate.place_reported = place.text
        if coded is not None:
            candidate.place_name = coded["name"]
            candidate.place_id = coded["place_id"]
            candidate.latitude, candidate.longitude = coded["latitude"], coded["longitude"]
            candidate.admin1, candidate.admin2, candidate.country = coded["admin1"], coded["admin2"], coded["country"]
            candidate.location_precision = max(int(place.precision), coded["location_precision"])
        else:
            candidate.location_precision = int(place.precision)
        wording = place_reading.sentence.text[max(0, place.start - 40) : place.end + 12]
        candidate.place_reported = _place_wording(wording, place.text) or place.text

    # When: event dates of the most precise kind given; else those of the sentence before (the lede's "on
    # Saturday" holds for the next sentence's village); else the week up to the day the report was filed.
    dated = [(reading, mention) for reading in candidate.readings for mention in reading.event_dates]
    candidate.date_basis = "stated" if dated else None
    if not dated and candidate.date_source is not None:
        dated = [(candidate.date_source, mention) for mention in candidate.date_source.event_dates]
        candidate.date_basis = "carried"
    if dated:
        finest = min(mention.precision for _reading, mention in dated)
        used = [(reading, mention) for reading, mention in dated if mention.precision == finest]
        candidate.start_date = min(mention.first for _reading, mention in used)
        candidate.end_date = max(mention.last for _reading, mention in used)
        if candidate.date_basis == "carried":
            shift = timedelta(days=day_offset(candidate.readings[0].sentence.text))
            candidate.start_date, candidate.end_date = candidate.start_date + shift, candidate.end_date + shift
        candidate.date_precision = int(finest)
        for reading, mention in used:
            cite("date", reading, mention)
        if candidate.end_date > published:
            candidate.end_date = max(candidate.start_date, published)
    else:
        reported = [
            (r, m) for r in candidate.readings for m in r.dates if m.role == "reporting" and m.last <= published
        ]
        day = max([mention.last for _reading, mention in reported], default=report_day)
        candidate.start_date = day - timedelta(days=REPORTED_WINDOW_DAYS - 1)
        candidate.end_date = day
        candidate.date_precision = int(DatePrecision.WEEK)
        candidate.date_basis = "reported"
        for reading, mention in reported[-1:]:
            cite("date", reading, mention)

    # How many: the first incident toll (later ones are usually subsets or restatements).
    tolls = [(reading, mention) for reading in candidate.readings for mention in reading.tolls]
    if tolls:
        reading, mention = tolls[0]
        candidate.fatalities_low, candidate.fatalities_best, candidate.fatalities_high = (
            mention.low,
            mention.best,
            mention.high,
        )
        cite("fatalities", reading, mention)

    # What: the strongest trigger; an attack on civilians is violence against civilians, not a battle.
    triggers = [(reading, trigger) for reading in candidate.readings for trigger in reading.triggers]
    if triggers:
        reading, trigger = max(triggers, key=lambda item: item[1].strength)
        if trigger.slug.startswith("strategic") and candidate.fatalities_best:
            # "… set fire to a farm, leaving seven civilians killed": with deaths reported, the violence is the event.
            violent = [item for item in triggers if VIOLENT_SLUG.match(item[1].slug)]
            if violent:
                reading, trigger = max(violent, key=lambda item: item[1].strength)
        slug = trigger.slug
        armed_b = any(
            actor.side == "B" and actor.kind not in ("civilians", "protesters")
            for r in candidate.readings
            for actor in r.actors
        )
        if (
            slug == "battles-armed-clash"
            and not armed_b
            and any(civilians_targeted(r.sentence.text) for r in candidate.readings)
        ):
            slug = "violence-against-civilians-attack"
        if slug == "battles-non-state-actor-overtakes-territory" and any(
            actor.side == "A" and actor.kind == "state_forces" for r in candidate.readings for actor in r.actors
        ):
            slug = "battles-government-regains-territory"
        found = lookups["sub_types"].get(slug)
        if found:
            candidate.sub_event_type_id, candidate.sub_event_type, candidate.event_type_id, candidate.event_type = found
            candidate.sub_event_type_slug = slug
            cite("event_type", reading, trigger)

    # Who: the first side each actor is given; "the group" carries the previous candidate's perpetrator.
    actors = {}
    for reading in candidate.readings:
        for actor in reading.actors:
            if actor.side and actor.actor_id not in actors:
                actors[actor.actor_id] = {"id": actor.actor_id, "name": actor.name, "side": actor.side}
                cite(f"actor_{actor.side}", reading, actor)
    if not any(actor["side"] == "A" for actor in actors.values()):
        for actor_id, name in candidate.inherited_side_a:
            actors.setdefault(actor_id, {"id": actor_id, "name": name, "side": "A"})
    # Victims named as civilians, children, journalists …: the Civilians actor of the country, on side B.
    violent = candidate.event_type_id is not None and re.match(
        r"battles|explosions|violence", candidate.sub_event_type_slug or ""
    )
    civilians = civilians_actor(candidate.country, lookups["civilians"]) if violent else None
    if civilians is not None and civilians[0] not in actors:
        for reading in candidate.readings:
            victims = victim_mentions(reading.sentence.text)
            if victims:
                actors[civilians[0]] = {"id": civilians[0], "name": civilians[1], "side": "B"}
                cite("actor_B", reading, victims[0])
                break
    candidate.actors = list(actors.values())
    candidate.evidence = sorted(evidence, key=lambda item: (item.sentence, item.start))
    candidate.title = _title(candidate)
    filled = [
        (0.3, candidate.latitude is not None),
        (DATE_CONFIDENCE.get(candidate.date_basis, 0), candidate.start_date is not None),
        (0.15, candidate.event_type is not None),
        (0.15, bool(candidate.actors)),
        (0.15, candidate.fatalities_best is not None),
    ]
    candidate.confidence = round(sum(weight for weight, ok in filled if ok), 2)
    return candidate


VIOLENT_SLUG = re.compile(r"battles|explosions|violence")
# Two places of one sentence further apart than this are not "X south of Y": the reading of X is a namesake.
ANCHOR_KM = 60


def _place_consistent_with_its_sentence(place, reading):
    """(mention, geocoded candidate) for the most precise place, read so that it agrees with the other places its
    sentence names; when no reading of it does, the place it was described by ("south of Mosul") is used."""
    anchors = []
    for other in reading.incident_places:
        # Only a place the wording relates it to ("south of Mosul", "in Idlib province") is an anchor: two towns
        # named side by side ("attacked Kirkuk as troops advanced on Mosul") say nothing of each other.
        if other is place or other.key == place.key or other.precision == LocationPrecision.EXACT:
            continue
        coded = gazetteer.geocode(other.phrase)
        if coded is not None:
            anchors.append((other, coded))
    if not anchors:
        # Nothing in the sentence relates it to another place: the governorate the story named last ranks first.
        return place, gazetteer.geocode(place.phrase, admin1=reading.region_named)

    def consistent(candidate):
        for other, coded in anchors:
            if other.precision == LocationPrecision.REGION or coded["location_precision"] == LocationPrecision.REGION:
                if gazetteer.name_key(candidate["admin1"]) != gazetteer.name_key(coded["admin1"]):
                    return False
            elif km(candidate["latitude"], candidate["longitude"], coded["latitude"], coded["longitude"]) > ANCHOR_KM:
                if gazetteer.name_key(candidate["admin1"]) != gazetteer.name_key(coded["admin1"]):
                    return False
        return True

    # "the village of X in the Y countryside", "قرية X بريف Y": the governorate named around it narrows the search.
    context = [coded["admin1"] for other, coded in anchors if other.precision != LocationPrecision.EXACT]
    coded = gazetteer.geocode(place.phrase, admin1=(context or [None])[0], consistent_with=consistent)
    if coded is not None:
        return place, coded
    other, coded = min(anchors, key=lambda item: item[0].precision)
    other.precision = max(other.precision, LocationPrecision.NEAR)
    return other, coded


def km(a_lat, a_lon, b_lat, b_lon):
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(a_lat), math.radians(b_lat)
    dp, dl = p2 - p1, math.radians(b_lon - a_lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 12742 * math.asin(math.sqrt(h))


def _place_wording(window, name):
    """The report's words around the name, from the precision phrase to the name's qualifier: 'north of the
    ancient city of Palmyra', 'Deir Ezzor province'."""
    match = re.search(
        rf"(?:(?:near|outside|outskirts of|(?:north|south|east|west)\w* of|countryside of|desert of|province of|"
        rf"قرب|ريف|شمال|جنوب|شرق|غرب|بادية|محافظة)\s+(?:the\s+)?(?:\w+\s+){{0,3}}?)?{re.escape(name)}"
        rf"(?:\s+(?:province|governorate|city|countryside|desert|region))?",
        window,
        re.IGNORECASE,
    )
    return match.group() if match else None


def _reported_name(candidate):
    for item in candidate.evidence:
        if item.field == "place":
            reading = next(r for r in candidate.readings if r.sentence.index == item.sentence)
            return reading.sentence.text[item.start : item.end]
    return candidate.place_name


def _title(candidate):
    """What, where and who, in the report's language."""
    return _title_ar(candidate) if candidate.language == "ar" else _title_en(candidate)


def _title_ar(candidate):
    """ "اشتباكات مسلحة قرب تدمر: الدولة الإسلامية – الجيش العربي السوري": the taxonomy's Arabic names, the report's
    own words for the place (the governorate's Arabic name when only the region is known), actors' Arabic aliases."""
    with translation.override("ar"):
        ids = [actor["id"] for actor in candidate.actors]
        names = {actor.pk: actor.display_name for actor in Actor.objects.filter(pk__in=ids)}
        side_a = [names.get(actor["id"], actor["name"]) for actor in candidate.actors if actor["side"] == "A"]
        side_b = [names.get(actor["id"], actor["name"]) for actor in candidate.actors if actor["side"] == "B"]
        what = gettext(candidate.sub_event_type or candidate.event_type or "Incident")
        where = ""
        if candidate.place_name:
            word = "قرب" if candidate.location_precision == LocationPrecision.NEAR else "في"
            if candidate.location_precision == LocationPrecision.REGION and candidate.admin1:
                name = "محافظة " + admin_area_label(candidate.admin1, country=candidate.country or "")
            else:
                name = _reported_name(candidate)
            where = f" {word} {name}"
        who = f": {'، '.join(side_a) or '؟'} – {'، '.join(side_b) or '؟'}" if side_a or side_b else ""
    return f"{what}{where}{who}"[:300]


def _title_en(candidate):
    side_a = [actor["name"] for actor in candidate.actors if actor["side"] == "A"]
    side_b = [actor["name"] for actor in candidate.actors if actor["side"] == "B"]
    what = candidate.sub_event_type or candidate.event_type or "Incident"
    who = ""
    if side_a or side_b:
        who = f": {', '.join(side_a) or '?'} – {', '.join(side_b) or '?'}"
    where = ""
    if candidate.place_name:
        word = {1: "in", 2: "near", 3: "in"}.get(candidate.location_precision, "in")
        region = " province" if candidate.location_precision == LocationPrecision.REGION else ""
        name = candidate.admin1 if region and candidate.admin1 else _reported_name(candidate)
        where = f" {word} {name}{region}"
    return f"{what}{where}{who}"[:300]


def candidate_json(candidate):
    """The command's JSON shape: exactly the keys the issue lists."""
    cited = {}
    for item in candidate.evidence:
        cited.setdefault(item.sentence, []).append(item)
    return {
        "title": candidate.title,
        "language": candidate.language,
        "start_date": candidate.start_date.isoformat() if candidate.start_date else None,
        "end_date": candidate.end_date.isoformat() if candidate.end_date else None,
        "date_precision": {1: "day", 2: "week", 3: "month"}.get(candidate.date_precision),
        "date_basis": candidate.date_basis,
        "place_reported": candidate.place_reported,
        "latitude": candidate.latitude,
        "longitude": candidate.longitude,
        "location_precision": PRECISION_NAMES.get(candidate.location_precision),
        "admin1": candidate.admin1 or None,
        "country": candidate.country or None,
        "fatalities_low": candidate.fatalities_low,
        "fatalities_best": candidate.fatalities_best,
        "fatalities_high": candidate.fatalities_high,
        "event_type": candidate.event_type,
        "actors": [{"name": actor["name"], "side": actor["side"]} for actor in candidate.actors],
        "evidence": [
            {
                "sentence": reading.sentence.text,
                "spans": [
                    {
                        "field": item.field,
                        "start": item.start,
                        "end": item.end,
                        "text": reading.sentence.text[item.start : item.end],
                    }
                    for item in cited.get(reading.sentence.index, [])
                ],
            }
            for reading in candidate.shown_readings
        ],
        "confidence": candidate.confidence,
    }
