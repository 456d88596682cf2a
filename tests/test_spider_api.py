"""The findtreatment_api spider, offline: saved responses in the API's real format
(tests/fixtures/api), the developer guide's sample and the California API pull from ../shared,
and the real crawl command run against a local stand-in for the API."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest
from scrapy.exceptions import CannotResolveHostError, CloseSpider, DownloadConnectionRefusedError
from scrapy.http import Response
from twisted.internet.error import DNSLookupError
from twisted.python.failure import Failure

from common.places import City, city_centre
from crawler.items import ListingItem
from crawler.spiders.findtreatment_api import API_URL, FindtreatmentApiSpider
from common.code_reference import load_code_reference
from tests.support.api_server import API_PATH, FIXTURES, HTML_ERROR_PAGE, FixtureApi, closed_port
from tests.support import API_SAMPLE, CA_API, CODE_REFERENCE, crawl, need_shared
from tests.support.api_spider import HOUSTON, make_spider, parse, parse_page

RESIDENTIAL = {"RES", "RS", "RL", "RD"}


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def stat(spider, key: str):
    return spider.crawler.stats.get_value(f"findtreatment_api/{key}")


def by_name(items) -> dict[str, ListingItem]:
    return {item.name1: item for item in items}


@pytest.fixture
def spider() -> FindtreatmentApiSpider:
    return make_spider()


# --- the request ---------------------------------------------------------------------------


async def test_first_request_searches_25_miles_around_the_city_centre(spider):
    requests = [r async for r in spider.start()]
    assert len(requests) == 1
    request = requests[0]
    assert request.url.startswith(API_URL + "?")
    lat, lng = city_centre(HOUSTON)
    assert lat == pytest.approx(29.76, abs=0.05) and lng == pytest.approx(-95.36, abs=0.05)
    assert query(request.url) == {
        "sAddr": f'"{lat:.6f},{lng:.6f}"',  # quoted lat,lng, as every example of the guide sends
        "limitType": "2",  # distance
        "limitValue": "40233.6",  # 25 miles in meters
        "sType": "both",
        "sort": "0",
        "pageSize": "2000",  # the documented maximum
        "page": "1",
    }
    assert request.cb_kwargs == {"city": HOUSTON, "page": 1}
    assert request.headers["Accept"] == b"application/json"
    assert request.callback == spider.parse and request.errback == spider.on_error


def test_radius_argument_is_sent_in_meters():
    assert query(make_spider(radius="10").page_url(HOUSTON, 1))["limitValue"] == "16093.4"
    assert query(make_spider(radius="50").page_url(HOUSTON, 1))["limitValue"] == "80467.2"


def test_page_size_is_capped_at_the_api_maximum():
    assert query(make_spider(page_size="500").page_url(HOUSTON, 1))["pageSize"] == "500"
    assert query(make_spider(page_size="5000").page_url(HOUSTON, 1))["pageSize"] == "2000"


@pytest.mark.parametrize("args, message", [
    ({"radius": "ten"}, "give a number of miles"),
    ({"radius": "0"}, "between 0 and 500 miles"),
    ({"page_size": "all"}, "whole number of rows"),
    ({"page_size": "0"}, "at least 1"),
    ({"cities": "Nowhere Special, TX"}, "not a known US city"),
])
def test_bad_arguments_fail_with_a_message(args, message):
    with pytest.raises(ValueError, match=message):
        make_spider(**args)


# --- the saved Houston search: 3 pages ------------------------------------------------------


def test_next_page_is_requested_until_total_pages(spider):
    pages_requested = []
    for page in (1, 2, 3):
        _, requests = parse_page(spider, page)
        pages_requested.append([int(query(r.url)["page"]) for r in requests])
        for r in requests:
            assert r.cb_kwargs == {"city": HOUSTON, "page": page + 1}
            assert query(r.url)["sAddr"] == query(spider.page_url(HOUSTON, 1))["sAddr"]
    assert pages_requested == [[2], [3], []]


def test_every_row_of_every_page_becomes_an_item_with_provenance(spider):
    items = [item for page in (1, 2, 3) for item in parse_page(spider, page)[0]]
    assert [i.name1 for i in items] == [
        "Avenue 360 Health and Wellness", "Santa Maria Hostel Inc", "Harris Ctr for Mental Health and IDD",
        "West Oaks Hospital LP", "Toxicology Associates Inc", "Volunteers of America Texas Inc",
        "Positive Recovery LLC", "Lone Star Counseling Services",
    ]
    assert [i.source_ref for i in items][2:4] == ["page 1 row 3", "page 2 row 1"]
    assert {i.source for i in items} == {"findtreatment_api"}
    assert {i.city_query for i in items} == {"Houston, TX"}
    assert query(items[-1].source_url)["page"] == "3"
    assert all(i.fetched_at.endswith("Z") for i in items)
    assert stat(spider, "rows_read") == 8
    assert stat(spider, "city/Houston, TX") == 8
    assert stat(spider, "failed_requests") is None


def test_row_fields_are_kept_as_the_api_gave_them(spider):
    avenue = by_name(parse_page(spider, 1)[0])["Avenue 360 Health and Wellness"]
    assert (avenue.name2, avenue.street1, avenue.street2) == (
        "Recovery Support Services", "2150 West 18th Street", "Suite 300")
    assert (avenue.city, avenue.state, avenue.zip) == ("Houston", "TX", "77008")
    assert (avenue.phone, avenue.intake_phone) == ("713-426-0027", "713-426-0027 x350")
    assert avenue.website == "http://avenue360.org/"
    assert (avenue.latitude, avenue.longitude) == ("29.8013326", "-95.4370809")
    assert avenue.facility_type == "SA"
    assert avenue.extras == {"_irow": 1, "miles": 4.6}
    assert avenue.county is None and avenue.problems == []
    harris = by_name(parse_page(spider, 1)[0])["Harris Ctr for Mental Health and IDD"]
    assert harris.extras == {"_irow": 3, "miles": 5.8, "hotline1": "713-970-7000"}


def test_services_map_to_codes_in_source_order(spider):
    items = by_name(parse_page(spider, 1)[0])
    assert items["Avenue 360 Health and Wellness"].service_codes == [
        "SA", "OP", "OIT", "ORT", "CBT", "TELE", "MD", "PI", "SF", "SS"]
    assert items["Santa Maria Hostel Inc"].service_codes == [
        "SA", "DT", "RES", "RS", "RL", "RD", "WN", "PW", "MD", "SF"]
    assert items["Harris Ctr for Mental Health and IDD"].service_codes == ["MH", "OP", "WI", "CIT", "MD", "MC"]
    assert all(item.unmapped_services == [] for item in items.values())


def test_service_names_match_whatever_their_case(spider):
    page1, page3 = by_name(parse_page(spider, 1)[0]), by_name(parse_page(spider, 3)[0])
    # "Intensive Outpatient treatment", "Intensive outpatient treatment", "INTENSIVE OUTPATIENT TREATMENT"
    for item in (page1["Avenue 360 Health and Wellness"], page3["Positive Recovery LLC"],
                 page3["Lone Star Counseling Services"]):
        assert "OIT" in item.service_codes, item.name1
    assert page3["Lone Star Counseling Services"].service_codes == ["SA", "OP", "OIT", "SACA", "RELP"]


def test_type_facility_is_read_under_either_spelling(spider):
    items = by_name(parse_page(spider, 2)[0])
    assert items["West Oaks Hospital LP"].facility_type == "MH"  # "typeFacility"
    assert items["Toxicology Associates Inc"].facility_type == "OTP"  # "type_facility"
    assert items["West Oaks Hospital LP"].service_codes == ["MH", "HI", "PHDT", "CHLD", "ADLT"]


def test_null_services_give_no_codes(spider):
    otp = by_name(parse_page(spider, 2)[0])["Toxicology Associates Inc"]
    assert otp.service_codes == [] and otp.unmapped_services == []
    assert otp.name2 is None  # "" is no name
    assert otp.street2 == "Suite 13"


def test_categories_are_matched_on_f2_not_the_f1_label(spider):
    voa = by_name(parse_page(spider, 2)[0])["Volunteers of America Texas Inc"]
    # f1 says "Service Setting" and "Payment/Insurance/Funding", the reference says otherwise.
    assert voa.service_codes == ["SA", "RES", "RL", "MD"]
    assert voa.unmapped_services == []


def test_missing_fields_are_none_and_a_numeric_zip_is_text(spider):
    positive = by_name(parse_page(spider, 3)[0])["Positive Recovery LLC"]
    assert positive.website is None  # no "website" key
    assert positive.name2 is None  # no "name2" key
    assert positive.intake_phone is None
    assert positive.zip == "77018"  # 77018, a number in the JSON
    assert positive.street1 == "513 Thornton Road"


def test_service_text_without_a_code_is_kept_as_unmapped(spider):
    positive = by_name(parse_page(spider, 3)[0])["Positive Recovery LLC"]
    assert positive.service_codes == ["SA", "OIT", "OD", "PI"]
    assert positive.unmapped_services == [{
        "category_code": "SET",
        "category_name": "Service Setting (e.g., Outpatient, Residential, etc.)",
        "text": "Computerized treatment",
    }]


# --- results that are not a page of rows ----------------------------------------------------


def test_empty_result_yields_nothing_and_no_next_page(spider):
    items, requests = parse(spider, (FIXTURES / "houston_empty.json").read_bytes(), 1)
    assert items == [] and requests == []
    assert stat(spider, "failed_requests") is None
    assert stat(spider, "rows_read") is None


def test_empty_result_with_null_rows_is_still_empty(spider):
    items, requests = parse(spider, b'{"page": 1, "totalPages": 0, "recordCount": 0, "rows": null}', 1)
    assert items == [] and requests == []
    assert stat(spider, "failed_requests") is None


def test_html_error_page_counts_a_failed_request_and_yields_nothing(spider, caplog):
    items, requests = parse(spider, HTML_ERROR_PAGE, 1)
    assert items == [] and requests == []
    assert stat(spider, "failed_requests") == 1
    assert "not JSON" in caplog.text


@pytest.mark.parametrize("body", [
    b'{"error": "Invalid request", "status": 400}',  # an error in JSON, status 200
    b'[]',
    b'{"page": 1, "totalPages": 1, "recordCount": 3, "rows": "unavailable"}',
])
def test_json_without_a_rows_list_counts_a_failed_request(spider, body):
    items, requests = parse(spider, body, 1)
    assert items == [] and requests == []
    assert stat(spider, "failed_requests") == 1


def test_a_page_without_rows_before_the_last_counts_a_failed_request(spider):
    body = b'{"page": 2, "totalPages": 3, "recordCount": 8, "rows": []}'
    items, requests = parse(spider, body, 2)
    assert items == [] and requests == []  # no loop, and no silent truncation either
    assert stat(spider, "failed_requests") == 1


def test_json_sent_as_a_binary_content_type_is_still_read(spider):
    # Scrapy makes a plain Response (no .text) of application/octet-stream.
    items, requests = parse(spider, (FIXTURES / "houston_page1.json").read_bytes(), 1, cls=Response)
    assert [i.name1 for i in items][:1] == ["Avenue 360 Health and Wellness"]
    assert len(requests) == 1
    assert stat(spider, "failed_requests") is None


# --- failed downloads ------------------------------------------------------------------------


def failure(spider, exc: Exception) -> Failure:
    f = Failure(exc)
    f.request = spider.request(HOUSTON, 1)
    return f


@pytest.mark.parametrize("exc", [
    DownloadConnectionRefusedError("Connection was refused by other side: 111: Connection refused."),
    CannotResolveHostError("DNS lookup failed: no results for hostname lookup: findtreatment.gov."),
    DNSLookupError("findtreatment.gov"),
])
def test_unreachable_source_closes_the_spider_as_source_unreachable(spider, exc):
    with pytest.raises(CloseSpider) as raised:
        spider.on_error(failure(spider, exc))
    assert raised.value.reason.startswith("source_unreachable: http")
    assert stat(spider, "failed_requests") == 1


def test_other_download_failures_are_counted_not_fatal(spider):
    spider.on_error(failure(spider, TimeoutError("took longer than 60.0 seconds")))
    assert stat(spider, "failed_requests") == 1


# --- real API texts from ../shared -----------------------------------------------------------


def test_developer_guide_sample_maps_garrett_county_services():
    need_shared(API_SAMPLE)
    oakland = City("Oakland", "MD")
    spider = make_spider(cities="Oakland, MD")
    items, requests = parse(spider, API_SAMPLE.read_bytes(), 2, city=oakland)
    assert requests == []  # page 2 of 2
    items = by_name(items)
    assert set(items) == {"Garrett County Lighthouse", "Garrett County Health Department"}
    health = items["Garrett County Health Department"]
    assert {"OIT", "OP", "ORT", "MD", "MC", "PI", "SF", "SS"} <= set(health.service_codes)
    assert {"SA", "SI", "AH", "AD", "WN", "MN"} <= set(health.service_codes)  # through data/service_aliases.csv
    assert {u["text"] for u in health.unmapped_services} == {
        "Access to Recovery (ATR) voucher", "Computerized treatment",
        "Clients referred from the court/judicial system (other than DUI/DWI)",
    }
    lighthouse = items["Garrett County Lighthouse"]
    assert {"MH", "RES", "RTCA", "CIT", "CO", "SMI"} <= set(lighthouse.service_codes)
    assert lighthouse.facility_type == "MH" and lighthouse.name2 == "Safe Harbor"


def test_code_reference_matches_the_apis_setting_wording_for_california_residential_facilities():
    need_shared(CA_API, CODE_REFERENCE)
    facilities = json.loads(CA_API.read_text(encoding="utf-8"))
    assert len(facilities) == 478
    reference = load_code_reference()
    spider = make_spider(cities="Los Angeles, CA")
    for facility in facilities:
        texts = [t.strip() for t in facility["residential_services"].split(";") if t.strip()]
        codes = [reference.code_for("SET", text) for text in texts]
        # residential_services holds all of a facility's Service Setting texts: each is a SET code...
        unknown = [t for t, c in zip(texts, codes) if c is None]
        assert not unknown, f"{facility['name']}: {unknown}"
        # ...and every one of these facilities has a residential level of care among them.
        assert RESIDENTIAL & set(codes), f"{facility['name']}: {texts}"
        # The spider, given the texts as one API "services" entry, agrees.
        mapped, unmapped = spider.service_codes(
            [{"f1": "Service Setting", "f2": "SET", "f3": facility["residential_services"]}])
        assert mapped == list(dict.fromkeys(codes)) and unmapped == []


# --- end to end: the real crawl command against a local API ----------------------------------


def crawl_api(tmp_path, url: str, *, expect_ok: bool):
    return crawl(tmp_path, "findtreatment_api", "Houston, TX", "-a", f"api_url={url}", "-a", "page_size=3",
                 expect_ok=expect_ok)


@pytest.fixture(scope="module")
def e2e(tmp_path_factory):
    """Four real crawls, run at once (each waits DOWNLOAD_DELAY between requests): the saved
    3-page search, an empty result, an HTML error page, and a port nothing listens on."""
    need_shared(CODE_REFERENCE)
    servers = {mode: FixtureApi(mode) for mode in ("pages", "empty", "html")}
    for server in servers.values():
        server.__enter__()
    urls = {mode: server.url for mode, server in servers.items()}
    urls["unreachable"] = f"http://127.0.0.1:{closed_port()}{API_PATH}"
    try:
        with ThreadPoolExecutor(len(urls)) as pool:
            futures = {
                mode: pool.submit(crawl_api, tmp_path_factory.mktemp(mode), url, expect_ok=mode == "pages")
                for mode, url in urls.items()
            }
            results = {mode: future.result() for mode, future in futures.items()}
    finally:
        for server in servers.values():
            server.__exit__(None, None, None)
    return results, servers


def test_crawl_command_collects_every_row_of_every_page(e2e):
    results, servers = e2e
    output, result = results["pages"]
    api = servers["pages"]
    assert api.paths_seen()[0] == "/robots.txt"
    assert api.pages_seen() == [1, 2, 3]
    for path, q in api.seen[1:]:
        assert path == API_PATH
        assert (q["limitType"], q["limitValue"], q["pageSize"]) == (["2"], ["40233.6"], ["3"])
    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    expected = [r for p in (1, 2, 3)
                for r in json.loads((FIXTURES / f"houston_page{p}.json").read_text())["rows"]]
    assert len(rows) == len(expected) == 8
    assert sorted((r["name1"], r["extras"]["_irow"]) for r in rows) == sorted(
        (r["name1"], r["_irow"]) for r in expected)
    assert {r["source_ref"] for r in rows} == {f"page {p} row {i}" for p, n in ((1, 3), (2, 3), (3, 2))
                                               for i in range(1, n + 1)}
    positive = next(r for r in rows if r["name1"] == "Positive Recovery LLC")
    assert positive["service_codes"] == ["SA", "OIT", "OD", "PI"]
    assert positive["unmapped_services"][0]["text"] == "Computerized treatment"
    assert positive["zip"] == "77018"
    assert "Crawled 8 listings (Houston, TX 8) with findtreatment_api" in result.stdout


def test_crawl_command_fails_on_an_empty_result(e2e):
    results, servers = e2e
    output, result = results["empty"]
    assert result.returncode != 0
    assert "crawl failed (findtreatment_api): the crawl kept no listings" in result.stderr
    assert not output.exists()
    assert servers["empty"].pages_seen() == [1]


def test_crawl_command_fails_on_an_html_page_where_json_was_expected(e2e):
    results, servers = e2e
    output, result = results["html"]
    assert result.returncode != 0
    assert "not JSON" in result.stderr
    assert "crawl failed (findtreatment_api): 1 request(s) failed" in result.stderr
    assert not output.exists()
    assert servers["html"].pages_seen() == [1]


def test_crawl_command_fails_on_an_unreachable_source_and_points_to_make_demo(e2e):
    results, _ = e2e
    output, result = results["unreachable"]
    assert result.returncode != 0
    assert "crawl failed (findtreatment_api)" in result.stderr
    assert "Connection was refused" in result.stderr
    assert "`make demo`" in result.stderr
    assert not output.exists()
