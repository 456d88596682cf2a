"""The pages the bench times, chosen from the served database itself: the issue's five kinds (city
page JSON and HTML, national facets, full-text search, near-me, program page) and one extra."""
from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode


@dataclass
class Page:
    key: str
    label: str
    paths: list[str]  # requested in turn


@dataclass
class Sample:
    """What the pages are built from: the biggest city, its centre, and program ids."""
    city: str
    state: str
    city_programs: int
    lat: float
    lon: float
    ids: list[str]
    commonest_level: str  # the care level most programs list (outpatient)
    commonest_programs: int


def sample(db: Path, seed: int = 1, programs: int = 30) -> Sample:
    conn = sqlite3.connect(f"file:{db}?immutable=1", uri=True)
    city, state, n = conn.execute(
        "select city, state, count(*) as n from programs where city is not null group by city, state "
        "order by n desc, city limit 1").fetchone()
    lat, lon = conn.execute("select avg(latitude), avg(longitude) from programs where city = ? and state = ?",
                            (city, state)).fetchone()
    count = conn.execute("select count(*) from programs").fetchone()[0]
    rng = random.Random(seed)
    offsets = sorted(rng.sample(range(count), min(programs, count)))
    ids = [conn.execute("select id from programs order by id limit 1 offset ?", (o,)).fetchone()[0] for o in offsets]
    rng.shuffle(ids)
    level, listed = conn.execute("select value, count(*) as n from program_facet_values where facet = 'care_levels' "
                                 "group by value order by n desc, value limit 1").fetchone()
    conn.close()
    return Sample(city, state, n, lat, lon, ids, level, listed)


def choose_pages(db: Path, seed: int = 1) -> list[Page]:
    s = sample(db, seed)
    where = urlencode({"city": s.city, "state": s.state})
    query = f"intensive outpatient {s.city}"
    near = {"lat": round(s.lat, 4), "lon": round(s.lon, 4), "miles": 10, "level": "iop", "payment": ""}
    return [
        Page("city-json", f"(a) city page JSON, {s.city}, {s.state} ({s.city_programs} programs), configured facets",
             [f"/programs/programs.json?{where}"]),
        Page("city-html", f"(a) city page HTML, {s.city}, {s.state}, configured facets",
             [f"/programs/programs?{where}"]),
        Page("national", "(b) national facets JSON (care_levels and the other configured facets, 0 rows)",
             ["/programs/programs.json?_size=0"]),
        Page("national-array", "(b) national `_facet_array=care_levels` as the issue asks (Datasette's array "
             "facet URL; plugins/facets.py answers it from the index)",
             ["/programs/programs.json?_facet_array=care_levels&_size=0"]),
        Page("search", f"(c) full-text search, canned query `search`, q={query!r}",
             ["/programs/search.json?" + urlencode({"q": query})]),
        Page("search-table", f"(c) full-text search on the table, _search={query!r}, with facets",
             ["/programs/programs.json?" + urlencode({"_search": query})]),
        Page("nearby", f"(d) near-me canned query `nearby`, 10 miles of {s.city}'s centre, level iop",
             ["/programs/nearby.json?" + urlencode(near)]),
        Page("program", f"(e) program page /program/<id>, {len(s.ids)} ids in turn", [f"/program/{i}" for i in s.ids]),
        Page("find", f"(f) the person's search /find, 10 miles of {s.city}, everyday words and a filter",
             ["/find?" + urlencode({"near": f"{s.city}, {s.state}", "miles": 10, "q": "iop medicaid"})]),
        Page("find-wide", f"(f) the person's search /find, 50 miles of {s.city}, everyday words",
             ["/find?" + urlencode({"near": f"{s.city}, {s.state}", "miles": 50, "q": "iop"})]),
        Page("national-iop", "(extra) the national IOP list the home page links to, JSON with the configured facets",
             ["/programs/programs.json?care_levels__arraycontains=iop"]),
        Page("national-commonest", f"(extra) the national list of the care level most programs list "
             f"({s.commonest_level}, {s.commonest_programs:,} programs), JSON with the configured facets",
             [f"/programs/programs.json?care_levels__arraycontains={s.commonest_level}"]),
    ]


# The table pages whose facets can time out.
FACETED = ("city-json", "city-html", "national", "national-array", "search-table", "national-iop",
           "national-commonest")
