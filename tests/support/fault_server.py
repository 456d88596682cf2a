"""A stand-in for FindTreatment.gov's JSON API that misbehaves on purpose, on 127.0.0.1 only.

It serves the saved search (tests/fixtures/api/houston_page{1,2,3}.json) like tests/api_server.py,
except where a fault script says otherwise. A script maps a page number to what that page
answers, attempt by attempt:

    FaultServer({2: ["503", "503"]})        # page 2: 503 twice, then the page
    FaultServer({1: ["429 retry-after=2"]}) # page 1: 429 with Retry-After: 2 once, then the page
    FaultServer({2: "500"})                 # page 2: 500 on every attempt (a string: always)

Faults:
    "<status>"                     that status with a small JSON error body, e.g. "500", "503"
    "<status> retry-after=<value>" the same with a Retry-After header (seconds or an HTTP date)
    "sleep=<seconds>"              answer the page only after that long (longer than DOWNLOAD_TIMEOUT)
    "truncated"                    the page's JSON cut in half, sent as a complete 200 response
    "dataloss"                     the page with a Content-Length longer than the body, then hang up
    "html"                         an HTML error page with status 200 (a gateway's "we're sorry")
    "empty"                        an empty result (houston_empty.json)
    "layout"                       the page with "rows" renamed to "results" (the API changed)
    "ok"                           the page itself

Every request is recorded (path, page, attempt for that page, arrival time on time.monotonic()).
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tests.support.api_server import API_PATH, FIXTURES, HTML_ERROR_PAGE, ROBOTS_TXT
from tests.support.local_server import LocalServer


@dataclass
class Seen:
    path: str
    page: int | None
    attempt: int  # 1 for the first request of that page
    arrived: float  # time.monotonic() when the request line was read
    fault: str


def page_body(page: int) -> bytes | None:
    path = FIXTURES / f"houston_page{page}.json"
    return path.read_bytes() if path.is_file() else None


class FaultServer(LocalServer):
    def __init__(self, script: dict[int, list[str] | str] | None = None):
        self.script = script or {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                arrived = time.monotonic()
                parts = urlsplit(self.path)
                if parts.path == "/robots.txt":
                    server.record(Seen(parts.path, None, 1, arrived, "ok"))
                    return self.answer(200, "text/plain", ROBOTS_TXT)
                if parts.path != API_PATH:
                    server.record(Seen(parts.path, None, 1, arrived, "404"))
                    return self.answer(404, "text/plain", b"not found\n")
                page = int(parse_qs(parts.query).get("page", ["1"])[0])
                fault = server.arrive(parts.path, page, arrived)
                try:
                    self.misbehave(page, fault)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout): what the fault was for

            def misbehave(self, page: int, fault: str):
                body = page_body(page)
                if body is None:
                    return self.answer(404, "application/json", b'{"error": "no such page"}')
                kind, _, arg = fault.partition(" ")
                if kind.isdigit():
                    headers = {}
                    if arg.startswith("retry-after="):
                        headers["Retry-After"] = arg.partition("=")[2]
                    error = json.dumps({"error": f"fault {kind}", "status": int(kind)}).encode()
                    return self.answer(int(kind), "application/json", error, headers)
                if kind.startswith("sleep="):
                    time.sleep(float(kind.partition("=")[2]))
                    return self.answer(200, "application/json", body)
                if kind == "truncated":
                    return self.answer(200, "application/json", body[: len(body) // 2])
                if kind == "dataloss":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    return None  # HTTP/1.0: the connection closes, short of Content-Length
                if kind == "html":
                    return self.answer(200, "text/html; charset=utf-8", HTML_ERROR_PAGE)
                if kind == "empty":
                    return self.answer(200, "application/json", (FIXTURES / "houston_empty.json").read_bytes())
                if kind == "layout":
                    data = json.loads(body)
                    data["results"] = data.pop("rows")
                    return self.answer(200, "application/json", json.dumps(data).encode())
                if kind == "ok":
                    return self.answer(200, "application/json", body)
                raise ValueError(f"unknown fault {fault!r}")

            def answer(self, status: int, content_type: str, body: bytes, headers: dict | None = None):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # keep the test output quiet
                pass

        self.serve(Handler)
        self.url = f"http://127.0.0.1:{self.port}{API_PATH}"

    def arrive(self, path: str, page: int, arrived: float) -> str:
        """Record a request for a page; return the fault its attempt answers with."""
        faults = self.script.get(page, [])
        with self.lock:
            attempt = 1 + sum(1 for s in self.seen if s.page == page)
            if isinstance(faults, str):
                fault = faults
            else:
                fault = faults[attempt - 1] if attempt <= len(faults) else "ok"
            self.seen.append(Seen(path, page, attempt, arrived, fault))
        return fault

    def record(self, seen: Seen) -> None:
        with self.lock:
            self.seen.append(seen)

    def attempts(self, page: int) -> list[Seen]:
        return [s for s in self.seen if s.page == page]

    def gaps(self, page: int) -> list[float]:
        """Seconds between one request of the page and the next."""
        times = [s.arrived for s in self.attempts(page)]
        return [b - a for a, b in zip(times, times[1:])]

