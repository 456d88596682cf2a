"""Scrapy item pipelines. Items stay raw in the feed (the build normalizes, so a change of rules
needs no recrawl); here quality problems are counted in the crawl's stats, as alltheplaces does."""
from __future__ import annotations

from itemadapter import ItemAdapter

from common import normalize as n


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
