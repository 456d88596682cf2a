"""A rebuild is picked up by the running server, without a restart and without mixing builds
(issue 15: after `make build`, 24 of 30 concurrent answers came from the old file and 6 from the
new, and the inspect file's counts stayed stale).

The build renames a finished file over the served one. Before each request this wrapper compares
the served path's inode, size and mtime with the build it serves (one stat); when they differ it
opens the new file and serves it under the same database name from then on. Each build is pinned:
its Database connects through /proc/self/fd/N, a descriptor of that very file held open, so every
connection (each SQL thread opens its own, whenever) reads the same build even after the path
names another file; each request is given the databases of the moment it arrived (a context
variable read by `datasette.databases`), so a request that began on the old build finishes on it.
Counts follow the build: the new one's come from its own tables, not from the inspect file.
An old build's descriptor is closed GRACE_SECONDS after the swap (no request lives that long:
plugins/request_budget.py). Linux only (/proc/self/fd), as is the rest of `make serve`.
"""
from __future__ import annotations

import asyncio
import contextvars
import os
import secrets
import sqlite3
import threading
from collections.abc import Mapping

from datasette import hookimpl
from datasette.database import Database

GRACE_SECONDS = 120
_this_request: contextvars.ContextVar = contextvars.ContextVar("served_databases", default=None)
_connections = threading.local()


class PinnedDatabase(Database):
    """An immutable Database of one build: the file behind descriptor `fd`, whatever its path
    names later. Its thread connections are its own (Datasette keys them by database name, which
    the next build shares)."""

    def __init__(self, ds, fd: int, source: str):
        super().__init__(ds, path=f"/proc/self/fd/{fd}", is_mutable=False)
        self.fd, self.source, self._key = fd, source, "c" + secrets.token_hex(8)
        self.build_token = self._key  # which build this is (plugins/response_cache.py keys on it)

    def suggest_name(self):
        return os.path.splitext(os.path.basename(self.source))[0]

    async def execute_fn(self, fn):
        def in_thread():
            conn = getattr(_connections, self._key, None)
            if conn is None:
                conn = self.connect()
                self.ds._prepare_connection(conn, self.name)
                setattr(_connections, self._key, conn)
            return fn(conn)

        return await asyncio.get_running_loop().run_in_executor(self.ds.executor, in_thread)


class RequestDatabases(Mapping):
    """datasette.databases: the served databases as the current request first saw them."""

    def __init__(self, latest: dict):
        self.latest = latest

    def _now(self) -> dict:
        return _this_request.get() or self.latest

    def __getitem__(self, name):
        return self._now()[name]

    def __iter__(self):
        return iter(self._now())

    def __len__(self):
        return len(self._now())

    def copy(self) -> dict:
        return dict(self._now())


def _identity(path: str):
    st = os.stat(path)
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class Swapper:
    """Watches the served immutable files of one Datasette and swaps in new builds."""

    def __init__(self, datasette):
        self.ds, self.served, self.lock = datasette, {}, asyncio.Lock()

    def pin_all(self) -> None:
        """Replace each immutable file database by a pinned one (at startup)."""
        latest = dict(self.ds.databases)
        for name, db in list(latest.items()):
            if db.path and not db.is_mutable and not db.is_memory and not isinstance(db, PinnedDatabase):
                latest[name] = self._open(name, db.path)
        self.ds.databases = RequestDatabases(latest)

    def _open(self, name: str, path: str) -> PinnedDatabase:
        fd = os.open(path, os.O_RDONLY)
        db = PinnedDatabase(self.ds, fd, path)
        db.name, db.route = name, name
        self.served[name] = (path, tuple(_identity(f"/proc/self/fd/{fd}")))
        return db

    def changed(self) -> list[str]:
        out = []
        for name, (path, identity) in self.served.items():
            try:
                if _identity(path) != identity:
                    out.append(name)
            except OSError:
                pass  # mid-rename or gone: keep serving the build we have
        return out

    async def swap(self, names: list[str]) -> None:
        async with self.lock:
            latest = dict(self.ds.databases.latest)
            for name in [n for n in names if n in self.changed()]:
                old = latest[name]
                new = self._open(name, old.source)
                if not await asyncio.get_running_loop().run_in_executor(None, _readable, new.path):
                    continue  # a half-written file: the next request looks again
                latest[name] = new
                if self.ds.inspect_data and name in self.ds.inspect_data:
                    self.ds.inspect_data = {k: v for k, v in self.ds.inspect_data.items() if k != name}
                asyncio.get_running_loop().call_later(GRACE_SECONDS, _close, old.fd)
            self.ds.databases = RequestDatabases(latest)


def _readable(path: str) -> bool:
    try:
        with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as conn:
            conn.execute("select count(*) from sqlite_master").fetchone()
        return True
    except sqlite3.Error:
        return False


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


@hookimpl
def asgi_wrapper(datasette):
    swapper = Swapper(datasette)

    def wrap(app):
        async def live_swap(scope, receive, send):
            if not isinstance(datasette.databases, RequestDatabases):
                swapper.pin_all()
            if scope.get("type") == "http":
                changed = swapper.changed()
                if changed:
                    await swapper.swap(changed)
                token = _this_request.set(datasette.databases.latest)
                try:
                    await app(scope, receive, send)
                finally:
                    _this_request.reset(token)
                return
            await app(scope, receive, send)
        return live_swap
    return wrap
