"""Answers kept in memory by each serving process, so a page many people ask for is rendered once
per build (issue 15: 40 clients on 2 cores queued behind about 16 ms of CPU per page).

The database is immutable: the same URL gives the same answer until a new build is swapped in
(plugins/live_swap.py). So an answer is kept under its URL (path, query string, host, scheme)
and the build each database is served from (the token live_swap gives each build it opens): once
a new build is swapped in, requests miss and are answered from it, and the old build's answers
age out. Kept only: GET answers with status 200,
no Set-Cookie, at most MAX_ANSWER_BYTES, to requests that carry no Cookie or Authorization header
(what a person with a session sees is never shared) and are not Datasette's own /-/ pages; not a
table page a facet of which timed out under load (`whole`: its facet classes report it), which the
next request renders again. The
least recently used answers go first past DIRECTORY_RESPONSE_CACHE_MB (default 64 MB a process;
0 turns the cache off). Each answer says `x-directory-cache: hit` or `miss`.

This is the in-process form of what BENCHMARKS.md describes for more people: replicas of one
immutable file behind a shared cache.
"""
from __future__ import annotations

import os
import time
from collections import OrderedDict

from datasette import hookimpl

from plugins import facet_report

CACHE_MB = 64
CACHE_MB_ENV = "DIRECTORY_RESPONSE_CACHE_MB"
MAX_ANSWER_BYTES = 1024 * 1024
PRIVATE_HEADERS = {b"cookie", b"authorization"}
MARK = b"x-directory-cache"
TIMED_OUT_HTML = b'class="facets-timed-out"'  # Datasette's table page: "These facets timed out: ..."
FACET_RESULTS_JSON = b'"facet_results"'  # a table's JSON


def cache_megabytes() -> float:
    return float(os.environ.get(CACHE_MB_ENV) or CACHE_MB)


class Answers:
    """The kept answers, least recently used first, within a byte budget."""

    def __init__(self, budget: int):
        self.budget, self.size, self.kept = budget, 0, OrderedDict()

    def get(self, key):
        answer = self.kept.get(key)
        if answer is not None:
            self.kept.move_to_end(key)
        return answer

    def put(self, key, status: int, headers: list, body: bytes) -> None:
        size = len(body) + sum(len(k) + len(v) for k, v in headers)
        if size > self.budget:
            return
        if key in self.kept:
            self.size -= self.kept.pop(key)[3]
        self.kept[key] = (status, headers, body, size)
        self.size += size
        while self.size > self.budget:
            self.size -= self.kept.popitem(last=False)[1][3]


def _served_builds(datasette) -> tuple | None:
    """Which build of each database file this request is answered from: the token of the build
    plugins/live_swap.py pinned for it, else the file's (inode, size, mtime); None if unreadable.
    Not the path's identity: a request that began as a new build was renamed into place is still
    answered from the old one, and its answer must not be kept as the new build's."""
    found = []
    for name, db in sorted(datasette.databases.items()):
        build = getattr(db, "build_token", None)
        if build is None and db.path:
            try:
                st = os.stat(db.path)
            except OSError:
                return None
            build = (st.st_ino, st.st_size, st.st_mtime_ns)
        if build is not None:
            found.append((name, build))
    return tuple(found)


def cache_key(scope, files) -> tuple | None:
    """The key of a request's answer, or None for a request whose answer is not kept."""
    if scope.get("type") != "http" or scope.get("method") != "GET" or files is None:
        return None
    headers = dict(scope.get("headers") or [])
    if PRIVATE_HEADERS & set(headers):
        return None
    path = scope.get("raw_path") or scope.get("path", "").encode()
    if path.startswith(b"/-/"):
        return None
    return (files, path, scope.get("query_string", b""), headers.get(b"host", b""), scope.get("scheme"),
            scope.get("root_path", ""))


async def _replay(send, answer) -> None:
    status, headers, body, _ = answer
    await send({"type": "http.response.start", "status": status, "headers": headers + [(MARK, b"hit")]})
    await send({"type": "http.response.body", "body": body})


def whole(body: bytes, render_seconds: float, facet_limit_seconds: float,
          report: facet_report.FacetReport | None = None) -> bool:
    """False for a table page some facet of which may have timed out (a partial answer, kept it
    would be handed to everyone): the HTML says so; Datasette 0.65's JSON does not, but the page's
    facet classes report it (plugins/facet_report.py). Without their report, a table's JSON (it has
    facet_results) rendered in no less than the facet time limit is not kept either."""
    if TIMED_OUT_HTML in body or (report is not None and report.timed_out):
        return False
    if report is not None and report.facets_ran:
        return True
    return not (render_seconds >= facet_limit_seconds and FACET_RESULTS_JSON in body)


class _Recorder:
    """Passes an answer on to the client and keeps a copy while it may still be kept."""

    def __init__(self, send):
        self.send, self.status, self.headers, self.chunks, self.size, self.keep = send, 0, [], [], 0, True

    async def __call__(self, message) -> None:
        if message["type"] == "http.response.start":
            self.status, self.headers = message["status"], list(message.get("headers") or [])
            self.keep = self.status == 200 and not any(k.lower() == b"set-cookie" for k, _ in self.headers)
            message = {**message, "headers": self.headers + [(MARK, b"miss")]}
        elif message["type"] == "http.response.body" and self.keep:
            body = message.get("body", b"")
            self.size += len(body)
            self.keep = self.size <= MAX_ANSWER_BYTES
            self.chunks.append(body) if self.keep else self.chunks.clear()
        await self.send(message)


# Inside plugins/live_swap.py's wrapper (tryfirst: the innermost wrappers are called first), so
# the databases a request sees are the build it is answered from.
@hookimpl(tryfirst=True)
def asgi_wrapper(datasette):
    budget = int(cache_megabytes() * 1024 * 1024)
    answers = Answers(budget)

    def wrap(app):
        if budget <= 0:
            return app

        async def response_cache(scope, receive, send):
            key = cache_key(scope, _served_builds(datasette)) if scope.get("type") == "http" else None
            answer = answers.get(key) if key is not None else None
            if answer is not None:
                await _replay(send, answer)
                return
            if key is None:
                await app(scope, receive, send)
                return
            recorder, started = _Recorder(send), time.perf_counter()
            report = facet_report.FacetReport()
            token = facet_report.current.set(report)
            try:
                await app(scope, receive, recorder)
            finally:
                facet_report.current.reset(token)
            body = b"".join(recorder.chunks)
            facet_limit = datasette.setting("facet_time_limit_ms") / 1000
            if recorder.keep and recorder.status and whole(body, time.perf_counter() - started, facet_limit, report):
                answers.put(key, recorder.status, recorder.headers, body)
        return response_cache
    return wrap
