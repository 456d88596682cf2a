"""What the directory covers, as the person's pages say it: the areas of the `coverage` table
(pipelines/coverage.py: each area a crawl asked for, its centre, radius, programs and sources with
the date of their data), and whether a search's circle lies inside them, partly, or outside.

Read from the database on each page, never written into a template: a build of other cities
says other things. A database built before the table existed has no areas; the pages then say
nothing about coverage rather than something false. No hooks here: a helper of plugins/find.py.
"""
# No `from __future__ import annotations`: Datasette runs plugins/*.py without registering them in
# sys.modules, and dataclasses with string annotations look their module up there.
import json
import math
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from common.geo import miles_between
from common.typed_places import CoveredArea

FINDTREATMENT = "https://findtreatment.gov/"
HELPLINE = "1-800-662-4357"
# Who published a source (the spider's name): what a person is told ("Listed by SAMHSA").
PUBLISHERS = {"findtreatment_export": "SAMHSA", "findtreatment_api": "SAMHSA"}
SOURCE_NAMES = {"findtreatment_export": "SAMHSA's FindTreatment.gov export",
                "findtreatment_api": "SAMHSA's FindTreatment.gov API"}
SHOWN_AREAS = 12  # on the home page; the rest are counted by state
COVERAGE_READ_MS = 30_000  # the time limit of the one read of the coverage table per build


@dataclass(frozen=True)
class Area:
    label: str
    state: str | None
    latitude: float | None
    longitude: float | None
    miles: float
    programs: int
    sources: tuple[dict, ...]  # {source, name, where, data_date}
    data_date: str | None


@dataclass(frozen=True)
class Coverage:
    kind: str  # "inside", "partial" (the circle reaches beyond every area), "outside", "unknown"
    nearest: Area | None = None
    nearest_miles: float | None = None


def publisher(sources_json) -> str:
    """Who listed a program, from programs.sources: "SAMHSA", else the source's own name."""
    try:
        sources = json.loads(sources_json or "[]")
    except (TypeError, ValueError):
        sources = []
    names = [PUBLISHERS.get(s, s) for s in sources if isinstance(s, str)]
    return ", ".join(dict.fromkeys(names)) or "the source"


def where_from(url: str | None) -> str:
    """A short name for where a source's data came from: the file of an export, else the host."""
    parts = urlsplit(url or "")
    if parts.scheme == "file":
        return parts.path.rsplit("/", 1)[-1] or (url or "")
    return parts.hostname or (url or "")


def _sources(text) -> tuple[dict, ...]:
    try:
        sources = json.loads(text or "[]")
    except (TypeError, ValueError):
        return ()
    return tuple({"source": s.get("source"), "name": SOURCE_NAMES.get(s.get("source"), s.get("source")),
                  "where": where_from(s.get("url")), "data_date": s.get("data_date")}
                 for s in sources if isinstance(s, dict))


