"""A stand-in for FindTreatment.gov's JSON API on 127.0.0.1, serving the saved responses in
tests/fixtures/api, so the real crawl command can be run end to end without a network."""
from __future__ import annotations

import socket
from pathlib import Path

from werkzeug import Request, Response

from tests.support.stand_in import StandIn, answer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "api"
API_PATH = "/locator/exportsAsJson/v2"
ROBOTS_TXT = b"User-agent: *\nAllow: /\n"
# What a gateway in front of an API answers when the application behind it is down: 200 and HTML.
HTML_ERROR_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>FindTreatment.gov - Service Unavailable</title></head>\n"
    b"<body><h1>We're sorry</h1><p>The site is temporarily unavailable. Please try again later.</p>"
    b"</body></html>\n"
)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class FixtureApi(StandIn):
    """Serve the API in one of three modes:

    - "pages": /locator/exportsAsJson/v2?...&page=N answers houston_pageN.json (404 past the last);
    - "empty": every search answers houston_empty.json (recordCount 0);
    - "html": every search answers an HTML error page with status 200.

    `seen` lists (path, query dict) for every request, robots.txt included.
    """

    path = API_PATH

    def __init__(self, mode: str = "pages"):
        super().__init__()
        self.mode = mode
        self.seen: list[tuple[str, dict[str, list[str]]]] = []

    def handle(self, request: Request) -> Response:
        query = request.args.to_dict(flat=False)
        self.seen.append((request.path, query))
        if request.path == "/robots.txt":
            return answer(200, "text/plain", ROBOTS_TXT)
        if request.path != API_PATH:
            return answer(404, "text/plain", b"not found\n")
        if self.mode == "html":
            return answer(200, "text/html; charset=utf-8", HTML_ERROR_PAGE)
        if self.mode == "empty":
            return answer(200, "application/json", fixture("houston_empty.json"))
        path = FIXTURES / f"houston_page{query.get('page', ['1'])[0]}.json"
        if not path.is_file():
            return answer(404, "application/json", b'{"error": "no such page"}')
        return answer(200, "application/json", path.read_bytes())

    def pages_seen(self) -> list[int]:
        return [int(q["page"][0]) for p, q in self.seen if p == API_PATH and "page" in q]

    def paths_seen(self) -> list[str]:
        return [p for p, _ in self.seen]


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
