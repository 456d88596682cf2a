"""Faults at the source: the real crawl command against a local API that times out, throttles
(429 with Retry-After), fails (500, 503), cuts its JSON short, answers HTML, finds nothing or
changes its layout (tests/fault_server.py). The crawl retries with back-off where that helps,
records every failure in its stats and in crawl_runs.jsonl, and otherwise exits 1 with a plain
message, keeping the previous feed.

The crawls run at once, each against its own server, with fast settings (no download delay or
AutoThrottle, short timeouts and back-off): the whole module takes a few seconds of wall time.
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from scrapy import Spider
from scrapy.exceptions import DownloadConnectionRefusedError, DownloadTimeoutError
from scrapy.http import Request, Response
from scrapy.utils.project import get_project_settings
from scrapy.utils.test import get_crawler

from crawler.middlewares import BackoffRetryMiddleware, retry_after_seconds
from common.run_log import LOG_NAME
from tests.support.api_server import API_PATH, FIXTURES
from tests.support import CODE_REFERENCE, crawl, need_shared
from tests.support.fault_server import FaultServer

SENTINEL = '{"sentinel": "the previous good feed"}\n'
FAST = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_TIMEOUT": "2",
        "RETRY_TIMES": "2", "RETRY_BACKOFF_BASE": "0.1"}
ALL_ROWS = [r for p in (1, 2, 3) for r in json.loads((FIXTURES / f"houston_page{p}.json").read_text())["rows"]]

# name: (fault script, settings over FAST, should the crawl succeed)
SCENARIOS = {
    "503 twice": ({2: ["503", "503"]}, {"RETRY_BACKOFF_BASE": "0.5", "RETRY_TIMES": "3"}, True),
    "429 retry-after": ({1: ["429 retry-after=2"]}, {}, True),
    "always 500": ({2: "500"}, {}, False),
    "timeout": ({1: "sleep=5"}, {"DOWNLOAD_TIMEOUT": "1", "RETRY_TIMES": "1"}, False),
    "data loss": ({3: "dataloss"}, {"RETRY_TIMES": "1"}, False),
    "truncated JSON": ({2: "truncated"}, {}, False),
    "HTML for JSON": ({1: "html"}, {}, False),
    "changed layout": ({1: "layout"}, {}, False),
    "empty result": ({1: "empty"}, {}, False),
}


class Run:
    """One crawl against its own fault server: the result, the feed, the crawl log, the server."""

    def __init__(self, name, tmp_path, server, result, output):
        self.name, self.server, self.result, self.output = name, server, result, output
        log = tmp_path / LOG_NAME
        self.runs = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []
        self.message = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""

    @property
    def run(self) -> dict:
        assert len(self.runs) == 1, self.runs
        return self.runs[0]

    @property
    def stats(self) -> dict:
        return self.run["stats"]


def run_scenario(name, tmp_path):
    script, overrides, _ = SCENARIOS[name]
    settings = {**FAST, **overrides}
    output = tmp_path / "findtreatment_api.jsonl"
    output.write_text(SENTINEL, encoding="utf-8")  # the previous good crawl
    with FaultServer(script) as server:
        options = [item for key, value in settings.items() for item in ("-s", f"{key}={value}")]
        output, result = crawl(tmp_path, "findtreatment_api", "Houston, TX", "-a", f"api_url={server.url}",
                               "-a", "page_size=3", *options, expect_ok=False)
    return Run(name, tmp_path, server, result, output)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Run]:
    need_shared(CODE_REFERENCE)
    with ThreadPoolExecutor(len(SCENARIOS)) as pool:
        futures = {name: pool.submit(run_scenario, name, tmp_path_factory.mktemp(name.replace(" ", "_")))
                   for name in SCENARIOS}
        return {name: future.result() for name, future in futures.items()}


def assert_ok(run: Run):
    assert run.result.returncode == 0, run.result.stderr
    rows = [json.loads(line) for line in run.output.read_text(encoding="utf-8").splitlines()]
    assert sorted((r["name1"], r["extras"]["_irow"]) for r in rows) == sorted(
        (r["name1"], r["_irow"]) for r in ALL_ROWS)
    assert run.run["status"] == "finished" and run.run["items"] == len(ALL_ROWS)
    return rows


def assert_failed_plainly(run: Run, *phrases: str):
    """Exit 1, one plain last line naming why, no traceback, the previous feed kept, and the failed
    run in crawl_runs.jsonl with the same reason and the crawl's stats."""
    assert run.result.returncode == 1, (run.result.stdout, run.result.stderr)
    assert run.message.startswith("crawl failed (findtreatment_api): "), run.result.stderr
    assert run.message.endswith("The previous feed, if any, is kept."), run.message
    for phrase in phrases:
        assert phrase in run.message, run.message
    assert "Traceback" not in run.result.stderr, run.result.stderr
    assert run.output.read_text(encoding="utf-8") == SENTINEL
    assert not list(run.output.parent.glob(".*crawling*"))  # no temporary feed left behind
    assert run.run["status"] == "failed" and run.run["error"] in run.message
    assert run.run["items"] == run.stats.get("item_scraped_count", 0)
    assert run.stats["finish_reason"] == "finished"  # the spider ran to its end: the run is what failed


