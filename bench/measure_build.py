"""Timing the crawl and the build, and the build's two baselines in the same run (bench.baselines):
every command in its own process, measured by bench.measure (wall time, psutil memory)."""
from __future__ import annotations

import json
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.baselines import FloorTimes
from bench.measure import Measured, run_measured


@dataclass
class CrawlRun:
    cities: list[str]
    measured: Measured
    kept: int  # items the crawl wrote


def measure_crawl(csv_path: Path, cities: list[str], feed: Path) -> CrawlRun:
    """The real export crawl (`crawler.crawl findtreatment_export`) of the file for `cities`."""
    m = run_measured([sys.executable, "-m", "crawler.crawl", "findtreatment_export", "--cities", ";".join(cities),
                      "--source", str(csv_path), "--output", str(feed)])
    kept = sum(1 for _ in feed.open(encoding="utf-8")) if m.returncode == 0 else 0
    return CrawlRun(cities, m, kept)


@dataclass
class BuildRun:
    db: Path
    build: Measured
    raw: Measured
    raw_rows: int
    programs: int = 0  # 0: the build did not finish
    floor: Measured | None = None
    floor_times: FloorTimes | None = None

    @property
    def built(self) -> bool:
        return self.programs > 0

    @property
    def summary(self) -> str:
        """The build's own last line ("Built ... in N s")."""
        return self.build.stdout.strip().splitlines()[-1] if self.build.stdout.strip() else ""


def measure_floor(db: Path, floor_db: Path, threads: int) -> tuple[Measured, FloorTimes | None]:
    """The floor (bench.baselines.write_floor) of a built database, in its own process; the file
    is removed afterwards (it is as big as the database)."""
    m = run_measured([sys.executable, "-m", "bench.baselines", "floor", str(db), str(floor_db),
                      "--threads", str(threads)])
    floor_db.unlink(missing_ok=True)
    if m.returncode != 0:
        return m, None
    figures = json.loads(m.stdout.strip().splitlines()[-1])
    figures.pop("seconds")
    return m, FloorTimes(**figures)


def measure_build(feed: Path, db: Path, work: Path, *, timeout: float | None) -> BuildRun:
    """`python -m pipelines.build FEED --db DB`, then the raw insert of the same feed and, when
    the build finished, the floor of what it wrote."""
    from pipelines.workers import worker_count

    db.unlink(missing_ok=True)
    build = run_measured([sys.executable, "-m", "pipelines.build", str(feed), "--db", str(db)], timeout=timeout)
    raw = run_measured([sys.executable, "-m", "bench.baselines", "raw", str(feed), str(work / "raw_baseline.db")])
    run = BuildRun(db, build, raw, int(raw.stdout.strip() or 0) if raw.returncode == 0 else 0)
    if build.returncode == 0 and db.is_file():
        conn = sqlite3.connect(f"file:{db}?immutable=1", uri=True)
        run.programs = conn.execute("select count(*) from programs").fetchone()[0]
        conn.close()
        # PRAGMA threads as the build set it: one per worker (pipelines/build.py).
        run.floor, run.floor_times = measure_floor(db, work / "floor.db", worker_count(feed.stat().st_size))
    return run
