"""Scrapy settings: polite crawling of public listings, offline-friendly."""
import os

from crawler.contact import PLACEHOLDER as _contact_placeholder

BOT_NAME = "treatment_directory"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
# `scrapy safecrawl` (crawler/commands/safecrawl.py): crawl into a feed only a good crawl replaces.
COMMANDS_MODULE = "crawler.commands"
# A spider run with REDIS_URL and CRAWL_ID set is one worker of a crawl shared through Redis
# (crawler/worker.py); without them the add-on does nothing.
ADDONS = {"crawler.worker.SharedFrontier": 0}
REDIS_URL = ""  # -s REDIS_URL=redis://host:6379/0 -s CRAWL_ID=name (make crawl-workers sets both)
CRAWL_ID = ""
WORKER_HEARTBEAT = 2.0  # seconds between a worker's rounds: finished leases, dead workers' work, stats
WORKER_TIMEOUT = 30.0  # a worker silent this long is gone: its leased requests go back to the queue
# A per-site slot of a worker killed mid-download frees itself after this long (crawler/politeness.py);
# unset: DOWNLOAD_TIMEOUT + 15 s.
# SITE_SLOT_TTL = 75

# Crawl monitors (crawler/monitors.py): a good crawl's feed replaces the last good one only if
# it holds at least 70% of the items (and of each area's) of the last good crawl of the same
# scope; CRAWL_MONITORS_OVERRIDE=1 (make ALLOW_SHRINK=1) accepts it anyway, saying so.
MONITOR_MAX_DROP = 0.30
MONITOR_MIN_AREA_ITEMS = 20  # an area is compared once it held this many items
MONITOR_MIN_REQUESTS = 50  # retry and status shares are judged on at least this many requests
MONITOR_MIN_ITEMS = 20  # field coverage is judged on at least this many items
MONITOR_MAX_RETRY_SHARE = 0.25
MONITOR_MAX_UNWANTED_STATUS_SHARE = 0.10
CRAWL_MONITORS_OVERRIDE = False

# Name the project and how to reach whoever runs the crawl: from the environment (`make crawl-live
# CRAWLER_CONTACT=you@your.org` puts it there). A live crawl does not start without it; one that reads
# only this machine (files, 127.0.0.1) runs under the placeholder (crawler/contact.py).
CRAWLER_CONTACT = os.environ.get("CRAWLER_CONTACT", "").strip() or _contact_placeholder
USER_AGENT = (
    "treatment-directory/0.1 (open-source directory of treatment programs; "
    f"contact: {CRAWLER_CONTACT})"
)

ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 1
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 60

# Retry transient failures; 429 is the source asking us to slow down.
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
# ...with back-off (crawler/middlewares.py): RETRY_BACKOFF_BASE s, doubled on each retry, at most
# RETRY_BACKOFF_MAX s; longer when a 429/503 says Retry-After (at most RETRY_BACKOFF_MAX_RETRY_AFTER s).
RETRY_BACKOFF_BASE = 1.0
RETRY_BACKOFF_MAX = 30.0
RETRY_BACKOFF_MAX_RETRY_AFTER = 60.0
DOWNLOADER_MIDDLEWARES = {
    "crawler.politeness.SiteSlotKeys": 50,  # a site is host:port (crawler/politeness.py)
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
}

# The HTTP cache is for development (HTTPCACHE=1); a real crawl wants fresh data.
HTTPCACHE_ENABLED = os.environ.get("HTTPCACHE", "") == "1"
HTTPCACHE_DIR = "httpcache"
HTTPCACHE_EXPIRATION_SECS = 24 * 3600

ITEM_PIPELINES = {
    "crawler.item_pipelines.OverlapDedupPipeline": 50,
    "crawler.item_pipelines.ListingQualityPipeline": 100,
}
EXTENSIONS = {
    # Before SafeFeed: a live crawl without CRAWLER_CONTACT is closed first, for that reason.
    "crawler.contact.ContactRequired": 100,
    "crawler.extensions.TerminalProgress": 500,
    # On when SAFE_FEED is set (scrapy safecrawl). Ordered after Scrapy's own extensions (0), so
    # that on spider_closed CoreStats has written the finish stats it judges and logs.
    "crawler.extensions.SafeFeed": 900,
    "scrapy.extensions.telnet.TelnetConsole": None,
}

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = os.environ.get("SCRAPY_LOG_LEVEL", "WARNING")

# Where the wide export lives for the offline demo, and the code reference.
SHARED_SAMHSA_DIR = os.environ.get(
    "SHARED_SAMHSA_DIR",
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "data", "samhsa"),
)

# Where `scrapy workers` keeps the Redis it starts when given no REDIS_URL (its append-only file:
# a stopped shared crawl resumes from it).
REDIS_DIR = "data/jobs/redis"
