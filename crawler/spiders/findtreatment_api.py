"""FindTreatment.gov's JSON API (exportsAsJson/v2): a radius search around each city's centre and
a state search for each state asked for whole (crawler/scopes.py), paged until totalPages,
services mapped to SAMHSA codes through the code reference. A row belongs to the nearest requested
city whose radius it lies in, else to its requested state, else to the search that found it; the
same row found by overlapping searches is kept once (crawler/item_pipelines.py)."""
from __future__ import annotations

import json
from urllib.parse import urlencode

import scrapy
from scrapy.exceptions import (
    CannotResolveHostError, CloseSpider, DownloadConnectionRefusedError, DownloadTimeoutError, ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.response import response_status_message
from twisted.internet import defer
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, NoRouteError
from twisted.internet.error import TimeoutError as TwistedTimeoutError

from common.places import City
from crawler.items import ListingItem
from crawler.scopes import CoverCircle, StateArea, cover_circles, samhsa_state_ids
from crawler.spiders.base import ListingSpider
from common.code_reference import load_code_reference
from common.normalize import scrub

API_URL = "https://findtreatment.gov/locator/exportsAsJson/v2"
METERS_PER_MILE = 1609.344
MAX_PAGE_SIZE = 2000  # the API's documented maximum
MAX_FAILURES_KEPT = 20
# Failures that mean the source cannot be reached at all (no network, wrong host, nothing listening).
# Scrapy's HTTP handlers wrap Twisted's errors in its own (DownloadConnectionRefusedError,
# CannotResolveHostError); the Twisted ones are kept for handlers that do not wrap them.
UNREACHABLE = (CannotResolveHostError, DownloadConnectionRefusedError, DNSLookupError, ConnectionRefusedError,
               NoRouteError)
FIELDS = ("name1", "name2", "street1", "street2", "city", "state", "zip", "county", "phone",
          "website", "latitude", "longitude")


def _text(value) -> str | None:
    """The API gives strings, numbers or null; keep text, None for empty. A lone surrogate (a
    JSON "\\ud800") becomes U+FFFD: the UTF-8 feed could not hold the item otherwise."""
    if value is None or isinstance(value, (dict, list)):
        return None
    try:
        text = scrub(str(value)).strip()
    except ValueError:  # an integer too long to print
        return None
    return text or None


def _plain(value):
    """A JSON value with its strings made writable as UTF-8 (for extras)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {scrub(str(k)): _plain(v) for k, v in value.items()}
    return value


class FindtreatmentApiSpider(ListingSpider):
    name = "findtreatment_api"
    custom_settings = {"HTTPERROR_ALLOWED_CODES": []}
    source_argument = "api_url"
    default_source_url = API_URL

    def __init__(self, api_url: str = API_URL, stype: str = "both",
                 page_size: str = str(MAX_PAGE_SIZE), *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.api_url = api_url
        self.stype = stype
        try:
            self.page_size = min(int(page_size), MAX_PAGE_SIZE)
        except ValueError:
            raise ValueError(f"page_size {page_size!r}: give a whole number of rows, e.g. -a page_size=500") from None
        if self.page_size < 1:
            raise ValueError(f"page_size {page_size!r}: give at least 1 (the API's maximum is {MAX_PAGE_SIZE})")
        self.reference = load_code_reference()

    def page_url(self, city: City | StateArea | CoverCircle, page: int) -> str:
        """The search for one requested area: a city's radius, a state by SAMHSA's id for it, or
        one circle of a state's cover (crawler/scopes.py)."""
        if isinstance(city, StateArea):
            query = {"limitType": 0, "limitValue": samhsa_state_ids()[city.state], "stateCode": city.state}
        else:
            lat, lng = (city.latitude, city.longitude) if isinstance(city, CoverCircle) else self.centres[city]
            miles = city.miles if isinstance(city, CoverCircle) else self.radius_miles
            query = {
                "sAddr": f'"{lat:.6f},{lng:.6f}"',  # lat,lng: what every example in the guide sends
                "limitType": 2,  # distance
                "limitValue": round(miles * METERS_PER_MILE, 1),
            }
        query.update({"sType": self.stype, "sort": 0, "pageSize": self.page_size, "page": page})  # sort 0: nearest first
        return f"{self.api_url}?{urlencode(query)}"

    def searches(self) -> list[City | StateArea | CoverCircle]:
        """Every search the crawl starts with: the cities, then each state whole (by SAMHSA's id)
        or by its cover of circles where the id is not known."""
        searches: list = list(self.cities)
        for state in self.states:
            searches.extend([StateArea(state)] if state in samhsa_state_ids() else cover_circles(state))
        return searches

    async def start(self):
        for search in self.searches():
            yield self.request(search, 1)

    def request(self, city: City | StateArea | CoverCircle, page: int) -> scrapy.Request:
        return scrapy.Request(
            self.page_url(city, page),
            callback=self.parse,
            errback=self.on_error,
            cb_kwargs={"city": city, "page": page},
            headers={"Accept": "application/json"},
        )

    def fail(self, url: str, reason: str) -> None:
        """Count a request whose listings are lost, and keep why (the first MAX_FAILURES_KEPT) in the
        stats, which crawl_runs.jsonl records and SafeFeed (crawler/extensions.py) quotes when it fails
        the crawl."""
        self.count("failed_requests")
        key = f"{self.name}/failures"
        failures = self.crawler.stats.get_value(key) or []
        if len(failures) < MAX_FAILURES_KEPT:
            self.crawler.stats.set_value(key, [*failures, f"{url}: {reason}"])
        self.logger.error("request failed: %s: %s", url, reason)

    def on_error(self, failure):
        request = failure.request
        if failure.check(*UNREACHABLE):
            self.fail(request.url, failure.getErrorMessage())
            raise CloseSpider(f"source_unreachable: {request.url}: {failure.getErrorMessage()}")
        if failure.check(HttpError):
            reason = f"HTTP {response_status_message(failure.value.response.status)}"
        elif failure.check(ResponseDataLossError):
            reason = "the connection closed before the whole response arrived"
        elif failure.check(DownloadTimeoutError, TwistedTimeoutError, defer.TimeoutError, TimeoutError):
            timeout = request.meta.get("download_timeout", self.settings.getfloat("DOWNLOAD_TIMEOUT"))
            reason = f"no answer within {timeout} s"
        else:
            reason = failure.getErrorMessage().rstrip(".") or failure.type.__name__
        retries = request.meta.get("retry_times", 0)
        if retries:
            reason += f", failed after retries ({retries + 1} attempts)"
        self.fail(request.url, reason)

    def parse(self, response, city: City, page: int):
        try:
            # The body, not response.text: a JSON body sent with a non-text Content-Type
            # (application/octet-stream) arrives as a plain Response, which has no .text.
            data = json.loads(response.body)
        except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than Python parses
            body = response.body
            if isinstance(exc, json.JSONDecodeError) and body.strip() and exc.pos >= len(exc.doc.rstrip()):
                why = f"cut short: {exc.msg} at the end"
            elif isinstance(exc, json.JSONDecodeError):
                why = f"{exc.msg} at character {exc.pos:,}"
            else:
                why = "nested too deeply" if isinstance(exc, RecursionError) else "undecodable bytes"
            self.fail(response.url, f"not JSON ({why}; {len(body):,} bytes starting {body[:48]!r})")
            return
        rows = data.get("rows") if isinstance(data, dict) else None
        if rows is None and isinstance(data, dict) and data.get("recordCount") == 0:
            rows = []  # an empty result may say "rows": null
        if not isinstance(rows, list):
            # e.g. {"error": "..."} with status 200, or a changed layout: a failure, not an empty page.
            what = (f"keys: {', '.join(sorted(data)[:10]) or 'none'}" if isinstance(data, dict)
                    else f"a JSON {type(data).__name__}")
            self.fail(response.url, f"JSON without a rows list ({_text(what)}); the API's layout may have changed")
            return
        fetched_at = self.fetched_at(response)
        for index, row in enumerate(rows, start=1):
            self.count("rows_read")
            if not isinstance(row, dict):
                self.count("rows_not_objects")
                continue
            if isinstance(city, CoverCircle) and (_text(row.get("state")) or "").upper() != city.state:
                self.count("rows_outside_state")  # a state's cover reaches over its borders
                continue
            # The area by the row, not by the search that found it: the same row found by two
            # overlapping searches is the same item, kept once whichever came first.
            # (each field as text first: the API may send numbers, lists or objects where text belongs)
            area = self.area_of(*(_text(row.get(f)) for f in ("latitude", "longitude", "zip", "city", "state")),
                                nearest_anyway=True) or city
            self.count_city(area)
            yield self.item_from_row(row, f"page {page} row {index}", response.url, fetched_at, area.label)
        total_pages = data.get("totalPages")
        if isinstance(total_pages, int) and page < total_pages:
            if rows:
                yield self.request(city, page + 1)
            else:
                # Stopping here keeps a crawl from looping, but the result is incomplete.
                self.fail(response.url, f"page {page} of {total_pages} has no rows")

    def item_from_row(self, row: dict, ref: str, url: str, fetched_at: str, city_label: str) -> ListingItem:
        codes, unmapped = self.service_codes(row.get("services"))
        text = {f: _text(row.get(f)) for f in FIELDS}
        return ListingItem(
            source=self.name,
            source_url=url,
            source_ref=ref,
            fetched_at=fetched_at,
            city_query=city_label,
            **text,
            intake_phone=_text(row.get("intake1")),
            facility_type=_text(row.get("type_facility") or row.get("typeFacility")),
            service_codes=codes,
            unmapped_services=unmapped,
            extras={k: _plain(row[k]) for k in ("_irow", "miles", "hotline1") if row.get(k) is not None},
        )

    def service_codes(self, services) -> tuple[list[str], list[dict]]:
        """Map each {"f2": category code, "f3": "a; b"} value to a service code. The f1 label
        varies between API versions, so only f2 is trusted; unknown texts are kept, not lost."""
        codes: list[str] = []
        unmapped: list[dict] = []
        for service in services if isinstance(services, list) else []:
            if not isinstance(service, dict):
                continue
            category = _text(service.get("f2")) or ""
            for value in (_text(service.get("f3")) or "").split(";"):
                value = value.strip()
                if not value:
                    continue
                code = self.reference.code_for(category, value)
                if code and code not in codes:
                    codes.append(code)
                elif not code:
                    unmapped.append({"category_code": category, "category_name": _text(service.get("f1")),
                                     "text": value})
        return codes, unmapped
