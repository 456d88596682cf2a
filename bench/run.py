"""`make bench`: the directory at national scale, each figure beside a baseline measured in the same run.

    python -m bench.run                      # 100,000 synthetic programs: build, serving, load (~3-5 min)
    python -m bench.run --memory-million     # 1,000,000 programs: build time and peak memory only
    python -m bench.run --programs 20000 --requests 10 --load-seconds 5   # a quicker look

Steps (all files under --work, default /tmp/treatment-bench; nothing under data/):

1. Input (bench.generate): a SYNTHETIC national export (real wide format) and the feed a crawl
   of every one of its cities writes, made by the export spider's own code; the real crawl is
   also timed on the file for its 20 biggest cities.
2. Build (bench.measure_build): `python -m pipelines.build FEED --db ...`, timed beside its two
   baselines (bench.baselines): the floor (the same database written again by plain sqlite3
   from the built rows: tables, indexes, full-text index) and the raw insert of the feed lines
   into one table. Memory by psutil (bench.measure).
3. Serving (bench.measure_serving): `make serve DB=... PORT=<free>` exactly as a user runs it;
   each page requested sequentially (warm-up, then --requests timed), beside the SQL Datasette
   runs for it, captured with Datasette's own tracer (bench.capture) from an in-process twin of
   `make serve` and run with the python sqlite3 module on the same file opened immutable.
4. Load: bench.load, 20 clients for 20 s across search, facet, program and JSON pages (with and
   without the national facet page); then 40 clients, judged against issue 15's target (0 errors,
   p95 <= 400 ms over the mix, <= 800 ms for the table pages with facets).

The figures are printed by bench.report. Exit status 0 even when a target is missed: MISSED is
printed beside it.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import time
from pathlib import Path

from bench import generate
from bench.report import LOAD_TARGET_CLIENTS, MEMORY_TARGET_PROGRAMS, MIB, Report, machine
from plugins.response_cache import CACHE_MB_ENV as NO_CACHE  # 0 turns the response cache off

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WORK = Path("/tmp/treatment-bench")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stage_input(args, report: Report, work: Path) -> tuple[Path, Path, int, int]:
    """(export, feed, export rows, feed items): the synthetic export and its feed."""
    csv_path, feed = work / "national_export.csv", work / "feed" / "national.jsonl"
    log(f"generating {args.programs:,} synthetic programs -> {csv_path}")
    t0 = time.perf_counter()
    stats = generate.generate_export(csv_path, args.programs, args.seed)
    report.notes.append(
        f"input: {args.programs:,} SYNTHETIC programs in {stats['rows']:,} export rows (BUPREN {stats['BUPREN']:,}, "
        f"SU {stats['SU']:,}, MH {stats['MH']:,}, OTP {stats['OTP']:,}; {stats['twins']:,} SU/MH twins), "
        f"{csv_path.stat().st_size / MIB:,.0f} MiB, generated in {time.perf_counter() - t0:.1f} s")
    log(f"writing the feed with the export spider's item code -> {feed}")
    t0 = time.perf_counter()
    feed.parent.mkdir(parents=True, exist_ok=True)
    for stale in feed.parent.iterdir():  # no crawl log: the build's history starts empty
        stale.unlink()
    items = generate.write_feed(csv_path, feed)
    report.notes.append(f"feed: {items:,} items, {feed.stat().st_size / MIB:,.0f} MiB, written in "
                        f"{time.perf_counter() - t0:.1f} s (FindtreatmentExportSpider.item_from_row + "
                        "JsonLinesItemExporter, every city of the file)")
    return csv_path, feed, stats["rows"], items


def stage_build(args, report: Report, work: Path) -> Path | None:
    """Input, crawl and build with its baselines; the built database, or None."""
    from bench import measure_build
    from bench import report as figures

    csv_path, feed, rows, items = stage_input(args, report, work)
    if not args.skip_crawl:
        cities = generate.biggest_cities(csv_path, args.crawl_cities)
        log(f"real crawl of the {len(cities)} biggest cities of the file")
        crawl = measure_build.measure_crawl(csv_path, cities, work / "crawl" / "feed.jsonl")
        figures.add_crawl(report, crawl, rows)
    db = work / "programs.db"
    log(f"build: python -m pipelines.build {feed} --db {db}; then the raw insert and the floor")
    run = measure_build.measure_build(feed, db, work, timeout=args.build_timeout or None)
    figures.add_build(report, run, items, args.programs)
    return db if run.built else None




def stage_serving(args, report: Report, work: Path, db: Path) -> None:
    """The pages of `make serve`, each beside its own SQL, then the load test."""
    from bench import load, measure_serving
    from bench import report as figures
    from bench.capture import capture_sql
    from bench.pages import FACETED, choose_pages
    from bench.serving import Server

    pages = choose_pages(db, args.seed)
    port = args.port or free_port()
    # Pages are timed as rendered, not as remembered: the response cache is off for them (and for
    # the 20-client runs, comparable with earlier rounds); the 40-client target runs both ways.
    log(f"make serve DB={db} PORT={port} {NO_CACHE}=0")
    with Server(db, port, work / "serve.log", **{NO_CACHE: 0}) as server:
        report.notes.append(f"make serve: answering {server.startup_seconds:.1f} s after start (datasette inspect "
                            f"included), {server.serving_processes()} serving processes; pages and the 20-client "
                            f"runs with the response cache off ({NO_CACHE}=0)")
        log("capturing the SQL of each page with Datasette's tracer, in an in-process twin of make serve")
        sql, statuses = asyncio.run(capture_sql(db, [p for page in pages for p in page.paths]))
        failing = {p: s for p, s in statuses.items() if s != 200}
        if failing:
            report.notes.append(f"the in-process twin answered {failing}: is programs.db older than metadata.yml?")
        expected = load.configured_facets(server.base)
        conn = measure_serving.raw_connection(db)
        results = []
        for page in pages:
            log(f"page {page.key}: {args.requests} requests (budget {args.page_budget:.0f} s), then its SQL raw")
            results.append(measure_serving.measure_page(server.base, conn, page, sql, requests=args.requests,
                                                        warmup=args.warmup, budget=args.page_budget,
                                                        expected_facets=expected))
        conn.close()
        figures.add_versions(report, measure_serving.time_versions(server.base, args.requests, args.warmup))
        for r in results:
            figures.add_page(report, r)
        for r in results:
            if r.page.key in FACETED:
                figures.add_timeouts(report, r)
        for r in results:
            figures.add_raw_breakdown(report, r)
        report.notes.append("pages: " + "; ".join(f"{r.page.key} {r.page.paths[0]}" for r in results))
        if args.load_seconds > 0:
            stage_load(args, report, server.base, expected)
            if args.target_clients > 0:
                mix = load.discover(server.base)  # the same pages for both target runs
                stage_load_target(args, report, server, mix, expected, f"response cache off ({NO_CACHE}=0)")
    if args.load_seconds > 0 and args.target_clients > 0:
        log("make serve as it starts (response cache on) for the load target")
        with Server(db, args.port or free_port(), work / "serve-cached.log") as server:
            stage_load_target(args, report, server, mix, expected, "as it starts (response cache on)")
            # The same server for the next period: what it does once each worker has met the mix.
            stage_load_target(args, report, server, mix, expected, "response cache on, the next 20 s")


def stage_load(args, report: Report, base: str, expected: list[str]) -> None:
    """The load mix, then the same without the national facet page."""
    from bench import load
    from bench import report as figures

    mix = load.discover(base)
    runs = [("", mix)]
    if any(kind == "national" for kind, _ in mix):
        runs.append((" without the national facet page", [(k, p) for k, p in mix if k != "national"]))
    for title, pages_mix in runs:
        log(f"load{title}: {args.load_clients} clients for {args.load_seconds:g} s")
        result = asyncio.run(load.run_load(base, pages_mix, seconds=args.load_seconds, clients=args.load_clients,
                                           expected_facets=expected))
        figures.add_load(report, title, result, pages_mix, args.load_clients, args.load_seconds)


def stage_load_target(args, report: Report, server, mix, expected: list[str], cache: str) -> None:
    """Issue 15's target: --target-clients (40) clients over the whole mix, served by `make serve`
    (WORKERS processes), the load generator on the same machine. cache: how the response cache is set."""
    from bench import load
    from bench import report as figures

    processes = server.serving_processes()
    log(f"load target: {args.target_clients} clients for {args.load_seconds:g} s, {processes} serving processes")
    result = asyncio.run(load.run_load(server.base, mix, seconds=args.load_seconds, clients=args.target_clients,
                                       expected_facets=expected))
    hits = sum(result.cache_hits.values())
    figures.add_load_target(report, result, mix, args.target_clients, args.load_seconds, processes,
                            f"{cache}, {hits:,} of {result.requests:,} answers from it" if hits else cache)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--programs", type=int, default=100_000)
    p.add_argument("--memory-million", action="store_true",
                   help="1,000,000 programs, build and memory only (no crawl, serving or load)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--work", type=Path, default=DEFAULT_WORK, help=f"scratch folder (default {DEFAULT_WORK})")
    p.add_argument("--requests", type=int, default=30, help="timed requests per page (after warm-up)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--page-budget", type=float, default=30.0,
                   help="seconds per page and side: fewer requests when a page is slow (at least 3 served, 1 raw)")
    p.add_argument("--load-seconds", type=float, default=20.0)
    p.add_argument("--load-clients", type=int, default=20)
    p.add_argument("--target-clients", type=int, default=LOAD_TARGET_CLIENTS,
                   help="clients of the load run judged against issue 15's target (0: no such run)")
    p.add_argument("--crawl-cities", type=int, default=20)
    p.add_argument("--skip-crawl", action="store_true")
    p.add_argument("--skip-serving", action="store_true")
    p.add_argument("--build-timeout", type=float, default=0, help="kill the build after this many s (0: never)")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--serving-only", type=Path, metavar="DB",
                   help="measure serving (and load) of an existing programs.db only: no generation, no build")
    return p


def check_args(p: argparse.ArgumentParser, args) -> Path:
    """Settle the options that imply others; the scratch folder (never under data/)."""
    if args.memory_million:
        args.programs = MEMORY_TARGET_PROGRAMS
    if args.programs >= MEMORY_TARGET_PROGRAMS and not args.skip_serving:
        args.skip_crawl = args.skip_serving = True
        log("1,000,000 programs: measuring the build and its memory only (no crawl, serving or load)")
    if args.serving_only:
        args.serving_only = args.serving_only.resolve()
        if args.serving_only.name != "programs.db" or not args.serving_only.is_file():
            p.error("--serving-only takes an existing file named programs.db (Datasette names the database by it)")
    work = args.work.resolve()
    data_dir = (ROOT / "data").resolve()
    if work == data_dir or data_dir in work.parents:
        p.error(f"--work must not be under {data_dir}")
    work.mkdir(parents=True, exist_ok=True)
    return work


def run_stages(args, report: Report, work: Path) -> None:
    if args.serving_only:
        db = args.serving_only
        report.notes.append(f"serving only, on the existing {db}")
    else:
        db = stage_build(args, report, work)
    if args.skip_serving:
        return
    if db:
        stage_serving(args, report, work, db)
    else:
        report.notes.append("serving not measured: the build did not finish")


def main(argv=None) -> int:
    p = parser()
    args = p.parse_args(argv)
    work = check_args(p, args)
    started = time.perf_counter()
    print("Treatment directory benchmark (python -m bench.run), "
          f"{time.strftime('%Y-%m-%d %H:%M %Z')}, {args.programs:,} synthetic programs\n")
    for name, value in machine():
        print(f"- {name}: {value}")
    print()
    report = Report()
    try:
        run_stages(args, report, work)
    except KeyboardInterrupt:
        report.notes.append("interrupted")
    except Exception as exc:  # the figures measured so far are still printed
        import traceback

        report.notes.append(f"the bench failed: {type(exc).__name__}: {exc}\n{traceback.format_exc()[-1500:]}")
    report.print()
    print(f"\nbench finished in {time.perf_counter() - started:.0f} s (load average at the end "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}); files in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
