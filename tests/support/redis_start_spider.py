"""Spiders for tests/test_distributed_adapter.py: scrapy-redis's RedisSpider as it is, and with the
project's start() adapter (crawler/redis_start.py). Run as

    python -m tests.support.redis_start_spider plain|adapted REDIS_URL FEED

in a process of its own (Twisted's reactor starts once per process)."""
import sys

from scrapy.crawler import CrawlerProcess
from scrapy_redis.spiders import RedisSpider

from crawler.redis_start import RedisStart


class Plain(RedisSpider):
    name = "plain_redis_spider"

    def parse(self, response):
        yield {"url": response.url, "start_request": bool(response.meta.get("is_start_request"))}


class Adapted(RedisStart, Plain):
    name = "adapted_redis_spider"


def main(kind: str, redis_url: str, feed: str) -> None:
    process = CrawlerProcess({
        "REDIS_URL": redis_url, "ROBOTSTXT_OBEY": False, "LOG_LEVEL": "WARNING", "TELNETCONSOLE_ENABLED": False,
        "MAX_IDLE_TIME_BEFORE_CLOSE": 1, "FEEDS": {feed: {"format": "jsonlines"}},
    })
    process.crawl({"plain": Plain, "adapted": Adapted}[kind])
    process.start()


if __name__ == "__main__":
    main(*sys.argv[1:4])
