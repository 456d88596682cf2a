"""A Scrapy extension that shows crawl progress on a terminal (rows read, items kept)."""
from __future__ import annotations

from scrapy import signals

from common.progress import Progress


class TerminalProgress:
    def __init__(self, crawler):
        self.stats = crawler.stats
        self.progress = Progress("items")
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def item_scraped(self, item, spider):
        rows = self.stats.get_value(f"{spider.name}/rows_read")
        self.progress.tick(extra=f" (of {rows:,} rows read)" if rows else "")

    def spider_closed(self, spider):
        self.progress.done()
