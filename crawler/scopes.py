"""What a listing crawl covers, besides cities: whole states and a file of cities.

A state is searched whole where SAMHSA's own id for it is known (the API's `limitType=0` with
`limitValue` = that id; data/samhsa_state_ids.csv, each id with its evidence). SAMHSA's ids are
not FIPS codes and only a few are documented here, so a state without a known id is covered by
distance searches instead: circles of COVER_MILES around ZIP code centroids chosen so that every
ZIP code centroid of the state lies within COVER_MILES - COVER_MARGIN_MILES of a centre (a
listing lies near its own ZIP's centroid), keeping only the rows of that state. Adding an id to
the data file turns a state's circles into one paged search, with no code change.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import us

from common import paths
from common.geo import miles_between, zip_areas
from common.places import STATE_CODES, CityError, parse_cities

STATE_IDS = paths.DATA / "samhsa_state_ids.csv"
COVER_MILES = 50.0
COVER_MARGIN_MILES = 10.0


@dataclass(frozen=True)
class StateArea:
    """A requested state: rows of that state belong to it (a requested city's radius first)."""

    state: str

    @property
    def label(self) -> str:
        return self.state


@dataclass(frozen=True)
class CoverCircle:
    """One distance search of a state's cover: rows of `state` found within `miles` of the point."""

    state: str
    latitude: float
    longitude: float
    miles: float

    @property
    def label(self) -> str:
        return self.state


def parse_states(spec: str | None) -> list[str]:
    """ "TX;MA" (codes or names, ";" or "," between them) -> ["TX", "MA"], each once, in order;
    "all": every state (national_states)."""
    if (spec or "").strip().lower() == "all":
        return national_states()
    states: dict[str, None] = {}
    for part in (spec or "").replace(",", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        found = us.states.lookup(part)
        code = found.abbr if found else part.upper()
        if code not in STATE_CODES:
            raise CityError(f'state "{part}": not a US state code or name (e.g. STATES="TX;MA")')
        states.setdefault(code)
    return list(states)


def national_states() -> list[str]:
    """Every state SAMHSA lists (the 50 states, DC and the territories), for `make national`."""
    return sorted(STATE_CODES)


def read_cities_file(path: str | Path) -> str:
    """A file of cities, one "City, ST" a line (blank lines and # comments skipped), as the
    cities argument "City, ST;City, ST": a national list does not fit in one command argument
    (Linux caps one at 128 KiB). A bad line is named by its number."""
    path = Path(path)
    if not path.is_file():
        raise CityError(f"cities_file {str(path)!r}: no such file")
    labels = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            labels.append(parse_cities(line)[0].label)
        except CityError as exc:
            raise CityError(f"{path}, line {number}: {exc}") from None
    if not labels:
        raise CityError(f"{path}: no city in it (write one \"City, ST\" a line)")
    return ";".join(labels)


@lru_cache(maxsize=1)
def samhsa_state_ids() -> dict[str, int]:
    """USPS code -> SAMHSA's state id, for the states whose id is known."""
    with STATE_IDS.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    ids = {}
    for number, row in enumerate(rows, start=2):
        state, value = (row.get("state") or "").strip().upper(), (row.get("samhsa_state_id") or "").strip()
        if state not in STATE_CODES or not value.isdigit():
            raise ValueError(f"{STATE_IDS}, line {number}: expected a state code and a whole number, got {row}")
        ids[state] = int(value)
    return ids


@lru_cache(maxsize=64)
def cover_circles(state: str, miles: float = COVER_MILES, margin: float = COVER_MARGIN_MILES) -> tuple[CoverCircle, ...]:
    """Distance searches that together reach every listing of a state: greedy centres on its ZIP
    code centroids, north to south, each covering the centroids within miles - margin."""
    points = sorted({(a.latitude, a.longitude) for a in zip_areas().values() if a.state == state}, reverse=True)
    reach, circles = miles - margin, []
    while points:
        lat, lon = points[0]
        circles.append(CoverCircle(state, lat, lon, miles))
        points = [p for p in points if miles_between(lat, lon, *p) > reach]
    return tuple(circles)
