"""A malformed parameter is the client's mistake: a 400 with one line that says what to send, never
a 500 (issue 15: `_through=nope`, `_timelimit=abc`, `id__in=[1,`, `_where=1=1;drop` and a
database's CSV without `sql=` answered 500 with a Python error, on HTML, JSON and CSV alike).

Datasette 0.65 parses these itself with int() and json.loads() and lets the exception through.
This wrapper checks them before Datasette sees the request, from the query string alone:
- `_through`: a JSON object with a text "table", a text "column" and a plain "value";
- `_timelimit`: a whole number of milliseconds (or empty: none);
- `_ttl`, `_facet_size`: digits int() can read (Datasette tests isdigit(), true of "²", then int());
- `<column>__in`, `<column>__notin`: a value starting with "[" is a JSON list of plain values
  (text, numbers SQLite can store, true/false, null);
- `<column>__gt`, `__gte`, `__lt`, `__lte`: digits Datasette turns into a number must make an integer
  SQLite can store;
- `_where`: one SQL expression, so no ";" outside quotes and comments;
- `_json_infinity`: on, off, true, false, 1 or 0;
- `_facet*` given as JSON (a value starting with "{"): an object naming its "column" (or "simple");
- no NUL character anywhere (SQLite refuses one in a statement: a column or `_where` with one);
- a database's own `.csv`, and its `.json` as `_shape=array` or `arrayfirst`, need a non-empty `sql=`.
A request to a database's pages by any method but GET, HEAD or OPTIONS is a 405: the directory is
read-only (Datasette answered a POST to a table, or to a canned query that writes nothing, with a
500). What needs the database to judge (a `_through` table without a foreign key to this one) is made a
400 by plugins/request_budget.py's handle_exception.
"""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl

from datasette import hookimpl

from plugins.request_budget import send_error

THROUGH_EXAMPLE = '{"table": "program_care_levels", "column": "care_level", "value": "iop"}'
# What SQLite reads as one token: a string or quoted name, or a comment; a ";" inside is no end.
SQL_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|\[[^\]]*\]|--[^\n]*|/\*.*?(?:\*/|$)", re.DOTALL)
DATABASE_PAGE = re.compile(r"^/([^/.]+)\.(csv|json)$")
FIRST_SEGMENT = re.compile(r"^/([^/.]+)")
READING = frozenset({"GET", "HEAD", "OPTIONS"})
SQLITE_INTEGERS = range(-2**63, 2**63)
NUMERIC_FILTERS = ("__gt", "__gte", "__lt", "__lte")
DIGIT_ARGS = ("_ttl", "_facet_size")
BOOLEANS = frozenset({"on", "off", "true", "false", "1", "0"})  # datasette.utils.value_as_boolean
NOT_JSON = object()


