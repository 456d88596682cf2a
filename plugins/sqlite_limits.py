"""SQLite's own limits on every connection Datasette opens, so one query cannot take the server's
memory (issue 15: `select zeroblob(1000000000)` grew the process to 23.7 GB until the kernel
killed it; the 1 s SQL time limit does not bound memory).

SQLite checks these limits as it builds each value or statement and fails the query with "string
or blob too big" (or "too many ..."), which Datasette answers as a 400 error page; the server stays
up. The values are far above anything the directory holds: the build caps display fields at a few
kilobytes (common/normalize.py), and the largest stored value (a program's JSON) is tens of KB.
What the limits cannot bound (many large rows, Python's copies of them) the serving process's
memory ceiling does (serve/run.py sets RLIMIT_AS; the supervisor restarts a process that hits it).
"""
from __future__ import annotations

import sqlite3

from datasette import hookimpl

MAX_VALUE_BYTES = 4 * 1024 * 1024        # one string or blob, and one row's record
MAX_SQL_BYTES = 100_000                  # one statement's text (a ?sql= is far shorter)
LIMITS = {
    sqlite3.SQLITE_LIMIT_LENGTH: MAX_VALUE_BYTES,
    sqlite3.SQLITE_LIMIT_SQL_LENGTH: MAX_SQL_BYTES,
    sqlite3.SQLITE_LIMIT_COLUMN: 500,              # columns in a result, an index, an order by
    sqlite3.SQLITE_LIMIT_EXPR_DEPTH: 200,           # nesting of one expression
    sqlite3.SQLITE_LIMIT_COMPOUND_SELECT: 50,       # union/intersect terms of one select
    sqlite3.SQLITE_LIMIT_FUNCTION_ARG: 100,
    sqlite3.SQLITE_LIMIT_ATTACHED: 0,               # nothing attaches another file through a query
    sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 1000,
    sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER: 2000,     # bound parameters of one statement
    sqlite3.SQLITE_LIMIT_TRIGGER_DEPTH: 10,
}


def limit_connection(conn: sqlite3.Connection) -> None:
    """Lower conn's limits (setlimit only lowers: SQLite keeps a value above its compile-time one
    at that one)."""
    for category, value in LIMITS.items():
        conn.setlimit(category, value)


@hookimpl
def prepare_connection(conn):
    limit_connection(conn)
