"""Points on the map, offline: distances, ZIP code centroids, a listing's point checked against
its ZIP, and which requested area (a city's centre and a radius) a point falls in."""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

EARTH_RADIUS_MILES = 3958.7613
# SAMHSA's point for a listing farther than this from its own ZIP code's centroid is taken as
# wrong (a ZIP code area is rarely wider; the audit found points 170-285 miles off).
MAX_MILES_FROM_ZIP = 15.0
# When point and ZIP disagree, the city the listing names settles it: a point this close to the
# city's centre, and closer than the ZIP's, is right and the ZIP wrong (a typo: "Dallas, 78225",
# a San Antonio ZIP).
MAX_MILES_FROM_CITY = 30.0


def miles_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in miles."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((phi2 - phi1) / 2) ** 2
         + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(a)))


class ZipArea(NamedTuple):
    """A ZIP code's centroid, state and town (immutable, and cheap to make: some 43,000 of them)."""
    latitude: float
    longitude: float
    state: str
    city: str
    # The other names the USPS accepts for the ZIP's town ("Jamaica Plain" for a Boston ZIP).
    other_names: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def zip_areas() -> dict[str, ZipArea]:
    """Every five-digit ZIP code with a centroid (the zipcodes package): the one place its list is
    read and parsed, once per process, for the ZIP checks here, the crawl's city centres
    (common.places) and the places people type (common.typed_places)."""
    import zipcodes

    return {z["zip_code"]: ZipArea(float(z["lat"]), float(z["long"]), z["state"], z["city"],
                                   tuple(z["acceptable_cities"]) if z.get("acceptable_cities") else ())
            for z in zipcodes.list_all() if z.get("lat") and z.get("long")}


def zip_area(zip5: str | None) -> ZipArea | None:
    """The centroid, state and town of a five-digit ZIP code (the zipcodes package)."""
    return zip_areas().get(zip5) if zip5 else None


@lru_cache(maxsize=1)
def _zip_grid() -> dict[tuple[int, int], list[ZipArea]]:
    grid: dict[tuple[int, int], list[ZipArea]] = {}
    for area in zip_areas().values():
        grid.setdefault((math.floor(area.latitude), math.floor(area.longitude)), []).append(area)
    return grid


def state_at(latitude: float, longitude: float) -> str | None:
    """The state of the ZIP code centroid nearest a point (within about a degree), or None."""
    grid, row, col = _zip_grid(), math.floor(latitude), math.floor(longitude)
    nearby = [a for r in (row - 1, row, row + 1) for c in (col - 1, col, col + 1) for a in grid.get((r, c), ())]
    if not nearby:
        return None
    return min(nearby, key=lambda a: miles_between(latitude, longitude, a.latitude, a.longitude)).state


@dataclass(frozen=True)
class CheckedPoint:
    latitude: float | None
    longitude: float | None
    approximate: bool  # the ZIP code's centroid stands in for the source's point
    problem: str | None = None  # why the source's point was not used


def checked_point(latitude: float | None, longitude: float | None, zip5: str | None,
                  state: str | None = None, city: str | None = None) -> CheckedPoint:
    """The source's point when it lies within MAX_MILES_FROM_ZIP of its ZIP code's centroid, or
    near the city the listing names while the ZIP does not (then the ZIP is the typo); else the
    centroid, approximate, with the reason. With no known ZIP, a point in another state than the
    listing's is no point at all (the address and the point disagree; neither is trusted)."""
    area = zip_area(zip5)
    if latitude is None or longitude is None:
        if area:
            return CheckedPoint(area.latitude, area.longitude, True, "no coordinates")
        return CheckedPoint(None, None, False)
    if area:
        off = miles_between(latitude, longitude, area.latitude, area.longitude)
        if off > MAX_MILES_FROM_ZIP and not _point_names_the_city(latitude, longitude, area, city, state):
            return CheckedPoint(area.latitude, area.longitude, True,
                                f"{off:.0f} miles from the centre of ZIP {zip5}")
    elif state and (found := state_at(latitude, longitude)) and found != state:
        return CheckedPoint(None, None, False, f"in {found}, not in {state}, and ZIP {zip5 or '(none)'} is unknown")
    return CheckedPoint(latitude, longitude, False)


def _point_names_the_city(latitude: float, longitude: float, area: ZipArea, city: str | None,
                          state: str | None) -> bool:
    """True when the point lies near the centre of the city the listing names, nearer than its ZIP."""
    centre = _city_centre(city or "", state or "")
    if centre is None:
        return False
    from_point = miles_between(latitude, longitude, *centre)
    return from_point <= MAX_MILES_FROM_CITY and from_point < miles_between(area.latitude, area.longitude, *centre)


@lru_cache(maxsize=4096)
def _city_centre(city: str, state: str) -> tuple[float, float] | None:
    from common.places import City, CityError, city_centre

    if not city or not state:
        return None
    try:
        return city_centre(City(city, state))
    except CityError:
        return None


class AreaIndex:
    """Requested areas (label, centre) with one radius; `nearest` finds the area a point is in,
    looking only at the grid cells near the point, so a national crawl of thousands of cities
    costs a few distance checks per row."""

    def __init__(self, centres: list[tuple[str, float, float]], miles: float):
        self.miles = miles
        self.cell = max(1.0, miles / 50.0)  # degrees; a degree of latitude is about 69 miles
        self.cells: dict[tuple[int, int], list[tuple[str, float, float]]] = {}
        for label, lat, lon in centres:
            self.cells.setdefault(self._cell(lat, lon), []).append((label, lat, lon))

    def _cell(self, lat: float, lon: float) -> tuple[int, int]:
        return int(math.floor(lat / self.cell)), int(math.floor(lon / self.cell))

    def nearest(self, lat: float, lon: float) -> str | None:
        """The label of the nearest area whose centre is within the radius, or None."""
        row, col = self._cell(lat, lon)
        reach_lat = int(math.ceil(self.miles / 68.0 / self.cell))
        reach_lon = int(math.ceil(self.miles / (68.0 * max(0.05, math.cos(math.radians(lat)))) / self.cell))
        best, best_miles = None, self.miles
        for r in range(row - reach_lat, row + reach_lat + 1):
            for c in range(col - reach_lon, col + reach_lon + 1):
                for label, clat, clon in self.cells.get((r, c), ()):
                    distance = miles_between(lat, lon, clat, clon)
                    if distance <= best_miles:
                        best, best_miles = label, distance
        return best
