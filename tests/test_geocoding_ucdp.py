"""The geocoder on real coders' names: UCDP GED Iraq's place strings with UCDP's own admin1 (copied into
tests/data/geocoding/, CC BY 4.0, see its README), scored against the coordinates UCDP's coders chose."""

import csv
import io
import json

import pytest
from django.core.management import call_command
from geopy.distance import geodesic

from places.geocoding import AreaContext, GazetteerGeocoder, phrase_parse
from places.models import LocationPrecision
from places.names import loose_agrees, name_key
from tests.devset import inside_admin1, ucdp_evaluate, ucdp_rows, ucdp_summary

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("gazetteer")]

# Measured on this branch (docs/geocoding.md): 82.8 % within 10 km (288 / 348), 2.9 % wrong (10). These floors catch
# a regression; the issue's targets are asserted below as an expected failure until they are met.
HIT_FLOOR = 0.82
WRONG_CEILING = 0.03


def _outcomes():
    geocoder = GazetteerGeocoder()
    return ucdp_evaluate(
        lambda name, country, admin1: geocoder.candidates(name, countries=[country], admin1=admin1, limit=5),
        inside=inside_admin1,
    )


def test_ucdp_set_is_the_publishers_names_with_their_admin1():
    rows = ucdp_rows()
    assert len(rows) >= 340  # where_prec 1–2 of the 476 (name, adm_1) pairs
    assert {row["fold"] for row in rows} == {"dev", "holdout"}
    assert any("  province" in row["admin1"] for row in rows)  # UCDP's double spaces kept as published


def test_ucdp_names_never_answered_outside_their_admin1_and_above_the_floors():
    outcomes = _outcomes()
    figures = ucdp_summary(outcomes)
    outside = [(o.row["name"], o.row["admin1"], o.top["name"], o.top["admin1"]) for o in outcomes if o.outside_admin1]
    assert outside == []
    assert figures["hit_share"] >= HIT_FLOOR, figures
    assert figures["wrong_share"] <= WRONG_CEILING, figures


@pytest.mark.xfail(
    strict=True, reason="issue 17 targets not reached yet: 82.8 % within 10 km, 2.9 % wrong (docs/geocoding.md)"
)
def test_ucdp_names_meet_the_issue_targets():
    figures = ucdp_summary(_outcomes())
    assert figures["hit_share"] >= 0.90, figures
    assert figures["wrong_share"] <= 0.01, figures


def km_from(candidate, latitude, longitude):
    return geodesic((candidate["latitude"], candidate["longitude"]), (latitude, longitude)).km


# --- the mechanisms, one by one -------------------------------------------------------------------------------


def candidates(query, *, country="IQ", admin1=None, admin2=None):
    return GazetteerGeocoder().candidates(query, countries=[country], admin1=admin1, admin2=admin2, limit=10)


@pytest.mark.parametrize(
    ("admin1", "region"),
    [
        ("Al Başrah  province", "Basra"),  # UCDP's double space
        ("At-Ta'mim province", "Kirkuk"),  # the old name
        ("Ninawa", "Nineveh"),
        ("Nīnawá province", "Nineveh"),
        ("Salahuddin governorate", "Salah ad Din"),
    ],
)
def test_admin1_spellings_name_their_region(admin1, region):
    area = AreaContext.named(admin1=admin1, countries=["IQ"])
    assert ("IQ", region) in area.regions


def test_a_name_outside_the_given_admin1_is_listed_marked_never_answered(tmp_path):
    """Zummar is a town of Nineveh: asked for in Al Muthanna, it is listed as outside, never as the answer."""
    found = candidates("Zummār town", admin1="Al Muthanná province")
    assert found[0]["name"] == "Zummar" and found[0]["admin1"] == "Nineveh"
    assert all(candidate["outside_admin1"] and candidate["score"] <= 0.3 for candidate in found)
    source = tmp_path / "events.csv"
    source.write_text("location,country,admin1\nZummār town,IQ,Al Muthanná province\n", encoding="utf-8")
    out = io.StringIO()
    call_command(
        "geocode", "--csv", str(source), "--column", "location", "--country-column", "country",
        "--admin1-column", "admin1", stdout=out,
    )  # fmt: skip
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["latitude"] == "" and row["match"] == "outside_admin1"


