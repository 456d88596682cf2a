"""The findtreatment_api spider fed saved responses, without a crawl: what the spider tests and
the property tests share."""
from __future__ import annotations

import scrapy
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler

from common.places import City
from crawler.items import ListingItem
from crawler.spiders.findtreatment_api import FindtreatmentApiSpider
from tests.support import CODE_REFERENCE, need_shared
from tests.support.api_server import FIXTURES

HOUSTON = City("Houston", "TX")


def make_spider(cities: str = "Houston, TX", **args) -> FindtreatmentApiSpider:
    need_shared(CODE_REFERENCE)
    crawler = get_crawler(FindtreatmentApiSpider)
    return crawler._create_spider(cities=cities, **args)


def response_for(spider, body: bytes, page: int, city: City = HOUSTON, cls=TextResponse):
    url = spider.page_url(city, page)
    kwargs = {"encoding": "utf-8"} if issubclass(cls, TextResponse) else {}
    return cls(url=url, body=body, request=scrapy.Request(url), **kwargs)


def parse(spider, body: bytes, page: int, city: City = HOUSTON, cls=TextResponse):
    """Items and requests the spider yields for one saved response."""
    output = list(spider.parse(response_for(spider, body, page, city, cls), city=city, page=page))
    items = [o for o in output if isinstance(o, ListingItem)]
    requests = [o for o in output if isinstance(o, scrapy.Request)]
    assert len(items) + len(requests) == len(output), output
    return items, requests


def parse_page(spider, page: int):
    return parse(spider, (FIXTURES / f"houston_page{page}.json").read_bytes(), page)
