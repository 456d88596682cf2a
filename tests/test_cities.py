"""City names: parsing the cities argument and resolving a centre point offline."""
import pytest

from common.places import City, CityError, city_centre, parse_cities
from plugins.distance import distance_miles


def test_parse_default_cities():
    assert parse_cities("Houston, TX;Dallas, TX") == [City("Houston", "TX"), City("Dallas", "TX")]


def test_parse_tolerates_spacing_and_case_of_the_state():
    assert parse_cities(" El  Paso ,tx ; ") == [City("El Paso", "TX")]


@pytest.mark.parametrize("spec, message", [
    ("Houston", 'write it as "City, ST"'),
    ("Houston, Texas", "not a US state code"),
    ("", "no city given"),
])
def test_parse_errors_name_the_bad_part(spec, message):
    with pytest.raises(CityError, match=message):
        parse_cities(spec)


@pytest.mark.parametrize("spec, lat, lon", [
    ("Houston, TX", 29.7604, -95.3698),
    ("Dallas, TX", 32.7767, -96.7970),
    ("Boston, MA", 42.3601, -71.0589),
    ("Winters, TX", 31.9565, -99.9623),  # under 15,000 people: from ZIP centroids
])
def test_city_centre_is_within_five_miles_of_downtown(spec, lat, lon):
    centre = city_centre(parse_cities(spec)[0])
    assert distance_miles(*centre, lat, lon) < 5


def test_unknown_city_is_a_clear_error():
    with pytest.raises(CityError, match='"Huston, TX": not a known US city'):
        city_centre(parse_cities("Huston, TX")[0])


def test_city_matches_rows_regardless_of_case():
    houston = City("Houston", "TX")
    assert houston.matches("HOUSTON", "TX") and houston.matches(" houston ", "tx")
    assert not houston.matches("Houston", "MS") and not houston.matches("South Houston", "TX")
