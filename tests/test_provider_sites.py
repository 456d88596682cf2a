"""The provider_sites spider, offline: sample provider websites served on 127.0.0.1
(tests/fixtures/sites, through tests/support/sites_server.py) and crawled by the real
`scrapy crawl provider_sites` command, plus its arguments and manners checked directly. The
feed holds what the spider read; what the pages state is judged as the build judges it
(pipelines.site_levels.judge_item)."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest
import scrapy
from scrapy.exceptions import StopDownload
from scrapy.http import Headers
from scrapy.utils.test import get_crawler

from crawler.site_items import SitePageItem
from crawler.spiders.provider_sites import ProviderSitesSpider, is_blog_link, parse_urls, site_host
from pipelines.site_levels import judge_item, program_care_level_rows
from tests.support.sites_server import SiteServer

ROOT = Path(__file__).resolve().parent.parent
MAX_PAGES = 10
# Bigger than the DOWNLOAD_MAXSIZE the crawl is given below, and served as HTML.
HUGE_PAGE = b"<html><body><main><h1>Schedule</h1>" + b"<p>Our IOP group meets daily.</p>" * 40000 + b"</main></body></html>"
SUNNYVALE_ROUTES = {
    "/programs/brochure": ("application/pdf", b"%PDF-1.4 a brochure about our residential program"),
    "/programs/full-schedule/": ("text/html; charset=utf-8", HUGE_PAGE),
}


def crawl(tmp_path: Path, *args: str) -> tuple[list[dict], str]:
    """Run the real crawl command; (items of the feed, the log with Scrapy's stats)."""
    output = tmp_path / "provider_sites.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "provider_sites", *args, "-O", str(output),
         "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_MAXSIZE=500000",
         "-s", "HTTPCACHE_ENABLED=False", "-s", "LOG_LEVEL=INFO"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, f"crawl failed:\n{result.stdout}\n{result.stderr}"
    return [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()], result.stderr


def stat(log: str, key: str) -> int | None:
    """A provider_sites/... counter from the stats Scrapy dumps at the end of the log."""
    for line in log.splitlines():
        line = line.strip().rstrip(",")
        if line.startswith(f"'provider_sites/{key}':"):
            return int(line.split(":", 1)[1])
    return None


@pytest.fixture(scope="module")
def two_sites(tmp_path_factory):
    """Sunnyvale (program sv1) and Northside (a bare URL), crawled together with -a urls."""
    with SiteServer("sunnyvale", routes=SUNNYVALE_ROUTES) as sunnyvale, SiteServer("northside") as northside:
        items, log = crawl(tmp_path_factory.mktemp("crawl"),
                           "-a", f"urls=sv1={sunnyvale.url},{northside.url}", "-a", f"max_pages={MAX_PAGES}")
    return {"items": items, "log": log, "sunnyvale": sunnyvale, "northside": northside}


# These tests follow the spider's pages into the judge and its rows; the judge here is the rules
# alone (model=False). The page model (tests/test_site_model.py) adds outpatient on Sunnyvale's home
# page, a page about PHP and IOP (pages that offer both usually offer outpatient care too; this one
# does not say so): a false positive of the model, counted in its figures.
RULES_ONLY = {"model": False}


def pages_of(items: list[dict], server: SiteServer) -> dict[str, dict]:
    """The site's pages by path, each judged as the build judges it (by the rules)."""
    return {item["url"].removeprefix(server.url.rstrip("/")): judge_item(item, **RULES_ONLY)
            for item in items if item["url"].startswith(server.url)}


# --- the crawl, end to end ------------------------------------------------------------------


def test_a_page_disallowed_by_robots_txt_is_never_fetched(two_sites):
    sunnyvale = two_sites["sunnyvale"]
    assert sunnyvale.seen[0] == "/robots.txt"
    assert "/programs/private/" not in sunnyvale.seen  # linked from the home page, disallowed
    assert stat(two_sites["log"], "forbidden_by_robots") == 1
    assert not any("/programs/private/" in item["url"] for item in two_sites["items"])


def test_the_home_page_and_program_pages_are_read_and_other_pages_are_not(two_sites):
    sunnyvale = two_sites["sunnyvale"]
    assert set(pages_of(two_sites["items"], sunnyvale)) == {"/", "/programs/", "/programs/iop/", "/programs/php/", "/admissions/"}
    assert "/blog/iop-guide/" not in sunnyvale.seen  # a blog post is not followed
    assert "/about/" not in sunnyvale.seen  # not about programs, services, care or admissions
    assert stat(two_sites["log"], "http_status/404") == 1  # /programs/residential/ from the menu


def test_pages_about_a_level_are_requested_before_general_ones(two_sites):
    requested = two_sites["sunnyvale"].pages_seen()
    assert requested[0] == "/"
    assert requested.index("/programs/iop/") < requested.index("/admissions/")
    assert requested.index("/programs/php/") < requested.index("/programs/")


def test_non_html_and_huge_pages_are_skipped(two_sites):
    sunnyvale, log = two_sites["sunnyvale"], two_sites["log"]
    assert "/programs/brochure" in sunnyvale.seen and "/programs/full-schedule/" in sunnyvale.seen
    read = pages_of(two_sites["items"], sunnyvale)
    assert "/programs/brochure" not in read and "/programs/full-schedule/" not in read
    assert stat(log, "skipped_not_html") == 1
    assert stat(log, "too_large") == 1


def test_one_request_at_a_time_per_site(two_sites):
    assert two_sites["sunnyvale"].most_at_once == 1
    assert two_sites["northside"].most_at_once == 1


def test_a_site_stops_at_its_page_budget(two_sites):
    northside = two_sites["northside"]
    assert len(northside.pages_seen()) == MAX_PAGES  # 12 program pages are linked from the home page
    assert stat(two_sites["log"], "sites_over_budget") == 1


def test_items_carry_the_program_the_page_findings_with_quotes_and_structured_data(two_sites):
    sunnyvale = two_sites["sunnyvale"]
    read = pages_of(two_sites["items"], sunnyvale)
    home = read["/"]
    assert home["program_id"] == "sv1" and home["site"] == sunnyvale.url and home["site_programs"] == ["sv1"]
    assert home["page_kind"] == "page" and home["fetched_at"].endswith("Z")
    assert home["findings"] == [
        {"level": level, "url": sunnyvale.url,
         "quote": "We offer a partial hospitalization program and an intensive outpatient program, both close to downtown."}
        for level in ("iop", "php")]  # residential: "We do not offer residential treatment"
    assert home["structured"]["name"] == "Sunnyvale Recovery"
    assert home["structured"]["telephone"] == "(214) 555-0123"
    assert home["structured"]["address"]["postal_code"] == "75201"
    assert home["structured"]["opening_hours"] == ["Monday, Tuesday, Wednesday, Thursday, Friday 08:00-18:00"]
    iop = read["/programs/iop/"]
    assert iop["findings"][0] == {"level": "iop", "url": iop["url"],
                                  "quote": "Our IOP meets Monday, Tuesday and Thursday evenings from 6 to 9 p.m., "
                                           "so you can keep working while you get better."}
    assert {f["level"] for item in read.values() for f in item["findings"]} == {"iop", "php"}


def test_the_feed_holds_what_each_page_said_with_its_place_and_nothing_judged(two_sites):
    sunnyvale = two_sites["sunnyvale"]
    [home] = [item for item in two_sites["items"] if item["url"] == sunnyvale.url]
    assert "findings" not in home and "structured" not in home and "page_kind" not in home
    assert home["title"] == "Sunnyvale Recovery | Mental Health Day Treatment in Dallas"
    assert home["meta"] == {"og:site_name": ["Sunnyvale Recovery"]} and home["classes"] == {"body": ["home", "page"]}
    assert [node["@type"] for node in home["json_ld"][0]["@graph"]] == ["WebSite", "MedicalClinic"]
    blocks = home["blocks"]
    assert {"text": "Mental health day treatment in Dallas", "kind": "heading", "heading": 1} in blocks
    assert {"text": "Intensive outpatient program", "kind": "item", "lead_in": "Learn more"} in blocks
    # Navigation and footer are kept, marked as furniture, and so not judged.
    assert {"text": "Intensive Outpatient", "kind": "item", "lead_in": "Programs", "furniture": "header"} in blocks
    assert {"text": "Detox · Residential · PHP · IOP", "kind": "para", "furniture": "footer"} in blocks


def test_a_bare_url_gives_items_without_a_program(two_sites):
    northside = pages_of(two_sites["items"], two_sites["northside"])
    assert northside and all(item["program_id"] is None for item in northside.values())
    assert northside["/"]["findings"][0]["level"] == "outpatient"
    assert program_care_level_rows(northside.values()) == []  # nothing to attach them to


def test_no_page_outside_the_given_sites_is_read(two_sites):
    hosts = {two_sites["sunnyvale"].url, two_sites["northside"].url}
    assert all(any(item["url"].startswith(h) for h in hosts) for item in two_sites["items"])


def test_websites_come_from_the_database_and_a_shared_site_serves_each_of_its_programs(tmp_path):
    with SiteServer("sunnyvale", routes=SUNNYVALE_ROUTES) as sunnyvale:
        db_path = tmp_path / "programs.db"
        with sqlite3.connect(db_path) as db:
            db.execute("create table programs (id text primary key, name text, website text)")
            db.executemany("insert into programs values (?, ?, ?)", [
                ("p1", "Sunnyvale Recovery Uptown", sunnyvale.url),
                ("p2", "Sunnyvale Recovery Downtown", sunnyvale.url.rstrip("/")),
                ("p3", "No website", None), ("p4", "Blank website", " "),
            ])
        items, _ = crawl(tmp_path, "-a", f"db={db_path}", "-a", "max_pages=2")
        assert len(sunnyvale.pages_seen()) == 2
    assert {item["program_id"] for item in items} == {"p1", "p2"}
    assert all(item["site_programs"] == ["p1", "p2"] for item in items)
    rows = program_care_level_rows(judge_item(item, **RULES_ONLY) for item in items)
    assert {(r["program_id"], r["care_level"]) for r in rows} == {("p1", "iop"), ("p1", "php"), ("p2", "iop"), ("p2", "php")}
    assert {r["source"] for r in rows} == {"provider website"}


# --- arguments and manners, without a crawl ---------------------------------------------------


def make_spider(**args) -> ProviderSitesSpider:
    return get_crawler(ProviderSitesSpider)._create_spider(**args)


def test_urls_take_program_ids_or_bare_addresses():
    assert parse_urls("p1=https://a.example/, www.b.example ,https://c.example/find?x=1") == [
        ("p1", "https://a.example/"), (None, "http://www.b.example/"), (None, "https://c.example/find?x=1")]


@pytest.mark.parametrize("args, message", [
    ({}, "give either -a db="),
    ({"db": "x.db", "urls": "https://a.example/"}, "give either -a db="),
    ({"urls": "p1=mailto:someone@example.org"}, "is not a website URL"),
    ({"urls": "https://a.example/", "max_pages": "0"}, "give between 1 and"),
    ({"urls": "https://a.example/", "max_pages": "many"}, "give a whole number"),
    ({"db": "no/such/programs.db"}, "no such file"),
])
def test_bad_arguments_fail_with_a_message(args, message):
    with pytest.raises(ValueError, match=message):
        make_spider(**args)


def test_programs_sharing_a_website_are_crawled_once():
    spider = make_spider(urls="p1=https://a.example/,p2=https://a.example,p3=https://b.example/")
    assert {url: site.program_ids for url, site in spider.sites.items()} == {
        "https://a.example/": ["p1", "p2"], "https://b.example/": ["p3"]}


def test_the_crawl_is_polite_by_its_settings():
    settings = ProviderSitesSpider.custom_settings
    assert settings["ROBOTSTXT_OBEY"] is True and settings["AUTOTHROTTLE_ENABLED"] is True
    assert settings["CONCURRENT_REQUESTS_PER_DOMAIN"] == 1
    assert 0 < settings["DOWNLOAD_MAXSIZE"] <= 5 * 1024 * 1024


def test_a_non_html_response_is_stopped_at_its_headers_but_robots_txt_is_not():
    spider = make_spider(urls="https://a.example/")
    page = scrapy.Request("https://a.example/brochure", meta={"provider_page": True})
    with pytest.raises(StopDownload):
        spider.on_headers(Headers({"Content-Type": "application/pdf"}), 100, page, spider)
    spider.on_headers(Headers({"Content-Type": "text/html; charset=utf-8"}), 100, page, spider)
    robots = scrapy.Request("https://a.example/robots.txt")
    spider.on_headers(Headers({"Content-Type": "text/plain"}), 100, robots, spider)


async def test_only_one_request_per_site_leaves_at_a_time():
    spider = make_spider(urls="p1=https://a.example/,https://b.example/", max_pages="3")
    requests = [r async for r in spider.start()]
    assert [r.url for r in requests] == ["https://a.example/", "https://b.example/"]  # one per site
    assert spider.next_request(spider.sites["https://a.example/"]) is None  # nothing more until answered


@pytest.mark.parametrize("url, blog", [
    ("https://a.example/blog/what-is-iop/", True), ("https://a.example/2023/04/iop/", True),
    ("https://a.example/careers.html", True), ("https://a.example/programs/iop/", False),
    ("https://a.example/", False),
])
def test_links_to_blog_like_pages_are_not_followed(url, blog):
    assert is_blog_link(url) is blog


def test_a_page_is_parsed_once_the_tree_scrapy_made_is_read(monkeypatch):
    from scrapy.http import HtmlResponse

    import common.page_reading

    spider = make_spider(urls="p1=https://a.example/")
    body = (ROOT / "tests" / "fixtures" / "sites" / "sunnyvale" / "index.html").read_bytes()
    request = scrapy.Request("https://a.example/", meta={"provider_page": True, "site_url": "https://a.example/"})
    response = HtmlResponse("https://a.example/", body=body, encoding="utf-8", request=request)
    spider.crawler.stats.open_spider()
    monkeypatch.setattr(common.page_reading, "Selector", None)  # a second parse would fail here
    [item] = [out for out in spider.read(spider.sites["https://a.example/"], response) if isinstance(out, SitePageItem)]
    assert item.json_ld and any(b["text"] == "Mental health day treatment in Dallas" for b in item.blocks)
    assert [f["level"] for f in judge_item(item, **RULES_ONLY)["findings"]] == ["iop", "php"]


def test_same_site_ignores_www_and_keeps_the_port():
    assert site_host("https://www.a.example/x") == site_host("http://a.example/") == "a.example"
    assert site_host("http://127.0.0.1:8001/") != site_host("http://127.0.0.1:8002/")


def test_the_item_is_its_own_shape():
    item = SitePageItem(program_id="p1", url="https://a.example/", site="https://a.example/", fetched_at="2024-01-01T00:00:00Z")
    judged = judge_item(asdict(item))
    assert (judged["findings"], judged["structured"], judged["page_kind"], item.site_programs) == ([], {}, "page", [])
    assert (item.title, item.blocks, item.json_ld, item.microdata, item.meta, item.classes) == ("", [], [], [], {}, {})
