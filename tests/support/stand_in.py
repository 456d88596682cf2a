"""A local stand-in for a web source: pytest-httpserver's HTTPServer on a free 127.0.0.1 port,
threaded (a crawl asks for robots.txt and pages at once), with one handler for every path. The
API stand-ins (api_server.py, fault_server.py) are built on it; used as a context manager."""
from __future__ import annotations

import re

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

EVERY_PATH = re.compile(r".*")


class StandIn:
    """Subclasses answer every request in `handle`; `url` is known once the server is entered."""

    path = "/"

    def __init__(self):
        self.httpserver = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.httpserver.expect_request(EVERY_PATH).respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    @property
    def port(self) -> int:
        return self.httpserver.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def __enter__(self):
        self.httpserver.start()
        return self

    def __exit__(self, *exc):
        self.httpserver.clear()
        if self.httpserver.is_running():
            self.httpserver.stop()


def answer(status: int, content_type: str, body: bytes, headers: dict | None = None) -> Response:
    return Response(body, status=status, headers=headers or {}, content_type=content_type)
