"""The editors' assistant's reading of reports: seed report, the hand-coded test set's thresholds, and each rule."""

import datetime
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from incidents.extraction import candidates_json, report_text_clean
from incidents.extraction.dates import date_mentions
from incidents.extraction.evaluation import evaluate, km
from incidents.extraction.places import place_mentions
from incidents.extraction.text import ReportTextError, html_to_text
from incidents.extraction.tolls import toll_mentions

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("gazetteer", "seed_actors")]

ROOT = Path(__file__).resolve().parent.parent
# Our own text carrying the facts of DW's report of 20 April 2019 (tests/data/README.md).
SEED_REPORT = Path(__file__).parent / "data" / "seed_report_rewritten.txt"
REPORTS = Path(__file__).parent / "data" / "reports"
PUBLISHED = datetime.date(2019, 4, 20)
JSON_KEYS = {
    "title", "language", "start_date", "end_date", "date_precision", "date_basis", "place_reported", "latitude", "longitude",
    "location_precision", "admin1", "country", "fatalities_low", "fatalities_best", "fatalities_high", "event_type",
    "actors", "evidence", "confidence",
}  # fmt: skip


def extract(text, published=PUBLISHED):
    return candidates_json(text, published=published)


# --- the seed report ------------------------------------------------------------------------------------------


def test_seed_report_gives_the_four_seed_incidents():
    seeds = json.loads((ROOT / "seeds" / "incidents.geojson").read_text())["features"]
    candidates = extract(SEED_REPORT.read_text(encoding="utf-8"))
    assert len(candidates) == 4
    for seed, candidate in zip(seeds, candidates, strict=True):
        expected = seed["properties"]
        longitude, latitude = seed["geometry"]["coordinates"]
        if expected["location_precision"] == 3:
            assert candidate["location_precision"] == "region"
            assert candidate["admin1"] == expected["admin1"]
        else:
            assert km(latitude, longitude, candidate["latitude"], candidate["longitude"]) <= 10
        assert (candidate["start_date"], candidate["end_date"]) == (expected["start_date"], expected["end_date"])
        # The seed codes the meeting's toll 0, as ACLED does; the assistant leaves a toll no report gives empty.
        assert [candidate[f"fatalities_{kind}"] for kind in ("low", "best", "high")] == [
            expected[f"fatalities_{kind}"] or None
            if expected["event_type"] == "Strategic developments"
            else expected[f"fatalities_{kind}"]
            for kind in ("low", "best", "high")
        ]
        assert {(actor["name"], actor["side"]) for actor in candidate["actors"]} == {
            (actor["name"], actor["side"].upper()) for actor in expected["actors"]
        }
        assert candidate["event_type"] == expected["event_type"]
        assert candidate["country"] == "SY"


def test_evidence_points_at_the_words_each_field_came_from():
    palmyra = extract(SEED_REPORT.read_text(encoding="utf-8"))[0]
    spans = {span["field"]: span["text"] for item in palmyra["evidence"] for span in item["spans"]}
    assert spans["fatalities"] == "at least 35"
    assert spans["place"] == "Palmyra"
    assert spans["date"] == "started on Thursday"
    assert spans["actor_A"] in ("Islamic State", "IS")
    for item in palmyra["evidence"]:
        for span in item["spans"]:
            assert item["sentence"][span["start"] : span["end"]] == span["text"]
    assert palmyra["place_reported"] == "north of the town of Palmyra"
    assert 0 < palmyra["confidence"] <= 1


def test_test_set_precision_and_recall_are_at_least_ninety_percent():
    english = list(REPORTS.glob("en_*.txt"))
    arabic = list(REPORTS.glob("ar_*.txt"))
    assert len(english) >= 30 and len(arabic) >= 5
    scores, count = evaluate(REPORTS)
    assert count == len(english) + len(arabic)
    for name in ("places", "dates", "tolls"):
        score = scores[name]
        assert score.precision >= 0.9, (name, score.misses)
        assert score.recall >= 0.9, (name, score.misses)


