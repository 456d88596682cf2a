"""Pages per second of a shared crawl by 1, 2 and 4 workers (BENCHMARKS.md, "Crawl workers").

    .venv/bin/python -m bench.crawl_workers --sites 200 --workers 1 2 4

Each run is `scrapy workers provider_sites` as `make crawl-workers SPIDER=provider_sites` runs it
(its own redis-server, the real spider, politeness and monitors) against stand-in websites on
127.0.0.1 (bench/many_sites.py): three pages a site, each answered after --answer
seconds, with Scrapy's DOWNLOAD_DELAY of --delay seconds between two requests to one site (held
across workers by the per-site slots) and AutoThrottle off, so that the figure is about the
workers, not about AutoThrottle's guesses. Prints one JSON line per run and a table.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common.paths import ROOT
from bench.many_sites import ManySites


def one_run(sites: int, workers: int, answer: float, delay: float) -> dict:
    with ManySites(sites, delay=answer) as stand_in, tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        run = subprocess.run(
            [sys.executable, "-m", "scrapy", "workers", "provider_sites", "--workers", str(workers),
             "-a", f"urls={stand_in.urls}", "--output", f"{tmp}/sites.jsonl", "-s", f"REDIS_DIR={tmp}/redis",
             "-s", f"DOWNLOAD_DELAY={delay}", "-s", "AUTOTHROTTLE_ENABLED=False"],
            cwd=ROOT, capture_output=True, text=True)
        seconds = time.monotonic() - started
        if run.returncode:
            raise SystemExit(run.stderr)
        visits = stand_in.page_visits()
        stats = json.loads(Path(tmp, "crawl_runs.jsonl").read_text().splitlines()[-1])["stats"]
        first, last = min(v.arrived for v in visits), max(v.answered for v in visits)
        return {"workers": workers, "sites": sites, "pages": len(visits), "overlaps": len(stand_in.overlaps()),
                "seconds_total": round(seconds, 1), "seconds_crawling": round(last - first, 1),
                "pages_per_second": round(len(visits) / (last - first), 2),
                "requests": stats.get("downloader/request_count")}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--answer", type=float, default=0.3, help="seconds a stand-in page takes to answer")
    parser.add_argument("--delay", type=float, default=1.0, help="DOWNLOAD_DELAY between requests to one site")
    args = parser.parse_args(argv)
    rows = []
    for workers in args.workers:
        rows.append(one_run(args.sites, workers, args.answer, args.delay))
        print(json.dumps(rows[-1]), flush=True)
    print("| workers | pages | seconds crawling | pages/s | overlapping requests to a site |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row['workers']} | {row['pages']} | {row['seconds_crawling']} | {row['pages_per_second']} | {row['overlaps']} |")


if __name__ == "__main__":
    main()
