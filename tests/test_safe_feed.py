"""The safe crawl, on Scrapy's machinery: the SafeFeed extension (crawler/extensions.py) replaces the
published feed only with a good crawl's, keeps it otherwise and says why, and logs every run
with its stats in crawl_runs.jsonl; `scrapy safecrawl` (crawler/commands/safecrawl.py) turns it
on and sums the crawl up in the spider's own words. The spiders' differences are attributes."""
from __future__ import annotations

import json
import logging

import pytest
from scrapy import Spider
from scrapy.exceptions import CloseSpider, NotConfigured
from scrapy.utils.test import get_crawler

from common.run_log import LOG_NAME
from crawler.commands.safecrawl import SummaryFields
from crawler.extensions import OFFLINE_HINT, SafeFeed, judge, safe_feed_settings
from crawler.spiders.findtreatment_api import API_URL, FindtreatmentApiSpider
from crawler.spiders.findtreatment_export import FindtreatmentExportSpider
from crawler.spiders.provider_sites import ProviderSitesSpider
from tests.support import TX_CSV, crawl, need_shared

OLD = '{"previous": "the last good feed"}\n'
NEW = '{"name1": "Example Recovery"}\n'
GOOD = {"item_scraped_count": 1, "findtreatment_export/city/Houston, TX": 1, "finish_reason": "finished"}


def guarded(tmp_path, jobdir=None):
    """An export crawl under SafeFeed, its items written by the feed export: (crawler, spider,
    extension, published feed); the published feed holds the last good crawl."""
    published = tmp_path / "feed" / "findtreatment_export.jsonl"
    published.parent.mkdir(exist_ok=True)
    if not published.exists():
        published.write_text(OLD, encoding="utf-8")
    settings = safe_feed_settings(published, jobdir and str(jobdir))
    if jobdir:
        settings["JOBDIR"] = str(jobdir)
    crawler = get_crawler(FindtreatmentExportSpider, settings)
    spider = FindtreatmentExportSpider.from_crawler(crawler, cities="Houston, TX", source="export.csv")
    guard = SafeFeed.from_crawler(crawler)
    guard.crawl_feed.parent.mkdir(parents=True, exist_ok=True)
    with guard.crawl_feed.open("a", encoding="utf-8") as feed:  # appended to, as a job's partial feed is
        feed.write(NEW)
    return crawler, spider, guard, published


async def close(crawler, spider, guard, reason="finished", stats=GOOD):
    """Close the crawl as Scrapy does: the feed export closes its file, then spider_closed."""
    for key, value in stats.items():
        crawler.stats.set_value(key, value)
    guard.feed_exporter_closed()
    await guard.spider_closed(spider, reason)


def logged(published) -> list[dict]:
    return [json.loads(line) for line in (published.parent / LOG_NAME).read_text(encoding="utf-8").splitlines()]


async def test_a_good_crawl_replaces_the_published_feed_and_is_logged_with_its_stats(tmp_path):
    crawler, spider, guard, published = guarded(tmp_path)
    await close(crawler, spider, guard)
    assert published.read_text(encoding="utf-8") == NEW
    assert not guard.crawl_feed.exists() and guard.failure is None
    (run,) = logged(published)
    assert run["status"] == "finished" and "error" not in run and run["items"] == 1
    assert (run["spider"], run["cities"], run["source_url"]) == ("findtreatment_export", "Houston, TX", "export.csv")
    assert run["stats"]["findtreatment_export/city/Houston, TX"] == 1
    assert run["feed"] == str(published) and run["started"] <= run["finished"]


async def test_an_empty_crawl_keeps_the_old_feed_logs_the_run_and_says_why(tmp_path, caplog):
    crawler, spider, guard, published = guarded(tmp_path)
    with caplog.at_level(logging.ERROR, logger="crawler.extensions"):
        await close(crawler, spider, guard, stats={"finish_reason": "finished"})
    assert published.read_text(encoding="utf-8") == OLD
    assert not list(published.parent.glob(".*crawling*"))  # the crawl's own feed is removed
    (run,) = logged(published)
    assert run["status"] == "failed" and run["items"] == 0
    assert run["error"] == guard.failure == "the crawl kept no listings for the requested cities"
    assert f"{published} not replaced: the crawl kept no listings" in caplog.text


async def test_a_failed_crawl_after_a_good_one_keeps_the_good_feed(tmp_path):
    crawler, spider, guard, published = guarded(tmp_path)
    await close(crawler, spider, guard)
    crawler, spider, guard, published = guarded(tmp_path)
    guard.crawl_feed.write_text('{"partial": true}\n', encoding="utf-8")
    await close(crawler, spider, guard, reason="shutdown", stats={"item_scraped_count": 5})
    assert published.read_text(encoding="utf-8") == NEW
    assert [(r["status"], r.get("error")) for r in logged(published)] == [
        ("finished", None), ("failed", "the spider stopped early: shutdown")]


async def test_a_stopped_job_keeps_its_partial_feed_and_the_finished_job_is_cleared(tmp_path):
    jobdir = tmp_path / "job"
    crawler, spider, guard, published = guarded(tmp_path, jobdir)
    await close(crawler, spider, guard, reason="shutdown")
    assert published.read_text(encoding="utf-8") == OLD
    assert (jobdir / f"{published.name}.partial").read_text(encoding="utf-8") == NEW  # kept for the resume
    crawler, spider, guard, published = guarded(tmp_path, jobdir)  # the resumed crawl appends
    await close(crawler, spider, guard)
    assert published.read_text(encoding="utf-8") == NEW + NEW
    assert not jobdir.exists()
    assert [r["status"] for r in logged(published)] == ["failed", "finished"]


