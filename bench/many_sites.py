"""A few hundred provider websites on 127.0.0.1, one small server per site (a site is a host and
port; pytest-httpserver's server, as tests/support's stand-ins), for crawls shared by several
workers: each site has a home page linking to two program pages, answers each request after
`delay` seconds, and every request is recorded with when it arrived and when it was answered, so
a test or bench.crawl_workers can see two requests to one site overlapping. It lives in bench/
because the bench uses it and nothing outside tests may import tests; the tests import it here."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
import time
from dataclasses import dataclass

import re

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

HTML = "text/html; charset=utf-8"
PAGES = {
    "/": "<html><head><title>{name}</title></head><body><h1>{name}</h1>"
         "<nav><a href='/programs/'>Our programs</a> <a href='/admissions/'>Admissions</a></nav>"
         "<p>Help for substance use in {name}'s town.</p></body></html>",
    "/programs/": "<html><head><title>Programs - {name}</title></head><body><h1>Programs</h1>"
                  "<h2>Levels of care</h2><ul><li>Intensive outpatient program (IOP)</li>"
                  "<li>Outpatient counseling</li></ul></body></html>",
    "/admissions/": "<html><head><title>Admissions - {name}</title></head><body><h1>Admissions</h1>"
                    "<p>Call us to start intake at {name}.</p></body></html>",
}


def answer(status: int, content_type: str, body: bytes) -> Response:
    return Response(body, status=status, content_type=content_type)


@dataclass
class Visit:
    site: int
    path: str
    arrived: float
    answered: float


class Site:
    def __init__(self, number: int, log: list[Visit], lock: threading.Lock, delay: float):
        self.number, self.log, self.lock, self.delay = number, log, lock, delay
        self.httpserver = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.httpserver.expect_request(re.compile(r".*")).respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpserver.port}/"

    def __enter__(self):
        self.httpserver.start()
        return self

    def __exit__(self, *exc):
        self.httpserver.clear()
        if self.httpserver.is_running():
            self.httpserver.stop()

    def handle(self, request: Request) -> Response:
        arrived = time.monotonic()
        time.sleep(self.delay)
        if request.path == "/robots.txt":
            response = answer(200, "text/plain", b"User-agent: *\nAllow: /\n")
        elif request.path in PAGES:
            response = answer(200, HTML, PAGES[request.path].format(name=f"Site {self.number}").encode())
        else:
            response = answer(404, HTML, b"<html><body>Not found</body></html>")
        with self.lock:
            self.log.append(Visit(self.number, request.path, arrived, time.monotonic()))
        return response


class ManySites:
    """`count` sites; `urls` is the spider's urls argument ("p1=http://127.0.0.1:port/,...")."""

    def __init__(self, count: int, delay: float = 0.05):
        self.log: list[Visit] = []
        self.lock = threading.Lock()
        self.sites = [Site(n, self.log, self.lock, delay) for n in range(1, count + 1)]

    def __enter__(self):
        for site in self.sites:
            site.__enter__()
        return self

    def __exit__(self, *exc):
        # Each server takes up to half a second to notice it should stop: stop them all at once.
        with ThreadPoolExecutor(max_workers=64) as pool:
            list(pool.map(lambda site: site.__exit__(*exc), self.sites))

    @property
    def urls(self) -> str:
        return ",".join(f"p{site.number}={site.url}" for site in self.sites)

    def expected_pages(self) -> set[tuple[str, str]]:
        """(program id, page URL) of every page a complete crawl reads."""
        return {(f"p{site.number}", f"{site.url.rstrip('/')}{path}") for site in self.sites for path in PAGES}

    def page_visits(self) -> list[Visit]:
        with self.lock:
            return [v for v in self.log if v.path != "/robots.txt"]

    def overlaps(self) -> list[tuple[Visit, Visit]]:
        """Pairs of requests to one site that were being answered at the same time."""
        with self.lock:
            visits = sorted(self.log, key=lambda v: (v.site, v.arrived))
        return [(a, b) for a, b in zip(visits, visits[1:]) if a.site == b.site and b.arrived < a.answered]
