"""What every listing spider shares: its scope (cities, a file of cities, whole states), provenance,
per-area counts, and what the crawl's guard, monitors and summary need to know about it
(crawler/extensions.py SafeFeed, crawler/monitors.py, crawler/commands/safecrawl.py)."""
from __future__ import annotations

from datetime import datetime, timezone

import scrapy

from common.geo import AreaIndex, checked_point, miles_between
from common.normalize import city_name, coordinate, zip5
from common.places import DEFAULT_CITIES, DEFAULT_RADIUS_MILES, City, CityError, city_centre, parse_cities, row_key
from crawler.listing_key import SEARCH_FIELDS
from crawler.scopes import StateArea, parse_states, read_cities_file

MAX_RADIUS_MILES = 500


class ListingSpider(scrapy.Spider):
    """Base for spiders that collect listings for an area: cities (-a cities="Houston, TX;..."),
    a file of them (-a cities_file=...), whole states (-a states="TX;MA"), or cities and states."""

    # A failed request loses listings the feed promises: it spoils the whole crawl.
    failures_spoil_crawl = True
    # What a crawl that kept nothing says, and the summary of a good one ("Crawled {...} with ...").
    empty_crawl_message = "the crawl kept no listings for the requested cities"
    crawl_summary = "{items} listings ({per_city})"
    # The spider argument that says where to read (`scrapy safecrawl --source`), and where the
    # spider reads when it is not given.
    source_argument = "source"
    default_source_url: str | None = None

    # What the crawl monitors check in a good crawl's feed (crawler/monitors.py): the share of items
    # that carry each field, at least.
    # What a search adds to a row (crawler/listing_key.py): left out when overlapping searches'
    # repeats of one row are dropped.
    search_fields = SEARCH_FIELDS
    field_coverage = {"name1": 0.99, "street1": 0.90, "state": 0.99, "latitude": 0.90, "phone": 0.80}

    def __init__(self, cities: str | None = None, radius: str = str(DEFAULT_RADIUS_MILES), *args,
                 states: str | None = None, cities_file: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        try:
            self.states: list[str] = parse_states(states)
            if cities_file:
                cities = ";".join(filter(None, [cities, read_cities_file(cities_file)]))
        except CityError as exc:
            raise ValueError(str(exc)) from None
        self.cities: list[City] = parse_cities(cities) if cities or not self.states else []
        if not self.cities and not self.states:
            self.cities = parse_cities(DEFAULT_CITIES)
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
        """The areas asked for, "Houston, TX;Dallas, TX;MA": the crawl log records them, the build
        counts a city asked for that yielded nothing as part of the crawl's scope, and the crawl
        monitors compare a crawl with the last good one of the same areas."""
        return ";".join([city.label for city in self.cities] + self.states)

    def closed(self, reason: str) -> None:
        # A worker of a shared crawl (crawler/worker.py) sees only its part: the areas are counted
        # once, over every worker, by the monitors of whoever runs the crawl.
        if reason == "finished" and not self.settings.get("REDIS_URL"):
            counted = self.crawler.stats.get_stats()
            for label in [city.label for city in self.cities] + self.states:
                if not counted.get(f"{self.name}/city/{label}"):
                    self.logger.warning("no listings found for %s", label)

    def city_of(self, city: str | None, state: str | None) -> City | None:
        """The requested city a source row names, if any: one lookup, however many cities."""
        return self._city_by_key.get(row_key(city, state))

    def area_of(self, latitude, longitude, zip_code, city: str | None, state: str | None,
                nearest_anyway: bool = False) -> City | StateArea | None:
        """The requested area a source row belongs to: the city whose radius it lies in (the
        nearest, where radii overlap), by the row's point, or its ZIP code's centroid when the
        point is missing or lies far from its ZIP, or by the city it names when it gives neither;
        else its state, when that state was asked for whole; else, with `nearest_anyway` (a row
        a search returned that lies just outside its radius), the nearest requested city."""
        state = (state or "").strip().upper()
        point = checked_point(coordinate(latitude, 90), coordinate(longitude, 180), zip5(zip_code),
                              state, city_name(city))
        if point.latitude is None:
            found = self.city_of(city, state)
        else:
            label = self.areas.nearest(point.latitude, point.longitude)
            found = self._city_by_label.get(label) if label else None
        found = found or (StateArea(state) if state in self.states else None)
        if found is None and nearest_anyway and point.latitude is not None and self.centres:
            found = min(self.centres, key=lambda c: miles_between(point.latitude, point.longitude, *self.centres[c]))
        return found

    def warm_up(self) -> None:
        """Load the place data the first row would (a crawl worker calls this before it takes work)."""
        checked_point(29.76, -95.37, "77002", "TX", "Houston")

    @staticmethod
    def fetched_at(response) -> str:
        """When the response arrived, ISO 8601 UTC to the second (the Date header is the source's clock)."""
        return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")

    def count(self, key: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(f"{self.name}/{key}", n)

    def count_city(self, city: City | StateArea) -> None:
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