def test_a_crawl_that_never_closed_is_logged_by_abandon(tmp_path):
    crawler, spider, guard, published = guarded(tmp_path)
    crawler.spider = spider
    guard.abandon("the crawl ended before its spider closed")
    guard.abandon("a second call changes nothing")
    assert published.read_text(encoding="utf-8") == OLD and not guard.crawl_feed.exists()
    assert [r["error"] for r in logged(published)] == ["the crawl ended before its spider closed"]


def test_an_unresolvable_source_closes_the_spider_before_the_first_request(tmp_path):
    published = tmp_path / "findtreatment_api.jsonl"
    crawler = get_crawler(FindtreatmentApiSpider, safe_feed_settings(published, None))
    guard = SafeFeed.from_crawler(crawler)
    spider = FindtreatmentApiSpider.from_crawler(crawler, cities="Houston, TX", api_url="https://nowhere.invalid/v2")
    with pytest.raises(CloseSpider) as closed:
        guard.spider_opened(spider)
    assert closed.value.reason.startswith("source_unreachable: nowhere.invalid cannot be reached (")
    why = closed.value.reason.removeprefix("source_unreachable: ")
    assert judge(spider, closed.value.reason, {}) == f"{why} ({OFFLINE_HINT})"
    # A local source, or a file, is not looked up.
    guard.spider_opened(FindtreatmentApiSpider.from_crawler(crawler, cities="Houston, TX",
                                                            api_url="http://127.0.0.1:9/v2"))
    guard.spider_opened(FindtreatmentExportSpider.from_crawler(crawler, cities="Houston, TX", source="/tmp/x.csv"))


def test_safe_feed_is_off_unless_a_crawl_asks_for_it(tmp_path):
    with pytest.raises(NotConfigured) as off:
        SafeFeed.from_crawler(get_crawler(Spider, {}))
    assert not off.value.args  # silent: `scrapy crawl -O` is none of its business
    published = tmp_path / "feed.jsonl"
    with pytest.raises(NotConfigured, match=r"needs FEEDS to write .*\.feed\.jsonl\.crawling-"):
        SafeFeed.from_crawler(get_crawler(Spider, {"SAFE_FEED": str(published), "FEEDS": {str(published): {}}}))


def test_the_spiders_say_what_spoils_their_crawl():
    failed = {"finish_reason": "finished", "item_scraped_count": 40}
    api = {**failed, "findtreatment_api/failed_requests": 4,
           "findtreatment_api/failures": [f"http://x/?page={n}: HTTP 500" for n in range(1, 5)]}
    assert judge(FindtreatmentApiSpider, "finished", api) == (
        "4 request(s) failed, the crawl is incomplete: http://x/?page=1: HTTP 500; http://x/?page=2: HTTP 500; "
        "http://x/?page=3: HTTP 500; and 1 more")
    # One program's website being down spoils no other's.
    assert judge(ProviderSitesSpider, "finished", {**failed, "provider_sites/failed_requests": 4}) is None
    assert judge(ProviderSitesSpider, "finished", {"provider_sites/failed_requests": 4}) == (
        "the crawl kept no pages of any program's website")
    assert judge(FindtreatmentApiSpider, "finished", {**failed, "spider_exceptions/KeyError": 2}) == (
        "2 error(s) while parsing; see the log above")
    assert judge(FindtreatmentApiSpider, "finished", {**failed, "feedexport/failed_count/FileFeedStorage": 1}) == (
        "the feed could not be written; see the log above")
    assert FindtreatmentApiSpider.default_source_url == API_URL


def test_the_summary_is_worded_by_the_spider():
    stats = {"item_scraped_count": 481, "findtreatment_export/city/Dallas, TX": 184,
             "findtreatment_export/city/Houston, TX": 297, "findtreatment_export/rows_read": 9000}
    fields = SummaryFields("findtreatment_export", stats)
    assert FindtreatmentExportSpider.crawl_summary.format_map(fields) == (
        "481 listings (Dallas, TX 184; Houston, TX 297)")
    sites = {"item_scraped_count": 12, "provider_sites/sites": 3}
    assert ProviderSitesSpider.crawl_summary.format_map(SummaryFields("provider_sites", sites)) == (
        "12 pages of 3 program websites")
    assert ProviderSitesSpider.crawl_summary.format_map(SummaryFields("provider_sites", {})) == (
        "0 pages of ? program websites")


def test_safecrawl_replaces_the_previous_feed_after_a_good_crawl(tmp_path):
    need_shared(TX_CSV)
    output = tmp_path / "findtreatment_export.jsonl"
    output.write_text(OLD, encoding="utf-8")
    _, result = crawl(tmp_path, "findtreatment_export", "Dallas, TX", "--source", str(TX_CSV))
    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 177 and {r["city_query"] for r in rows} == {"Dallas, TX"}
    assert result.stdout.startswith("Crawled 177 listings (Dallas, TX 177) with findtreatment_export in ")
    assert result.stdout.rstrip().endswith(f" s -> {output}")
    (run,) = logged(output)
    assert run["status"] == "finished" and run["items"] == 177
    assert run["stats"]["feedexport/success_count/FileFeedStorage"] == 1  # logged once the feed was stored
    assert sorted(p.name for p in tmp_path.iterdir()) == [LOG_NAME, output.name]