# --- retried, and the crawl succeeds ---------------------------------------------------------

def test_503_twice_then_ok_is_retried_with_doubling_back_off(runs):
    run = runs["503 twice"]
    assert_ok(run)
    assert [s.fault for s in run.server.attempts(2)] == ["503", "503", "ok"]
    first, second = run.server.gaps(2)
    # RETRY_BACKOFF_BASE 0.5 s, doubled: 0.5 s before the first retry, 1 s before the second.
    # (Scrapy's own RetryMiddleware retries at once: milliseconds.)
    assert first >= 0.5 - 0.02 and second >= 1.0 - 0.02, (first, second)
    assert run.stats["retry/count"] == 2
    assert run.stats["retry/reason_count/503 Service Unavailable"] == 2
    assert run.stats["retry/backoff_seconds"] == pytest.approx(1.5)
    assert "findtreatment_api/failed_requests" not in run.stats
    assert "Crawled 8 listings" in run.result.stdout


def test_429_with_retry_after_is_retried_no_sooner_than_asked(runs):
    run = runs["429 retry-after"]
    assert_ok(run)
    assert [s.fault for s in run.server.attempts(1)] == ["429 retry-after=2", "ok"]
    (gap,) = run.server.gaps(1)
    assert gap >= 2.0 - 0.02, gap  # Retry-After: 2, though the back-off alone would wait 0.1 s
    assert run.stats["retry/retry_after_count"] == 1
    assert run.stats["retry/reason_count/429 Unknown Status"] == 1


# --- retried, and the crawl fails ---------------------------------------------------------

def test_a_page_that_always_fails_ends_the_crawl_after_retries(runs):
    run = runs["always 500"]
    page2 = run.server.attempts(2)
    assert len(page2) == 3  # the request and RETRY_TIMES=2 retries
    assert_failed_plainly(run, "failed after retries", f"127.0.0.1:{run.server.port}{API_PATH}?", "page=2",
                          "HTTP 500 Internal Server Error")
    assert run.stats["retry/count"] == 2 and run.stats["retry/max_reached"] == 1
    assert run.stats["findtreatment_api/failed_requests"] == 1
    (failure,) = run.stats["findtreatment_api/failures"]
    assert failure.startswith(run.server.url + "?") and "page=2" in failure
    assert failure.endswith(": HTTP 500 Internal Server Error, failed after retries (3 attempts)")
    assert run.stats["item_scraped_count"] == 3  # page 1 was fine: a partial crawl, not kept


def test_a_source_that_does_not_answer_in_time_is_retried_then_fails(runs):
    run = runs["timeout"]
    assert len(run.server.attempts(1)) == 2  # RETRY_TIMES=1
    assert_failed_plainly(run, "no answer within 1.0 s, failed after retries (2 attempts)", "page=1")
    assert run.stats["retry/reason_count/scrapy.exceptions.DownloadTimeoutError"] == 1
    assert run.stats["findtreatment_api/failed_requests"] == 1


def test_a_response_cut_short_by_the_connection_is_retried_then_fails(runs):
    run = runs["data loss"]
    assert len(run.server.attempts(3)) == 2
    assert_failed_plainly(run, "the connection closed before the whole response arrived, failed after retries",
                          "page=3")
    assert run.stats["retry/count"] == 1
    assert run.stats["findtreatment_api/failed_requests"] == 1


# --- a body that is not the page the spider expects: not retried, fails plainly --------------

@pytest.mark.parametrize("name, page, phrase", [
    ("truncated JSON", 2, "not JSON (cut short: "),
    ("HTML for JSON", 1, "not JSON (Expecting value at character 0; 198 bytes starting b'<!DOCTYPE html>"),
    ("changed layout", 1, "JSON without a rows list (keys: page, recordCount, results, totalPages); "
                          "the API's layout may have changed"),
])
def test_a_body_that_is_not_a_page_of_rows_fails_the_crawl(runs, name, page, phrase):
    run = runs[name]
    assert len(run.server.attempts(page)) == 1
    assert_failed_plainly(run, "1 request(s) failed, the crawl is incomplete", phrase, f"page={page}")
    assert run.stats["findtreatment_api/failed_requests"] == 1
    assert len(run.stats["findtreatment_api/failures"]) == 1


