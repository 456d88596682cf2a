"""A crawl worker: any spider run with REDIS_URL and CRAWL_ID set shares its frontier, its items
and its per-site politeness with every other worker of that crawl, on this machine or another.

    scrapy crawl findtreatment_api -a states="TX;MA" -s REDIS_URL=redis://10.0.0.5:6379/0 -s CRAWL_ID=national

SharedFrontier is a Scrapy add-on (on in crawler/settings.py ADDONS; it disables itself without
REDIS_URL): it puts in the scheduler and duplicate filter on Redis (crawler/frontier.py), the
per-site slots (crawler/politeness.py), the items in Redis (crawler/redis_items.py) instead of
the in-memory duplicate filter of items, and the SharedCrawlWorker extension. Being an add-on,
it applies after a spider's own custom_settings, which it extends rather than replaces.

SharedCrawlWorker keeps the worker's heartbeat key alive (from a thread: WORKER_TIMEOUT seconds
without it mean the process is gone), and every WORKER_HEARTBEAT seconds ends its finished leases,
gives back the leases of workers whose heartbeat stopped and publishes the worker's stats to Redis; it keeps the spider open while any request of the crawl is queued or
leased anywhere (a worker with nothing to do now may be handed a killed worker's work), and
writes the worker's last stats and finish reason when it closes.
"""
from __future__ import annotations

import json
import threading

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy_redis.connection import get_redis_from_settings
from twisted.internet import task

from crawler.frontier import SharedScheduler, crawl_keys
from crawler.redis_items import ENCODER


class SharedFrontier:
    """The add-on: a worker's components, when REDIS_URL and CRAWL_ID are set."""

    def update_settings(self, settings) -> None:
        if not settings.get("REDIS_URL"):
            raise NotConfigured
        if not settings.get("CRAWL_ID"):
            raise NotConfigured("REDIS_URL is set but CRAWL_ID is not: name the crawl the workers share")
        settings.set("SCHEDULER", "crawler.frontier.SharedScheduler", priority="addon")
        settings.set("JOBDIR", None, priority="cmdline")  # the frontier lives in Redis
        settings.set_in_component_priority_dict("ITEM_PIPELINES", "crawler.item_pipelines.OverlapDedupPipeline", None)
        settings.set_in_component_priority_dict("ITEM_PIPELINES", "crawler.redis_items.RedisItemsPipeline", 900)
        if settings.getbool("SITE_SLOTS_SHARED", True):  # False only to show what they prevent (tests)
            settings.set_in_component_priority_dict("DOWNLOADER_MIDDLEWARES", "crawler.politeness.SharedSiteSlots", 990)
        settings.set_in_component_priority_dict("EXTENSIONS", "crawler.worker.SharedCrawlWorker", 800)


class SharedCrawlWorker:
    def __init__(self, crawler):
        settings = crawler.settings
        if not settings.get("REDIS_URL") or not settings.get("CRAWL_ID"):
            raise NotConfigured
        self.crawler = crawler
        self.server = get_redis_from_settings(settings)
        self.keys = crawl_keys(settings["CRAWL_ID"])
        self.interval = settings.getfloat("WORKER_HEARTBEAT", 2.0)
        self.ttl_ms = int(1000 * settings.getfloat("WORKER_TIMEOUT", 30.0))
        self.frontier: SharedScheduler | None = None
        self.loop = task.LoopingCall(self.beat)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    @property
    def alive_key(self) -> str:
        return self.keys["alive:"] + self.frontier.worker

    def spider_opened(self, spider):
        # Load what the spider's first parse would load (the ZIP code table): C code that parses
        # JSON holds the interpreter for seconds, so even the pulse thread would miss its beats.
        if hasattr(spider, "warm_up"):
            spider.warm_up()
        self.frontier = self.crawler.engine._slot.scheduler
        self.server.set(self.alive_key, "1", px=self.ttl_ms)
        self.pulse = Pulse(get_redis_from_settings(self.crawler.settings), self.alive_key, self.interval, self.ttl_ms)
        self.pulse.start()
        self.loop.start(self.interval, now=True)

    def beat(self) -> None:
        """End finished leases, take back a dead worker's, publish the stats."""
        self.frontier.give_back_finished()
        requeued = self.frontier.requeue_orphans()
        if requeued:
            self.crawler.stats.inc_value("frontier/requeued_from_dead_workers", requeued)
        self.publish_stats()
        # Look at the frontier now, not at the engine's next 5-second heartbeat: requeued work
        # starts, and a crawl that another worker has just finished closes here too.
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None:
            slot.nextcall.schedule()

    def publish_stats(self, reason: str | None = None) -> None:
        stats = dict(self.crawler.stats.get_stats())
        if reason is not None:
            stats["worker/finish_reason"] = reason
        self.server.hset(self.keys["stats"], self.frontier.worker, ENCODER.encode(stats))

    def spider_idle(self, spider):
        self.beat()
        queued, leased = self.frontier.frontier_size()
        if queued or leased:
            raise DontCloseSpider  # the crawl is not over: another worker's requests may come back

    def spider_closed(self, spider, reason):
        if self.loop.running:
            self.loop.stop()
        if self.frontier is not None:
            self.pulse.stop()
            self.frontier.give_back_finished()
            self.publish_stats(reason)
            self.server.delete(self.alive_key)


class Pulse(threading.Thread):
    """The worker's heartbeat key, renewed from a thread of its own: a parse that holds the reactor
    for seconds (the first one loads the ZIP code table) must not pass for a dead worker, whose
    leases the others would take back while it still works on them. Only a dead process stops it."""

    def __init__(self, server, key: str, interval: float, ttl_ms: int):
        super().__init__(name="crawl-worker-pulse", daemon=True)
        self.server, self.key, self.interval, self.ttl_ms = server, key, interval, ttl_ms
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.server.set(self.key, "1", px=self.ttl_ms)
            except Exception:  # a Redis hiccup: the next pulse tries again  # noqa: BLE001
                continue

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)


def worker_stats(server, crawl_id: str) -> dict[str, dict]:
    """Every worker's last published stats, by worker id."""
    raw = server.hgetall(crawl_keys(crawl_id)["stats"])
    return {(k.decode() if isinstance(k, bytes) else k): json.loads(v) for k, v in raw.items()}
