"""A stand-in for FindTreatment.gov's JSON API that misbehaves on purpose, on 127.0.0.1 only.

It serves the saved search (tests/fixtures/api/houston_page{1,2,3}.json) like tests/support/api_server.py,
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

from werkzeug import Request, Response

from tests.support.api_server import API_PATH, FIXTURES, HTML_ERROR_PAGE, ROBOTS_TXT
from tests.support.stand_in import StandIn, answer


@dataclass
class Seen:
    path: str
    page: int | None
    attempt: int  # 1 for the first request of that page
    arrived: float  # time.monotonic() when the request arrived
    fault: str


def page_body(page: int) -> bytes | None:
    path = FIXTURES / f"houston_page{page}.json"
    return path.read_bytes() if path.is_file() else None


def status_fault(status: str, arg: str, body: bytes) -> Response:
    headers = {"Retry-After": arg.partition("=")[2]} if arg.startswith("retry-after=") else {}
    error = json.dumps({"error": f"fault {status}", "status": int(status)}).encode()
    return answer(int(status), "application/json", error, headers)


def sleep_fault(kind: str, arg: str, body: bytes) -> Response:
    time.sleep(float(kind.partition("=")[2]))
    return answer(200, "application/json", body)


def dataloss_fault(kind: str, arg: str, body: bytes) -> Response:
    """Half the page under the whole page's Content-Length, then the connection is dropped."""
    def half_then_hang_up():
        yield body[: len(body) // 2]
        raise ConnectionAbortedError("fault: dataloss")

    return Response(half_then_hang_up(), status=200, content_type="application/json",
                    headers={"Content-Length": str(len(body)), "Connection": "close"})


def layout_fault(kind: str, arg: str, body: bytes) -> Response:
    data = json.loads(body)
    data["results"] = data.pop("rows")
    return answer(200, "application/json", json.dumps(data).encode())


FAULTS = {
    "truncated": lambda kind, arg, body: answer(200, "application/json", body[: len(body) // 2]),
    "dataloss": dataloss_fault,
    "html": lambda kind, arg, body: answer(200, "text/html; charset=utf-8", HTML_ERROR_PAGE),
    "empty": lambda kind, arg, body: answer(200, "application/json", (FIXTURES / "houston_empty.json").read_bytes()),
    "layout": layout_fault,
    "ok": lambda kind, arg, body: answer(200, "application/json", body),
}


class FaultServer(StandIn):
    path = API_PATH

    def __init__(self, script: dict[int, list[str] | str] | None = None):
        super().__init__()
        self.script = script or {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()

    def handle(self, request: Request) -> Response:
        arrived = time.monotonic()
        if request.path == "/robots.txt":
            self.record(Seen(request.path, None, 1, arrived, "ok"))
            return answer(200, "text/plain", ROBOTS_TXT)
        if request.path != API_PATH:
            self.record(Seen(request.path, None, 1, arrived, "404"))
            return answer(404, "text/plain", b"not found\n")
        page = int(request.args.get("page", "1"))
        return self.misbehave(page, self.arrive(request.path, page, arrived))

    @staticmethod
    def misbehave(page: int, fault: str) -> Response:
        body = page_body(page)
        if body is None:
            return answer(404, "application/json", b'{"error": "no such page"}')
        kind, _, arg = fault.partition(" ")
        if kind.isdigit():
            return status_fault(kind, arg, body)
        if kind.startswith("sleep="):
            return sleep_fault(kind, arg, body)
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}")
        return FAULTS[kind](kind, arg, body)

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

