"""The project's Scrapy extensions: SafeFeed (a feed that only a good crawl replaces, and a log of
every run) and TerminalProgress (rows read and items kept, on a terminal)."""
from __future__ import annotations

import logging
import os
import shutil
import socket
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import CloseSpider, NotConfigured
from scrapy.extensions.feedexport import FeedExporter
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from common.progress import Progress
from common.run_log import append_run, new_run, now
from crawler.monitors import feed_profile, previous_good_run, run_monitors, run_record, verdict

logger = logging.getLogger(__name__)

OFFLINE_HINT = "no network here? `make demo` builds the same directory offline from the recorded export"


def crawl_feed_path(published: Path, jobdir: str | None) -> Path:
    """Where a crawl writes its items until they may be published: a hidden file beside the feed
    or, for a resumable crawl (JOBDIR), a partial feed in the job folder that every attempt of
    the job appends to, so that a resumed crawl adds to what the stopped one kept."""
    if jobdir:
        return Path(jobdir) / f"{published.name}.partial"
    return published.with_name(f".{published.name}.crawling-{os.getpid()}")


def safe_feed_settings(published: Path, jobdir: str | None) -> dict:
    """The settings that put a crawl under SafeFeed: the feed to publish, and Scrapy's feed
    export writing to the crawl feed instead (the safecrawl command sets them)."""
    crawl_feed = crawl_feed_path(published, jobdir)
    return {"SAFE_FEED": str(published),
            "FEEDS": {str(crawl_feed): {"format": "jsonlines", "encoding": "utf-8", "overwrite": not jobdir}}}


