"""The SQL each page runs, recorded by Datasette's own tracer (`datasette.tracer.capture_traces`,
the machinery behind `?_trace=1`) in an in-process Datasette started like `make serve`.

Datasette's `Database.execute` wraps every query in `trace("sql", database=..., sql=..., params=...)`;
a query is recorded when it finishes, so a query cut off by a time limit would be missing. The
twin therefore runs with the time limits lifted: a facet that times out when served is captured
whole, and its raw SQL is measured beside the page (the page's timed-out facets are reported too).
"""
from __future__ import annotations

import os
from pathlib import Path

from bench.serving import datasette_kwargs
from plugins.response_cache import CACHE_MB_ENV as NO_CACHE  # 0 turns it off

NO_LIMIT_MS = 600_000
LIFTED = {"sql_time_limit_ms": NO_LIMIT_MS, "facet_time_limit_ms": NO_LIMIT_MS}


def twin(db: Path, *, lift_limits: bool = True):
    """A Datasette serving `db` as `make serve` does (bench.serving.datasette_kwargs), the time
    limits lifted unless lift_limits is False, and without the response cache (a page asked twice
    must run its SQL twice: the second request's queries are the ones kept)."""
    from datasette.app import Datasette

    saved = os.environ.get(NO_CACHE)
    os.environ[NO_CACHE] = "0"  # read when the app is built, in Datasette()
    try:
        return Datasette(**datasette_kwargs(db, **(LIFTED if lift_limits else {})))
    finally:
        if saved is None:
            del os.environ[NO_CACHE]
        else:
            os.environ[NO_CACHE] = saved


async def traced_sql(ds, path: str, database: str) -> tuple[list[tuple[str, object]], int]:
    """([(sql, params), ...], HTTP status): the queries one request of `path` ran on `database`."""
    from datasette.tracer import capture_traces

    traces: list[dict] = []
    with capture_traces(traces):
        response = await ds.client.get(path)
    queries = [(t["sql"], t.get("params")) for t in traces
               if t.get("type") == "sql" and t.get("database") == database and not t.get("executescript")]
    return queries, response.status_code


async def capture_sql(db: Path, paths: list[str]) -> tuple[dict[str, list], dict[str, int]]:
    """({path: [(sql, params), ...]}, {path: HTTP status}) for each page, on the served database
    (named, as Datasette names it, by its file's stem)."""
    ds = twin(db)
    await ds.invoke_startup()
    captured, statuses = {}, {}
    for path in paths:
        # Twice: the first request of a fresh instance also reads the schema; the second is what
        # every request runs. A page that fails (e.g. metadata naming a column this database
        # lacks) is kept as served: its queries are those it ran before failing.
        for _ in range(2):
            captured[path], statuses[path] = await traced_sql(ds, path, db.stem)
    return captured, statuses
