"""Crawl monitors: a crawl that finishes cleanly but silently returns much less than the last good
crawl of the same scope, or loses a field, never replaces the published feed, says why in one
line, shows every monitor's result and logs them in crawl_runs.jsonl; an explicit override exists."""
import json
import subprocess
import sys

from scrapy.settings import Settings

from crawler.monitors import FeedProfile, count_checks, request_checks
from tests.support import CODE_REFERENCE, ROOT, need_shared
from tests.support.listing_api import ListingApi

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "WORKER_HEARTBEAT=0.5",
        "-s", "WORKER_TIMEOUT=3"]


def safecrawl(api, output, *extra):
    return subprocess.run([sys.executable, "-m", "scrapy", "safecrawl", "findtreatment_api", "--states", "TX;MA",
                           "-a", f"api_url={api.url}", "--output", str(output), *FAST, *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


def runs(output):
    return [json.loads(line) for line in (output.parent / "crawl_runs.jsonl").read_text().splitlines()]


def lines(output):
    return output.read_text(encoding="utf-8").splitlines()


def test_a_crawl_that_returns_half_of_last_weeks_listings_is_refused_unless_overridden(tmp_path):
    need_shared(CODE_REFERENCE)
    output = tmp_path / "api.jsonl"
    with ListingApi(rows=60, states=("TX", "MA")) as api:
        assert safecrawl(api, output).returncode == 0
        good = lines(output)
        api.rows = 30  # the source silently returns half
        shrunk = safecrawl(api, output)
        assert shrunk.returncode == 1
        assert lines(output) == good  # the last good feed stays
        assert "crawl failed (findtreatment_api): monitor failed: items: 60 against 120 in the last good run (-50%" in shrunk.stderr
        assert "  monitor FAIL items per area: 2 of 2 areas lost over 30%: MA 30 (was 60); TX 30 (was 60)" in shrunk.stderr
        accepted = safecrawl(api, output, "-s", "CRAWL_MONITORS_OVERRIDE=1")
        assert accepted.returncode == 0, accepted.stderr
        assert len(lines(output)) == 60
        assert "  monitor FAIL items: 60 against 120" in accepted.stderr  # shown, and accepted as asked
    first, refused, overridden = runs(output)
    assert first["status"] == "finished" and first["areas"] == {"TX": 60, "MA": 60}
    assert refused["status"] == "failed" and refused["error"].startswith("monitor failed: items: 60 against 120")
    assert [m["name"] for m in refused["monitors"] if not m["ok"]] == ["items", "items per area"]
    assert overridden["status"] == "finished" and overridden["monitors_overridden"] is True
    # The next crawl compares with the accepted one.
    assert overridden["items"] == 60


def test_one_area_that_shrinks_fails_even_when_the_total_holds(tmp_path):
    need_shared(CODE_REFERENCE)
    output = tmp_path / "api.jsonl"
    with ListingApi(rows=90, states=("TX", "MA")) as api:
        api.state_rows = {"MA": 30}
        assert safecrawl(api, output).returncode == 0
        api.state_rows = {"MA": 10}  # 100 against 120: -17% in all, but Massachusetts lost two thirds
        run = safecrawl(api, output)
    assert run.returncode == 1
    assert "monitor failed: items per area: 1 of 2 areas lost over 30%: MA 10 (was 30)" in run.stderr
    assert "  monitor ok   items: 100 against 120 in the last good run (-17%; at most -30%)" in run.stderr


def test_a_field_that_goes_missing_fails_its_coverage_monitor(tmp_path):
    need_shared(CODE_REFERENCE)
    output = tmp_path / "api.jsonl"
    with ListingApi(rows=40, states=("TX",), without_phone=20) as api:
        run = subprocess.run([sys.executable, "-m", "scrapy", "safecrawl", "findtreatment_api", "--states", "TX",
                              "-a", f"api_url={api.url}", "--output", str(output), *FAST],
                             cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1 and not output.exists()
    assert "monitor failed: field phone: 50.0% of items (at least 80%)" in run.stderr
    assert "  monitor ok   field name1: 100.0% of items (at least 99%)" in run.stderr


def test_a_shrunken_crawl_by_several_workers_is_refused_too(tmp_path):
    need_shared(CODE_REFERENCE)
    output = tmp_path / "api.jsonl"

    def workers(api):
        return subprocess.run([sys.executable, "-m", "scrapy", "workers", "findtreatment_api", "--workers", "2",
                               "--states", "TX;MA", "-a", f"api_url={api.url}", "--output", str(output), *FAST,
                               "-s", f"REDIS_DIR={tmp_path / 'redis'}"], cwd=ROOT, capture_output=True, text=True,
                              timeout=300)

    with ListingApi(rows=60, states=("TX", "MA")) as api:
        assert workers(api).returncode == 0
        api.rows = 25
        shrunk = workers(api)
    assert shrunk.returncode == 1 and len(lines(output)) == 120
    assert "monitor failed: items: 50 against 120 in the last good run (-58%" in shrunk.stderr
    assert [r["status"] for r in runs(output)] == ["finished", "failed"]


def test_shares_of_retries_and_unwanted_statuses_are_judged_on_enough_requests():
    settings = Settings({"MONITOR_MIN_REQUESTS": 50})
    few = request_checks({"downloader/request_count": 10, "retry/count": 9}, settings)
    assert [c.ok for c in few] == [True]
    many = request_checks({"downloader/request_count": 100, "retry/count": 30,
                           "downloader/response_status_count/200": 85, "downloader/response_status_count/429": 6,
                           "downloader/response_status_count/503": 5, "downloader/response_status_count/404": 4},
                          settings)
    assert [(c.name, c.ok) for c in many] == [("retries", False), ("unwanted HTTP statuses", False)]
    assert many[1].detail.startswith("11 of 100 responses")  # 404 is an answer, not a fault


def test_without_an_earlier_good_run_the_count_is_only_recorded():
    (check,) = count_checks(FeedProfile(items=5), None, Settings())
    assert check.ok and "no earlier good run" in check.detail