def unreachable(url: str | None) -> str | None:
    """Why an http(s) source cannot be reached at all (its host does not resolve), else None:
    asked once before the first request, so that an offline crawl fails in a second, not after
    its retries."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except OSError as exc:
        return f"{parts.hostname} cannot be reached ({exc.strerror or exc})"
    return None


def judge(spider, reason: str, stats: dict) -> str | None:
    """Why a closed crawl must not replace the published feed, in plain words; None when it may.

    Reads the spider's attributes, not its name: `failures_spoil_crawl` (False where one failed
    request spoils nothing else, e.g. one program's website being down) and
    `empty_crawl_message`."""
    items = stats.get("item_scraped_count", 0)
    failed = stats.get(f"{spider.name}/failed_requests", 0)
    errors = sum(v for k, v in stats.items() if k.startswith("spider_exceptions/"))
    if reason.startswith("source_unreachable"):
        return f"{reason.partition(': ')[2] or reason} ({OFFLINE_HINT})"
    if reason != "finished":
        return f"the spider stopped early: {reason}"
    if errors:
        return f"{errors} error(s) while parsing; see the log above"
    if any(k.startswith("feedexport/failed_count/") for k in stats):
        return "the feed could not be written; see the log above"
    if failed and getattr(spider, "failures_spoil_crawl", True):
        # The spider keeps "URL: why" for the first few failures (timeouts, HTTP errors after
        # retries, bodies that are not what it expects): name them, the log may be long gone.
        failures = [str(f) for f in stats.get(f"{spider.name}/failures") or []]
        detail = "; ".join(failures[:3]) + (f"; and {len(failures) - 3} more" if len(failures) > 3 else "")
        return f"{failed} request(s) failed, the crawl is incomplete" + (f": {detail}" if detail else "")
    if not items:
        return getattr(spider, "empty_crawl_message", "the crawl kept no items")
    return None


class SafeFeed:
    """Publish a crawl's feed only when the crawl was good; log every run, good or failed.

    Scrapy's feed export writes the items to the crawl feed (crawl_feed_path), never to the
    published one. Before the first request, a source whose host does not resolve closes the
    spider (reason source_unreachable). On spider_closed, once the feed export has closed its
    file, the crawl is judged from its stats (judge): a good crawl's feed replaces the published
    one in one rename, and its job folder, if any, is cleared; otherwise the published feed
    stays as it was, the log says why, and a job folder keeps its partial feed for the resume.
    A crawl the judge passes is then watched by the crawl monitors (crawler/monitors.py: items
    against the last good run of the same scope, per area, field coverage, retries and unwanted
    statuses); a failed monitor keeps the published feed too, unless CRAWL_MONITORS_OVERRIDE.
    Either way the run, its stats and the monitors' results are appended to crawl_runs.jsonl
    beside the feed.

    Off unless SAFE_FEED names the feed to publish and FEEDS writes the crawl feed
    (safe_feed_settings, which `scrapy safecrawl` applies), so `scrapy crawl -O` is untouched.
    The spider may say where it reads (`source_url`) and which cities it was asked for
    (`requested_cities`); the run log records both.
    """

    def __init__(self, crawler, published: Path):
        self.crawler = crawler
        self.published = published
        self.jobdir: str | None = crawler.settings.get("JOBDIR")
        self.crawl_feed = crawl_feed_path(published, self.jobdir)
        self.started = now()
        self.settled = False  # judged and logged
        self.failure: str | None = None  # why the published feed was kept, once settled
        self.checks: list = []  # the crawl monitors' results (crawler/monitors.Check)
        self._feed_closed: Deferred = Deferred()
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.feed_exporter_closed, signal=signals.feed_exporter_closed)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        published = crawler.settings.get("SAFE_FEED")
        if not published:
            raise NotConfigured
        crawl_feed = crawl_feed_path(Path(published), crawler.settings.get("JOBDIR"))
        if str(crawl_feed) not in crawler.settings.getdict("FEEDS"):
            raise NotConfigured(f"SAFE_FEED={published} needs FEEDS to write {crawl_feed} "
                                "(crawler.extensions.safe_feed_settings; `scrapy safecrawl` sets both)")
        return cls(crawler, Path(published))

    def spider_opened(self, spider):
        why = unreachable(getattr(spider, "source_url", None))
        if why:
            raise CloseSpider(f"source_unreachable: {why}")

    def feed_exporter_closed(self):
        if not self._feed_closed.called:
            self._feed_closed.callback(None)

    async def spider_closed(self, spider, reason):
        if self.crawler.get_extension(FeedExporter) is not None:
            await maybe_deferred_to_future(self._feed_closed)  # the crawl feed is whole on disk
        stats = dict(self.crawler.stats.get_stats())
        failure, watched = judge(spider, reason, stats), {}
        if failure is None:
            failure, watched = self.monitor(spider, stats)
        self.settle(spider, failure, stats, watched)

    def monitor(self, spider, stats: dict) -> tuple[str | None, dict]:
        """The monitors' verdict on the crawl feed, and what the run log keeps of them."""
        settings = self.crawler.settings
        profile = feed_profile(self.crawl_feed, getattr(spider, "field_coverage", {}))
        previous = previous_good_run(self.published, spider.name, getattr(spider, "requested_cities", None))
        self.checks = run_monitors(type(spider), stats, profile, previous, settings)
        return verdict(self.checks, settings), run_record(self.checks, profile, settings)

    def abandon(self, why: str) -> None:
        """Settle a crawl that ended without closing its spider (e.g. stopped by a second Ctrl-C)."""
        if not self.settled:
            self.settle(self.crawler.spider, why, dict(self.crawler.stats.get_stats()))

    def settle(self, spider, failure: str | None, stats: dict, watched: dict | None = None) -> None:
        """Publish or keep, then log the run (with the monitors' results, `watched`)."""
        self.failure = failure
        if failure is None:
            os.replace(self.crawl_feed, self.published)
            if self.jobdir:
                shutil.rmtree(self.jobdir, ignore_errors=True)  # done: the next crawl starts afresh
            logger.info("Published %s (%s items)", self.published, stats.get("item_scraped_count", 0))
        else:
            if not self.jobdir:
                self.crawl_feed.unlink(missing_ok=True)  # a job folder keeps its partial feed
            logger.error("%s not replaced: %s", self.published, failure)
        run = new_run(spider=spider.name, feed=self.published, cities=getattr(spider, "requested_cities", None),
                      source_url=getattr(spider, "source_url", None), started=self.started, error=failure, stats=stats)
        append_run(self.published, {**run, **(watched or {})})
        self.settled = True


class TerminalProgress:
    def __init__(self, crawler):
        self.stats = crawler.stats
        self.progress = Progress("items")
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def item_scraped(self, item, spider):
        rows = self.stats.get_value(f"{spider.name}/rows_read")
        self.progress.tick(extra=f" (of {rows:,} rows read)" if rows else "")

    def spider_closed(self, spider):
        self.progress.done()
