"""A bounded load test of a served directory: concurrent clients for a fixed time, 127.0.0.1 only.

    python -m bench.load --base http://127.0.0.1:8001 --seconds 20 --clients 20

Each client requests, one after another, pages of a fixed mix found on the server itself (its
biggest cities, some program ids, a ZIP): full-text search, city table pages with their facets
(HTML and JSON), program pages, the near-me page and JSON API calls. It stops at --seconds or
--max-requests, whichever comes first (a request in flight is awaited at most --timeout s), and
prints the requests, errors (an HTTP status of 400 or more, or no answer), p50 and p95, per kind
too. Table pages whose facets timed out are counted apart: they are answers, but partial.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx

from bench.http_client import Connection, HTTPError
from bench.stats import percentile
from common.vocab import FACET_ARRAYS

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
DEFAULT_MAX_REQUESTS = 100_000
KINDS = ("search", "facet", "program", "json", "find", "national")
SEARCHES = ("intensive outpatient", "medicaid", "veterans", "spanish", "residential detox")


def check_local(base: str) -> str:
    host = urlsplit(base).hostname
    if host not in LOCAL_HOSTS:
        raise SystemExit(f"bench.load only loads a server on this machine (127.0.0.1), not {host!r}")
    return base.rstrip("/")


def _sql(client: httpx.Client, sql: str, **params) -> list[dict]:
    response = client.get("/programs.json", params={"sql": sql, "_shape": "array", **params})
    response.raise_for_status()
    return response.json()


def discover(base: str, *, cities: int = 5, programs: int = 50, kinds=KINDS) -> list[tuple[str, str]]:
    """(kind, path) of the mix, from the served database (through Datasette's own SQL API)."""
    with httpx.Client(base_url=check_local(base), timeout=60) as client:
        top = _sql(client, "select city, state, count(*) as n, avg(latitude) as lat, avg(longitude) as lon "
                           "from programs where city is not null and latitude is not null "
                           "group by city, state order by n desc limit :k", k=cities)
        ids = [r["id"] for r in _sql(client, "select id from programs order by random() limit :k", k=programs)]
        zips = []
        for c in top:
            rows = _sql(client, "select zip from programs where city = :c and state = :s and zip is not null "
                                "group by zip order by count(*) desc limit 1", c=c["city"], s=c["state"])
            zips += [r["zip"] for r in rows]
    mix: list[tuple[str, str]] = []
    for i, c in enumerate(top):
        where = urlencode({"city": c["city"], "state": c["state"]})
        mix.append(("search", "/programs/search.json?" + urlencode({"q": SEARCHES[i % len(SEARCHES)]})))
        mix.append(("search", "/programs/search.json?" + urlencode({"q": f"{c['city']} outpatient"})))
        mix.append(("facet", f"/programs/programs?{where}"))
        mix.append(("facet", f"/programs/programs.json?{where}&care_levels__arraycontains=iop"))
        mix.append(("json", "/programs/nearby.json?" + urlencode(
            {"lat": round(c["lat"], 4), "lon": round(c["lon"], 4), "miles": 10, "level": "iop", "payment": ""})))
        mix.append(("json", f"/programs/programs.json?{where}&_nofacet=1&_shape=array&_size=max"))
    for z in zips:
        mix.append(("find", "/find?" + urlencode({"near": z, "miles": 10, "level": "iop"})))
    for i, pid in enumerate(ids):
        mix.append(("program", f"/program/{quote(pid)}"))
        if i % 5 == 0:
            mix.append(("json", f"/programs/programs/{quote(pid)}.json"))
    mix.append(("national", "/programs/programs.json?_size=0"))
    # Interleave kinds so that every client sees the whole mix, not a run of one kind.
    by_kind: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for kind, path in mix:
        if kind in kinds:
            by_kind[kind].append((kind, path))
    interleaved = []
    while any(by_kind.values()):
        for kind in list(by_kind):
            if by_kind[kind]:
                interleaved.append(by_kind[kind].pop(0))
    return interleaved


def configured_facets(base: str, table: str = "programs") -> list[str]:
    """The facets metadata configures for the programs table (what its pages should show)."""
    with httpx.Client(base_url=check_local(base), timeout=60) as client:
        metadata = client.get("/-/metadata.json").json()
    facets = (((metadata.get("databases") or {}).get("programs") or {}).get("tables") or {}).get(table, {}).get("facets")
    names = []
    for facet in facets or []:
        if isinstance(facet, str):
            names.append(facet)
        elif isinstance(facet, dict) and facet:
            value = next(iter(facet.values()))
            names.append(value if isinstance(value, str) else value.get("column", ""))
    return names


TIMED_OUT_HTML = re.compile(rb'class="facets-timed-out">These facets timed out: ([^<]*)<')


def timed_out_facets(path: str, body: bytes, expected: list[str] | None) -> list[str]:
    """The facets a table page did not show because they timed out.

    HTML pages say so ("These facets timed out: ..."); the JSON of Datasette 0.65 does not (it has
    no facets_timed_out key): a facet configured or asked for and missing from facet_results
    timed out."""
    table_path = urlsplit(path).path
    if not table_path.startswith("/programs/programs") or table_path.count("/") != 2:
        return []
    if table_path.endswith(".json"):
        query = parse_qs(urlsplit(path).query)
        if "_nofacet" in query or query.get("_shape", ["objects"])[0] not in ("objects",):
            return []
        try:
            shown_keys = (json.loads(body).get("facet_results") or {}).keys()
        except ValueError:
            return ["(not JSON)"]
        # Datasette keys a second facet of the same column "<column>_2": count facets per column.
        # On the programs table, `_facet_array=` of an indexed array column is answered by the
        # values facet (plugins/facets.py), the configured one when it is configured: one facet.
        configured = list(dict.fromkeys(expected or []))
        arrays = query.get("_facet_array", [])
        asked = Counter(configured + query.get("_facet", [])
                        + [c for c in arrays if c not in FACET_ARRAYS]
                        + [c for c in dict.fromkeys(arrays) if c in FACET_ARRAYS and c not in configured])
        shown: Counter = Counter()
        for key in shown_keys:
            base = re.sub(r"_\d+$", "", key)
            shown[base if base in asked and key not in asked else key] += 1
        return [f for f, n in asked.items() if shown[f] < n]
    if table_path.endswith((".csv", ".tsv")):
        return []
    match = TIMED_OUT_HTML.search(body)
    return [f.strip() for f in match.group(1).decode().split(",")] if match else []


@dataclass
class LoadResult:
    base: str
    clients: int
    seconds: float  # wall time, first request to last answer
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    facet_timeouts: int = 0
    client_cpu: float = 0.0  # CPU seconds this load generator itself used (it shares the machine)
    cache_hits: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # x-directory-cache: hit

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    @property
    def all_latencies(self) -> list[float]:
        return [x for v in self.latencies.values() for x in v]


async def run_load(base: str, mix: list[tuple[str, str]], *, seconds: float = 20, clients: int = 20,
                   timeout: float = 30, max_requests: int = DEFAULT_MAX_REQUESTS,
                   expected_facets: list[str] | None = None) -> LoadResult:
    base = check_local(base)
    if not mix:
        raise ValueError("no pages to request")
    result = LoadResult(base, clients, 0.0)
    issued = 0
    connections = [Connection(base) for _ in range(clients)]  # one keep-alive connection a client
    cpu_started = time.process_time()
    started = time.perf_counter()
    deadline = started + seconds

    async def client(number: int) -> None:
        nonlocal issued
        position = number * max(1, len(mix) // clients)
        while time.perf_counter() < deadline and issued < max_requests:
            issued += 1
            kind, path = mix[position % len(mix)]
            position += 1
            t0 = time.perf_counter()
            try:
                response = await connections[number].get(path, timeout)
            except HTTPError as exc:
                result.latencies[kind].append((time.perf_counter() - t0) * 1000)
                result.errors.append(f"{path}: {exc}")
                continue
            result.latencies[kind].append((time.perf_counter() - t0) * 1000)
            if response.headers.get("x-directory-cache") == "hit":
                result.cache_hits[kind] += 1
            if response.status_code >= 400:
                result.errors.append(f"{path}: HTTP {response.status_code}")
            elif timed_out_facets(path, response.content, expected_facets):
                result.facet_timeouts += 1

    try:
        await asyncio.gather(*(client(i) for i in range(clients)))
        result.seconds = time.perf_counter() - started
    finally:
        for connection in connections:
            await connection.close()
    result.client_cpu = time.process_time() - cpu_started
    return result


def report(result: LoadResult) -> str:
    lines = []
    everything = result.all_latencies
    rate = result.requests / result.seconds if result.seconds else 0
    if everything:
        lines.append(
            f"load: {result.clients} clients, {result.seconds:.1f} s, {result.requests} requests ({rate:.1f}/s), "
            f"{len(result.errors)} errors, p50 {percentile(everything, 50):.1f} ms, "
            f"p95 {percentile(everything, 95):.1f} ms, max {max(everything):.1f} ms, "
            f"{result.facet_timeouts} table pages with facets timed out; "
            f"the load generator itself used {result.client_cpu:.1f} CPU s"
        )
    else:
        lines.append(f"load: no request finished ({len(result.errors)} errors)")
    lines.append(f"  {'kind':<10} {'requests':>8} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}")
    for kind in sorted(result.latencies):
        values = result.latencies[kind]
        lines.append(f"  {kind:<10} {len(values):>8} {percentile(values, 50):>9.1f} "
                     f"{percentile(values, 95):>9.1f} {max(values):>9.1f}")
    for error in result.errors[:5]:
        lines.append(f"  error: {error}")
    if len(result.errors) > 5:
        lines.append(f"  ... and {len(result.errors) - 5} more errors")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8001", help="the served directory (127.0.0.1 only)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for one answer")
    parser.add_argument("--max-requests", type=int, default=DEFAULT_MAX_REQUESTS)
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help=f"comma-separated kinds of page to request (default all: {','.join(KINDS)})")
    args = parser.parse_args(argv)
    if not (0 < args.seconds <= 600) or not (1 <= args.clients <= 200):
        parser.error("--seconds must be in (0, 600] and --clients in [1, 200]")
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    unknown = set(kinds) - set(KINDS)
    if unknown:
        parser.error(f"unknown kinds {sorted(unknown)}; choose from {', '.join(KINDS)}")
    base = check_local(args.base)
    try:
        mix = discover(base, kinds=kinds)
        expected = configured_facets(base)
    except httpx.HTTPError as exc:
        print(f"load: cannot read the page mix from {base}: {exc}", file=sys.stderr)
        return 1
    result = asyncio.run(run_load(base, mix, seconds=args.seconds, clients=args.clients,
                                  timeout=args.timeout, max_requests=args.max_requests,
                                  expected_facets=expected))
    print(report(result))
    return 1 if result.errors else 0


if __name__ == "__main__":
    sys.exit(main())