# --- places ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "name", "precision"),
    [
        ("Shells fell in Saraqib on Monday.", "Saraqib", 1),
        ("Gunmen attacked a checkpoint near Saraqib.", "Saraqib", 2),
        ("Fighting raged north of Palmyra.", "Palmyra", 2),
        ("Clashes erupted on the outskirts of Hama.", "Hama", 2),
        ("Airstrikes hit the countryside of Idlib.", "Idlib", 2),
        ("IS attacked a patrol in the desert of Palmyra.", "Palmyra", 2),
        ("A bomb exploded in Deir Ezzor province.", "Deir Ezzor", 3),
        ("Protests spread across Daraa governorate.", "Daraa", 3),
        ("هاجم التنظيم مواقع في بادية تدمر.", "تدمر", 2),
        ("قصفت الطائرات مدينة سراقب.", "سراقب", 1),
        # The gazetteer knows the governorate by its full Arabic name, word for governorate included.
        ("انفجرت سيارة مفخخة في محافظة الحسكة.", "محافظة الحسكة", 3),
    ],
)
def test_place_precision_phrases(sentence, name, precision):
    mentions = [mention for mention in place_mentions(sentence) if not mention.context]
    assert [(mention.text, int(mention.precision)) for mention in mentions] == [(name, precision)]


def test_a_persons_origin_is_context_not_the_incident_place():
    candidate = extract("A fighter from Aleppo was killed when shells hit Saraqib on Friday.")[0]
    assert candidate["place_reported"] == "Saraqib"
    assert [m.context for m in place_mentions("A fighter from Aleppo was killed.")] == [True]
    assert [m.context for m in place_mentions("The UK-based monitor said Homs was shelled.")] == [False]


def test_a_dateline_city_is_where_the_report_was_filed_not_the_incident():
    [candidate] = extract("BEIRUT, April 20 (Reuters) - Turkish drones struck SDF positions in Raqqa on Thursday.")
    assert candidate["place_reported"] == "Raqqa"
    assert {(actor["name"], actor["side"]) for actor in candidate["actors"]} == {
        ("Turkish Armed Forces", "A"),
        ("Syrian Democratic Forces", "B"),
    }


@pytest.mark.parametrize(
    "sentence",
    ["Fighters of Liwa Hama clashed with IS.", "Abu Hama was killed.", "The Aleppo Military Council said so."],
)
def test_a_place_name_inside_a_unit_or_person_name_is_not_a_place(sentence):
    assert place_mentions(sentence) == []


def test_coordinates_admin1_and_country_come_from_the_gazetteer():
    candidate = extract("Regime forces shelled the town of Saraqib in Idlib province on Thursday, killing seven.")[0]
    assert km(35.864, 36.806, candidate["latitude"], candidate["longitude"]) < 2
    assert (candidate["admin1"], candidate["country"], candidate["location_precision"]) == ("Idlib", "SY", "exact")


# --- dates ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "first", "last", "precision", "role"),
    [
        ("on Thursday", "2019-04-18", "2019-04-18", 1, "event"),
        ("on Thursday night", "2019-04-18", "2019-04-18", 1, "event"),
        ("on Saturday", "2019-04-20", "2019-04-20", 1, "event"),  # the publication day itself
        ("yesterday", "2019-04-19", "2019-04-19", 1, "event"),
        ("at dawn today", "2019-04-20", "2019-04-20", 1, "event"),
        ("last week", "2019-04-08", "2019-04-14", 2, "event"),
        ("over three days starting on Thursday", "2019-04-18", "2019-04-20", 1, "event"),
        ("in attacks over the past two days", "2019-04-19", "2019-04-20", 1, "event"),
        ("on 18 April 2019", "2019-04-18", "2019-04-18", 1, "event"),
        ("on April 3, 2019", "2019-04-03", "2019-04-03", 1, "event"),
        ("in March 2019", "2019-03-01", "2019-03-31", 3, "event"),
        ("since March 2019", "2019-03-01", "2019-03-31", 3, "background"),
        ("the monitor reported Saturday", "2019-04-20", "2019-04-20", 1, "reporting"),
        ("يوم الخميس", "2019-04-18", "2019-04-18", 1, "event"),
        ("ليلة الخميس", "2019-04-18", "2019-04-18", 1, "event"),
        ("أمس", "2019-04-19", "2019-04-19", 1, "event"),
        ("فجر اليوم", "2019-04-20", "2019-04-20", 1, "event"),
        ("الأسبوع الماضي", "2019-04-08", "2019-04-14", 2, "event"),
        ("في ١٨ نيسان ٢٠١٩", "2019-04-18", "2019-04-18", 1, "event"),
        ("في 18 أبريل 2019", "2019-04-18", "2019-04-18", 1, "event"),
    ],
)
def test_dates_absolute_and_relative_to_the_publication_date(text, first, last, precision, role):
    [mention] = date_mentions(text, published=PUBLISHED)
    assert (mention.first.isoformat(), mention.last.isoformat(), int(mention.precision), mention.role) == (
        first,
        last,
        precision,
        role,
    )


