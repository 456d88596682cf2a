"""`scrapy workers`: one crawl by several worker processes sharing one frontier on Redis, into a
feed that only a good crawl replaces.

    scrapy workers findtreatment_api --workers 4 --states "TX;MA" --output data/feed/findtreatment_api.jsonl
    scrapy workers provider_sites --workers 4 -a db=data/programs.db --output data/feed/provider_sites.jsonl \\
        --redis redis://10.0.0.5:6379/0

Without --redis it starts Debian's redis-server for the crawl (crawler/redis_server.py, its data
in REDIS_DIR, data/jobs/redis by default) and stops it at the end. It starts N workers (`scrapy
crawl SPIDER` with REDIS_URL and CRAWL_ID: crawler/worker.py), waits for all of them (Ctrl-C
stops them; the same command resumes), then judges the crawl once over all of them
(crawler/shared_crawl.py) and prints the summary and the monitors. Another machine joins the
crawl by starting workers against the same Redis and crawl id (`make crawl-worker`, README).
"""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import redis
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from common.run_log import append_run, new_run, now
from crawler.commands.safecrawl import SummaryFields, scope_arguments, unwritable_feed
from crawler.contact import contact_problem
from crawler.extensions import OFFLINE_HINT, unreachable
from crawler.redis_server import redis_server
from crawler.shared_crawl import settle


def worker_command(spider: str, spargs: dict, url: str, crawl_id: str, settings: list[str]) -> list[str]:
    """The command line of one worker (what a second machine runs too)."""
    arguments = [f"{k}={v}" for k, v in spargs.items()]
    return [sys.executable, "-m", "scrapy", "crawl", spider, *[x for a in arguments for x in ("-a", a)],
            "-s", f"REDIS_URL={url}", "-s", f"CRAWL_ID={crawl_id}", *[x for s in settings for x in ("-s", s)]]


def run_workers(commands: list[list[str]]) -> list[int]:
    """Start the workers, wait for every one; Ctrl-C asks each to stop (their leases go back).
    Each has a session of its own, so that it hears Ctrl-C once, from here: a second SIGINT
    would make Scrapy stop at once, without giving back what it holds."""
    processes = [subprocess.Popen(command, start_new_session=True) for command in commands]
    try:
        while any(p.poll() is None for p in processes):
            time.sleep(0.2)
    except KeyboardInterrupt:
        for p in processes:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in processes:
            p.wait()
    return [p.returncode for p in processes]


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[options] <spider> --output FILE [--workers N] [--redis URL]"

    def short_desc(self) -> str:
        return "Run a crawl as several workers sharing one frontier on Redis; publish only a good crawl"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("-a", dest="spargs", action="append", default=[], metavar="NAME=VALUE",
                            help="set a spider argument (may be repeated)")
        parser.add_argument("--output", metavar="FILE", required=True, help="the JSON Lines feed to replace")
        parser.add_argument("--cities", metavar='"CITY, ST;..."', help="the cities to crawl")
        parser.add_argument("--states", metavar='"ST;..."', help="whole states to crawl")
        parser.add_argument("--cities-file", metavar="FILE", help='a file of cities, one "City, ST" a line')
        parser.add_argument("--workers", type=int, default=2, metavar="N", help="worker processes here (default 2)")
        parser.add_argument("--redis", metavar="URL", help="a Redis server to share (default: start one)")
        parser.add_argument("--crawl-id", metavar="NAME", help="the crawl's name in Redis (default: spider:feed)")

    def process_options(self, args, opts) -> None:
        for pair in opts.spargs:
            if "=" not in pair:
                raise UsageError(f"-a {pair!r}: give NAME=VALUE", print_help=False)
        super().process_options(args, opts)
        opts.spargs = dict(pair.split("=", 1) for pair in opts.spargs)
        if opts.workers < 0:
            raise UsageError("--workers: give 0 or more (0: only judge what workers elsewhere crawled)")

    def run(self, args, opts) -> None:
        if len(args) != 1:
            raise UsageError("give one spider", print_help=False)
        try:
            spidercls = get_spider_loader(self.settings).load(args[0])
        except KeyError:
            raise UsageError(f"no spider named {args[0]!r}", print_help=False) from None
        spargs, published, started = scope_arguments(opts), Path(opts.output), now()
        try:
            spider = spidercls(**spargs)  # a bad argument fails here, before any worker starts
        except (TypeError, ValueError) as exc:
            self.fail(spidercls, published, spargs, started, f"the spider could not start: {exc}")
            return
        refusal = contact_problem(spider, self.settings.get("CRAWLER_CONTACT")) or unwritable_feed(published)
        if refusal:  # no contact for a live crawl, or a feed it cannot write: no Redis, no worker, nothing logged
            print(f"crawl refused ({spidercls.name}): {refusal}", file=sys.stderr)
            self.exitcode = 1
            return
        why = unreachable(getattr(spider, "source_url", None))
        if why:  # offline: fail in a second, as `scrapy safecrawl` does, before starting anything
            self.fail(spidercls, published, spargs, started, f"{why} ({OFFLINE_HINT})")
            return
        crawl_id = opts.crawl_id or f"{spidercls.name}:{published.stem}"
        server_here = redis_server(Path(self.settings.get("REDIS_DIR") or "data/jobs/redis")) if not opts.redis else None
        clock = time.monotonic()
        with (server_here or _given(opts.redis)) as url:
            print(f"Crawl {crawl_id} on {url}: {opts.workers} worker(s) here; others join with "
                  f"REDIS_URL={url} CRAWL_ID={crawl_id}", file=sys.stderr)
            passed = [pair for pair in opts.set]
            codes = run_workers([worker_command(spidercls.name, spargs, url, crawl_id, passed)] * opts.workers)
            lost = [f"worker {n} ended with {'signal ' + str(-c) if c < 0 else 'status ' + str(c)}"
                    for n, c in enumerate(codes, start=1) if c]
            if lost:
                print("; ".join(lost) + " (what it held went back to the frontier)", file=sys.stderr)
            outcome = settle(redis.Redis.from_url(url), crawl_id, spider, published, started, self.settings)
        for check in outcome.checks:
            print(f"  monitor {check.line()}", file=sys.stderr)
        if outcome.failure:
            print(f"crawl failed ({spidercls.name}): {outcome.failure}. The previous feed, if any, is kept.",
                  file=sys.stderr)
            self.exitcode = 1
            return
        summary = getattr(spider, "crawl_summary", "{items} items").format_map(SummaryFields(spidercls.name, outcome.stats))
        print(f"Crawled {summary} with {spidercls.name} by {opts.workers} worker(s) here "
              f"in {time.monotonic() - clock:.1f} s -> {published}")

    def fail(self, spidercls, published: Path, spargs: dict, started: str, why: str) -> None:
        append_run(published, new_run(spider=spidercls.name, feed=published, cities=spargs.get("cities"),
                                      source_url=None, started=started, error=why))
        print(f"crawl failed ({spidercls.name}): {why}", file=sys.stderr)
        self.exitcode = 1


class _given:
    """A Redis someone else runs, as a context like redis_server."""

    def __init__(self, url: str):
        self.url = url

    def __enter__(self) -> str:
        return self.url

    def __exit__(self, *exc) -> None:
        return None
