"""`make bench`: the directory at national scale, each figure beside a baseline measured in the same run.

    python -m bench.run                      # 100,000 synthetic programs: build, serving, load (~5-10 min)
    python -m bench.run --memory-million     # 1,000,000 programs: build time and peak memory only
    python -m bench.run --programs 20000 --requests 10 --load-seconds 5   # a quicker look

Steps (all files under --work, default /tmp/treatment-bench; nothing under data/):

1. bench.synthetic_export writes a SYNTHETIC national export (real wide format).
2. The feed: every row of it as the export spider's own code makes it
   (FindtreatmentExportSpider.item_from_row on rows of crawler.export_format.read_export,
   written by Scrapy's JsonLinesItemExporter), i.e. the feed `crawl.py findtreatment_export
   --cities "<every city of the file>"` would write; the real crawl is also timed on the file
   for the 20 biggest cities (a crawl of all ~26,000 cities is not practical, see BENCHMARKS.md).
3. Build: `python -m pipelines.build FEED --db ...` in a subprocess (wall time, peak RSS from
   wait4), against a baseline in a subprocess too: the same feed lines json-parsed and
   executemany'd into one plain sqlite3 table (same pragmas as the build: journal off,
   synchronous off; no keys, no indexes).
4. Serving: `make serve DB=... PORT=<free>` exactly as a user runs it (immutable, inspect
   file). Each page is requested sequentially (warm-up, then --requests timed) and compared
   with the SQL Datasette runs for it, captured with Datasette's own tracer from an in-process
   Datasette on the same file, metadata, plugins and settings (time limits lifted so that
   queries which time out when served are captured too), run with the python sqlite3 module on
   the same file opened immutable.
5. Load: bench.load, 20 clients for 20 s across search, facet, program and JSON pages.

Exit status 0 even when a target is missed: MISSED is printed beside it.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import dataclasses
import json
import os
import platform
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WORK = Path("/tmp/treatment-bench")
MIB = 1024 * 1024

# The targets of the performance issue.
BUILD_MAX_RATIO = 3.0  # build time <= 3x the raw executemany of the same rows
BUILD_MAX_PEAK_BYTES = 1024 * MIB  # at 1,000,000 programs
PAGE_MAX_P95_MS = 100.0
PAGE_MAX_RATIO = 3.0  # p95 <= 3x the p95 of its raw SQL
MEMORY_TARGET_PROGRAMS = 1_000_000


# --- small helpers --------------------------------------------------------------------------------

def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))  # ceil(p/100 * n)
    return ordered[rank - 1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclasses.dataclass
class Measured:
    seconds: float
    peak_rss: int  # bytes, the child's own maximum resident set size
    returncode: int
    stdout: str
    stderr: str
    helper_rss: int = 0  # bytes: the most the peak can include of the measuring helper
    # bytes: the most the command and all its descendants (the build's workers) held at once,
    # sampled every 50 ms; pages shared after fork count in each process, so an upper bound
    tree_peak_rss: int = 0


# A fresh, small interpreter starts the measured command and waits for it with wait4. Linux counts
# in a child's ru_maxrss the memory of the process image it exec'ed from, so a child spawned by
# this (large) bench process would report at least the bench's own RSS; spawned by this helper
# (a few MiB, reported beside) it reports its own peak.
_PEAK_HELPER = r"""
import json, os, subprocess, sys, threading, time
cmd, timeout, result = json.loads(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
with open("/proc/self/status") as fh:
    helper_kib = next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:"))
started = time.perf_counter()
process = subprocess.Popen(cmd)
timer = threading.Timer(timeout, process.kill) if timeout > 0 else None
if timer:
    timer.start()
tree_peak_kib, running = 0, True

def tree_rss_kib(root):
    parents, rss = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                parents[int(entry)] = int(fields[1])
                rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
            except (OSError, IndexError, ValueError):
                pass
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return sum(rss.get(pid, 0) for pid in tree)

def sample():
    global tree_peak_kib
    while running:
        tree_peak_kib = max(tree_peak_kib, tree_rss_kib(process.pid))
        time.sleep(0.05)

sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
_, status, usage = os.wait4(process.pid, 0)
running = False
sampler.join()
if timer:
    timer.cancel()
with open(result, "w") as fh:
    json.dump({"seconds": time.perf_counter() - started, "maxrss_kib": usage.ru_maxrss,
               "tree_peak_kib": tree_peak_kib,
               "helper_kib": helper_kib, "returncode": os.waitstatus_to_exitcode(status)}, fh)
"""


def run_measured(cmd: list[str], *, timeout: float | None = None) -> Measured:
    """Run a command; its wall time and its own peak RSS (see _PEAK_HELPER). With `timeout`, the
    command is killed (SIGKILL) after that many s; its peak so far is still known."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err, \
            tempfile.NamedTemporaryFile("r", suffix=".json") as result:
        subprocess.run([sys.executable, "-S", "-c", _PEAK_HELPER, json.dumps(cmd), str(timeout or 0), result.name],
                       cwd=ROOT, stdout=out, stderr=err, env=_env(), check=True)
        measured = json.loads(Path(result.name).read_text())
        out.seek(0)
        err.seek(0)
        return Measured(measured["seconds"], measured["maxrss_kib"] * 1024, measured["returncode"],
                        out.read(), err.read(), measured["helper_kib"] * 1024,
                        max(measured["tree_peak_kib"], measured["maxrss_kib"]) * 1024)


def _env() -> dict:
    return dict(os.environ)


# --- the machine ----------------------------------------------------------------------------------

def machine() -> list[tuple[str, str]]:
    from importlib.metadata import version

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return [
        ("code", git_state()),
        ("load average at start", " ".join(f"{x:.2f}" for x in os.getloadavg())),
        ("CPU", f"{cpu}, {os.cpu_count()} cores"),
        ("RAM", ram),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("SQLite", sqlite3.sqlite_version),
        ("Datasette", version("datasette")),
        ("sqlite-utils", version("sqlite-utils")),
        ("Scrapy", version("scrapy")),
    ]


def git_state() -> str:
    """The commit measured, and the files changed since (others may be editing the build)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--", "pipelines", "crawler", "plugins",
                                  "templates", "metadata.yml", "Makefile"], cwd=ROOT, capture_output=True,
                                 text=True, check=True).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    files = [line[3:] for line in changed if line.strip()]
    return f"git {head}" + (f" + uncommitted changes to {', '.join(files)}" if files else ", clean")


# --- the feed -------------------------------------------------------------------------------------

def city_labels(csv_path: Path) -> dict[tuple[str, str], str]:
    """{(folded city, state): "City, ST"} for every city of the file, spelled as most rows spell
    it: the --cities a crawl of the whole file would be given."""
    from common.places import fold

    spellings: dict[tuple[str, str], Counter] = {}
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = [h.strip().lower() for h in next(reader)]
        city_at, state_at = header.index("city"), header.index("state")
        for row in reader:
            city, state = row[city_at].strip(), row[state_at].strip().upper()
            if city and state:
                spellings.setdefault((fold(city), state), Counter())[city] += 1
    return {key: f"{counts.most_common(1)[0][0]}, {key[1]}" for key, counts in spellings.items()}


def write_feed(csv_path: Path, feed_path: Path, chunk_lines: int = 20_000) -> int:
    """Write the feed a crawl of every city of the export would write, with the spider's own code.

    The export is read in chunks of lines (each given to read_export with the header), so memory
    stays flat at 1,000,000 rows; the generator writes no cell with a line break, which is checked."""
    from scrapy.exporters import JsonLinesItemExporter

    from common.places import fold
    from crawler.spiders.findtreatment_export import FindtreatmentExportSpider
    from crawler.export_format import read_export

    labels = city_labels(csv_path)
    spider = FindtreatmentExportSpider(cities="Houston, TX")  # only item_from_row is used
    url = csv_path.resolve().as_uri()
    fetched_at = FindtreatmentExportSpider.fetched_at(None)
    feed_path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with csv_path.open("rb") as source, feed_path.open("wb") as out:
        exporter = JsonLinesItemExporter(out, encoding="utf-8")
        exporter.start_exporting()
        header = source.readline()
        offset = 0  # data lines before this chunk

        def flush(lines: list[bytes]) -> int:
            code_columns, rows = read_export(header + b"".join(lines), url)
            count = 0
            for number, row in rows:
                label = labels.get((fold(row.get("city")), (row.get("state") or "").strip().upper()))
                if label is None:
                    continue  # no city: a crawl by city would not keep it either
                exporter.export_item(spider.item_from_row(row, offset + number, code_columns, url, fetched_at, label))
                count += 1
            return count

        lines: list[bytes] = []
        for line in source:
            if line.count(b'"') % 2:
                raise ValueError(f"{csv_path}: a cell spans lines; write_feed reads the generator's files only")
            lines.append(line)
            if len(lines) >= chunk_lines:
                written += flush(lines)
                offset += len(lines)
                lines = []
        if lines:
            written += flush(lines)
        exporter.finish_exporting()
    return written


# --- the build and its baseline -------------------------------------------------------------------

def raw_insert(feed: Path, db: Path) -> int:
    """The baseline: the feed's lines json-parsed and executemany'd into one plain table."""
    from crawler.items import ListingItem

    columns = [f.name for f in dataclasses.fields(ListingItem)]
    db.unlink(missing_ok=True)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute(f"create table listings_raw ({', '.join(columns)})")

    def rows():
        with feed.open(encoding="utf-8") as fh:
            for line in fh:
                item = json.loads(line)
                yield tuple(
                    json.dumps(v, ensure_ascii=False) if isinstance(v := item.get(c), (list, dict)) else v
                    for c in columns
                )

    with conn:
        conn.executemany(f"insert into listings_raw values ({', '.join('?' * len(columns))})", rows())
    count = conn.execute("select count(*) from listings_raw").fetchone()[0]
    conn.close()
    return count


# --- serving --------------------------------------------------------------------------------------

@dataclasses.dataclass
class ServeCommand:
    """What `make serve` runs, read from `make -n serve`, to start an in-process twin of it."""
    argv: list[str]
    immutables: list[str]
    inspect_file: str | None = None
    metadata: str | None = None
    plugins_dir: str | None = None
    template_dir: str | None = None
    settings: dict = dataclasses.field(default_factory=dict)
    ignored: list[str] = dataclasses.field(default_factory=list)


def serve_command(db: Path, port: int) -> ServeCommand:
    import shlex

    text = subprocess.run(["make", "-n", "--no-print-directory", "serve", f"DB={db}", f"PORT={port}"],
                          cwd=ROOT, capture_output=True, text=True, check=True, env=_env()).stdout
    text = text.replace("\\\n", " ")
    line = next((l for l in text.splitlines() if "datasette serve" in l or "datasette\tserve" in l), None)
    if line is None:
        raise RuntimeError(f"`make -n serve` runs no `datasette serve`:\n{text}")
    argv = shlex.split(line)
    args = argv[argv.index("serve") + 1:]
    cmd = ServeCommand(argv=argv, immutables=[])
    i = 0
    while i < len(args):
        a = args[i]
        value = args[i + 1] if i + 1 < len(args) else None
        if a in ("-i", "--immutable"):
            cmd.immutables.append(value)
        elif a == "--inspect-file":
            cmd.inspect_file = value
        elif a in ("-m", "--metadata"):
            cmd.metadata = value
        elif a == "--plugins-dir":
            cmd.plugins_dir = value
        elif a == "--template-dir":
            cmd.template_dir = value
        elif a == "--setting":
            cmd.settings[value] = args[i + 2]
            i += 3
            continue
        elif a in ("-h", "--host", "-p", "--port"):
            pass
        elif a.startswith("-"):
            cmd.ignored.append(a)
            i += 1
            continue
        else:
            cmd.immutables.append(a)  # a database file given without -i (mutable): kept as a file
            i += 1
            continue
        i += 2
    return cmd


def _settings(raw: dict) -> dict:
    from datasette.app import DEFAULT_SETTINGS

    settings = {}
    for name, value in raw.items():
        default = DEFAULT_SETTINGS.get(name)
        if isinstance(default, bool):
            settings[name] = str(value).lower() in ("on", "true", "1", "yes")
        elif isinstance(default, int):
            settings[name] = int(value)
        else:
            settings[name] = value
    return settings


class Server:
    """`make serve DB=... PORT=...` in its own process group, as a person starts it."""

    def __init__(self, db: Path, port: int, log_path: Path):
        self.db, self.port, self.log_path = db, port, log_path
        self.base = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None
        self.startup_seconds = 0.0

    def __enter__(self) -> "Server":
        import httpx

        self.log = self.log_path.open("w")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            ["make", "--no-print-directory", "serve", f"DB={self.db}", f"PORT={self.port}"],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True, env=_env(),
        )
        deadline = started + 300
        while True:
            try:
                httpx.get(self.base + "/-/versions.json", timeout=5).raise_for_status()
                break
            except httpx.HTTPError:
                if self.process.poll() is not None or time.perf_counter() > deadline:
                    self.__exit__(None, None, None)
                    raise RuntimeError(f"make serve did not start; see {self.log_path}:\n"
                                       + self.log_path.read_text()[-2000:])
                time.sleep(0.3)
        self.startup_seconds = time.perf_counter() - started
        return self

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
            except ProcessLookupError:
                pass
        self.log.close()


@dataclasses.dataclass
class Page:
    key: str
    label: str
    paths: list[str]  # requested in turn


def choose_pages(db: Path, seed: int = 1) -> tuple[list[Page], dict]:
    conn = sqlite3.connect(f"file:{db}?immutable=1", uri=True)
    city, state, n = conn.execute(
        "select city, state, count(*) as n from programs where city is not null group by city, state "
        "order by n desc, city limit 1").fetchone()
    lat, lon = conn.execute("select avg(latitude), avg(longitude) from programs where city = ? and state = ?",
                            (city, state)).fetchone()
    count = conn.execute("select count(*) from programs").fetchone()[0]
    rng = random.Random(seed)
    offsets = sorted(rng.sample(range(count), min(30, count)))
    ids = [conn.execute("select id from programs order by id limit 1 offset ?", (o,)).fetchone()[0] for o in offsets]
    rng.shuffle(ids)
    conn.close()
    where = urlencode({"city": city, "state": state})
    query = f"intensive outpatient {city}"
    pages = [
        Page("city-json", f"(a) city page JSON, {city}, {state} ({n} programs), configured facets",
             [f"/programs/programs.json?{where}"]),
        Page("city-html", f"(a) city page HTML, {city}, {state}, configured facets", [f"/programs/programs?{where}"]),
        Page("national", "(b) national facets JSON (care_levels and the other configured facets, 0 rows)",
             ["/programs/programs.json?_size=0"]),
        Page("national-array", "(b) national `_facet_array=care_levels` as the issue asks (Datasette's array "
             "facet URL; plugins/facets.py answers it from the index)",
             ["/programs/programs.json?_facet_array=care_levels&_size=0"]),
        Page("search", f"(c) full-text search, canned query `search`, q={query!r}",
             ["/programs/search.json?" + urlencode({"q": query})]),
        Page("search-table", f"(c) full-text search on the table, _search={query!r}, with facets",
             ["/programs/programs.json?" + urlencode({"_search": query})]),
        Page("nearby", f"(d) near-me canned query `nearby`, 10 miles of {city}'s centre, level iop",
             ["/programs/nearby.json?" + urlencode({"lat": round(lat, 4), "lon": round(lon, 4), "miles": 10,
                                                     "level": "iop", "payment": ""})]),
        Page("program", f"(e) program page /program/<id>, {len(ids)} ids in turn", [f"/program/{i}" for i in ids]),
        Page("national-iop", "(extra) the national IOP list the home page links to, JSON with the configured facets",
             ["/programs/programs.json?care_levels__arraycontains=iop"]),
    ]
    return pages, {"city": city, "state": state, "city_programs": n, "programs": count}


async def capture_sql(cmd: ServeCommand, paths: list[str]) -> tuple[dict[str, list], dict[str, int]]:
    """({path: [(sql, params), ...]}, {path: HTTP status}): the SQL Datasette runs on the programs
    database for each page, from an in-process Datasette started like `make serve`
    (Database.execute recorded)."""
    import contextvars

    import yaml
    from datasette.app import Datasette
    from datasette.database import Database

    recording: contextvars.ContextVar = contextvars.ContextVar("recording", default=None)
    original = Database.execute

    async def execute(self, sql, params=None, *args, **kwargs):
        sink = recording.get()
        if sink is not None and self.name == "programs":
            sink.append((sql, params))
        return await original(self, sql, params, *args, **kwargs)

    Database.execute = execute
    try:
        metadata = yaml.safe_load((ROOT / cmd.metadata).read_text()) if cmd.metadata else None
        inspect = json.loads(Path(cmd.inspect_file).read_text()) if cmd.inspect_file else None
        ds = Datasette(
            immutables=cmd.immutables, inspect_data=inspect, metadata=metadata,
            plugins_dir=str(ROOT / cmd.plugins_dir) if cmd.plugins_dir else None,
            template_dir=str(ROOT / cmd.template_dir) if cmd.template_dir else None,
            settings=_settings(cmd.settings),
        )
        await ds.invoke_startup()
        captured, statuses = {}, {}
        for path in paths:
            for _ in range(2):  # the first request of a fresh instance also reads the schema
                sink: list = []
                token = recording.set(sink)
                try:
                    response = await ds.client.get(path)
                finally:
                    recording.reset(token)
            # A page that fails (e.g. metadata naming a column this database lacks) is measured as
            # it is served; its raw side is then only the queries it ran before failing.
            captured[path] = sink
            statuses[path] = response.status_code
        return captured, statuses
    finally:
        Database.execute = original


def raw_connection(db: Path) -> sqlite3.Connection:
    """The same file as Datasette opens it (immutable), with the SQL functions its pages use."""
    from datasette.utils import escape_fts

    sys.path.insert(0, str(ROOT / "plugins"))
    from distance import distance_miles  # plugins/distance.py

    conn = sqlite3.connect(f"file:{db}?immutable=1", uri=True, check_same_thread=False)
    conn.create_function("distance_miles", 4, distance_miles, deterministic=True)
    conn.create_function("escape_fts", 1, escape_fts)
    return conn


def run_queries(conn: sqlite3.Connection, queries) -> tuple[float, list[float]]:
    each = []
    for sql, params in queries:
        t0 = time.perf_counter()
        try:
            conn.execute(sql, params if params is not None else ()).fetchall()
        except sqlite3.Error:
            pass  # it failed when served too (the page then answers an error, reported beside)
        each.append((time.perf_counter() - t0) * 1000)
    return sum(each), each


def describe_query(sql: str, params=None) -> str:
    """A short name for one of the SQL statements a page runs (for the per-query breakdown)."""
    import re

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


@dataclasses.dataclass
class PageResult:
    page: Page
    served: list[float]
    raw: list[float]
    raw_each: dict[str, float]  # kind of query -> median ms per page run
    queries: int
    timed_out: Counter
    statuses: Counter


def measure_page(base: str, conn, page: Page, sql: dict, *, requests: int, warmup: int, budget: float,
                 expected_facets: list[str]) -> PageResult:
    import httpx

    from bench.load import timed_out_facets

    served: list[float] = []
    timed_out: Counter = Counter()
    statuses: Counter = Counter()
    with httpx.Client(base_url=base, timeout=120) as client:
        for i in range(warmup):
            client.get(page.paths[i % len(page.paths)])
        started = time.perf_counter()
        i = 0
        while len(served) < requests and (time.perf_counter() - started < budget or len(served) < 3):
            path = page.paths[i % len(page.paths)]
            i += 1
            t0 = time.perf_counter()
            response = client.get(path)
            body = response.content
            served.append((time.perf_counter() - t0) * 1000)
            statuses[response.status_code] += 1
            for facet in (timed_out_facets(path, body, expected_facets) if response.status_code == 200 else ()):
                timed_out[facet] += 1
    raw: list[float] = []
    per_query: dict[str, list[float]] = {}

    def raw_run(queries) -> float:
        total, each = run_queries(conn, queries)
        sums: Counter = Counter()
        for (q, params), ms in zip(queries, each):
            sums[describe_query(q, params)] += ms
        for d, ms in sums.items():
            per_query.setdefault(d, []).append(ms)
        return total

    started = time.perf_counter()
    first = raw_run(sql[page.paths[0]])  # the warm-up, like the requests' (a sample too when slow)
    if first > budget * 1000 / 4:
        raw.append(first)
    else:
        per_query.clear()
    i = 0
    while len(raw) < requests and (time.perf_counter() - started < budget or not raw):
        raw.append(raw_run(sql[page.paths[i % len(page.paths)]]))
        i += 1
    raw_each = {d: statistics.median(v) for d, v in per_query.items()}
    return PageResult(page, served, raw, raw_each, len(sql[page.paths[0]]), timed_out, statuses)


# --- the report -----------------------------------------------------------------------------------

def mib(n: int) -> str:
    return f"{n / MIB:,.0f} MiB"


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


class Report:
    def __init__(self):
        self.rows: list[tuple[str, str, str, str, str, str]] = []
        self.notes: list[str] = []

    def add(self, measure, figure, baseline="", ratio="", target="", result=""):
        self.rows.append((measure, figure, baseline, ratio, target, result))

    def table(self) -> str:
        head = ("measure", "figure", "baseline, same run", "ratio", "target", "result")
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in self.rows]
        return "\n".join(lines)


def stage_build(args, report: Report, work: Path) -> Path | None:
    from bench import synthetic_export

    csv_path = work / "national_export.csv"
    feed = work / "feed" / "national.jsonl"
    db = work / "programs.db"
    raw_db = work / "raw_baseline.db"

    log(f"generating {args.programs:,} synthetic programs -> {csv_path}")
    t0 = time.perf_counter()
    stats = synthetic_export.generate(csv_path, args.programs, args.seed)
    rows = stats["rows"]
    report.notes.append(
        f"input: {args.programs:,} SYNTHETIC programs in {rows:,} export rows (BUPREN {stats['BUPREN']:,}, "
        f"SU {stats['SU']:,}, MH {stats['MH']:,}, OTP {stats['OTP']:,}; {stats['twins']:,} SU/MH twins), "
        f"{csv_path.stat().st_size / MIB:,.0f} MiB, generated in {time.perf_counter() - t0:.1f} s")

    log(f"writing the feed with the export spider's item code -> {feed}")
    t0 = time.perf_counter()
    feed.parent.mkdir(parents=True, exist_ok=True)
    for stale in feed.parent.iterdir():  # no crawl log: the build's history starts empty
        stale.unlink()
    items = write_feed(csv_path, feed)
    report.notes.append(f"feed: {items:,} items, {feed.stat().st_size / MIB:,.0f} MiB, written in "
                        f"{time.perf_counter() - t0:.1f} s (FindtreatmentExportSpider.item_from_row + "
                        "JsonLinesItemExporter, every city of the file)")

    if not args.skip_crawl:
        labels = city_labels(csv_path)
        counts: Counter = Counter()
        with csv_path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = [h.strip().lower() for h in next(reader)]
            c, s = header.index("city"), header.index("state")
            from common.places import fold
            for row in reader:
                counts[labels.get((fold(row[c]), row[s].strip().upper()))] += 1
        cities = [label for label, _ in counts.most_common(args.crawl_cities) if label]
        crawl_feed = work / "crawl" / "feed.jsonl"
        log(f"real crawl of the {len(cities)} biggest cities of the file -> {crawl_feed}")
        m = run_measured([sys.executable, "-m", "crawler.crawl", "findtreatment_export", "--cities", ";".join(cities),
                          "--source", str(csv_path), "--output", str(crawl_feed)])
        if m.returncode == 0:
            kept = sum(1 for _ in crawl_feed.open(encoding="utf-8"))
            report.add(f"crawl: real spider, {len(cities)} biggest cities (reads all {rows:,} rows)",
                       f"{m.seconds:.1f} s, {rows / m.seconds:,.0f} rows read/s, {kept:,} kept; peak {mib(m.peak_rss)}",
                       "", "", "(no target)", "")
        else:
            report.add(f"crawl: real spider, {len(cities)} cities", f"failed (exit {m.returncode})", "", "", "", "MISSED")
            report.notes.append("crawl stderr: " + m.stderr.strip()[-500:])

    log(f"build: python -m pipelines.build {feed} --db {db}")
    db.unlink(missing_ok=True)
    build = run_measured([sys.executable, "-m", "pipelines.build", str(feed), "--db", str(db)],
                         timeout=args.build_timeout or None)
    log(f"baseline: raw executemany of the same feed lines -> {raw_db}")
    base = run_measured([sys.executable, "-m", "bench.run", "--raw-insert", str(feed), str(raw_db)])
    base_rows = int(base.stdout.strip() or 0) if base.returncode == 0 else 0
    if base.returncode != 0 or base_rows != items:
        report.notes.append(f"baseline failed or counted {base_rows} rows: {base.stderr.strip()[-500:]}")
    summary = build.stdout.strip().splitlines()[-1] if build.stdout.strip() else ""
    built = build.returncode == 0 and db.is_file()
    if built:
        conn = sqlite3.connect(f"file:{db}?immutable=1", uri=True)
        programs = conn.execute("select count(*) from programs").fetchone()[0]
        conn.close()
        ratio = build.seconds / base.seconds
        report.add(f"build: feed -> programs.db ({items:,} listings -> {programs:,} programs)",
                   f"{build.seconds:.1f} s, {items / build.seconds:,.0f} rows/s",
                   f"raw executemany {base.seconds:.1f} s, {items / base.seconds:,.0f} rows/s",
                   f"{ratio:.1f}x", f"<= {BUILD_MAX_RATIO:g}x", verdict(ratio <= BUILD_MAX_RATIO))
        report.notes.append(f"build said: {summary[:300]}{' ...' if len(summary) > 300 else ''}")
        report.notes.append(f"database: {db} {db.stat().st_size / MIB:,.0f} MiB; baseline table "
                            f"{raw_db.stat().st_size / MIB:,.0f} MiB")
    else:
        why = "timed out" if build.returncode == -signal.SIGKILL else f"exit {build.returncode}"
        report.add(f"build: feed -> programs.db ({items:,} listings)", f"did not finish ({why}) after {build.seconds:.0f} s",
                   f"raw executemany {base.seconds:.1f} s", f">= {build.seconds / base.seconds:.1f}x",
                   f"<= {BUILD_MAX_RATIO:g}x", "MISSED")
        report.notes.append("build stderr: " + build.stderr.strip()[-800:])
    report.notes.append(f"peak RSS: wait4 ru_maxrss of each command, started by a {mib(build.helper_rss)} helper "
                        "(the most a figure can include that is not the command's own)")
    report.notes.append("peak RSS with workers: the build process and its worker processes summed, sampled "
                        "every 50 ms; pages they share after fork count in each, so it is an upper bound")
    at_target = args.programs >= MEMORY_TARGET_PROGRAMS
    report.add(f"build peak memory (RSS, build process and its workers) at {args.programs:,} programs",
               f"{mib(build.tree_peak_rss)}{'' if built else ' (so far)'} (the build process alone {mib(build.peak_rss)})",
               f"raw executemany {mib(base.peak_rss)}", "",
               f"<= 1 GiB at {MEMORY_TARGET_PROGRAMS:,}",
               verdict(build.tree_peak_rss <= BUILD_MAX_PEAK_BYTES and built) if at_target
               else f"target not measured at {args.programs:,}: make bench BENCH_PROGRAMS=1000000")
    return db if built else None


def measure_floor(base: str, requests: int, warmup: int) -> list[float]:
    """What a request costs the server without any SQL: the part of every page no schema change removes."""
    import httpx

    samples = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for i in range(warmup + requests):
            t0 = time.perf_counter()
            client.get("/-/versions.json").raise_for_status()
            if i >= warmup:
                samples.append((time.perf_counter() - t0) * 1000)
    return samples


def stage_serving(args, report: Report, work: Path, db: Path) -> None:
    from bench import load

    pages, info = choose_pages(db, args.seed)
    port = args.port or free_port()
    log(f"make serve DB={db} PORT={port}")
    with Server(db, port, work / "serve.log") as server:
        report.notes.append(f"make serve: answering {server.startup_seconds:.1f} s after start (datasette inspect included)")
        cmd = serve_command(db, port)
        if cmd.ignored:
            report.notes.append(f"the in-process copy of `make serve` ignored {cmd.ignored}")
        log("capturing the SQL of each page from an in-process Datasette started like make serve")
        sql, captured_status = asyncio.run(capture_sql(cmd, [p for page in pages for p in page.paths]))
        failing = {p: s for p, s in captured_status.items() if s != 200}
        if failing:
            report.notes.append(f"the in-process copy answered {failing}: is programs.db older than metadata.yml?")
        expected = load.configured_facets(server.base)
        conn = raw_connection(db)
        results = []
        for page in pages:
            log(f"page {page.key}: {args.requests} requests (budget {args.page_budget:.0f} s), then its SQL raw")
            results.append(measure_page(server.base, conn, page, sql, requests=args.requests, warmup=args.warmup,
                                        budget=args.page_budget, expected_facets=expected))
        conn.close()
        floor = measure_floor(server.base, args.requests, args.warmup)
        report.add("Datasette floor: /-/versions.json (no SQL), for scale",
                   f"p50 {percentile(floor, 50):,.1f} / p95 {percentile(floor, 95):,.1f} ms (n={len(floor)})",
                   "", "", "(no target)", "")
        for r in results:
            p50, p95 = percentile(r.served, 50), percentile(r.served, 95)
            r50, r95 = (percentile(r.raw, 50), percentile(r.raw, 95)) if r.raw else (0.0, 0.0)
            bad_status = {s: n for s, n in r.statuses.items() if s != 200}
            ok = (p95 <= PAGE_MAX_P95_MS and bool(r95) and p95 <= PAGE_MAX_RATIO * r95 and not r.timed_out
                  and not bad_status)
            why = []
            if p95 > PAGE_MAX_P95_MS:
                why.append(f"p95 > {PAGE_MAX_P95_MS:g} ms")
            if r95 and p95 > PAGE_MAX_RATIO * r95:
                why.append(f"> {PAGE_MAX_RATIO:g}x raw")
            if r.timed_out:
                why.append("facets timed out")
            if bad_status:
                why.append(f"HTTP {bad_status}")
            report.add(r.page.label,
                       f"p50 {p50:,.1f} / p95 {p95:,.1f} ms (n={len(r.served)})",
                       f"raw SQL p50 {r50:,.1f} / p95 {r95:,.1f} ms (n={len(r.raw)}, {r.queries} queries)",
                       f"{p95 / r95:.1f}x" if r95 else "",
                       f"p95 <= {PAGE_MAX_P95_MS:g} ms and <= {PAGE_MAX_RATIO:g}x raw",
                       "ok" if ok else "MISSED (" + "; ".join(why) + ")")
        for r in results:
            if r.page.key in ("city-json", "city-html", "national", "national-array", "search-table", "national-iop"):
                timed = ", ".join(f"{f} ({n}/{len(r.served)})" for f, n in r.timed_out.items()) or "none"
                report.add(f"facets timed out: {r.page.key}", timed, "", "", "none",
                           verdict(not r.timed_out))
        for r in results:
            slow = sorted(r.raw_each.items(), key=lambda kv: -kv[1])[:8]
            report.notes.append(f"raw SQL of {r.page.key} (median ms per page, slowest first): "
                                + "; ".join(f"{d} {ms:,.1f}" for d, ms in slow))
        report.notes.append("pages: " + "; ".join(f"{r.page.key} {r.page.paths[0]}" for r in results))

        if args.load_seconds > 0:
            mix = load.discover(server.base)
            runs = [("", mix)]
            if any(kind == "national" for kind, _ in mix):
                runs.append((" without the national facet page", [(k, p) for k, p in mix if k != "national"]))
            for title, pages_mix in runs:
                log(f"load{title}: {args.load_clients} clients for {args.load_seconds:g} s")
                result = asyncio.run(load.run_load(server.base, pages_mix, seconds=args.load_seconds,
                                                   clients=args.load_clients, expected_facets=expected))
                lat = result.all_latencies
                kinds = sorted({k for k, _ in pages_mix})
                report.add(f"load{title}: {args.load_clients} clients, {args.load_seconds:g} s, "
                           f"{len(pages_mix)} pages ({', '.join(kinds)})",
                           f"{result.requests:,} requests ({result.requests / result.seconds:.1f}/s), "
                           f"{len(result.errors)} errors, p50 {percentile(lat, 50):,.1f} / "
                           f"p95 {percentile(lat, 95):,.1f} ms" if lat else "no answer", "", "",
                           "zero errors", verdict(not result.errors and bool(lat)))
                report.notes.append(f"load{title} detail:\n" + load.report(result))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--programs", type=int, default=100_000)
    parser.add_argument("--memory-million", action="store_true",
                        help="1,000,000 programs, build and memory only (no crawl, serving or load)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help=f"scratch folder (default {DEFAULT_WORK})")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page (after warm-up)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--page-budget", type=float, default=30.0,
                        help="seconds per page and side: fewer requests when a page is slow (at least 3 served, 1 raw)")
    parser.add_argument("--load-seconds", type=float, default=20.0)
    parser.add_argument("--load-clients", type=int, default=20)
    parser.add_argument("--crawl-cities", type=int, default=20)
    parser.add_argument("--skip-crawl", action="store_true")
    parser.add_argument("--skip-serving", action="store_true")
    parser.add_argument("--build-timeout", type=float, default=0, help="kill the build after this many s (0: never)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--serving-only", type=Path, metavar="DB",
                        help="measure serving (and load) of an existing programs.db only: no generation, no build")
    parser.add_argument("--raw-insert", nargs=2, type=Path, metavar=("FEED", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.raw_insert:
        print(raw_insert(*args.raw_insert))
        return 0
    if args.memory_million:
        args.programs = MEMORY_TARGET_PROGRAMS
    if args.programs >= MEMORY_TARGET_PROGRAMS and not args.skip_serving:
        args.skip_crawl = args.skip_serving = True
        log("1,000,000 programs: measuring the build and its memory only (no crawl, serving or load)")
    work = args.work.resolve()
    data_dir = (ROOT / "data").resolve()
    if work == data_dir or data_dir in work.parents:
        parser.error(f"--work must not be under {data_dir}")
    work.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    print("Treatment directory benchmark (python -m bench.run), "
          f"{time.strftime('%Y-%m-%d %H:%M %Z')}, {args.programs:,} synthetic programs\n")
    for name, value in machine():
        print(f"- {name}: {value}")
    print()
    report = Report()
    try:
        if args.serving_only:
            db = args.serving_only.resolve()
            if db.name != "programs.db" or not db.is_file():
                parser.error("--serving-only takes an existing file named programs.db (Datasette names the database by it)")
            report.notes.append(f"serving only, on the existing {db}")
        else:
            db = stage_build(args, report, work)
        if db and not args.skip_serving:
            stage_serving(args, report, work, db)
        elif not db and not args.skip_serving:
            report.notes.append("serving not measured: the build did not finish")
    except KeyboardInterrupt:
        report.notes.append("interrupted")
    except Exception as exc:  # the figures measured so far are still printed
        import traceback

        report.notes.append(f"the bench failed: {type(exc).__name__}: {exc}\n{traceback.format_exc()[-1500:]}")
    print(report.table())
    print()
    for note in report.notes:
        print(f"- {note}")
    print(f"\nbench finished in {time.perf_counter() - started:.0f} s (load average at the end "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}); files in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
