"""Wider scopes than a few cities: whole states through the API's state search (paged), a state
whose SAMHSA id is unknown through distance searches that cover it, and a file of cities."""
import json
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest
import zipcodes

from common.places import CityError
from crawler.scopes import COVER_MARGIN_MILES, COVER_MILES, CoverCircle, cover_circles, parse_states, read_cities_file
from tests.support import ROOT, CODE_REFERENCE, haversine_miles, need_shared
from tests.support.api_spider import make_spider, parse
from tests.support.listing_api import ListingApi, made_up_row

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


def test_states_are_read_by_code_or_name_each_once():
    assert parse_states("tx; Massachusetts;TX") == ["TX", "MA"]
    every = parse_states("all")  # make national
    assert len(every) == len(set(every)) >= 51 and {"TX", "DC", "PR", "AK"} <= set(every)
    with pytest.raises(CityError, match='"Atlantis"'):
        parse_states("Atlantis")
    with pytest.raises(CityError, match='"XX"'):
        parse_states("TX;XX")


def test_a_cities_file_names_a_bad_line_by_its_number(tmp_path):
    good = tmp_path / "cities.txt"
    good.write_text("# Texas\nHouston, TX\n\nEl Paso, TX  # west\n", encoding="utf-8")
    assert read_cities_file(good) == "Houston, TX;El Paso, TX"
    bad = tmp_path / "bad.txt"
    bad.write_text("Houston, TX\nAustin\n", encoding="utf-8")
    with pytest.raises(CityError, match=r"bad.txt, line 2: .*City, ST"):
        read_cities_file(bad)


@pytest.mark.parametrize("state", ["RI", "VT", "NM"])
def test_the_circles_that_cover_a_state_reach_every_zip_code_of_it(state):
    circles = cover_circles(state)
    reach = COVER_MILES - COVER_MARGIN_MILES
    for z in zipcodes.filter_by(state=state):
        if z.get("lat") and z.get("long"):
            lat, lon = float(z["lat"]), float(z["long"])
            assert min(haversine_miles(lat, lon, c.latitude, c.longitude) for c in circles) <= reach + 1e-6, z["zip_code"]


def test_a_state_with_a_known_id_is_one_state_search_and_another_is_covered_by_circles():
    need_shared(CODE_REFERENCE)
    spider = make_spider(cities=None, states="TX;VT")
    searches = spider.searches()
    query = parse_qs(urlsplit(spider.page_url(searches[0], 1)).query)
    assert (query["limitType"], query["limitValue"], query["stateCode"]) == (["0"], ["11"], ["TX"])
    assert "sAddr" not in query
    covering = searches[1:]
    assert covering == list(cover_circles("VT")) and all(isinstance(c, CoverCircle) for c in covering)
    query = parse_qs(urlsplit(spider.page_url(covering[0], 1)).query)
    assert query["limitType"] == ["2"] and query["limitValue"] == [str(round(COVER_MILES * 1609.344, 1))]
    assert spider.requested_cities == "TX;VT"


def test_a_covering_search_keeps_only_its_states_rows():
    need_shared(CODE_REFERENCE)
    spider = make_spider(cities=None, states="VT")
    circle = cover_circles("VT")[0]
    body = json.dumps({"page": 1, "totalPages": 1, "rows": [made_up_row(1, "MA"), dict(made_up_row(2, "MA"), state="VT")]})
    items, _ = parse(spider, body.encode(), 1, city=circle)
    assert [(i.state, i.city_query) for i in items] == [("VT", "VT")]
    assert spider.crawler.stats.get_value("findtreatment_api/rows_outside_state") == 1


def test_states_are_crawled_whole_through_the_state_search_page_by_page(tmp_path):
    need_shared(CODE_REFERENCE)
    output = tmp_path / "api.jsonl"
    with ListingApi(rows=60, states=("TX", "MA")) as api:
        run = subprocess.run([sys.executable, "-m", "scrapy", "safecrawl", "findtreatment_api", "--states", "TX;MA",
                              "-a", f"api_url={api.url}", "-a", "page_size=25", "--output", str(output), *FAST],
                             cwd=ROOT, capture_output=True, text=True, timeout=300)
        searched = [(q["limitValue"], q["page"]) for q in api.searches()]
    assert run.returncode == 0, run.stderr
    assert sorted(searched) == sorted((state, str(page)) for state in ("11", "3") for page in (1, 2, 3))
    items = [json.loads(line) for line in output.read_text().splitlines()]
    assert len(items) == 120 and {i["city_query"] for i in items} == {"TX", "MA"}
    assert all(i["state"] == i["city_query"] for i in items)
    assert run.stdout.startswith("Crawled 120 listings (MA 60; TX 60) with findtreatment_api")  # areas by name
    (logged,) = [json.loads(line) for line in (tmp_path / "crawl_runs.jsonl").read_text().splitlines()]
    assert logged["cities"] == "TX;MA" and logged["areas"] == {"TX": 60, "MA": 60}


def test_a_cities_file_is_a_scope_too(tmp_path):
    need_shared(CODE_REFERENCE)
    cities = tmp_path / "cities.txt"
    cities.write_text("Houston, TX\nBoston, MA\n", encoding="utf-8")
    output = tmp_path / "api.jsonl"
    with ListingApi(rows=30, states=("TX",)) as api:
        run = subprocess.run([sys.executable, "-m", "scrapy", "safecrawl", "findtreatment_api", "--cities-file",
                              str(cities), "-a", f"api_url={api.url}", "--output", str(output), *FAST],
                             cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    # Both searches returned the same 30 Houston rows: kept once, in Houston's area.
    items = [json.loads(line) for line in output.read_text().splitlines()]
    assert len(items) == 30 and {i["city_query"] for i in items} == {"Houston, TX"}
    (logged,) = [json.loads(line) for line in (tmp_path / "crawl_runs.jsonl").read_text().splitlines()]
    assert logged["cities"] == "Houston, TX;Boston, MA" and logged["stats"]["dedup/repeated_rows"] == 30
