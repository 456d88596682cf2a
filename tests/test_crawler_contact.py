"""A live crawl refuses to start without CRAWLER_CONTACT, in one line that says how to set it;
a crawl of this machine's own sources (files, 127.0.0.1: the demo and the tests) needs none
(issue 15, finding 8: a live crawl with CRAWLER_CONTACT unset ran without a word). The real
commands, run as a user runs them: make targets and `scrapy` in a subprocess.

"Live" is shown without the internet: the same stand-in server is asked for by its 127.0.0.1
address (local: the crawl runs) and by this machine's own network address (live: refused
unless a contact is given, and then the contact is in every request's User-Agent)."""
from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from crawler.contact import PLACEHOLDER, contact_given, is_local
from tests.support import ROOT, TX_CSV, need_shared
from tests.support.stand_in import EVERY_PATH

REFUSED = "CRAWLER_CONTACT is not set: run `make crawl-live CRAWLER_CONTACT=you@example.org`"
CONTACT = "crawls@treatment-directory.test"


def environment(**more) -> dict:
    """This environment without CRAWLER_CONTACT (and not as a sub-make of `make test`)."""
    drop = {"CRAWLER_CONTACT", "MAKELEVEL", "MAKEFLAGS", "MFLAGS"}
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **more}


def run(command: list[str], timeout: float = 180, **env) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=environment(**env))


def said(result) -> list[str]:
    """What the command said on stderr, without make's own "make: *** ... Error 1" lines."""
    return [line for line in result.stderr.splitlines() if not line.startswith(("make: ", "make["))]


def network_address() -> str | None:
    """This machine's address on its network (no packet is sent), or None when it has only loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


class ExportHost:
    """The Houston/Dallas export served on every interface; records each request's User-Agent."""

    def __init__(self):
        self.server = HTTPServer(host="0.0.0.0", port=0, threaded=True)
        self.agents: list[tuple[str, str]] = []
        self.server.expect_request(EVERY_PATH).respond_with_handler(self.handle)

    def handle(self, request):
        self.agents.append((request.path, request.headers.get("User-Agent", "")))
        if request.path.endswith(".csv"):
            return Response(TX_CSV.read_bytes(), content_type="text/csv")
        return Response("", status=404)

    def url(self, host: str) -> str:
        return f"http://{host}:{self.server.port}/{TX_CSV.name}"

    def __enter__(self):
        self.server.start()
        return self

    def __exit__(self, *exc):
        self.server.stop()


@pytest.fixture(scope="module")
def export_host():
    need_shared(TX_CSV)
    with ExportHost() as host:
        yield host


@pytest.fixture(scope="module")
def live_address():
    address = network_address()
    if address is None:
        pytest.skip("this machine has no network address besides loopback to stand for a live host")
    return address


def safecrawl(source: str, output, **env) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "scrapy", "safecrawl", "findtreatment_export", "--cities", "Houston, TX",
                "--source", source, "--output", str(output), "-s", "DOWNLOAD_DELAY=0",
                "-s", "AUTOTHROTTLE_ENABLED=False"], **env)


# The make targets ------------------------------------------------------------------------------

def test_make_crawl_live_without_a_contact_refuses_in_one_line_before_any_request(tmp_path):
    started = time.monotonic()
    result = run(["make", "--no-print-directory", "-s", "crawl-live", "CITIES=Houston, TX",
                  f"API_FEED={tmp_path / 'api.jsonl'}"])
    assert result.returncode != 0
    assert len(said(result)) == 1 and said(result)[0].startswith(f"crawl refused (findtreatment_api): {REFUSED}")
    assert "`make demo`" in said(result)[0]  # offline, what to do instead
    assert list(tmp_path.iterdir()) == []  # no feed, no run logged: nothing started
    assert time.monotonic() - started < 60


def test_make_national_without_a_contact_refuses_before_starting_redis(tmp_path):
    result = run(["make", "--no-print-directory", "-s", "national", f"API_FEED={tmp_path / 'api.jsonl'}",
                  f"DB={tmp_path / 'programs.db'}"])
    assert result.returncode != 0
    assert len(said(result)) == 1 and said(result)[0].startswith(f"crawl refused (findtreatment_api): {REFUSED}")
    assert list(tmp_path.iterdir()) == []


