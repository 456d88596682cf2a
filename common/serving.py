"""How the directory is served, written once: the project root is a Datasette configuration
directory (settings.json, metadata.yml, plugins/, templates/), which `make serve` serves with
`datasette serve . -i DB`. The tests and the bench start the same Datasette in process with
`Datasette(**datasette_options(db))`.

Why a function: Datasette 0.65 reads a configuration directory's settings.json only when it is
given no settings at all, so a caller that needs one more (a base_url, a lifted time limit) would
silently lose the others; `settings(**more)` merges them with the file instead.
"""
from __future__ import annotations

import json
from pathlib import Path

from common.paths import ROOT

CONFIG_DIR = ROOT
SETTINGS_FILE = "settings.json"


def settings(config_dir: Path = CONFIG_DIR, **more) -> dict:
    """The Datasette settings of config_dir's settings.json, with `more` over them
    (e.g. settings(base_url="/dir/"))."""
    return {**json.loads((Path(config_dir) / SETTINGS_FILE).read_text(encoding="utf-8")), **more}


def datasette_options(db: Path, *, inspect_file: Path | None = None, config_dir: Path = CONFIG_DIR,
                      **more_settings) -> dict:
    """Keyword arguments of datasette.app.Datasette that serve `db` as `make serve DB=db` does:
    immutable, from the configuration directory (metadata, plugins, templates), its settings plus
    `more_settings`, and the counts of `inspect_file` (written by `datasette inspect`) if given."""
    return {
        "immutables": [str(db)],
        "config_dir": Path(config_dir),
        "settings": settings(config_dir, **more_settings),
        "inspect_data": json.loads(Path(inspect_file).read_text(encoding="utf-8")) if inspect_file else None,
    }


# The served app, as `make serve` runs it: uvicorn's workers (one process per core, each its own
# Datasette over the same immutable file) call asgi_app() through `uvicorn --factory`. What to
# serve comes in the environment, which uvicorn's worker processes inherit.
ENV_DB, ENV_INSPECT, ENV_CONFIG, ENV_MEMORY_MB = ("DIRECTORY_DB", "DIRECTORY_INSPECT_FILE", "DIRECTORY_CONFIG",
                                                  "DIRECTORY_MEMORY_MB")


def limit_memory(megabytes: int) -> None:
    """A ceiling on this process's address space (RLIMIT_AS): past it allocations fail (Python
    raises MemoryError, Datasette answers 500 and serves on) instead of the kernel's OOM killer
    taking the machine's memory first; a worker that dies anyway is restarted by uvicorn's
    supervisor. 0: no ceiling."""
    import resource

    if megabytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (megabytes * 1024 * 1024, megabytes * 1024 * 1024))


def inspect_of(db: Path, inspect_file: Path | None) -> Path | None:
    """inspect_file, unless db was replaced after it was written: a rebuild renamed into place
    after `make serve` started (plugins/live_swap.py serves it) must not be counted with the old
    build's counts by a worker uvicorn starts later (after a crash or SIGHUP). A rename sets the
    file's ctime, which no copy or touch can set back; without the counts Datasette counts itself."""
    if inspect_file is None or db.stat().st_ctime_ns > inspect_file.stat().st_mtime_ns:
        return None
    return inspect_file


def nodelay_listeners() -> int:
    """Turn Nagle's algorithm off on the TCP sockets this process is to accept connections on (bound,
    not connected); how many there were.

    With --workers N, uvicorn binds the port in its supervisor with `proto` left at 0 and hands the
    socket to each worker, which listens on it after building the app; asyncio sets TCP_NODELAY on
    an accepted connection only when its socket says IPPROTO_TCP, so it never does there, and each
    keep-alive request after the first waited for the client's delayed ACK: about 44 ms on
    /-/versions.json instead of 4 (uvicorn issue #3149, open). On Linux an accepted socket inherits
    TCP_NODELAY from its listener, so setting it here, on the inherited socket, covers every
    connection. With one worker uvicorn opens the port after this runs, and asyncio sets it itself."""
    import os
    import socket
    import stat

    found = 0
    for name in os.listdir("/proc/self/fd") if os.path.isdir("/proc/self/fd") else ():
        fd = int(name)
        try:
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
            sock = socket.socket(fileno=fd)
        except OSError:
            continue
        try:
            if (sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM
                    and sock.getsockname()[1] and not _connected(sock)):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                found += 1
        except OSError:
            pass
        finally:
            sock.detach()  # the descriptor stays uvicorn's
    return found


def _connected(sock) -> bool:
    try:
        sock.getpeername()
    except OSError:
        return False
    return True


def asgi_app():
    """Datasette's ASGI app for the database named in the environment (`make serve` sets it)."""
    import os

    from datasette.app import Datasette

    limit_memory(int(os.environ.get(ENV_MEMORY_MB) or 0))
    nodelay_listeners()
    db, inspect_file = Path(os.environ[ENV_DB]), os.environ.get(ENV_INSPECT)
    options = datasette_options(db, inspect_file=inspect_of(db, Path(inspect_file) if inspect_file else None),
                                config_dir=Path(os.environ.get(ENV_CONFIG) or CONFIG_DIR))
    return Datasette(**options).app()
