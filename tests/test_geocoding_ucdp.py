"""The geocoder on real coders' names: UCDP GED Iraq's place strings with UCDP's own admin1 (copied into
tests/data/geocoding/, CC BY 4.0, see its README), scored against the coordinates UCDP's coders chose."""

import pytest

from places.geocoding import GazetteerGeocoder
from tests.devset import inside_admin1, ucdp_evaluate, ucdp_rows, ucdp_summary

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("gazetteer")]

# Measured on this branch (docs/geocoding.md): 78 % within 10 km, 3.2 % wrong. These floors catch a regression;
# the issue's targets are asserted below as an expected failure until they are met.
HIT_FLOOR = 0.76
WRONG_CEILING = 0.04


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


@pytest.mark.xfail(strict=True, reason="issue 17 targets not reached yet: 78 % within 10 km, 3.2 % wrong (see docs)")
def test_ucdp_names_meet_the_issue_targets():
    figures = ucdp_summary(_outcomes())
    assert figures["hit_share"] >= 0.90, figures
    assert figures["wrong_share"] <= 0.01, figures
