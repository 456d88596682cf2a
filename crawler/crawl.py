"""Run one spider into a JSON Lines feed, safely: the feed is replaced only by a crawl that finished,
had no failed request and kept at least one item.

    python -m crawler.crawl findtreatment_export --cities "Houston, TX;Dallas, TX" \
        --source ../shared/data/samhsa/findtreatment_export_TX_2023.xlsx --output data/feed/export.jsonl
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

from common.places import DEFAULT_CITIES, CityError, parse_cities
from crawler.spiders.findtreatment_api import API_URL
from common.run_log import append_run

OFFLINE_HINT = "no network here? `make demo` builds the same directory offline from the recorded export"


class CrawlFailed(RuntimeError):
    pass


def run_crawl(spider: str, output: Path, *, cities: str = DEFAULT_CITIES, settings: dict | None = None,
              **spider_args) -> dict:
    """Crawl into `output` (replaced only on success); return the crawl's stats."""
    parse_cities(cities)  # fail before starting Scrapy on a malformed city
    source = spider_args.get("source") or spider_args.get("api_url") or (API_URL if spider == "findtreatment_api" else "")
    try:
        preflight(source)
    except CrawlFailed as exc:
        append_run(output, {"run_id": uuid.uuid4().hex, "spider": spider, "cities": cities, "feed": str(output),
                            "source_url": source, "started": _now(), "finished": _now(), "status": "failed",
                            "error": str(exc), "items": 0, "stats": {}})
        raise
    output.parent.mkdir(parents=True, exist_ok=True)
    jobdir = (settings or {}).get("JOBDIR")
    if jobdir:
        # A resumable crawl: the items of every attempt go to one partial feed in the job
        # folder, appended to, so that a resumed crawl adds to what the stopped one kept.
        Path(jobdir).mkdir(parents=True, exist_ok=True)
        temp = Path(jobdir) / f"{output.name}.partial"
    else:
        temp = output.with_name(f".{output.name}.crawling-{os.getpid()}")
        temp.unlink(missing_ok=True)
    project = get_project_settings()
    project.set("FEEDS", {str(temp): {"format": "jsonlines", "encoding": "utf-8", "overwrite": not jobdir}})
    for key, value in (settings or {}).items():
        project.set(key, value, priority="cmdline")  # like `scrapy crawl -s`: above the spider's own
    process = CrawlerProcess(project)
    crawler = process.create_crawler(spider)
    startup_errors = []
    deferred = process.crawl(crawler, cities=cities, **{k: v for k, v in spider_args.items() if v is not None})
    deferred.addErrback(startup_errors.append)  # e.g. a bad spider argument, raised in __init__
    run = {
        "run_id": uuid.uuid4().hex, "spider": spider, "cities": cities, "feed": str(output),
        "source_url": spider_args.get("source") or spider_args.get("api_url")
        or (API_URL if spider == "findtreatment_api" else None),
        "started": _now(), "status": "failed",
    }
    stats: dict = {}
    try:
        process.start()
        if startup_errors:
            raise CrawlFailed(f"the spider could not start: {startup_errors[0].getErrorMessage()}")
        stats = crawler.stats.get_stats()
        check(spider, stats)
        os.replace(temp, output)
        if jobdir:
            shutil.rmtree(jobdir, ignore_errors=True)  # done: the next crawl starts afresh
        run["status"] = "finished"
        return stats
    except CrawlFailed as exc:
        run["error"] = str(exc)
        raise
    finally:
        if not jobdir:
            temp.unlink(missing_ok=True)  # a job folder keeps its partial feed for the resume
        run.update(finished=_now(), items=stats.get("item_scraped_count", 0), stats=stats)
        append_run(output, run)


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def preflight(url: str) -> None:
    """Fail in a second, not after retries, when the source's host cannot even be resolved."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return
    try:
        socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except OSError as exc:
        raise CrawlFailed(f"{parts.hostname} cannot be reached ({exc.strerror or exc}); {OFFLINE_HINT}") from None


def check(spider: str, stats: dict) -> None:
    """Raise CrawlFailed, with a plain reason, for a crawl that must not replace good data."""
    reason = str(stats.get("finish_reason", "unknown"))
    items = stats.get("item_scraped_count", 0)
    failed = stats.get(f"{spider}/failed_requests", 0)
    errors = sum(v for k, v in stats.items() if k.startswith("spider_exceptions/"))
    if reason.startswith("source_unreachable"):
        raise CrawlFailed(f"{reason.partition(': ')[2] or reason} ({OFFLINE_HINT})")
    if reason != "finished":
        raise CrawlFailed(f"the spider stopped early: {reason}")
    if errors:
        raise CrawlFailed(f"{errors} error(s) while parsing; see the log above")
    if failed and spider != "provider_sites":  # one program's site being down spoils no other's
        # The spider keeps "URL: why" for the first few failures (timeouts, HTTP errors after
        # retries, bodies that are not the JSON it expects): name them, the log may be long gone.
        failures = [str(f) for f in stats.get(f"{spider}/failures") or []]
        detail = "; ".join(failures[:3]) + (f"; and {len(failures) - 3} more" if len(failures) > 3 else "")
        raise CrawlFailed(f"{failed} request(s) failed, the crawl is incomplete" + (f": {detail}" if detail else ""))
    if not items:
        raise CrawlFailed("the crawl kept no pages of any program's website" if spider == "provider_sites"
                          else "the crawl kept no listings for the requested cities")


def city_counts(spider: str, stats: dict) -> dict[str, int]:
    prefix = f"{spider}/city/"
    return {k[len(prefix):]: v for k, v in stats.items() if k.startswith(prefix)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spider", choices=["findtreatment_export", "findtreatment_api", "provider_sites"])
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--cities", default=DEFAULT_CITIES)
    parser.add_argument("--source", help="export spider: an https:// or file:// URL or a path")
    parser.add_argument("-a", dest="args", action="append", default=[], metavar="NAME=VALUE",
                        help="another spider argument, e.g. -a radius=10")
    parser.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                        help="a Scrapy setting for this crawl, e.g. -s DOWNLOAD_TIMEOUT=10 (repeatable)")
    args = parser.parse_args(argv)
    for option, pairs in (("-a", args.args), ("-s", args.settings)):
        for pair in pairs:
            if "=" not in pair:
                parser.error(f"{option} {pair!r}: give NAME=VALUE")
    spider_args = dict(a.split("=", 1) for a in args.args)
    settings = dict(s.split("=", 1) for s in args.settings)
    if args.source:
        spider_args["source"] = args.source
    started = time.monotonic()
    try:
        stats = run_crawl(args.spider, args.output, cities=args.cities, settings=settings, **spider_args)
    except (CrawlFailed, CityError, ValueError) as exc:
        print(f"crawl failed ({args.spider}): {exc}. The previous feed, if any, is kept.", file=sys.stderr)
        return 1
    if args.spider == "provider_sites":
        print(f"Crawled {stats.get('item_scraped_count', 0)} pages of "
              f"{stats.get('provider_sites/sites', '?')} program websites with provider_sites "
              f"in {time.monotonic() - started:.1f} s -> {args.output}")
        return 0
    counts = city_counts(args.spider, stats)
    for city in parse_cities(args.cities):
        if not counts.get(city.label):
            print(f"warning: no listings found for {city.label}", file=sys.stderr)
    per_city = "; ".join(f"{c} {n}" for c, n in counts.items())
    print(
        f"Crawled {stats.get('item_scraped_count', 0)} listings ({per_city}) with {args.spider} "
        f"in {time.monotonic() - started:.1f} s -> {args.output}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