def test_a_report_without_dates_proposes_the_week_up_to_its_publication_day_at_lower_confidence():
    [undated] = extract("Regime forces shelled Saraqib, killing two civilians.")
    [dated] = extract("Regime forces shelled Saraqib on Friday, killing two civilians.")
    assert (undated["start_date"], undated["end_date"], undated["date_precision"], undated["date_basis"]) == (
        "2019-04-14",
        "2019-04-20",
        "week",
        "reported",
    )
    assert (dated["start_date"], dated["date_precision"], dated["date_basis"]) == ("2019-04-19", "day", "stated")
    assert undated["confidence"] < dated["confidence"]


def test_the_day_a_monitor_reported_bounds_an_undated_event():
    [candidate] = extract(
        "A Turkish drone strike killed two SDF fighters in Tal Tamr, the monitor reported on Tuesday."
    )
    assert (candidate["start_date"], candidate["end_date"], candidate["date_basis"]) == (
        "2019-04-10",
        "2019-04-16",
        "reported",
    )


def test_a_dateline_is_the_reports_day_never_the_events():
    [candidate] = extract(
        "BEIRUT, April 18 (Reuters) - Turkish drones struck SDF positions near Tal Tamr, killing four fighters."
    )
    assert (candidate["start_date"], candidate["end_date"], candidate["date_basis"]) == (
        "2019-04-12",
        "2019-04-18",
        "reported",
    )
    [dated] = extract("TIKRIT, Iraq, April 18 (Xinhua) -- Gunmen attacked a checkpoint in Samarra on Wednesday.")
    assert (dated["start_date"], dated["end_date"]) == ("2019-04-17", "2019-04-17")


def test_a_date_carries_to_the_next_sentence_about_the_same_story():
    saraqib, kafr_nabl = extract(
        "Regime artillery killed two civilians in Saraqib on Thursday.\n"
        "The strikes came a day after regime artillery shelled Kafr Nabl, wounding four civilians."
    )
    assert (saraqib["start_date"], saraqib["date_basis"]) == ("2019-04-18", "stated")
    assert (kafr_nabl["start_date"], kafr_nabl["end_date"], kafr_nabl["date_basis"]) == (
        "2019-04-17",
        "2019-04-17",
        "carried",
    )


@pytest.mark.parametrize(
    ("text", "first", "last", "precision"),
    [
        ("overnight", "2019-04-19", "2019-04-20", 1),
        ("at dawn", "2019-04-20", "2019-04-20", 1),
        ("earlier this week", "2019-04-15", "2019-04-20", 2),
        ("earlier this month", "2019-04-01", "2019-04-20", 3),
        ("فجر أمس", "2019-04-19", "2019-04-19", 1),
        ("مطلع الأسبوع الجاري", "2019-04-15", "2019-04-20", 2),
        ("مطلع الشهر الجاري", "2019-04-01", "2019-04-20", 3),
        ("الشهر الماضي", "2019-03-01", "2019-03-31", 3),
    ],
)
def test_times_a_reporter_implies(text, first, last, precision):
    [mention] = date_mentions(text, published=PUBLISHED)
    assert (mention.first.isoformat(), mention.last.isoformat(), int(mention.precision)) == (first, last, precision)


