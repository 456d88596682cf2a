"""`scrapy safecrawl`: `scrapy crawl` into a feed that only a good crawl replaces.

    scrapy safecrawl findtreatment_export --cities "Houston, TX;Dallas, TX" \\
        --source ../shared/data/samhsa/findtreatment_export_TX_2023.xlsx --output data/feed/findtreatment_export.jsonl
    scrapy safecrawl findtreatment_api --cities "Houston, TX" -a radius=10 --output data/feed/findtreatment_api.jsonl \\
        -s JOBDIR=data/jobs/api

The SafeFeed extension (crawler/extensions.py) judges the crawl, publishes or keeps the feed and
logs the run; this command turns it on for the crawl (--output), hands --cities and --source to
the spider as its arguments, and ends with one line for the person at the terminal: the summary
the spider words (its `crawl_summary`), or why the crawl failed, with exit status 1.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from twisted.internet.defer import Deferred

from common.run_log import append_run, new_run, now
from common.writable import cannot_write
from crawler.contact import refusal_before_start
from crawler.extensions import SafeFeed, safe_feed_settings


class SummaryFields(dict):
    """What a spider's `crawl_summary` may name: {items}, {per_city}, and the spider's own stats
    by their short names ({sites} for provider_sites/sites); "?" for one never counted."""

    def __init__(self, spider_name: str, stats: dict):
        prefix = f"{spider_name}/"
        super().__init__({k[len(prefix):]: v for k, v in stats.items() if k.startswith(prefix)})
        self["items"] = stats.get("item_scraped_count", 0)
        # By name: the order areas answered in varies from run to run, and between workers.
        self["per_city"] = "; ".join(f"{k[len('city/'):]} {v}" for k, v in sorted(self.items()) if k.startswith("city/"))

    def __missing__(self, key):
        return "?"


def show_monitors(crawler, stream) -> None:
    """The crawl monitors' results, one line each (crawler/monitors.py), for `make` to show."""
    try:
        guard = crawler.get_extension(SafeFeed)
    except RuntimeError:
        return
    for check in getattr(guard, "checks", []):
        print(f"  monitor {check.line()}", file=stream)


def unwritable_feed(output: Path) -> str | None:
    """Why the crawl could not write its feed (it writes beside --output, then renames), or None:
    asked before the crawl, which otherwise fails on every item it scrapes."""
    problem = cannot_write(output.parent)
    if problem:
        return (f"{problem}: the feed {output} is written there; make the folder writable, or crawl into "
                f"another (--output, make crawl EXPORT_FEED=...). The previous feed, if any, is kept")
    return None


def scope_arguments(opts) -> dict:
    """The spider arguments: -a pairs, then the scope options (--cities, --states, --cities-file)."""
    spargs = dict(opts.spargs)
    if opts.cities is not None:
        spargs["cities"] = opts.cities
    for option in ("states", "cities_file"):
        if getattr(opts, option, None):
            spargs[option] = getattr(opts, option)
    return spargs