def plain(value) -> bool:
    """A JSON value SQLite can bind: text, a number it can store, true/false, null."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value in SQLITE_INTEGERS
    return value is None or isinstance(value, (str, float, bool))


def _json(value: str):
    try:
        return json.loads(value)
    except ValueError:
        return NOT_JSON


def bad_through(value: str) -> str | None:
    data = _json(value)
    if (not isinstance(data, dict) or not isinstance(data.get("table"), str)
            or not isinstance(data.get("column"), str) or "value" not in data or not plain(data["value"])):
        return f"_through must be a JSON object like {THROUGH_EXAMPLE}"
    return None


def bad_list(key: str, value: str) -> str | None:
    if not value.startswith("["):
        return None  # comma-separated values: Datasette reads any text
    data = _json(value)
    if not isinstance(data, list) or not all(plain(item) for item in data):
        return f"{key} starting with [ must be a JSON list of plain values, e.g. [1, 2] or [\"a\", \"b\"]"
    return None


def bad_number(key: str, value: str) -> str | None:
    """Datasette binds digits given to a numeric filter as int(value)."""
    if not value.isdigit():
        return None
    try:
        fits = int(value) in SQLITE_INTEGERS
    except ValueError:  # digits int() cannot read, such as "²"
        fits = False
    return None if fits else f"{key} must be a whole number SQLite can store (at most {2**63 - 1}) or text"


def bad_facet(key: str, value: str) -> str | None:
    """Datasette reads a `_facet*` value starting with "{" as JSON and faceting by its column."""
    if not value.startswith("{"):
        return None
    data = _json(value)
    column = data.get("column") or data.get("simple") if isinstance(data, dict) else None
    if not isinstance(column, str) or not column or "\0" in column:
        return f'{key} given as JSON must name its column, e.g. {key}={{"column": "city"}}'
    return None


def bad_parameter(key: str, value: str) -> str | None:
    """Why one query argument is malformed, in one line; None when Datasette can read it."""
    if "\0" in key or "\0" in value:
        return f"{key!r} has a NUL character"
    if key in DIGIT_ARGS and value.isdigit() and not value.isdecimal():
        return f"{key} must be written with the digits 0-9"
    if key.startswith("_facet"):
        return bad_facet(key, value)
    if key == "_through":
        return bad_through(value)
    if key == "_timelimit" and value and not (value.isascii() and value.isdigit() and len(value) <= 9):
        return "_timelimit must be a whole number of milliseconds, e.g. _timelimit=500"
    if key.endswith(("__in", "__notin")):
        return bad_list(key, value)
    if key.endswith(NUMERIC_FILTERS):
        return bad_number(key, value)
    if key == "_json_infinity" and value.lower() not in BOOLEANS:
        return "_json_infinity must be on or off"
    if key == "_where" and ";" in SQL_QUOTED.sub(" ", value):
        return "_where must be one SQL expression: no ';' outside quotes"
    return None


def bad_database_page(path: str, args: dict, database_routes) -> str | None:
    """A database's CSV, or its JSON as rows, without a query: Datasette has no rows to give."""
    match = DATABASE_PAGE.match(path)
    if not match or match.group(1) not in database_routes or args.get("sql"):
        return None
    name, kind = match.groups()
    if kind == "csv":
        return (f"/{name}.csv needs sql= (a query's answer as CSV); a table's CSV is "
                f"/{name}/<table>.csv")
    if args.get("_shape") in ("array", "arrayfirst"):
        return f"_shape={args['_shape']} needs sql= on /{name}.json"
    return None


def bad_request(query_string: bytes, path: str, database_routes) -> str | None:
    """The first reason the request is malformed, or None."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    for key, value in pairs:
        reason = bad_parameter(key, value)
        if reason:
            return reason
    first = {}
    for key, value in pairs:
        first.setdefault(key, value)  # Datasette's request.args.get gives a key's first value
    return bad_database_page(path, first, database_routes)


def route_path(path: str, base_url: str) -> str:
    """The path Datasette routes: base_url taken off if the request has it (plugins/base_url.py's
    wrapper may run before or after this one)."""
    return "/" + path[len(base_url):] if base_url != "/" and path.startswith(base_url) else path


def writes_to_a_database(method: str, path: str, database_routes) -> bool:
    match = FIRST_SEGMENT.match(path)
    return method not in READING and bool(match) and match.group(1) in database_routes


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def bad_parameters_refused(scope, receive, send):
            if scope.get("type") == "http":
                path = route_path(scope.get("path", ""), datasette.setting("base_url"))
                routes = {db.route for db in datasette.databases.values()}
                if writes_to_a_database(scope.get("method", "GET"), path, routes):
                    await send_error(send, scope, 405, "the directory is read-only: ask with GET",
                                     headers=((b"allow", b"GET, HEAD, OPTIONS"),))
                    return
                reason = bad_request(scope.get("query_string") or b"", path, routes)
                if reason:
                    await send_error(send, scope, 400, reason)
                    return
            await app(scope, receive, send)
        return bad_parameters_refused
    return wrap