# --- tolls ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "toll"),
    [
        ("IS killed at least 35 soldiers.", (35, 35, None)),
        ("13 pro-government fighters killed in the attack.", (13, 13, 13)),
        ("Seven civilians were killed.", (7, 7, 7)),
        ("A dozen soldiers died.", (12, 12, 12)),
        ("Up to 20 people were killed.", (None, 20, 20)),
        ("The strike killed about 40 people.", (None, 40, None)),
        ("The blast killed a soldier.", (1, 1, 1)),
        ("Two soldiers and five militants were killed.", (7, 7, 7)),
        ("أسفر الهجوم عن مقتل ١٣ عنصراً.", (13, 13, 13)),
        ("قتل ما لا يقل عن سبعة مدنيين.", (7, 7, None)),
        ("Seven civilians were killed or wounded.", None),
        ("Five people were wounded.", None),
        ("Four senior officers were among the dead.", None),
        ("Since March 2019 at least 1,383 people have been killed.", None),
        ("سقط عشرة قتلى وجرحى.", None),
    ],
)
def test_tolls(sentence, toll):
    mentions = toll_mentions(sentence)
    assert ((mentions[0].low, mentions[0].best, mentions[0].high) if mentions else None) == toll


def test_background_total_is_not_the_incidents_toll():
    [candidate] = extract(
        "Russian warplanes struck Maarat al-Numan on Sunday, killing 11 civilians. "
        "Since April 2019 at least 1,383 civilians have been killed, the monitor said."
    )
    assert candidate["fatalities_best"] == 11


# --- actors and types -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "actors", "event_type"),
    [
        (
            "ISIS attacked regime forces near Palmyra on Thursday.",
            {("Islamic State", "A"), ("Syrian Arab Army", "B")},
            "Battles",
        ),
        (
            "Regime forces were attacked by Daesh in Homs on Thursday.",
            {("Islamic State", "A"), ("Syrian Arab Army", "B")},
            "Battles",
        ),
        (
            "HTS shelled government forces in Saraqib on Thursday.",
            {("Hay'at Tahrir al-Sham", "A"), ("Syrian Arab Army", "B")},
            "Explosions/Remote violence",
        ),
        (
            "Clashes between the SDF and IS erupted in Raqqa on Thursday.",
            {("Syrian Democratic Forces", "A"), ("Islamic State", "B")},
            "Battles",
        ),
        (
            "Russian envoys met the Syrian president in Damascus on Thursday.",
            {("Government of Russia", "A"), ("Government of Syria", "B")},
            "Strategic developments",
        ),
        (
            "More than 20 regime soldiers were killed in Hama on Friday when HTS fighters attacked their positions.",
            {("Hay'at Tahrir al-Sham", "A"), ("Syrian Arab Army", "B")},
            "Battles",
        ),
        (
            "Turkish artillery shelled villages near Tal Tamr on Friday, the SDF said.",
            {("Turkish Armed Forces", "A")},  # the SDF is who reported it, on no side
            "Explosions/Remote violence",
        ),
        (
            "قتل ١٣ عنصراً من قوات النظام في هجوم شنته هيئة تحرير الشام على مواقعهم في مدينة حلب يوم السبت.",
            {("Hay'at Tahrir al-Sham", "A"), ("Syrian Arab Army", "B")},
            "Battles",
        ),
        (
            "هاجم تنظيم داعش مواقع لقوات النظام في بادية تدمر يوم الخميس.",
            {("Islamic State", "A"), ("Syrian Arab Army", "B")},
            "Battles",
        ),
    ],
)
def test_actors_on_the_right_side_and_event_type_from_the_verb(sentence, actors, event_type):
    [candidate] = extract(sentence)
    assert {(actor["name"], actor["side"]) for actor in candidate["actors"]} == actors
    assert candidate["event_type"] == event_type


