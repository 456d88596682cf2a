"""Provider websites on 127.0.0.1 for the provider_sites spider: one server per site, serving a
folder of tests/fixtures/sites (robots.txt included) plus routes a test adds (a PDF behind an
extensionless URL, a page too big to read), and recording every request it gets."""
from __future__ import annotations

import threading
import time
from pathlib import Path

from werkzeug import Request, Response

from tests.support.stand_in import StandIn, answer

SITES = Path(__file__).resolve().parent.parent / "fixtures" / "sites"
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".txt": "text/plain; charset=utf-8",
                 ".pdf": "application/pdf", ".json": "application/json"}
NOT_FOUND = b"<html><body><h1>Not found</h1></body></html>"


class SiteServer(StandIn):
    """Serve SITES/<name>/ at http://127.0.0.1:<port>/: "/a/b/" answers a/b/index.html, "/a/b"
    a/b.html or a/b/index.html. `routes` maps a path to (content type, body). `seen` lists the
    paths requested, in order; `most_at_once` is the largest number of requests in flight."""

    def __init__(self, name: str, routes: dict[str, tuple[str, bytes]] | None = None, delay: float = 0.02):
        super().__init__()
        self.root = SITES / name
        if not self.root.is_dir():
            raise FileNotFoundError(f"no fixture site {self.root}")
        self.routes = dict(routes or {})
        self.delay = delay  # long enough for overlapping requests to show
        self.seen: list[str] = []
        self.in_flight = 0
        self.most_at_once = 0
        self.lock = threading.Lock()

    def handle(self, request: Request) -> Response:
        path = request.path
        with self.lock:
            self.seen.append(path)
            self.in_flight += 1
            self.most_at_once = max(self.most_at_once, self.in_flight)
        try:
            time.sleep(self.delay)
            if path in self.routes:
                return answer(200, *self.routes[path])
            file = self.file_for(path)
            if file is None:
                return answer(404, "text/html; charset=utf-8", NOT_FOUND)
            return answer(200, CONTENT_TYPES.get(file.suffix, "application/octet-stream"), file.read_bytes())
        finally:
            with self.lock:
                self.in_flight -= 1

    def file_for(self, path: str) -> Path | None:
        relative = path.strip("/")
        if ".." in relative.split("/"):
            return None
        candidates = [self.root / relative / "index.html"] if path.endswith("/") else [
            self.root / relative, self.root / f"{relative}.html", self.root / relative / "index.html"]
        return next((c for c in candidates if c.is_file()), None)

    def pages_seen(self) -> list[str]:
        """Requested paths other than robots.txt."""
        return [p for p in self.seen if p != "/robots.txt"]

