"""Worker processes for the build's per-row Python work (pipelines/rows.py), which is most of
its time: the main process reads, orders and writes SQLite; workers normalize and shape rows.

Results come back in the order the chunks went out, so a build gives the same database with
any number of workers. At most `ahead` chunks are in flight, so memory stays flat however
large the feed (Pool.imap would read the whole input ahead).
"""
from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque

# Below this much feed a pool costs more than it saves (forking, and the test suite's small builds).
MIN_PARALLEL_BYTES = 4 * 1024 * 1024


class WorkerCountError(ValueError):
    """TREATMENT_BUILD_WORKERS is not a number of processes."""


def worker_count(feed_bytes: int) -> int:
    """TREATMENT_BUILD_WORKERS if set (1 = no worker processes), else one per core for a large feed."""
    wanted = os.environ.get("TREATMENT_BUILD_WORKERS")
    if wanted:
        if not wanted.isdigit() or int(wanted) < 1:
            raise WorkerCountError(f"TREATMENT_BUILD_WORKERS={wanted!r}: give a whole number of processes, 1 or more")
        return int(wanted)
    if feed_bytes < MIN_PARALLEL_BYTES:
        return 1
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


class Workers:
    """`map(function, chunks, *args)`: function(chunk, *args) for each chunk, in order; in worker
    processes when there are several, else here. Use as a context manager."""

    def __init__(self, count: int, ahead_per_worker: int = 4):
        self.count = count
        self.ahead = max(2, count * ahead_per_worker)
        # fork: workers start at once with the modules this process has loaded.
        self.pool = (multiprocessing.get_context("fork").Pool(count, initializer=_worker_start)
                     if count > 1 else None)

    def map(self, function, chunks, *args):
        if self.pool is None:
            for chunk in chunks:
                yield function(chunk, *args)
            return
        pending = deque()
        for chunk in chunks:
            pending.append(self.pool.apply_async(function, (chunk, *args)))
            if len(pending) >= self.ahead:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()

    def submit(self, function, *args):
        """function(*args) started now in a worker, for work that would otherwise wait for a
        stage in which the main process works alone; its result is the returned object's
        get(). Without worker processes it runs here, when get() asks for it."""
        if self.pool is None:
            return _Deferred(function, args)
        return self.pool.apply_async(function, args)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
        return False


class _Deferred:
    """A call made when its result is first asked for (Workers.submit without a pool)."""

    def __init__(self, function, args):
        self.function, self.args = function, args

    def get(self):
        return self.function(*self.args)


def _worker_start() -> None:
    """Ctrl-C is the build's to handle: it stops the pool. (A worker whose build is killed
    outright exits by itself: its end of the task pipe closes.)"""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
