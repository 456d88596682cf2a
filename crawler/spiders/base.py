"""What every listing spider shares: the cities argument, provenance, per-city counts."""
from __future__ import annotations

from datetime import datetime, timezone

import scrapy

from common.places import DEFAULT_CITIES, City, parse_cities, row_key


class ListingSpider(scrapy.Spider):
    """Base for spiders that collect listings for a list of cities (-a cities="Houston, TX;...")."""

    def __init__(self, cities: str = DEFAULT_CITIES, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cities: list[City] = parse_cities(cities)
        self._city_by_key: dict[tuple[str, str], City] = {}
        for city in self.cities:
            self._city_by_key.setdefault(city.key, city)  # "Houston, TX" and "HOUSTON, TX": the first

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