def test_several_incidents_are_separate_and_one_told_in_several_sentences_stays_one():
    candidates = extract(
        "Government forces launched an assault on Khan Shaykhun on Thursday. "
        "The offensive was backed by Russian airstrikes, the monitor said. "
        "Seventeen rebel fighters were killed in the fighting.\n\n"
        "In a separate attack, IS killed four SDF fighters in Raqqa on Friday."
    )
    assert [(c["place_reported"], c["start_date"], c["fatalities_best"]) for c in candidates] == [
        ("Khan Shaykhun", "2019-04-18", 17),
        ("Raqqa", "2019-04-19", 4),
    ]
    assert len(candidates[0]["evidence"]) == 3


def test_unknown_values_are_null():
    [candidate] = extract("Clashes broke out in Saraqib.")
    assert candidate["date_basis"] == "reported"
    assert candidate["fatalities_best"] is None and candidate["fatalities_low"] is None
    assert candidate["actors"] == []


# --- command and text -----------------------------------------------------------------------------------------


def test_command_prints_a_json_array_with_exactly_the_issues_keys(tmp_path):
    out = io.StringIO()
    call_command("extract_incidents", str(SEED_REPORT), "--published", "2019-04-20", "--json", stdout=out)
    candidates = json.loads(out.getvalue())
    assert len(candidates) == 4
    assert all(set(candidate) == JSON_KEYS for candidate in candidates)
    assert {"name": "Islamic State", "side": "A"} in candidates[0]["actors"]


def test_command_reads_standard_input_and_refuses_bad_input(tmp_path, monkeypatch):
    class Stdin:
        buffer = io.BytesIO(b"IS attacked regime forces in Homs on Thursday, killing seven.")

    monkeypatch.setattr("sys.stdin", Stdin)
    out = io.StringIO()
    call_command("extract_incidents", "-", "--published", "2019-04-20", "--language", "en", "--json", stdout=out)
    assert json.loads(out.getvalue())[0]["fatalities_best"] == 7
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    with pytest.raises(CommandError, match="empty"):
        call_command("extract_incidents", str(empty), "--published", "2019-04-20", "--json")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("extract_incidents", str(SEED_REPORT), "--published", "20/04/2019", "--json")
    junk = tmp_path / "junk.txt"
    junk.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(CommandError):
        call_command("extract_incidents", str(junk), "--published", "2019-04-20", "--json")


def test_html_is_reduced_to_its_article_text_without_scripts():
    html = (
        "<html><head><title>x</title><script>alert('x')</script></head><body><nav>Home | World</nav>"
        "<article><h1>IS attack</h1><p>IS attacked regime forces in Homs on Thursday.</p>"
        "<script>document.write('evil')</script><p>Seven soldiers were killed.</p></article>"
        "<footer>© DW</footer></body></html>"
    )
    text, scripts = html_to_text(html)
    assert text == "IS attack\n\nIS attacked regime forces in Homs on Thursday.\n\nSeven soldiers were killed."
    assert scripts == 2
    cleaned, notes = report_text_clean(html)
    assert "alert" not in cleaned and "evil" not in cleaned and len(notes) == 2


@pytest.mark.parametrize("text", ["", "   \n ", "\x00\x01\x02\x03\x04\x05" * 50, "x" * 300_000, "1234 5678"])
def test_unusable_text_is_refused_with_a_message(text):
    with pytest.raises(ReportTextError):
        report_text_clean(text)