def test_the_given_admin1_picks_its_namesake():
    """Zummar: the town of Nineveh, not the look-alike village in Erbil, and not "ambiguous"."""
    top = candidates("Zummār town", admin1="Nīnawá province")[0]
    assert top["admin1"] == "Nineveh" and not top["ambiguous"] and not top["outside_admin1"]
    assert km_from(top, 36.766667, 42.633333) <= 10


def test_a_spelling_by_ear_is_matched_inside_the_admin1_only():
    """ "Bāsarm" is the gazetteer's "Baysrim" in Erbil: found on its consonants with Erbil as context; without a
    context no consonant look-alike is offered at all."""
    top = candidates("Bāsarm town", admin1="Arbīl province")[0]
    assert top["match"] == "loose" and top["admin1"] == "Erbil" and not top["ambiguous"]
    assert km_from(top, 36.491273, 44.370178) <= 10  # UCDP's coordinates
    assert all(candidate["match"] != "loose" for candidate in candidates("Bāsarm town"))


@pytest.mark.parametrize(
    ("query", "name", "agrees"),
    [
        ("Seneia", "Nahiyat as Siniyah", True),  # letters dropped by ear
        ("Paynjuwayn", "Baynjiwayn", True),  # Kurdish p for Arabic b
        ("Ḩalabchah", "Halabja", True),  # Kurdish ch for Arabic j
        ("Sakranat", "Sakrana", True),  # the construct -at
        ("Tuwaylah", "Talah", False),  # a w the coder wrote, missing from the name
        ("Bayadir", "Badr", False),  # likewise a y before a vowel
    ],
)
def test_a_look_alike_keeps_every_consonant_the_coder_wrote(query, name, agrees):
    assert loose_agrees(query, [name_key(name)]) is agrees


def test_a_village_called_by_its_head_alone_is_found_inside_the_admin1_only():
    """ "Sakrana village" in Anbar is the gazetteer's "Qaryat Sakran an Namudhajiyah" (Sakran the model village),
    at UCDP's point; "Camp Sakrana" (a feature) and a name without the admin1 do not reach it."""
    top = candidates("Sakrana village", admin1="Al Anbār province")[0]
    assert top["match"] == "loose" and top["admin1"] == "Al Anbar" and not top["ambiguous"]
    assert km_from(top, 34.191935, 42.498131) <= 10
    assert all(candidate["match"] != "loose" for candidate in candidates("Sakrana village"))
    assert all(km_from(item, 34.191935, 42.498131) > 10 for item in candidates("Camp Sakrana", admin1="Al Anbār"))


def test_namesakes_close_together_inside_the_admin1_are_answered_not_ambiguous():
    """Two "Ar Radwaniyah" records 14 km apart in Baghdad's Abu Ghraib: the better documented one is answered (it is
    UCDP's point); without the admin1 they stay ambiguous."""
    top = candidates("Ar Raḑwānīyah town", admin1="Baghdād province")[0]
    assert not top["ambiguous"] and km_from(top, 33.190669, 44.004985) <= 10
    assert candidates("Ar Raḑwānīyah town")[0]["ambiguous"]


def test_a_settlement_named_like_a_feature_is_the_settlement():
    """ "Sahl al Milhah village" is a village of that name (found on its consonants in Nineveh, at UCDP's point), not
    the plain ("sahl") of Al Malhah, 78 km away; "Sahl al Milhah" alone still reads as the plain."""
    top = candidates("Sahl al Milhah village", admin1="Nīnawá province")[0]
    assert top["feature"] == "village" and km_from(top, 36.51909, 42.354199) <= 10
    assert candidates("Sahl al Milhah", admin1="Nīnawá province")[0]["feature"] == "sahl"


def test_one_row_per_real_place():
    found = GazetteerGeocoder().candidates("Qamishli", countries=["SY"], limit=10)
    near_qamishli = [candidate for candidate in found if km_from(candidate, 37.05, 41.22) <= 10]
    assert len(near_qamishli) == 1


