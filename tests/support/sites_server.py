"""Provider websites on 127.0.0.1 for the provider_sites spider: one server per site, serving a
folder of tests/fixtures/sites (robots.txt included) plus routes a test adds (a PDF behind an
extensionless URL, a page too big to read), and recording every request it gets."""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tests.support.local_server import LocalServer

SITES = Path(__file__).resolve().parent.parent / "fixtures" / "sites"
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".txt": "text/plain; charset=utf-8",
                 ".pdf": "application/pdf", ".json": "application/json"}


class SiteServer(LocalServer):
    """Serve SITES/<name>/ at http://127.0.0.1:<port>/: "/a/b/" answers a/b/index.html, "/a/b"
    a/b.html or a/b/index.html. `routes` maps a path to (content type, body). `seen` lists the
    paths requested, in order; `most_at_once` is the largest number of requests in flight."""

    def __init__(self, name: str, routes: dict[str, tuple[str, bytes]] | None = None, delay: float = 0.02):
        self.root = SITES / name
        if not self.root.is_dir():
            raise FileNotFoundError(f"no fixture site {self.root}")
        self.routes = dict(routes or {})
        self.seen: list[str] = []
        self.in_flight = 0
        self.most_at_once = 0
        lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                path = unquote(urlsplit(self.path).path)
                with lock:
                    site.seen.append(path)
                    site.in_flight += 1
                    site.most_at_once = max(site.most_at_once, site.in_flight)
                try:
                    time.sleep(delay)  # long enough for overlapping requests to show
                    if path in site.routes:
                        return self.answer(200, *site.routes[path])
                    file = site.file_for(path)
                    if file is None:
                        return self.answer(404, "text/html; charset=utf-8", b"<html><body><h1>Not found</h1></body></html>")
                    return self.answer(200, CONTENT_TYPES.get(file.suffix, "application/octet-stream"), file.read_bytes())
                finally:
                    with lock:
                        site.in_flight -= 1

            def answer(self, status: int, content_type: str, body: bytes):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the crawler stopped reading (a non-HTML or too-large response): expected

            def log_message(self, *args):  # keep the test output quiet
                pass

        self.serve(Handler)
        self.url = f"http://127.0.0.1:{self.port}/"

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