def test_an_empty_first_page_keeps_no_listings_and_fails(runs):
    run = runs["empty result"]
    assert [s.page for s in run.server.seen if s.page] == [1]
    assert_failed_plainly(run, "the crawl kept no listings")
    assert run.stats.get("item_scraped_count", 0) == 0


def test_every_run_is_logged_with_its_stats(runs):
    for run in runs.values():
        (logged,) = run.runs
        assert logged["spider"] == "findtreatment_api" and logged["source_url"] == run.server.url
        assert logged["stats"]["downloader/request_count"] >= 1
        assert logged["started"] <= logged["finished"]


# --- the middleware's arithmetic, without a crawl ---------------------------------------

def middleware(**settings) -> BackoffRetryMiddleware:
    return BackoffRetryMiddleware.from_crawler(get_crawler(Spider, settings))


def test_retry_after_is_read_as_seconds_or_an_http_date():
    now = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert retry_after_seconds(b"120") == 120
    assert retry_after_seconds(" 7 ") == 7
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30
    assert retry_after_seconds(format_datetime(now - timedelta(hours=1), usegmt=True), now=now) == 0
    for bad in (None, b"", "soon", "-5", "1.5e3", "Wed, 99 Foo 2015"):
        assert retry_after_seconds(bad) is None, bad


def test_back_off_doubles_up_to_its_cap_and_retry_after_is_capped():
    mw = middleware(RETRY_BACKOFF_BASE=1, RETRY_BACKOFF_MAX=5, RETRY_BACKOFF_MAX_RETRY_AFTER=60)
    waits = [mw.delay_for(Request("http://x/", meta={"retry_times": n})) for n in range(5)]
    assert waits == [1, 2, 4, 5, 5]
    request = Request("http://x/")
    throttled = Response("http://x/", status=429, headers={"Retry-After": "3600"})
    assert mw.delay_for(request, throttled) == 60
    assert mw.delay_for(request, Response("http://x/", status=503, headers={"Retry-After": "3"})) == 3
    assert mw.delay_for(request, Response("http://x/", status=500, headers={"Retry-After": "30"})) == 1


async def test_back_off_waits_before_retrying_a_timeout_but_not_a_refused_connection(monkeypatch):
    waits = []

    async def sleep(seconds):
        waits.append(seconds)

    monkeypatch.setattr("crawler.middlewares.sleep", sleep)
    crawler = get_crawler(Spider, {"RETRY_BACKOFF_BASE": 1, "RETRY_TIMES": 2})
    crawler.spider = crawler._create_spider("faults")
    mw = BackoffRetryMiddleware.from_crawler(crawler)
    request = Request("http://x/")
    assert isinstance(await mw.process_exception(request, DownloadTimeoutError("slow")), Request)
    assert isinstance(await mw.process_exception(request, DownloadConnectionRefusedError("refused")), Request)
    assert waits == [1]  # nothing listens: retried at once, so the crawl fails fast and plainly
    throttled = Response("http://x/", status=503, headers={"Retry-After": "7"})
    assert isinstance(await mw.process_response(request, throttled), Request)
    assert waits == [1, 7]
    last = Request("http://x/", meta={"retry_times": 2})  # retries used up: no wait, the error goes on
    assert await mw.process_response(last, throttled) is throttled
    assert await mw.process_exception(last, DownloadTimeoutError("slow")) is None
    assert waits == [1, 7]
    assert crawler.stats.get_value("retry/backoff_seconds") == 8


def test_the_project_uses_the_back_off_middleware_instead_of_scrapys():
    middlewares = get_project_settings().getdict("DOWNLOADER_MIDDLEWARES")
    assert middlewares["scrapy.downloadermiddlewares.retry.RetryMiddleware"] is None
    assert middlewares["crawler.middlewares.BackoffRetryMiddleware"] == 550


@pytest.mark.parametrize("option", ["-s", "-a"])
def test_crawl_command_rejects_a_setting_without_a_value(capsys, monkeypatch, option):
    from scrapy.cmdline import execute

    from crawler.crawl import main

    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    name = "DOWNLOAD_TIMEOUT" if option == "-s" else "radius"
    # `scrapy safecrawl`, and `python -m crawler.crawl`, its older name: the same answer.
    for run in (lambda argv: execute(["scrapy", "safecrawl", *argv]), main):
        with pytest.raises(SystemExit) as exited:
            run(["findtreatment_api", "--output", "x.jsonl", option, name])
        assert exited.value.code == 2
        assert f"{option} '{name}': give NAME=VALUE" in capsys.readouterr().err
