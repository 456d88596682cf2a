"""One request at a time per site across every worker of a crawl, not per process.

Scrapy's CONCURRENT_REQUESTS_PER_DOMAIN and DOWNLOAD_DELAY hold inside one process; two workers
sharing a frontier would each send one request at a time to the same site. SharedSiteSlots, a
downloader middleware placed last before the download (crawler/worker.py puts it there), takes a
Redis key per site (host:port) before a request leaves and gives it back when its response or
error arrives: SET NX with an expiry, so the slot of a worker killed mid-download frees itself
(SITE_SLOT_TTL seconds, DOWNLOAD_TIMEOUT plus a margin by default). Given back, the key stays
set for DOWNLOAD_DELAY seconds, so the delay between two requests to a site holds across
workers too. Waiting is an asynchronous sleep: the worker's other sites go on meanwhile.
Stats: politeness/waits, politeness/wait_seconds.

SiteSlotKeys (on for every crawl) makes Scrapy's own per-site limits (CONCURRENT_REQUESTS_PER_DOMAIN,
DOWNLOAD_DELAY, AutoThrottle) count per host:port, the unit SharedSiteSlots uses, instead of per
host name alone: on the web the two are the same site; on 127.0.0.1, where stand-in sites differ
by port, per host name would make every site wait for every other.
"""
from __future__ import annotations

import time
import uuid
from urllib.parse import urlsplit

from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import sleep
from scrapy_redis.connection import get_redis_from_settings

from crawler.frontier import crawl_keys

GIVE_BACK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  if tonumber(ARGV[2]) > 0 then redis.call('SET', KEYS[1], 'resting', 'PX', ARGV[2])
  else redis.call('DEL', KEYS[1]) end
  return 1
end
return 0
"""
POLL_SECONDS = 0.02
META_KEY = "_site_slot"


def site_of(url: str) -> str:
    """host[:port], lower case: the unit one request at a time is kept for."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


class SharedSiteSlots:
    def __init__(self, crawler):
        settings = crawler.settings
        if not settings.get("REDIS_URL") or not settings.get("CRAWL_ID"):
            raise NotConfigured
        self.stats = crawler.stats
        self.server = get_redis_from_settings(settings)
        self.prefix = crawl_keys(settings["CRAWL_ID"])["site:"]
        self.ttl_ms = int(1000 * settings.getfloat("SITE_SLOT_TTL", settings.getfloat("DOWNLOAD_TIMEOUT") + 15))
        self.rest_ms = int(1000 * settings.getfloat("DOWNLOAD_DELAY"))
        self._give_back = self.server.register_script(GIVE_BACK)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request):
        key, token = self.prefix + site_of(request.url), uuid.uuid4().hex
        started, waited = time.monotonic(), False
        while not self.server.set(key, token, nx=True, px=self.ttl_ms):
            waited = True
            await sleep(POLL_SECONDS)
        if waited:
            self.stats.inc_value("politeness/waits")
            self.stats.inc_value("politeness/wait_seconds", round(time.monotonic() - started, 3))
        request.meta[META_KEY] = (key, token)
        return None

    def release(self, request) -> None:
        slot = request.meta.pop(META_KEY, None)
        if slot is not None:
            self._give_back(keys=[slot[0]], args=[slot[1], self.rest_ms])

    def process_response(self, request, response):
        self.release(request)
        return response

    def process_exception(self, request, exception):
        self.release(request)
        return None


class SiteSlotKeys:
    """Scrapy's download slot of a request: its host:port (unless the request names one)."""

    def process_request(self, request):
        request.meta.setdefault("download_slot", site_of(request.url))
        return None
