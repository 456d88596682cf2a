"""Which programs list each value of the indexed array columns, held in memory as one bitmap per
(column, value): the values facets of a page whose only filters are array filters (the national
IOP list the home page links to) are then counted by AND and popcount in about a millisecond.

In SQL each such facet costs one index lookup per matching program: 20 to 40 ms for the 6,000
IOP programs of the 100,000-program bench, seven facets a page (BENCHMARKS.md). The bitmaps are
read once per build from program_facet_values (about 1 s and 1 MB per 100,000 programs), in one of
Datasette's SQL threads, in the background, from the server's start (plugins/facets.py's startup
hook): until they are read, plugins/facets.py counts with SQL as before. A build is immutable and
known by its file's identity, and a rebuild renamed into place is another file, so the bitmaps of
one build are never stale.

A helper module, imported as `plugins.value_sets` (one copy whatever copies of facets.py Datasette
makes); no hooks of its own.
"""
from __future__ import annotations

import asyncio
import os
import sys

VALUES_TABLE = "program_facet_values"
FAILED = "failed"
KEEP_BUILDS = 2  # the build served and the one before it (a request may still be on it after a swap)
_builds: dict = {}  # build_key -> ValueSets, the Task reading them, or FAILED


class ValueSets:
    """The programs of each (column, value), as bits of a Python int (bit i: the i-th program by id)."""

    def __init__(self, bits: dict[tuple[str, str], int]):
        self.bits = bits
        self.by_column: dict[str, list[tuple[str, int]]] = {}
        for (column, value), programs in sorted(bits.items()):
            self.by_column.setdefault(column, []).append((value, programs))

    @classmethod
    def read(cls, conn) -> "ValueSets":
        """The bitmaps of the database behind conn (a sqlite3 connection)."""
        position = {pid: i for i, (pid,) in enumerate(conn.execute("select id from programs order by id"))}
        size = (len(position) + 7) // 8
        bits = {}
        rows = conn.execute(f"select facet, value, group_concat(program_id, char(31)) from {VALUES_TABLE} "
                            "group by facet, value")
        for column, value, ids in rows:
            bitmap = bytearray(size)
            for i in map(position.__getitem__, ids.split("\x1f")):
                bitmap[i >> 3] |= 1 << (i & 7)
            bits[(column, str(value))] = int.from_bytes(bitmap, "little")
        return cls(bits)

    def counts(self, filters: list[tuple[str, str]], column: str) -> list[tuple[str, int]]:
        """[(value, programs)] of `column` among the programs that list every (column, value) of
        `filters`, as the values facet orders them: most programs first, then by value; values of
        no such program left out."""
        mask = -1
        for key in filters:
            mask &= self.bits.get(key, 0)
        found = [(value, count) for value, programs in self.by_column.get(column, ())
                 if (count := (mask & programs).bit_count())]
        return sorted(found, key=lambda pair: (-pair[1], pair[0]))


def build_key(db) -> tuple | None:
    """The identity of the file db serves (device, inode, size, modification time): the same for
    a build however it is opened (plugins/live_swap.py reopens it through /proc/self/fd), another
    for a rebuild renamed into place; None for a database without a file."""
    try:
        st = os.stat(db.path)
    except (TypeError, OSError):
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def ready(db) -> ValueSets | None:
    """The bitmaps of db's build when they have been read; else None, and their reading starts
    (once per build) in the background."""
    key = build_key(db)
    if key is None:
        return None
    known = _builds.get(key)
    if isinstance(known, ValueSets):
        return known
    if isinstance(known, asyncio.Future) and known.get_loop().is_closed():
        known = None  # begun by a server (a test's) whose event loop has ended
    if known is None:
        while len(_builds) >= KEEP_BUILDS:  # the oldest build read goes: a swap leaves it unused
            del _builds[next(iter(_builds))]
        _builds[key] = asyncio.ensure_future(_read(db, key))
    return None


async def _read(db, key: tuple) -> None:
    try:
        _builds[key] = await db.execute_fn(ValueSets.read)
    except Exception as error:  # the facets keep counting with SQL
        _builds[key] = FAILED
        print(f"plugins/value_sets.py: the facet bitmaps of {db.name} were not read ({error}); "
              "values facets count with SQL", file=sys.stderr)