def test_make_sites_without_a_contact_refuses_when_the_websites_are_live(tmp_path):
    db = tmp_path / "programs.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table programs (id text primary key, name text, website text)")
        conn.execute("insert into programs values ('p1', 'A Program', 'https://treatment-program.org/')")
    result = run(["make", "--no-print-directory", "-s", "sites", f"DB={db}", f"SITES_FEED={tmp_path / 'sites.jsonl'}"])
    assert result.returncode != 0
    assert len(said(result)) == 1 and said(result)[0].startswith(f"crawl refused (provider_sites): {REFUSED}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["programs.db"]


def test_the_offline_demo_crawl_needs_no_contact(tmp_path):
    need_shared(TX_CSV)
    result = run(["make", "--no-print-directory", "-s", "crawl", "CITIES=Houston, TX", f"DEMO_SOURCE={TX_CSV}",
                  f"EXPORT_FEED={tmp_path / 'export.jsonl'}"], timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "export.jsonl").stat().st_size > 0


# The same server, local and live ---------------------------------------------------------------

def test_a_server_on_127_0_0_1_is_crawled_without_a_contact(tmp_path, export_host):
    result = safecrawl(export_host.url("127.0.0.1"), tmp_path / "export.jsonl")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Crawled ") and (tmp_path / "export.jsonl").stat().st_size > 0
    assert any(path.endswith(".csv") and PLACEHOLDER in agent for path, agent in export_host.agents)


def test_a_live_host_is_refused_without_a_contact_and_asked_nothing(tmp_path, export_host, live_address):
    before = len(export_host.agents)
    result = safecrawl(export_host.url(live_address), tmp_path / "export.jsonl")
    assert result.returncode == 1
    assert len(said(result)) == 1 and said(result)[0].startswith(f"crawl refused (findtreatment_export): {REFUSED}")
    assert len(export_host.agents) == before and list(tmp_path.iterdir()) == []


def test_a_live_host_is_crawled_with_a_contact_and_every_request_names_it(tmp_path, export_host, live_address):
    before = len(export_host.agents)
    result = safecrawl(export_host.url(live_address), tmp_path / "export.jsonl", CRAWLER_CONTACT=CONTACT)
    assert result.returncode == 0, result.stderr
    asked = export_host.agents[before:]
    assert {path for path, _ in asked} == {"/robots.txt", f"/{TX_CSV.name}"}
    assert all(f"contact: {CONTACT})" in agent for _, agent in asked), asked


def test_a_plain_scrapy_crawl_of_a_live_host_closes_before_its_first_request(tmp_path, export_host, live_address):
    before = len(export_host.agents)
    output = tmp_path / "export.jsonl"
    result = run([sys.executable, "-m", "scrapy", "crawl", "findtreatment_export", "-a", "cities=Houston, TX",
                  "-a", f"source={export_host.url(live_address)}", "-O", str(output)])
    errors = [line for line in result.stderr.splitlines() if " ERROR: " in line]
    assert len(errors) == 1 and errors[0].split(" ERROR: ", 1)[1].startswith(REFUSED), result.stderr
    assert len(export_host.agents) == before
    assert not output.exists() or output.read_text() == ""


# What counts as live, and as a contact ---------------------------------------------------------

@pytest.mark.parametrize("url, local", [
    ("https://findtreatment.gov/locator/exportsAsJson/v2", False), ("http://192.0.2.2:8000/x.csv", False),
    ("http://10.0.0.5/", False), ("ftp://files.example.net/x.csv", False),
    ("http://127.0.0.1:8001/x", True), ("http://127.8.0.1/", True), ("http://[::1]:80/", True),
    ("http://localhost:9/", True), ("http://sites.localhost/", True), ("file:///tmp/x.csv", True),
    ("../shared/data/samhsa/findtreatment_export_TX_2023.xlsx", True),
])
def test_what_counts_as_a_local_source(url, local):
    assert is_local(url) is local


@pytest.mark.parametrize("contact, given", [
    (None, False), ("", False), ("  ", False), (PLACEHOLDER, False), ("you@example.org", False),
    ("https://www.example.com/contact", False), (CONTACT, True), ("https://my-clinic-map.org/about", True),
])
def test_what_counts_as_a_contact(contact, given):
    assert contact_given(contact) is given
