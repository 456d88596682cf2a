"""One frontier for several crawl workers: scrapy-redis's scheduler and duplicate filter on a Redis
server, with the three things a crawl of the whole country needs that scrapy-redis 0.9.1 lacks.

- A request taken from the queue is leased, not lost: the pop moves it into a hash of leases in
  the same Redis step (a Lua script), and the lease is given back only once Scrapy has finished
  with the request (its callback's items through the pipelines, its new requests in the queue:
  the engine has taken it out of its in-progress set). A worker killed mid-crawl stops renewing
  its heartbeat key; any other worker then puts its leases back in the queue (requeue_orphans),
  so another finishes its work.
- Enqueueing is one Redis step too: the duplicate filter's SADD and the queue's ZADD in one
  script, so a worker killed between the two can neither lose a request nor mark it seen.
- Every worker runs the spider's own start() and offers the same start requests: they always go
  through the shared duplicate filter, even with dont_filter (the provider_sites spider sets it),
  so each is queued once however many workers start, and a worker that joins late adds nothing.
  (scrapy-redis's RedisSpider reads its start URLs in start_requests(), which Scrapy 2.13+ no
  longer calls; crawler/redis_start.py is the adapter for a spider that wants that instead.)

The queue is scrapy-redis's PriorityQueue (a sorted set; its pickled requests, callbacks by
name) and the duplicate filter its RFPDupeFilter; the crawl's keys start with CRAWL_ID.
"""
from __future__ import annotations

import os
import socket
import uuid

from scrapy.utils.misc import load_object
from scrapy_redis.connection import get_redis_from_settings
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler

PUSH = """
if ARGV[1] == '1' or redis.call('SADD', KEYS[1], ARGV[2]) == 1 then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
  return 1
end
return 0
"""
LEASE = """
local top = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #top == 0 then return false end
redis.call('ZREM', KEYS[1], top[1])
redis.call('HSET', KEYS[2], ARGV[1], top[1])
redis.call('HSET', KEYS[3], ARGV[1], top[2])
return top[1]
"""
GIVE_BACK = """
local n = 0
for _, lease in ipairs(redis.call('HKEYS', KEYS[1])) do
  local worker = string.match(lease, '^(.*)#[^#]*$')
  if (ARGV[2] == '' and redis.call('EXISTS', ARGV[1] .. worker) == 0) or worker == ARGV[2] then
    local data = redis.call('HGET', KEYS[1], lease)
    redis.call('ZADD', KEYS[3], redis.call('HGET', KEYS[2], lease) or 0, data)
    redis.call('HDEL', KEYS[1], lease)
    redis.call('HDEL', KEYS[2], lease)
    n = n + 1
  end
end
return n
"""


def worker_id() -> str:
    """host-pid-random: unique per worker process, readable in Redis."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def crawl_keys(crawl_id: str) -> dict[str, str]:
    """Every Redis key of one crawl, by role."""
    return {role: f"{crawl_id}:{role}" for role in
            ("requests", "dupefilter", "leases", "lease_scores", "items", "item_keys", "stats", "alive:", "site:")}


class SharedScheduler(Scheduler):
    """scrapy-redis's Scheduler with atomic enqueueing, leased requests and start requests that
    are always deduplicated (see the module's docstring)."""

    def __init__(self, server, *, crawl_id: str, **kwargs):
        super().__init__(server, **kwargs)
        self.keys = crawl_keys(crawl_id)
        self.worker = worker_id()
        self.serial = 0
        self.leased: dict[int, tuple[str, object]] = {}  # id(request) -> (lease, request)
        self.engine = None
        self._push = server.register_script(PUSH)
        self._lease = server.register_script(LEASE)
        self._give_back = server.register_script(GIVE_BACK)

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        crawl_id = settings.get("CRAWL_ID") or crawler.spidercls.name
        keys = crawl_keys(crawl_id)
        server = get_redis_from_settings(settings)
        server.ping()  # a Redis that cannot be reached fails the worker at once, not at the first request
        instance = cls(server, crawl_id=crawl_id, persist=True, queue_key=keys["requests"],
                       queue_cls="scrapy_redis.queue.PriorityQueue",
                       dupefilter=RFPDupeFilter(server, keys["dupefilter"], settings.getbool("DUPEFILTER_DEBUG")))
        instance.stats = crawler.stats
        instance.engine = crawler.engine
        return instance

    def open(self, spider):
        # scrapy-redis's open() also logs through Spider.log(), deprecated in Scrapy 2.19.
        self.spider = spider
        self.queue = load_object(self.queue_cls)(server=self.server, spider=spider, key=self.queue_key,
                                                 serializer=self.serializer)
        queued, leased = self.frontier_size()
        if queued or leased:
            spider.logger.info("Joining a crawl with %d request(s) queued and %d leased", queued, leased)

    def enqueue_request(self, request) -> bool:
        unfiltered = request.dont_filter and not request.meta.get("is_start_request")
        fingerprint = "" if unfiltered else self.df.request_fingerprint(request)
        added = self._push(keys=[self.df.key, self.queue.key],
                           args=["1" if unfiltered else "0", fingerprint, -request.priority,
                                 self.queue._encode_request(request)])
        if not added:
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self):
        self.give_back_finished()
        self.serial += 1
        lease = f"{self.worker}#{self.serial}"
        data = self._lease(keys=[self.queue.key, self.keys["leases"], self.keys["lease_scores"]], args=[lease])
        if not data:
            return None
        request = self.queue._decode_request(data)
        self.leased[id(request)] = (lease, request)
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def give_back_finished(self) -> int:
        """End the leases of requests the engine has finished with (no longer in progress)."""
        slot = getattr(self.engine, "_slot", None)
        in_progress = slot.inprogress if slot is not None else set()
        done = [key for key, (_, request) in self.leased.items() if request not in in_progress]
        if done:
            leases = [self.leased.pop(key)[0] for key in done]
            with self.server.pipeline() as pipe:
                pipe.hdel(self.keys["leases"], *leases)
                pipe.hdel(self.keys["lease_scores"], *leases)
                pipe.execute()
        return len(done)

    def requeue_orphans(self) -> int:
        """Put back in the queue the leases of workers whose heartbeat key has expired."""
        return self._give_back(keys=[self.keys["leases"], self.keys["lease_scores"], self.queue.key],
                               args=[self.keys["alive:"], ""])

    def frontier_size(self) -> tuple[int, int]:
        """(requests queued, requests leased by any worker)."""
        with self.server.pipeline() as pipe:
            pipe.zcard(self.queue.key)
            pipe.hlen(self.keys["leases"])
            queued, leased = pipe.execute()
        return queued, leased

    def close(self, reason):
        # A worker stopped mid-crawl (Ctrl-C) gives back what it had not finished, at once.
        self.give_back_finished()
        if self.leased:
            self._give_back(keys=[self.keys["leases"], self.keys["lease_scores"], self.queue.key],
                            args=[self.keys["alive:"], self.worker])
            self.leased.clear()
        return super().close(reason)

