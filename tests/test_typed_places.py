"""Places as people type them (common/typed_places.py): a city alone, with its state spelled out
or abbreviated, with or without a comma, a ZIP or ZIP+4, a suburb or a neighbourhood."""
from __future__ import annotations

import pytest

from common.places import CityError
from common.typed_places import CoveredArea, resolve_place, state_code_of
from tests.support import haversine_miles

HOUSTON = CoveredArea("Houston, TX", 29.7633, -95.3633, 25)
DALLAS = CoveredArea("Dallas, TX", 32.7831, -96.8067, 25)
BOSTON = CoveredArea("Boston, MA", 42.3584, -71.0598, 25)
TEXAS = (HOUSTON, DALLAS)


@pytest.mark.parametrize("typed", ["Houston", "houston", "HOUSTON", "Houston, TX", "Houston, Texas", "Houston TX",
                                   "houston texas", "  Houston ,  tx "])
def test_houston_however_it_is_typed(typed):
    place = resolve_place(typed, TEXAS)
    assert place.label == "Houston, TX"
    assert haversine_miles(place.latitude, place.longitude, HOUSTON.latitude, HOUSTON.longitude) < 2


def test_a_city_alone_says_which_it_chose_and_what_else_it_could_be():
    place = resolve_place("Houston", TEXAS)
    assert place.state_chosen
    assert "Houston, MO" in place.alternatives or "Houston, MS" in place.alternatives or len(place.alternatives) == 3
    assert all(alt.startswith("Houston, ") and alt != "Houston, TX" for alt in place.alternatives)
    assert not resolve_place("Houston, TX").state_chosen


def test_a_city_alone_prefers_the_one_inside_coverage():
    # Arlington, TX is the most populous Arlington; inside Boston's coverage, Arlington, MA is meant.
    assert resolve_place("Arlington", TEXAS).label == "Arlington, TX"
    assert resolve_place("Arlington", (BOSTON,)).label == "Arlington, MA"
    assert resolve_place("Arlington", ()).label == "Arlington, TX"
    assert "Arlington, MA" in resolve_place("Arlington", TEXAS).alternatives


@pytest.mark.parametrize("typed, label, near", [
    ("Katy", "Katy, TX", HOUSTON), ("Sugar Land", "Sugar Land, TX", HOUSTON), ("Pasadena", "Pasadena, TX", HOUSTON),
    ("Plano", "Plano, TX", DALLAS), ("Irving", "Irving, TX", DALLAS), ("Garland", "Garland, TX", DALLAS),
    ("Dorchester", "Dorchester, MA", BOSTON), ("Jamaica Plain", "Jamaica Plain, MA", BOSTON),
    ("Roxbury", "Roxbury, MA", BOSTON),
])
def test_suburbs_and_neighbourhoods_of_a_covered_metro(typed, label, near):
    place = resolve_place(typed, TEXAS + (BOSTON,))
    assert place.label == label
    # in the metro (Katy is 28 miles from the centre of Houston)
    assert haversine_miles(place.latitude, place.longitude, near.latitude, near.longitude) < 40


@pytest.mark.parametrize("typed", ["77002", "77002-1234", "770021234", "77002 1234"])
def test_zip_and_zip_plus_four(typed):
    place = resolve_place(typed)
    assert place.label == "ZIP 77002 (Houston, TX)"
    assert (round(place.latitude, 4), round(place.longitude, 4)) == (29.7594, -95.3594)


@pytest.mark.parametrize("typed, state", [("New York", "NY"), ("Kansas City MO", "MO"), ("St. Louis", "MO"),
                                          ("Fort Worth", "TX"), ("Ft Worth", "TX"), ("Charlotte, North Carolina", "NC"),
                                          ("Washington", "DC")])
def test_names_of_several_words(typed, state):
    assert resolve_place(typed).label.endswith(f", {state}")


@pytest.mark.parametrize("typed, message", [
    ("", "Type a ZIP code or a city"), ("1234", "is not a ZIP code"), ("99999", "could not find ZIP code 99999"),
    ("Houston, XX", "“XX” is not a US state"), (", TX", "Type a city before the state"),
    ("Qwxzzy", "could not find a place called “Qwxzzy”"), ("Qwxzzy, TX", "could not find Qwxzzy, TX"),
])
def test_what_cannot_be_found_gets_a_message_for_the_person(typed, message):
    with pytest.raises(CityError, match=message):
        resolve_place(typed)


def test_states_as_people_write_them():
    assert [state_code_of(s) for s in ("TX", "tx", "Texas", "texas", "Tex.", "Massachusetts", "XX", "")] == [
        "TX", "TX", "TX", "TX", None, "MA", None, None]
