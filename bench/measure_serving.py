"""Timing pages: each page served (sequential requests over keep-alive HTTP) beside the SQL it runs,
executed directly with the python sqlite3 module on the same file (immutable, no time limit)."""
from __future__ import annotations

import re
import sqlite3
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.load import timed_out_facets
from bench.pages import Page


def raw_connection(db: Path) -> sqlite3.Connection:
    """The same file as Datasette opens it (immutable), with the SQL functions its pages use."""
    from datasette.utils import escape_fts

    from plugins.distance import distance_miles

    conn = sqlite3.connect(f"file:{db}?immutable=1", uri=True, check_same_thread=False)
    conn.create_function("distance_miles", 4, distance_miles, deterministic=True)
    conn.create_function("escape_fts", 1, escape_fts)
    return conn


def run_queries(conn: sqlite3.Connection, queries) -> list[float]:
    """ms of each query, its rows fetched as tuples."""
    each = []
    for sql, params in queries:
        t0 = time.perf_counter()
        try:
            conn.execute(sql, params if params is not None else ()).fetchall()
        except sqlite3.Error:
            pass  # it failed when served too (the page then answers an error, reported beside)
        each.append((time.perf_counter() - t0) * 1000)
    return each


def describe_query(sql: str, params=None) -> str:
    """A short name for one of the SQL statements a page runs (for the per-query breakdown)."""
    text = " ".join(sql.split())
    lower = text.lower()
    column = params.get("_facet_column") if isinstance(params, dict) else None
    if m := re.search(r"json_each\(\[inner\]\.\[?(\w+)", text):
        return f"array facet {m.group(1)} (json_each)"
    # (Other queries may name program_facet_values too: the index prefilter of array filters.)
    if re.match(r"select value, count(\(\*\))? as count from \[?program_facet_values\b", lower):
        return f"values facet {column or ''} (program_facet_values)".replace("  ", " ")
    if re.match(r"select value, count from \[?facet_counts\b", lower):
        return f"national counts {column or ''} (facet_counts)".replace("  ", " ")
    if m := re.match(r"select \[?(\w+)\]? as value, count\(\*\) as count", text):
        return f"column facet {m.group(1)}"
    if lower.startswith("select count(*)"):
        return "count"
    if "programs_fts" in lower and "rank" in lower:
        return "search (canned)"
    if "distance_miles" in lower:
        return "nearby (canned)"
    if lower.startswith(("pragma", "select * from sqlite_master", "select sql from sqlite_master",
                         "select 1 from sqlite_master", "select name from sqlite_master")):
        return "schema"
    if re.match(r"select .* from \[?programs\]? ", lower) and " limit " in lower and " group by " not in lower:
        return "rows (a page of the table)"
    return text[:60]


@dataclass
class PageResult:
    page: Page
    served: list[float]
    raw: list[float]
    raw_each: dict[str, float]  # kind of query -> median ms per page run
    queries: int
    timed_out: Counter
    statuses: Counter


def time_served(base: str, page: Page, *, requests: int, warmup: int, budget: float,
                expected_facets: list[str]) -> tuple[list[float], Counter, Counter]:
    """(ms of each timed request, facets timed out, HTTP statuses): `requests` after `warmup`,
    fewer when the page is slow (`budget` s, at least 3)."""
    import httpx

    served: list[float] = []
    timed_out: Counter = Counter()
    statuses: Counter = Counter()
    with httpx.Client(base_url=base, timeout=120) as client:
        for i in range(warmup):
            client.get(page.paths[i % len(page.paths)])
        started = time.perf_counter()
        while len(served) < requests and (time.perf_counter() - started < budget or len(served) < 3):
            path = page.paths[len(served) % len(page.paths)]
            t0 = time.perf_counter()
            response = client.get(path)
            body = response.content
            served.append((time.perf_counter() - t0) * 1000)
            statuses[response.status_code] += 1
            for facet in (timed_out_facets(path, body, expected_facets) if response.status_code == 200 else ()):
                timed_out[facet] += 1
    return served, timed_out, statuses


def time_raw(conn, page: Page, sql: dict, *, requests: int, budget: float) -> tuple[list[float], dict[str, float]]:
    """(ms of each run of the page's SQL, median ms per kind of query): after one warm-up run
    (kept as a sample when it alone takes a quarter of the budget), fewer when slow (at least 1)."""
    raw: list[float] = []
    per_query: dict[str, list[float]] = {}

    def raw_run(queries) -> float:
        sums: Counter = Counter()
        for (q, params), ms in zip(queries, run_queries(conn, queries)):
            sums[describe_query(q, params)] += ms
        for kind, ms in sums.items():
            per_query.setdefault(kind, []).append(ms)
        return sum(sums.values())

    started = time.perf_counter()
    first = raw_run(sql[page.paths[0]])
    if first > budget * 1000 / 4:
        raw.append(first)
    else:
        per_query.clear()
    runs = 0
    while len(raw) < requests and (time.perf_counter() - started < budget or not raw):
        raw.append(raw_run(sql[page.paths[runs % len(page.paths)]]))
        runs += 1
    return raw, {kind: statistics.median(v) for kind, v in per_query.items()}


def measure_page(base: str, conn, page: Page, sql: dict, *, requests: int, warmup: int, budget: float,
                 expected_facets: list[str]) -> PageResult:
    served, timed_out, statuses = time_served(base, page, requests=requests, warmup=warmup, budget=budget,
                                              expected_facets=expected_facets)
    raw, raw_each = time_raw(conn, page, sql, requests=requests, budget=budget)
    return PageResult(page, served, raw, raw_each, len(sql[page.paths[0]]), timed_out, statuses)


def time_versions(base: str, requests: int, warmup: int) -> list[float]:
    """What a request costs the server without any SQL (/-/versions.json): the part of every page
    no schema change removes."""
    import httpx

    samples = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for i in range(warmup + requests):
            t0 = time.perf_counter()
            client.get("/-/versions.json").raise_for_status()
            if i >= warmup:
                samples.append((time.perf_counter() - t0) * 1000)
    return samples