class CoverageIndex:
    """The covered areas of one database with a grid of whole degrees, so that the areas near a
    point are found without measuring the distance to every one (a national build names tens of
    thousands of areas)."""

    def __init__(self, areas: tuple[Area, ...]):
        self.areas = areas
        placed = [a for a in areas if a.latitude is not None]
        self.covered = tuple(CoveredArea(a.label, a.latitude, a.longitude, a.miles) for a in placed)
        self.widest = max((a.miles for a in placed), default=0.0)
        self.grid: dict[tuple[int, int], list[Area]] = {}
        for area in placed:
            self.grid.setdefault((math.floor(area.latitude), math.floor(area.longitude)), []).append(area)
        self.summary = summary(areas)

    def within(self, latitude: float, longitude: float, reach: float) -> list[tuple[float, Area]]:
        """(distance, area) of every area whose centre is within `reach` miles of the point."""
        dlat = reach / 68.0
        dlon = reach / (68.0 * max(0.01, math.cos(math.radians(min(89.0, abs(latitude) + dlat)))))
        if dlat > 90 or dlon > 180:
            cells = self.grid.values()
        else:
            cells = (self.grid.get((i, j), ()) for i in range(math.floor(latitude - dlat), math.floor(latitude + dlat) + 1)
                     for j in range(math.floor(longitude - dlon), math.floor(longitude + dlon) + 1))
        found = ((miles_between(latitude, longitude, a.latitude, a.longitude), a) for cell in cells for a in cell)
        return [(d, a) for d, a in found if d <= reach]

    def nearest(self, latitude: float, longitude: float) -> tuple[float, Area] | None:
        reach = 50.0
        while self.grid:
            found = self.within(latitude, longitude, reach)
            if found:
                return min(found, key=lambda pair: pair[0])
            reach *= 2
        return None

    def judge(self, latitude: float, longitude: float, miles: float) -> Coverage:
        """Where a search's circle (a point and its distance) lies against the covered areas."""
        nearest = self.nearest(latitude, longitude)
        if nearest is None:
            return Coverage("unknown")
        reached = self.within(latitude, longitude, self.widest + miles)
        if any(d + miles <= a.miles for d, a in reached):
            kind = "inside"
        elif any(d < a.miles + miles for d, a in reached):
            kind = "partial"
        else:
            kind = "outside"
        return Coverage(kind, nearest[1], round(nearest[0]))

    def covering(self, points) -> tuple[CoveredArea, ...]:
        """The areas that hold any of the points (latitude, longitude), as typed_places takes them."""
        labels = {a.label for lat, lon in points for d, a in self.within(lat, lon, self.widest) if d <= a.miles}
        return tuple(c for c in self.covered if c.label in labels)


_read: dict[str, tuple[tuple, CoverageIndex]] = {}  # database file -> (its size and time, its areas)


def _file_key(db) -> tuple | None:
    try:
        stat = os.stat(db.path)
    except (TypeError, OSError):
        return None
    return stat.st_size, stat.st_mtime_ns


async def read_areas(db) -> CoverageIndex:
    """Every covered area, most programs first; none when the database has no coverage table.
    Read once per database file, again when the file changes."""
    key = _file_key(db)
    if key is not None and _read.get(db.path, (None,))[0] == key:
        return _read[db.path][1]
    areas: tuple[Area, ...] = ()
    if await db.table_exists("coverage"):
        # Read once per build, not per request: a national build's tens of thousands of areas may
        # take longer than a request's SQL time limit on a busy server, and /find would answer 500.
        rows = await db.execute("select area, state, latitude, longitude, miles, programs, sources, data_date "
                                "from coverage order by programs desc, area", custom_time_limit=COVERAGE_READ_MS)
        areas = tuple(Area(r["area"], r["state"], r["latitude"], r["longitude"], r["miles"] or 0.0,
                           r["programs"] or 0, _sources(r["sources"]), r["data_date"]) for r in rows)
    index = CoverageIndex(areas)
    if key is not None:
        _read[db.path] = (key, index)
    return index


def summary(areas: tuple[Area, ...]) -> dict:
    """What the home page says: the areas (the largest, the rest counted by state), every source
    with the newest date of its data, and the totals."""
    sources: dict[tuple, dict] = {}
    for area in areas:
        for s in area.sources:
            key = (s["name"], s["where"])
            known = sources.setdefault(key, dict(s))
            known["data_date"] = max(filter(None, [known["data_date"], s["data_date"]]), default=None)
    rest: dict[str, int] = {}
    for area in areas[SHOWN_AREAS:]:
        rest[area.state or "?"] = rest.get(area.state or "?", 0) + 1
    return {"areas": areas[:SHOWN_AREAS], "more_areas": len(areas) - min(len(areas), SHOWN_AREAS),
            "more_by_state": sorted(rest.items()), "sources": list(sources.values()), "count": len(areas)}