# --- every kind of event, victims, places named with their governorate -------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "sub_event_type"),
    [
        ("Iraqi security forces arrested three IS suspects in Ramadi on Friday.", "Arrests"),
        ("The Syrian army sent reinforcements to Daraa on Friday.", "Other"),
        ("Militiamen looted shops in Afrin on Friday.", "Looting/property destruction"),
        ("Rebels in Daraa agreed on Friday to hand over their heavy weapons under a reconciliation deal.", "Agreement"),
        ("Syrian army units entered the town of Busra al-Harir on Friday and raised the national flag.",
         "Non-violent transfer of territory"),
        ("Turkish forces set up a new military base near Saraqib on Friday.", "Headquarters or base established"),
        ("Police defused a roadside bomb in Kirkuk on Friday.", "Disrupted weapons use"),
        ("اعتقلت قوات الأمن ثلاثة مطلوبين في الرمادي يوم الجمعة.", "Arrests"),
    ],
)  # fmt: skip
def test_strategic_developments_are_proposed_with_an_empty_toll(sentence, sub_event_type):
    [candidate] = candidates_of(sentence)
    assert (candidate.event_type, candidate.sub_event_type) == ("Strategic developments", sub_event_type)
    assert (candidate.fatalities_low, candidate.fatalities_best, candidate.fatalities_high) == (None, None, None)


def candidates_of(text):
    from incidents.extraction import extract_candidates

    return extract_candidates(text, published=PUBLISHED)


@pytest.mark.parametrize(
    ("sentence", "civilians"),
    [
        ("Regime forces shelled Saraqib on Thursday, killing seven civilians.", "Civilians (Syria)"),
        ("A roadside bomb killed two children in Kirkuk on Thursday.", "Civilians (Iraq)"),
        ("An airstrike on Maarat al-Numan killed a journalist and two aid workers on Thursday.", "Civilians (Syria)"),
        ("قتل ثلاثة مدنيين بقصف على سراقب يوم الخميس.", "Civilians (Syria)"),
    ],
)
def test_victims_named_as_civilians_are_the_civilians_actor_on_side_b(sentence, civilians):
    [candidate] = extract(sentence)
    assert {"name": civilians, "side": "B"} in candidate["actors"]
    spans = {span["field"]: span["text"] for item in candidate["evidence"] for span in item["spans"]}
    assert "actor_B" in spans


def test_residents_who_speak_are_sources_not_victims():
    [candidate] = extract("Unidentified gunmen killed a local official in Tafas on Thursday, residents said.")
    assert all(actor["name"] != "Civilians (Syria)" for actor in candidate["actors"])


def test_a_village_named_with_its_governorate_is_placed_in_that_governorate():
    [candidate] = extract(
        "Government shelling hit the village of Kafr Nouran in western Aleppo province on Thursday, killing five."
    )
    assert candidate["admin1"] == "Aleppo"
    assert km(36.082, 36.83, candidate["latitude"], candidate["longitude"]) < 3


def test_a_web_process_readies_the_assistant_so_the_first_report_builds_nothing(django_assert_max_num_queries):
    from incidents.extraction import gazetteer
    from incidents.extraction.warmup import warm_up
    from places.geocoding import _transliteration_index

    gazetteer._cache.update(stamp=None, index=None)
    _transliteration_index.loose_ids = None
    warm_up(close_connections=False)  # the test's own connection stays open
    assert gazetteer._cache["index"] is not None
    # The loose-spelling index too (a village named by ear inside a governorate): 13 s on a busy machine, built once.
    assert _transliteration_index.loose_ids
    # Reading a report now costs its few look-ups, not the thousands of rows an index build reads.
    with django_assert_max_num_queries(60):
        extract("Regime forces shelled the town of Saraqib in Idlib province on Thursday, killing seven civilians.")


def test_an_arabic_village_in_a_governorates_countryside_is_placed_there():
    [candidate] = extract("قتل ثلاثة مدنيين بقصف على قرية الفطيرة بريف إدلب الجنوبي يوم الخميس.")
    assert candidate["admin1"] == "Idlib"
    assert km(35.61, 36.486, candidate["latitude"], candidate["longitude"]) < 3


def test_a_village_is_looked_for_in_the_governorate_the_story_named():
    candidates = extract(
        "A Turkish drone strike killed two SDF fighters near Hasakah city on Tuesday, the monitor said.\n"
        "A second drone strike hit Tel Tawil village at the northern entrance to the city, killing a civilian."
    )
    assert {candidate["admin1"] for candidate in candidates} == {"Al-Hasakah"}
    assert any(km(36.555, 40.748, c["latitude"], c["longitude"]) < 3 for c in candidates)
