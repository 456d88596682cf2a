"""What the directory covers: one row per area a crawl asked for ("Houston, TX"), with its centre
and radius, how many listed programs it holds, and each source with the date of its data. The
home page says this plainly, and a search outside every area says which is nearest.

The build counts it as its workers make the listings rows (`tally`, once per run of whole
programs; `Coverage.add` sums the runs), rather than scanning the written listings table again
(a quarter of a gigabyte of raw JSON at 100,000 programs). Only this build's programs are
counted: those are the listed ones (programs carried over from the previous build, all missing,
come later). The areas' centres are looked up in a worker (`area_centres`) while the main
process matches listings: GeoNames takes a second to read.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from common.places import DEFAULT_RADIUS_MILES, City, CityError, city_centre, parse_cities


def tally(listings) -> tuple[dict, dict]:
    """({(area, source, url): (newest, oldest date)}, {area: programs}) of listings given as
    (program id, area, source, url, source date, fetch time), each program's listings together;
    listings without an area are not counted. A listing's date is the source's, else the fetch
    time."""
    sources: dict[tuple[str, str, str], tuple[str, str]] = {}
    programs: dict[str, int] = {}
    counted: set[tuple[str, str]] = set()
    for program_id, area, source, url, source_date, fetched_at in listings:
        if area is None:
            continue
        seen = fetched_at if source_date is None else source_date
        key = (area, source, url)
        sources[key] = _widened(sources.get(key), seen, seen)
        if (program_id, area) not in counted:
            counted.add((program_id, area))
            programs[area] = programs.get(area, 0) + 1
    return sources, programs


def _widened(known: tuple[str, str] | None, newest: str, oldest: str) -> tuple[str, str]:
    """(newest, oldest) date of a source so far, with another span of dates."""
    return (newest, oldest) if known is None else (max(known[0], newest), min(known[1], oldest))


@dataclass
class Coverage:
    """The tallies of every run of programs, summed (a program lies in one run only)."""
    sources: dict = field(default_factory=dict)
    programs: dict = field(default_factory=dict)

    def add(self, part: tuple[dict, dict]) -> None:
        sources, programs = part
        for key, (newest, oldest) in sources.items():
            self.sources[key] = _widened(self.sources.get(key), newest, oldest)
        for area, count in programs.items():
            self.programs[area] = self.programs.get(area, 0) + count

    def rows(self, centres: dict[str, dict]) -> list[dict]:
        """Rows for the `coverage` table, area by area, each source in order; `centres` are
        area_centres' rows of (at least) these areas."""
        areas: dict[str, dict] = {}
        for area, source, url in sorted(self.sources):
            newest, oldest = self.sources[(area, source, url)]
            if area not in areas:
                areas[area] = {**centres[area], "sources": []}
            row = areas[area]
            row["sources"].append({"source": source, "url": url, "data_date": (newest or "")[:10] or None})
            row["data_date"] = max(filter(None, [row["data_date"], (newest or "")[:10]]), default=None)
            row["oldest_date"] = min(filter(None, [row["oldest_date"], (oldest or "")[:10]]), default=None)
        for area, row in areas.items():
            row["programs"] = self.programs.get(area, 0)
            row["sources"] = json.dumps(row["sources"], ensure_ascii=False)
        return list(areas.values())


def area_centres(labels) -> dict[str, dict]:
    """{label: its coverage row before counting}: centre, state and radius of each area."""
    return {label: _area(label) for label in labels}


def _area(label: str) -> dict:
    try:
        city = parse_cities(label)[0]
        latitude, longitude = city_centre(city)
    except CityError:  # an area the crawl named that no place data knows: listed, without a point
        city, latitude, longitude = City(label, ""), None, None
    return {"area": label, "state": city.state or None, "latitude": latitude, "longitude": longitude,
            "miles": DEFAULT_RADIUS_MILES, "programs": 0, "sources": [], "data_date": None, "oldest_date": None}
