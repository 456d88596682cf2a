"""What every listing spider shares: the cities argument, provenance, per-city counts, and what
the crawl's guard and summary need to know about it (crawler/extensions.py SafeFeed,
crawler/commands/safecrawl.py)."""
from __future__ import annotations

from datetime import datetime, timezone

import scrapy

from common.places import DEFAULT_CITIES, City, parse_cities, row_key


class ListingSpider(scrapy.Spider):
    """Base for spiders that collect listings for a list of cities (-a cities="Houston, TX;...")."""

    # A failed request loses listings the feed promises: it spoils the whole crawl.
    failures_spoil_crawl = True
    # What a crawl that kept nothing says, and the summary of a good one ("Crawled {...} with ...").
    empty_crawl_message = "the crawl kept no listings for the requested cities"
    crawl_summary = "{items} listings ({per_city})"
    # The spider argument that says where to read (`scrapy safecrawl --source`), and where the
    # spider reads when it is not given.
    source_argument = "source"
    default_source_url: str | None = None

    def __init__(self, cities: str = DEFAULT_CITIES, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cities: list[City] = parse_cities(cities)
        self._city_by_key: dict[tuple[str, str], City] = {}
        for city in self.cities:
            self._city_by_key.setdefault(city.key, city)  # "Houston, TX" and "HOUSTON, TX": the first

    @property
    def source_url(self) -> str | None:
        """Where this crawl reads, as given: the crawl log records it, and SafeFeed checks that its
        host resolves before the first request."""
        return getattr(self, self.source_argument, None) or self.default_source_url

    @property
    def requested_cities(self) -> str:
        """The cities asked for, "Houston, TX;Dallas, TX": the crawl log records them, and the build
        counts a city asked for that yielded nothing as part of the crawl's scope."""
        return ";".join(city.label for city in self.cities)

    def closed(self, reason: str) -> None:
        if reason == "finished":
            counted = self.crawler.stats.get_stats()
            for city in self.cities:
                if not counted.get(f"{self.name}/city/{city.label}"):
                    self.logger.warning("no listings found for %s", city.label)

    def city_of(self, city: str | None, state: str | None) -> City | None:
        """The requested city a source row is in, if any: one lookup, however many cities."""
        return self._city_by_key.get(row_key(city, state))

    @staticmethod
    def fetched_at(response) -> str:
        """When the response arrived, ISO 8601 UTC to the second (the Date header is the source's clock)."""
        return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")

    def count(self, key: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(f"{self.name}/{key}", n)

    def count_city(self, city: City) -> None:
        self.count(f"city/{city.label}")