def test_feature_names_resolve_to_their_place_with_a_precision_that_says_so():
    refinery = candidates("Bayji Oil Refinery", admin1="Şalāḩ ad Dīn province")[0]
    assert refinery["precision"] == "near" and refinery["feature"] == "oil refinery"
    assert km_from(refinery, 34.93, 43.49) <= 10
    district = candidates("Qaḑā’ al Mawşil", admin1="Nīnawá province")[0]
    assert district["precision"] == "region" and district["feature"] == "district"
    assert district["admin2"] == "Mosul"
    town = candidates("Al Fallūjah town", admin1="Al Anbār province")[0]
    assert town["precision"] == "exact" and town["feature"] == "town"
    assert km_from(town, 33.355813, 43.786124) <= 10


def test_city_dash_neighbourhood_is_the_neighbourhood_near_the_city_or_else_the_city():
    quarter = candidates("Mosul - Al Mawşil al Jadīdah")[0]
    assert quarter["name"] == "Al Mawşil al Jadīdah" and quarter["precision"] == "exact"
    city = candidates("Baghdad - Al Nowhere Quarter")[0]
    assert city["name"] == "Baghdad" and city["precision"] == "near" and city["feature"] == "city"


@pytest.mark.parametrize(
    ("wording", "name", "precision", "feature"),
    [
        ("Al Asad Airbase", "al asad", LocationPrecision.NEAR, "airbase"),
        ("Ţūzkhūrmātū air base", "tuzkhurmatu", LocationPrecision.NEAR, "air base"),
        ("Camp Ashraf", "ashraf", LocationPrecision.NEAR, "camp"),
        ("Badush Military Prison", "badush", LocationPrecision.NEAR, "military prison"),
        ("Akkas Gas Field", "akkas", LocationPrecision.NEAR, "gas field"),
        ("Jabal Sinjār", "sinjar", LocationPrecision.NEAR, "jabal"),
        ("Nineveh Plain", "nineveh", LocationPrecision.NEAR, "plain"),
        ("Qaḑā’ al Mawşil", "al mawsil", LocationPrecision.REGION, "district"),
        ("Al Fallūjah town", "al fallujah", LocationPrecision.EXACT, "town"),
        ("Xazir village", "xazir", LocationPrecision.EXACT, "village"),
    ],
)
def test_feature_wording_names_the_place_and_says_what_it_is(wording, name, precision, feature):
    (phrase,), _country = phrase_parse(wording)
    assert (phrase.text, phrase.precision, phrase.feature) == (name, precision, feature)


def test_an_air_base_is_the_base_not_the_village_it_is_named_after():
    """Who's On First's campuses are in the gazetteer: "Al-Asad military base" is the air base (Wikipedia: 33.7856 N,
    42.4411 E), by its own name and precision exact, whichever word the coder used for a base."""
    for wording in ("Al-Asad military base", "Al Asad Airbase", "al Asad air base"):
        top = candidates(wording, admin1="Al Anbār province")[0]
        assert (top["name"], top["precision"]) == ("Al Asad Airport", "exact"), wording
        assert km_from(top, 33.7856, 42.4411) <= 3
    assert candidates("Al Asad Airport")[0]["name"] == "Al Asad Airport"


def test_between_two_places_is_near_the_first_then_the_second():
    """ "Road between Bayjī town and Seneia town" is near Bayji (UCDP's point is 3 km from it), not a third place
    that the whole wording or "Seneia" alone might match first."""
    phrases, _country = phrase_parse("Road between Bayjī town and Seneia town")
    assert [(phrase.text, phrase.precision) for phrase in phrases] == [
        ("bayji", LocationPrecision.NEAR),
        ("seneia", LocationPrecision.NEAR),
    ]
    top = candidates("Road between Bayjī town and Seneia town", admin1="Şalāḩ ad Dīn province")[0]
    assert top["precision"] == "near" and km_from(top, 34.9307, 43.493107) <= 10


def test_geocode_command_takes_admin2():
    out = io.StringIO()
    call_command(
        "geocode", "Zummār town", "--country", "IQ", "--admin1", "Ninawa", "--admin2", "Tall Afar", "--json", stdout=out
    )
    top = json.loads(out.getvalue())[0]
    assert (top["name"], top["admin2"], top["outside_admin1"]) == ("Zummar", "Telafar", False)
