"""Several crawl workers sharing one frontier on a real Redis server, as `make crawl-workers` runs
them: against local stand-ins for the API and for a few hundred provider websites, every page is
fetched once across workers, one request at a time per site in total, the combined feed equals
what one process produces, a worker killed mid-crawl loses nothing, and a stopped crawl resumes."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from crawler.listing_key import row_key
from crawler.redis_server import redis_server
from tests.support import ROOT, need_shared, CODE_REFERENCE
from tests.support.api_server import FixtureApi
from tests.support.fault_server import FaultServer
from tests.support.listing_api import ListingApi
from bench.many_sites import ManySites

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "WORKER_HEARTBEAT=0.5",
        "-s", "WORKER_TIMEOUT=3", "-s", "SITE_SLOT_TTL=5", "-s", "DOWNLOAD_TIMEOUT=10"]
SITES = 200


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A real redis-server on a free 127.0.0.1 port, for the tests that start workers themselves."""
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


def workers(spider, output, *arguments, count=2, extra=(), timeout=300):
    return subprocess.run([sys.executable, "-m", "scrapy", "workers", spider, "--workers", str(count),
                           "--output", str(output), *arguments, *FAST, *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def worker(spider, url, crawl_id, *arguments):
    """One worker started by hand, as a second machine starts it."""
    return subprocess.Popen([sys.executable, "-m", "scrapy", "crawl", spider, *arguments, "-s", f"REDIS_URL={url}",
                             "-s", f"CRAWL_ID={crawl_id}", *FAST], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def feed(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def pages(items):
    return sorted((i["program_id"], i["url"]) for i in items)


def test_two_workers_fetch_each_api_page_once_and_write_what_one_process_writes(tmp_path):
    need_shared(CODE_REFERENCE)
    cities = "Houston, TX;Pasadena, TX;Sugar Land, TX"  # 25-mile circles that overlap
    with FixtureApi() as api:
        shared = workers("findtreatment_api", tmp_path / "shared" / "api.jsonl", "--cities", cities,
                         "-a", f"api_url={api.url}", extra=["-s", f"REDIS_DIR={tmp_path / 'redis'}"])
        assert shared.returncode == 0, shared.stderr
        searched = [(q["sAddr"][0], q["page"][0]) for p, q in api.seen if "page" in q]
        assert len(searched) == len(set(searched)) == 9  # three searches of three pages, each once
        single = subprocess.run([sys.executable, "-m", "scrapy", "safecrawl", "findtreatment_api", "--cities", cities,
                                 "--output", str(tmp_path / "single" / "api.jsonl"), "-a", f"api_url={api.url}", *FAST],
                                cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert single.returncode == 0, single.stderr
    # Each row in the area whose centre is nearest (the 77082 one is nearer Sugar Land's).
    assert shared.stdout.startswith("Crawled 8 listings (Houston, TX 7; Sugar Land, TX 1) with findtreatment_api by 2")
    together, alone = feed(tmp_path / "shared" / "api.jsonl"), feed(tmp_path / "single" / "api.jsonl")
    # The same 8 rows, each once although three overlapping searches found it, in the same area.
    assert len(together) == len(alone) == 8
    assert sorted((row_key(i), i["city_query"]) for i in together) == sorted((row_key(i), i["city_query"]) for i in alone)
    (run,) = feed(tmp_path / "shared" / "crawl_runs.jsonl")
    assert run["status"] == "finished" and run["items"] == 8 and run["areas"] == {"Houston, TX": 7, "Sugar Land, TX": 1}
    assert run["stats"]["workers/count"] == 2 and run["stats"]["dedup/repeated_rows"] == 16


def test_two_workers_read_a_few_hundred_sites_each_page_once_one_request_at_a_time_per_site(tmp_path):
    with ManySites(SITES) as sites:
        result = workers("provider_sites", tmp_path / "sites.jsonl", "-a", f"urls={sites.urls}",
                         extra=["-s", f"REDIS_DIR={tmp_path / 'redis'}"])
        assert result.returncode == 0, result.stderr
        visits = sites.page_visits()
        overlapping = sites.overlaps()
        expected = sorted(sites.expected_pages())
    assert result.stdout.startswith(f"Crawled {3 * SITES} pages of {SITES} program websites with provider_sites by 2")
    assert len(visits) == len({(v.site, v.path) for v in visits}) == 3 * SITES  # every page once, in total
    assert overlapping == []  # never two requests at once to one site, across both workers
    assert pages(feed(tmp_path / "sites.jsonl")) == expected
    (run,) = feed(tmp_path / "crawl_runs.jsonl")
    reasons = run["stats"]["workers/finish_reasons"]
    assert len(reasons) == 2 and set(reasons.values()) == {"finished"}
    # Both workers did part of the work.
    assert run["stats"]["provider_sites/sites"] == SITES and run["stats"]["provider_sites/pages_read"] == 3 * SITES


def test_the_api_gets_one_request_at_a_time_from_all_workers_together(tmp_path):
    need_shared(CODE_REFERENCE)
    cities = tmp_path / "cities.txt"
    cities.write_text("\n".join(["Houston, TX", "Dallas, TX", "Austin, TX", "San Antonio, TX", "El Paso, TX",
                                 "Lubbock, TX", "Amarillo, TX", "Laredo, TX"]), encoding="utf-8")
    overlaps = {}
    for shared in (True, False):  # without the shared slots, to show the stand-in would see it
        with ListingApi(rows=30, delay=0.4) as api:
            run = workers("findtreatment_api", tmp_path / str(shared) / "api.jsonl", "--cities-file", str(cities),
                          "-a", f"api_url={api.url}", extra=["-s", f"REDIS_DIR={tmp_path / 'redis' / str(shared)}",
                                                             "-s", f"SITE_SLOTS_SHARED={shared}"])
            assert run.returncode == 0, run.stderr
            overlaps[shared] = api.overlaps()
            assert len(api.searches()) == 8
    assert overlaps[True] == 0 and overlaps[False] > 0


def test_faults_are_retried_across_workers_and_a_page_that_always_fails_fails_the_shared_crawl(tmp_path):
    need_shared(CODE_REFERENCE)
    with FaultServer({2: ["503", "503"]}) as server:
        retried = workers("findtreatment_api", tmp_path / "retried" / "api.jsonl", "--cities", "Houston, TX",
                          "-a", f"api_url={server.url}", extra=["-s", f"REDIS_DIR={tmp_path / 'redis1'}",
                                                                "-s", "RETRY_BACKOFF_BASE=0.2"])
        assert retried.returncode == 0, retried.stderr
        assert [s.fault for s in server.attempts(2)] == ["503", "503", "ok"]
    assert len(feed(tmp_path / "retried" / "api.jsonl")) == 8
    with FaultServer({2: "500"}) as server:
        failed = workers("findtreatment_api", tmp_path / "failed" / "api.jsonl", "--cities", "Houston, TX",
                         "-a", f"api_url={server.url}", extra=["-s", f"REDIS_DIR={tmp_path / 'redis2'}",
                                                               "-s", "RETRY_BACKOFF_BASE=0.2"])
        assert len(server.attempts(2)) == 4  # once and three retries, in total across the workers
        assert not (tmp_path / "failed" / "api.jsonl").exists()
        server.script = {}  # the source is back: the same command crawls afresh, nothing skipped
        again = workers("findtreatment_api", tmp_path / "failed" / "api.jsonl", "--cities", "Houston, TX",
                        "-a", f"api_url={server.url}", extra=["-s", f"REDIS_DIR={tmp_path / 'redis2'}"])
        assert again.returncode == 0, again.stderr
        assert len(server.attempts(1)) == 2 and len(server.attempts(2)) == 5
    assert failed.returncode == 1 and "1 request(s) failed, the crawl is incomplete" in failed.stderr
    assert "HTTP 500 Internal Server Error, failed after retries (4 attempts)" in failed.stderr
    assert len(feed(tmp_path / "failed" / "api.jsonl")) == 8


def test_a_worker_killed_mid_crawl_loses_nothing(tmp_path, redis_url):
    crawl_id, server = "killed", redis.Redis.from_url(redis_url)
    with ManySites(60, delay=0.3) as sites:
        arguments = ["-a", f"urls={sites.urls}"]
        first = worker("provider_sites", redis_url, crawl_id, *arguments)
        deadline = time.monotonic() + 60
        while len(sites.page_visits()) < 20:  # the first worker is well into the crawl
            assert first.poll() is None and time.monotonic() < deadline, first.stderr.read()
            time.sleep(0.05)
        second = worker("provider_sites", redis_url, crawl_id, *arguments)
        while len(server.keys(f"{crawl_id}:alive:*")) < 2:  # both at work
            assert second.poll() is None and time.monotonic() < deadline, second.stderr.read()
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)  # no goodbye: its leases and site slots must expire
        first.wait(timeout=10)
        assert len(sites.page_visits()) < 3 * 60  # killed mid-crawl
        assert second.wait(timeout=120) == 0, second.stderr.read()
        judged = workers("provider_sites", tmp_path / "sites.jsonl", *arguments, count=0,
                         extra=["--redis", redis_url, "--crawl-id", crawl_id])
        visits = sites.page_visits()
        expected = sorted(sites.expected_pages())
    assert judged.returncode == 0, judged.stderr
    assert pages(feed(tmp_path / "sites.jsonl")) == expected  # every page, each once
    assert {(v.site, v.path) for v in visits} == {(s.number, p) for s in sites.sites for p in ("/", "/programs/", "/admissions/")}
    (run,) = feed(tmp_path / "crawl_runs.jsonl")
    assert run["stats"].get("frontier/requeued_from_dead_workers", 0) >= 1  # the killed worker's work went back
    assert not redis.Redis.from_url(redis_url).keys(f"{crawl_id}:*")  # a published crawl clears its keys


def test_a_stopped_shared_crawl_resumes_where_it_stopped(tmp_path):
    output, folder = tmp_path / "sites.jsonl", tmp_path / "redis"
    with ManySites(60, delay=0.3) as sites:
        command = [sys.executable, "-m", "scrapy", "workers", "provider_sites", "--workers", "2", "-a",
                   f"urls={sites.urls}", "--output", str(output), *FAST, "-s", f"REDIS_DIR={folder}"]
        # A terminal's Ctrl-C: SIGINT as a terminal delivers it, whatever this test run inherited (a
        # job started in the background by a script has SIGINT ignored, and children inherit that).
        first = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 start_new_session=True,
                                 preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.monotonic() + 60
        while len(sites.page_visits()) < 40:
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.05)
        os.killpg(first.pid, signal.SIGINT)  # Ctrl-C at the terminal
        _, stderr = first.communicate(timeout=120)
        assert first.returncode == 1 and "still in the frontier" in stderr, stderr
        assert not output.exists()
        before = len(sites.page_visits())
        assert before < 3 * 60
        second = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert second.returncode == 0, second.stderr
        visits = sites.page_visits()
        expected = sorted(sites.expected_pages())
    assert pages(feed(output)) == expected
    # The resumed crawl asked only for what was left (a page in flight at the stop may come twice).
    assert len(visits) - len({(v.site, v.path) for v in visits}) <= 4
    assert len(visits) - before < 3 * 60
    failed, finished = feed(tmp_path / "crawl_runs.jsonl")
    assert failed["status"] == "failed" and finished["status"] == "finished"
