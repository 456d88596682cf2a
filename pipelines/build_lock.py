"""One build of a database at a time: a lock file beside it (`.programs.db.build-lock`) held with
flock for the whole build. The kernel releases it when the holder dies, so a killed build never
leaves a stale lock; a second build says who holds it and stops."""
from __future__ import annotations

import contextlib
import fcntl
import os
from datetime import datetime, timezone
from pathlib import Path


class BuildLocked(RuntimeError):
    pass


@contextlib.contextmanager
def build_lock(db_path: Path):
    """Hold the build lock of `db_path`, or raise BuildLocked naming the build that holds it."""
    lock_path = db_path.with_name(f".{db_path.name}.build-lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", errors="replace").strip() or "another process"
            raise BuildLocked(f"another build of {db_path} is running ({holder}); wait for it to finish "
                              f"or stop it, then build again") from None
        os.ftruncate(fd, 0)
        started = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        os.pwrite(fd, f"pid {os.getpid()}, started {started}".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
