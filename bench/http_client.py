"""A small HTTP/1.1 client for the load test: one keep-alive connection per simulated client, GET
only, Content-Length or chunked bodies read whole.

Why not httpx here: with 40 clients on the same 2 cores as the server, httpx spent about 4 ms of
CPU per request (20 of the 40 CPU seconds of a 20 s run with the response cache on), so the
latencies measured its own queue as much as the server. This client reads and writes raw bytes
and parses only the status line and headers; it spends a fraction of that (BENCHMARKS.md gives
both figures). httpx stays the client everywhere else in the bench.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit


class HTTPError(Exception):
    """No answer, or an answer this client cannot read (the load test counts it as an error)."""


@dataclass
class Answer:
    status_code: int
    headers: dict[str, str]  # names lower-cased; a repeated header keeps its last value
    content: bytes


class Connection:
    """One keep-alive connection to base (http://host:port), reopened when the server closes it."""

    def __init__(self, base: str):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port or 80
        self.host_header = f"{self.host}:{self.port}".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, timeout: float) -> Answer:
        try:
            return await asyncio.wait_for(self._get(path), timeout)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            await self.close()
            raise HTTPError(f"{type(exc).__name__} {exc}") from None

    async def _get(self, path: str) -> Answer:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " + self.host_header + b"\r\n\r\n")
        status, headers = await self._head()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            content = await self._chunks()
        elif "content-length" in headers:
            content = await self.reader.readexactly(int(headers["content-length"]))
        else:  # neither: the body ends where the server closes the connection
            content = await self.reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return Answer(status, headers, content)

    async def _head(self) -> tuple[int, dict[str, str]]:
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        return status, headers

    async def _chunks(self) -> bytes:
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")  # no trailers are sent
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None
