"""A budget for every request, so no URL can hold the server (issue 15: `_facet=city` repeated
300 times took 21 s and answered 200; `id__in` with 5,000 values 1.45 s; an unknown `_sort`
column answered 500).

- Facets: each `_facet*` column counts once (repeats are dropped before Datasette sees them);
  more than MAX_FACETS distinct facets asked for in the URL is a 400.
- Filters: an `__in`/`__notin` list longer than MAX_IN_VALUES, more than MAX_ARGS arguments (repeated facets aside), or a
  query string longer than MAX_QUERY_BYTES is a 400.
- Time: a request that has not started its answer within REQUEST_SECONDS is cancelled and
  answered 503 (each SQL query also has Datasette's own sql_time_limit_ms; this bounds their sum).
- Bad parameters Datasette reports as a 500 (unknown `_sort`/`_sort_desc` column, both at once, a
  `_through` table with no foreign key to this one) are 400s (handle_exception, run before
  plugins/error_page.py's so that the page it renders says 400). Parameters malformed on their
  face are refused before Datasette sees them (plugins/bad_parameters.py).
"""
from __future__ import annotations

import asyncio
import json
import os
from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl
from datasette.tracer import trace_child_tasks

FACET_ARGS = frozenset({"_facet", "_facet_array", "_facet_values", "_facet_date"})
MAX_FACETS = 12
MAX_IN_VALUES = 500
MAX_ARGS = 100
MAX_QUERY_BYTES = 16_000
REQUEST_SECONDS = 10.0  # DIRECTORY_REQUEST_SECONDS in the environment sets another
BAD_PARAMETER_MESSAGES = ("Cannot sort table by ", "Cannot use _sort and _sort_desc at the same time",
                          "Invalid _through - could not find corresponding foreign key")


def request_seconds() -> float:
    return float(os.environ.get("DIRECTORY_REQUEST_SECONDS") or REQUEST_SECONDS)


class Refused(ValueError):
    """A request over its budget: the message is the one-line answer."""


def _in_values(value: str) -> int:
    """How many values Datasette reads from an `__in` argument (a JSON list, else comma-separated)."""
    if value.startswith("["):
        try:
            return len(json.loads(value))
        except ValueError:
            pass
    return value.count(",") + 1


def budgeted_query(query_string: bytes) -> bytes:
    """The query string with repeated facets dropped; Refused when it is over the budget."""
    if len(query_string) > MAX_QUERY_BYTES:
        raise Refused(f"query string over {MAX_QUERY_BYTES} bytes")
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    kept, facets = [], set()
    for key, value in pairs:
        if key in FACET_ARGS:
            if (key, value) in facets:
                continue
            facets.add((key, value))
        elif key.endswith(("__in", "__notin")) and _in_values(value) > MAX_IN_VALUES:
            raise Refused(f"{key} lists more than {MAX_IN_VALUES} values")
        kept.append((key, value))
    if len(kept) > MAX_ARGS:
        raise Refused(f"more than {MAX_ARGS} query arguments")
    if len(facets) > MAX_FACETS:
        raise Refused(f"more than {MAX_FACETS} facets asked for")
    return query_string if len(kept) == len(pairs) else urlencode(kept).encode("latin-1")


async def send_error(send, scope: dict, status: int, message: str, headers: tuple = ()) -> None:
    """A one-line answer: JSON for a .json path (as Datasette's errors), plain text otherwise."""
    if scope.get("path", "").endswith(".json"):
        body, kind = json.dumps({"ok": False, "error": message, "status": status}).encode(), b"application/json"
    else:
        body, kind = f"{status}: {message}\n".encode(), b"text/plain; charset=utf-8"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


async def within_time(app, scope, receive, send, seconds: float) -> None:
    """Run app; if it has not started answering after `seconds`, cancel it and answer 503."""
    started = asyncio.Event()

    async def noting_send(message):
        if message["type"] == "http.response.start":
            started.set()
        await send(message)

    with trace_child_tasks():  # Datasette's tracer (?_trace=1, the bench) follows the request into its task
        task = asyncio.ensure_future(app(scope, receive, noting_send))
    waiter = asyncio.ensure_future(started.wait())
    done, _ = await asyncio.wait({task, waiter}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if not done:
        task.cancel()
        await send_error(send, scope, 503, f"the request took longer than {seconds:g} s; ask for less")
        return
    await task


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def request_budget(scope, receive, send):
            if scope.get("type") != "http":
                await app(scope, receive, send)
                return
            try:
                scope = dict(scope, query_string=budgeted_query(scope.get("query_string") or b""))
            except Refused as refused:
                await send_error(send, scope, 400, str(refused))
                return
            await within_time(app, scope, receive, send, request_seconds())
        return request_budget
    return wrap


@hookimpl(tryfirst=True)
def handle_exception(exception):
    """Datasette raises these request mistakes with status 500; they are the client's (400)."""
    message = getattr(exception, "message", None)
    if isinstance(message, str) and message.startswith(BAD_PARAMETER_MESSAGES) and getattr(exception, "status", None) == 500:
        exception.status = 400
    return None
