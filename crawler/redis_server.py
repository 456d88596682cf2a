"""A Redis server for a crawl whose workers share one frontier, when no REDIS_URL is given:
Debian's redis-server on a free 127.0.0.1 port, its append-only file in a folder of the crawl's
own (data/jobs/redis by default), so that a crawl stopped with everything in it resumes from
there, on whatever port the next start gets."""
from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis

REDIS_SERVER = "redis-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def redis_server(folder: Path, timeout: float = 20.0):
    """Start redis-server keeping its data in `folder`; yield its URL; stop it (it writes its
    append-only file on the way out)."""
    binary = shutil.which(REDIS_SERVER) or "/usr/bin/redis-server"
    if not Path(binary).is_file():
        raise RuntimeError("redis-server is not installed: apt-get install redis-server, or give REDIS_URL=")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder.resolve()), "--appendonly", "yes",
         "--save", "", "--logfile", "redis.log", "--daemonize", "no"],
        # A session of its own: Ctrl-C at the terminal stops the workers, not the frontier they share.
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client, deadline = redis.Redis.from_url(url), time.monotonic() + timeout
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start; see {folder / 'redis.log'}") from None
                time.sleep(0.05)
        yield url
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
