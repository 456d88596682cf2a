"""Scrapy item pipelines. Items stay raw in the feed (the build normalizes, so a change of rules
needs no recrawl); here quality problems are counted in the crawl's stats, as alltheplaces does."""
from __future__ import annotations

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from common import normalize as n
from crawler.listing_key import SEARCH_FIELDS, row_key


class ListingQualityPipeline:
    """Counts, per spider, rows the build will reject and fields it will not be able to use."""

    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item):
        adapter = ItemAdapter(item)
        prefix = f"quality/{adapter.get('source')}"
        if adapter.get("problems"):
            self.stats.inc_value(f"{prefix}/row_with_problems")
        if not n.clean_text(adapter.get("name1")):
            self.stats.inc_value(f"{prefix}/name/missing")
        if adapter.get("phone") and not n.normalize_phone(adapter.get("phone")):
            self.stats.inc_value(f"{prefix}/phone/invalid")
        if adapter.get("website") and not n.normalize_website(adapter.get("website")):
            self.stats.inc_value(f"{prefix}/website/invalid")
        if n.coordinate(adapter.get("latitude"), 90) is None or n.coordinate(adapter.get("longitude"), 180) is None:
            self.stats.inc_value(f"{prefix}/coordinates/invalid")
        if adapter.get("unmapped_services"):
            self.stats.inc_value(f"{prefix}/services/unmapped", len(adapter["unmapped_services"]))
        return item


def drop_repeat(crawler, item) -> None:
    """Count a repeated row, and take it off its area's count: the spider counted every row it
    read for an area; the summary and the warnings count rows kept."""
    crawler.stats.inc_value("dedup/repeated_rows")
    area = ItemAdapter(item).get("city_query")
    if area and crawler.spider is not None:
        crawler.stats.inc_value(f"{crawler.spider.name}/city/{area}", -1)


class OverlapDedupPipeline:
    """Keeps a row found again by an overlapping search once (crawler/listing_key.py says why
    here and not in the build). One process keeps the keys in memory; workers sharing a frontier
    keep them in Redis (crawler/redis_items.py), so the rule is the same."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        key = row_key(item, getattr(self.crawler.spider, "search_fields", SEARCH_FIELDS))
        if key in self.seen:
            drop_repeat(self.crawler, item)
            raise DropItem("the same row, found again by an overlapping search", log_level="DEBUG")
        self.seen.add(key)
        return item
