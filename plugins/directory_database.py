"""Which served database is the directory's, whatever its file is called.

Datasette names a database after its file (`make serve DB=/tmp/other.db` serves /other/...), so
the pages ask `directory_database(datasette)` for the name instead of assuming "programs"; and
metadata.yml's block for the database `programs` (descriptions, facets, canned queries) is given,
through Datasette's get_metadata hook, to the directory's database when it has another name.
Templates get the name as `directory_database`, for `urls.table(directory_database, ...)`.
"""
from __future__ import annotations

import sqlite3
import weakref

from datasette import hookimpl

METADATA_NAME = "programs"  # the directory's database, as metadata.yml names it
TABLE = "programs"
_found: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # Datasette -> (served names, name)


def _has_programs_table(db) -> bool:
    """Whether db has the table; a file that cannot be read has not (Datasette says why itself)."""
    try:
        conn = db.connect()
    except sqlite3.Error:
        return False
    try:
        return conn.execute("select 1 from sqlite_master where type = 'table' and name = ?", [TABLE]).fetchone() is not None
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def directory_database(datasette) -> str | None:
    """The first served database with a `programs` table, else the first served database. Looked
    up once per set of served databases (a read of sqlite_master): Datasette asks for metadata,
    and so this hook, many times a page."""
    names = tuple(name for name in datasette.databases if name != "_internal")
    known = _found.get(datasette)
    if known is not None and known[0] == names:
        return known[1]
    name = next((n for n in names if _has_programs_table(datasette.databases[n])), names[0] if names else None)
    _found[datasette] = (names, name)
    return name


@hookimpl
def get_metadata(datasette, key, database, table):
    """metadata.yml's `databases: programs:` block, for the directory's database under its own name.
    (Datasette merges this under the local metadata, which stays as written.)"""
    name = directory_database(datasette)
    if name is None or name == METADATA_NAME:
        return None
    # The metadata as given (metadata.yml); datasette.metadata() would call this hook again.
    block = ((getattr(datasette, "_metadata_local", None) or {}).get("databases") or {}).get(METADATA_NAME)
    return {"databases": {name: block}} if block else None


@hookimpl
def extra_template_vars(datasette):
    return {"directory_database": directory_database(datasette)}
