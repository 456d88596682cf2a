"""What every listing spider shares: the cities argument, provenance, per-city counts, and what
the crawl's guard and summary need to know about it (crawler/extensions.py SafeFeed,
crawler/commands/safecrawl.py)."""
from __future__ import annotations

from datetime import datetime, timezone

import scrapy

from common.geo import AreaIndex, checked_point
from common.normalize import city_name, coordinate, zip5
from common.places import DEFAULT_CITIES, DEFAULT_RADIUS_MILES, City, CityError, city_centre, parse_cities, row_key

MAX_RADIUS_MILES = 500


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

    def __init__(self, cities: str = DEFAULT_CITIES, radius: str = str(DEFAULT_RADIUS_MILES), *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cities: list[City] = parse_cities(cities)
        self.radius_miles = parse_radius(radius)
        self._city_by_key: dict[tuple[str, str], City] = {}
        self.centres: dict[City, tuple[float, float]] = {}
        for city in self.cities:
            self._city_by_key.setdefault(city.key, city)  # "Houston, TX" and "HOUSTON, TX": the first
            try:
                self.centres[city] = city_centre(city)
            except CityError as exc:
                raise ValueError(str(exc)) from None
        self._city_by_label = {city.label: city for city in self.cities}
        self.areas = AreaIndex([(c.label, *centre) for c, centre in self.centres.items()], self.radius_miles)

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
        """The requested city a source row names, if any: one lookup, however many cities."""
        return self._city_by_key.get(row_key(city, state))

    def area_of(self, latitude, longitude, zip_code, city: str | None, state: str | None) -> City | None:
        """The requested city whose radius a source row lies in (the nearest, where radii overlap):
        by the row's point, or its ZIP code's centroid when the point is missing or lies far from
        its ZIP; by the city it names only when it gives neither."""
        point = checked_point(coordinate(latitude, 90), coordinate(longitude, 180), zip5(zip_code),
                              (state or "").strip().upper(), city_name(city))
        if point.latitude is None:
            return self.city_of(city, state)
        label = self.areas.nearest(point.latitude, point.longitude)
        return self._city_by_label.get(label) if label else None

    @staticmethod
    def fetched_at(response) -> str:
        """When the response arrived, ISO 8601 UTC to the second (the Date header is the source's clock)."""
        return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")

    def count(self, key: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(f"{self.name}/{key}", n)

    def count_city(self, city: City) -> None:
        self.count(f"city/{city.label}")


def parse_radius(radius) -> float:
    """Miles around a city's centre (-a radius=25, make RADIUS=25), with a plain error."""
    try:
        miles = float(radius)
    except (TypeError, ValueError):
        raise ValueError(f"radius {radius!r}: give a number of miles, e.g. -a radius=25") from None
    if not 0 < miles <= MAX_RADIUS_MILES:
        raise ValueError(f"radius {radius!r}: give between 0 and {MAX_RADIUS_MILES} miles")
    return miles
