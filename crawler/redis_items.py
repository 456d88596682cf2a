"""Items of a crawl shared by several workers, kept in Redis until the crawl is judged.

RedisItemsPipeline (on in a worker, crawler/worker.py) adds each item to the crawl's list in
Redis and its row key (crawler/listing_key.py) to the crawl's set, in one Redis step: a row that
overlapping searches found again, or that a worker found again after taking over a killed
worker's request, is kept once. Whoever runs the crawl (crawler/workers.py) writes the list to
the feed once every worker has finished and the monitors have passed. scrapy-redis has a
RedisPipeline, but it pushes every item, duplicates included, from a thread.
"""
from __future__ import annotations

from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.serialize import ScrapyJSONEncoder
from scrapy_redis.connection import get_redis_from_settings

from crawler.frontier import crawl_keys
from crawler.item_pipelines import drop_repeat
from crawler.listing_key import SEARCH_FIELDS, row_key

KEEP_ONCE = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('RPUSH', KEYS[2], ARGV[2])
  return 1
end
return 0
"""
ENCODER = ScrapyJSONEncoder(ensure_ascii=False)


class RedisItemsPipeline:
    def __init__(self, crawler):
        settings = crawler.settings
        if not settings.get("REDIS_URL") or not settings.get("CRAWL_ID"):
            raise NotConfigured
        self.crawler = crawler
        self.keys = crawl_keys(settings["CRAWL_ID"])
        self.server = get_redis_from_settings(settings)
        self._keep_once = self.server.register_script(KEEP_ONCE)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        key = row_key(item, getattr(self.crawler.spider, "search_fields", SEARCH_FIELDS))
        if not self._keep_once(keys=[self.keys["item_keys"], self.keys["items"]], args=[key, ENCODER.encode(item)]):
            drop_repeat(self.crawler, item)
            raise DropItem("the same row, already kept by this crawl", log_level="DEBUG")
        return item