class Command(ScrapyCommand):
    requires_project = True

    def syntax(self) -> str:
        return "[options] <spider> --output FILE"

    def short_desc(self) -> str:
        return "Run a spider into a feed that only a good crawl replaces; log every run"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("-a", dest="spargs", action="append", default=[], metavar="NAME=VALUE",
                            help="set a spider argument, e.g. -a radius=10 (may be repeated)")
        parser.add_argument("--output", metavar="FILE", required=True,
                            help="the JSON Lines feed to replace after a good crawl (crawl_runs.jsonl goes beside it)")
        parser.add_argument("--cities", metavar='"CITY, ST;..."', help="the cities to crawl (-a cities=...)")
        parser.add_argument("--states", metavar='"ST;..."', help="whole states to crawl (-a states=...)")
        parser.add_argument("--cities-file", metavar="FILE", help='a file of cities, one "City, ST" a line')
        parser.add_argument("--source", metavar="URL_OR_PATH",
                            help="where the spider reads, e.g. the export file (its source argument)")

    def process_options(self, args, opts) -> None:
        for option, pairs in (("-a", opts.spargs), ("-s", opts.set)):
            for pair in pairs:
                if "=" not in pair:
                    raise UsageError(f"{option} {pair!r}: give NAME=VALUE", print_help=False)
        super().process_options(args, opts)
        if self.settings.get("REDIS_URL"):
            raise UsageError("REDIS_URL makes this process one worker of a shared crawl: run the crawl with "
                             "`scrapy workers` (make crawl-workers), which judges it once over all its workers",
                             print_help=False)
        opts.spargs = dict(pair.split("=", 1) for pair in opts.spargs)
        self.settings.setdict(safe_feed_settings(Path(opts.output), self.settings.get("JOBDIR")), priority="cmdline")

    def run(self, args, opts) -> None:
        if len(args) != 1:
            raise UsageError("give one spider", print_help=False)
        try:
            crawler = self.crawler_process.create_crawler(args[0])
        except KeyError:
            names = ", ".join(self.crawler_process.spider_loader.list())
            raise UsageError(f"no spider named {args[0]!r} (the spiders: {names})", print_help=False) from None
        spargs = scope_arguments(opts)
        if opts.source is not None:
            spargs[getattr(crawler.spidercls, "source_argument", "source")] = opts.source
        refusal = refusal_before_start(crawler.spidercls, spargs, self.settings.get("CRAWLER_CONTACT"))
        refusal = refusal or unwritable_feed(Path(opts.output))
        if refusal:  # no contact for a live crawl, or a feed it cannot write: nothing starts, nothing is logged
            print(f"crawl refused ({crawler.spidercls.name}): {refusal}", file=sys.stderr)
            self.exitcode = 1
            return
        started, clock = now(), time.monotonic()
        start_errors = self.start(crawler, spargs)
        self.crawler_process.start()
        failure = self.outcome(crawler, Path(opts.output), spargs, start_errors, started)
        name = crawler.spidercls.name
        if failure:
            print(f"crawl failed ({name}): {failure}. The previous feed, if any, is kept.", file=sys.stderr)
            show_monitors(crawler, sys.stderr)
            self.exitcode = 1
            return
        summary = getattr(crawler.spider, "crawl_summary", "{items} items")
        fields = SummaryFields(name, crawler.stats.get_stats())
        print(f"Crawled {summary.format_map(fields)} with {name} in {time.monotonic() - clock:.1f} s -> {opts.output}")
        show_monitors(crawler, sys.stderr)  # stdout keeps the one summary line

    def start(self, crawler, spargs: dict) -> list[str]:
        """Schedule the crawl; the returned list receives the error of a spider that cannot start
        (a bad argument raised in its __init__), which Scrapy would otherwise print as a traceback."""
        errors: list[str] = []
        running = self.crawler_process.crawl(crawler, **spargs)
        if isinstance(running, Deferred):
            running.addErrback(lambda failure: errors.append(failure.getErrorMessage()))
        else:  # an asyncio task (AsyncCrawlerProcess, the default with the asyncio reactor)
            def keep_error(task) -> None:
                if not task.cancelled() and task.exception() is not None:
                    errors.append(str(task.exception()))
            running.add_done_callback(keep_error)
        return errors

    @staticmethod
    def outcome(crawler, output: Path, spargs: dict, start_errors: list[str], started: str) -> str | None:
        """Why the crawl failed, or None. SafeFeed has settled a crawl that closed; one that never
        got so far is settled here, so that every run is logged."""
        try:
            guard = crawler.get_extension(SafeFeed)
        except RuntimeError:  # stopped before its extensions were built: the spider did not start
            guard = None
        if guard is not None and guard.settled:
            return guard.failure
        why = (f"the spider could not start: {start_errors[0]}" if start_errors
               else "the crawl ended before its spider closed")
        if guard is not None:
            guard.abandon(why)
            return why
        cls = crawler.spidercls
        source = spargs.get(getattr(cls, "source_argument", "source")) or getattr(cls, "default_source_url", None)
        append_run(output, new_run(spider=cls.name, feed=output, cities=spargs.get("cities"), source_url=source,
                                   started=started, error=why))
        return why
