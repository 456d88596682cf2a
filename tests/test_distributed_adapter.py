"""What of scrapy-redis 0.9.1 works with the pinned Scrapy 2.19, proved on a real Redis server.

- Its scheduler and duplicate filter do (crawler/frontier.py builds on them; the multi-worker
  tests in test_distributed_crawl.py run them).
- Its RedisSpider reads its start URLs in start_requests(), which Scrapy 2.16+ never calls: the
  URLs still get crawled, but only once the spider first goes idle, as ordinary requests, not
  through start(). crawler/redis_start.py's RedisStart adapter reads them in start()."""
import json
import subprocess
import sys

import redis
import scrapy
from scrapy_redis.spiders import RedisMixin, RedisSpider

from crawler.redis_server import redis_server
from crawler.redis_start import RedisStart
from tests.support import ROOT
from bench.many_sites import ManySites


def test_scrapy_2_19_starts_spiders_through_start_which_redis_spider_does_not_define():
    assert "start_requests" in RedisMixin.__dict__ and "start" not in RedisMixin.__dict__
    assert RedisSpider.start is scrapy.Spider.start  # reads start_urls only
    assert not hasattr(scrapy.Spider, "start_requests")


def test_redis_start_urls_come_through_start_with_the_adapter_and_only_on_idle_without(tmp_path):
    results = {}
    with ManySites(3, delay=0) as sites, redis_server(tmp_path / "redis") as url:
        server = redis.Redis.from_url(url)
        for kind, name in (("plain", "plain_redis_spider"), ("adapted", "adapted_redis_spider")):
            for site in sites.sites:
                server.rpush(f"{name}:start_urls", json.dumps({"url": site.url}))
            output = tmp_path / f"{kind}.jsonl"
            run = subprocess.run([sys.executable, "-m", "tests.support.redis_start_spider", kind, url, str(output)],
                                 cwd=ROOT, capture_output=True, text=True, timeout=120)
            assert run.returncode == 0, run.stderr
            results[kind] = [json.loads(line) for line in output.read_text().splitlines()]
            assert server.llen(f"{name}:start_urls") == 0  # every URL was taken from Redis
        expected = sorted(site.url for site in sites.sites)
    for kind in ("plain", "adapted"):
        assert sorted(r["url"] for r in results[kind]) == expected  # each URL crawled once
    assert {r["start_request"] for r in results["plain"]} == {False}  # read on idle, not in start()
    assert {r["start_request"] for r in results["adapted"]} == {True}
    assert issubclass(type("Seeds", (RedisStart, RedisSpider), {"name": "seeds"}), RedisSpider)
