"""`make serve`'s workers answer a keep-alive request without waiting for the client's delayed ACK.

uvicorn --workers N binds the port with `proto` 0, so asyncio never turned Nagle's algorithm off on
the connections its workers accepted: every keep-alive request after a connection's first took at
least 40 ms more (Linux's shortest delayed ACK), /-/versions.json 48 ms instead of 4-8
(common.serving.nodelay_listeners, uvicorn issue #3149)."""
from __future__ import annotations

import socket
import time

import httpx

from common import serving
from tests.support import served


def test_the_inherited_socket_passes_tcp_nodelay_to_the_connections_it_accepts():
    # The defect: a listener made as uvicorn's bind_socket makes it (proto 0) gives connections without it.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as before:
        before.bind(("127.0.0.1", 0))
        before.listen()
        with socket.create_connection(before.getsockname()), before.accept()[0] as accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as bound:
        bound.bind(("127.0.0.1", 0))  # a worker gets it bound, and listens after building the app
        assert serving.nodelay_listeners() >= 1
        bound.listen()
        with socket.create_connection(bound.getsockname()) as client, bound.accept()[0] as accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
            assert serving.nodelay_listeners() >= 1  # a connected socket is not one to set
            assert client.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0


def test_make_serve_with_two_workers_answers_keep_alive_requests_without_the_delayed_ack(built_db):
    """Every request on a connection but its first waited >= 40 ms with the defect, however idle the
    machine; the fastest of 20 tells it apart whatever else runs here."""
    with served(built_db, WORKERS=2) as base, httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(3):
            client.get("/-/versions.json").raise_for_status()
        times = []
        for _ in range(20):
            started = time.perf_counter()
            client.get("/-/versions.json").raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
    assert min(times) < 35, sorted(times)
