"""scrapy-redis's RedisSpider on Scrapy 2.13 and later: start requests read from Redis in start().

scrapy-redis 0.9.1's RedisMixin hands out its start URLs from start_requests(). Scrapy 2.13
replaced start_requests() with `async def start()`, and 2.16+ no longer calls start_requests()
at all: a RedisSpider's start() is Scrapy's own, which reads start_urls (empty), so its first
batch waits for the first spider_idle signal instead of starting the crawl. RedisStart is the
adapter: mixed in before RedisSpider, its start() yields the batch next_requests() reads from
the spider's Redis list (`<name>:start_urls`, JSON {"url": ..., "meta": ...} or plain URLs),
and scrapy-redis's idle handler keeps reading the list as before.

    class Seeds(RedisStart, RedisSpider):
        name = "seeds"

The project's spiders do not need it: every worker runs their own start() and the shared
duplicate filter keeps each start request once (crawler/frontier.py).
"""
from __future__ import annotations


class RedisStart:
    async def start(self):
        for request in self.next_requests():
            yield request
