"""Which programs list each value of the indexed array columns, held in memory as one bitmap per
(column, value) and as the sorted positions of those programs: the values facets of a page whose
only filters are array filters (the national IOP list the home page links to) are then counted by
AND and popcount in about a millisecond, and its column facets (`city`, `telehealth`: each
program's value of the plain columns metadata.yml facets on is read beside the bitmaps) by
counting those programs' values (plugins/column_facets.py).

In SQL each such facet costs one index lookup per matching program: 20 to 40 ms for the 6,000
IOP programs of the 100,000-program bench, seven facets a page (BENCHMARKS.md), and the `city`
facet of the 25,840 outpatient programs 33 ms. The bitmaps are read once per build from
program_facet_values (about 1 s and 4 MB per 100,000 programs), in one of Datasette's SQL threads,
in the background, from the server's start (plugins/facets.py's startup hook): until they are read,
the facets count with SQL as before. A build is immutable and known by its file's identity, and a
rebuild renamed into place is another file, so the bitmaps of one build are never stale.

A helper module, imported as `plugins.value_sets` (one copy whatever copies of facets.py Datasette
makes); no hooks of its own.
"""
from __future__ import annotations

import asyncio
import heapq
import os
import sys
from array import array
from collections import Counter

VALUES_TABLE = "program_facet_values"
FAILED = "failed"
KEEP_BUILDS = 2  # the build served and the one before it (a request may still be on it after a swap)
_builds: dict = {}  # build_key -> ValueSets, the Task reading them, or FAILED


class ValueSets:
    """The programs of each (column, value), as bits of a Python int (bit i: the i-th program by id)
    and as the list of those i; and, for the column facets configured on the programs table (city,
    telehealth), each program's value in the same order, so that they are counted without SQL."""

    def __init__(self, bits: dict[tuple[str, str], int], members: dict[tuple[str, str], array] | None = None,
                 columns: dict[str, list] | None = None, programs: int = 0):
        self.bits, self.members, self.columns = bits, members or {}, columns or {}
        self.programs = programs
        self._whole: dict[str, list] = {}  # column -> its whole table's counts, ordered
        self.by_column: dict[str, list[tuple[str, int]]] = {}
        for (column, value), programs_of in sorted(bits.items()):
            self.by_column.setdefault(column, []).append((value, programs_of))

    @classmethod
    def read(cls, conn, columns: tuple[str, ...] = ()) -> "ValueSets":
        """The bitmaps of the database behind conn (a sqlite3 connection), and each program's value
        of every column in `columns` (names of the programs table's columns)."""
        position = {pid: i for i, (pid,) in enumerate(conn.execute("select id from programs order by id"))}
        size = (len(position) + 7) // 8
        bits, members = {}, {}
        rows = conn.execute(f"select facet, value, group_concat(program_id, char(31)) from {VALUES_TABLE} "
                            "group by facet, value")
        for column, value, ids in rows:
            at = array("I", sorted(map(position.__getitem__, ids.split("\x1f"))))
            bitmap = bytearray(size)
            for i in at:
                bitmap[i >> 3] |= 1 << (i & 7)
            bits[(column, str(value))] = int.from_bytes(bitmap, "little")
            members[(column, str(value))] = at
        known = {row[1] for row in conn.execute("select * from pragma_table_info('programs')")}
        values = {column: [row[0] for row in conn.execute(f"select [{column}] from programs order by id")]
                  for column in columns if column in known}
        return cls(bits, members, values, len(position))

    def _mask(self, filters: list[tuple[str, str]]) -> int:
        mask = -1
        for key in filters:
            mask &= self.bits.get(key, 0)
        return mask

    def counts(self, filters: list[tuple[str, str]], column: str) -> list[tuple[str, int]]:
        """[(value, programs)] of `column` among the programs that list every (column, value) of
        `filters`, as the values facet orders them: most programs first, then by value; values of
        no such program left out."""
        mask = self._mask(filters)
        found = [(value, count) for value, programs in self.by_column.get(column, ())
                 if (count := (mask & programs).bit_count())]
        return sorted(found, key=lambda pair: (-pair[1], pair[0]))

    def count(self, filters: list[tuple[str, str]]) -> int:
        """How many programs list every (column, value) of `filters`."""
        return self._mask(filters).bit_count() if self.programs else 0

    def _positions(self, filters: list[tuple[str, str]]):
        """The positions of the programs that list every (column, value) of `filters`, ascending."""
        lists = sorted((self.members.get(key, array("I")) for key in filters), key=len)
        if len(lists) == 1:
            return lists[0]
        mask = self._mask(filters).to_bytes((self.programs + 7) // 8, "little")
        return [i for i in lists[0] if mask[i >> 3] >> (i & 7) & 1]

    def column_counts(self, filters: list[tuple[str, str]], column: str, limit: int) -> list[tuple[object, int]] | None:
        """The first `limit` [(value, programs)] of a plain column among the programs that list every
        (column, value) of `filters`, as Datasette's column facet's SQL orders them (most first, then by
        value in SQLite's order: numbers before text), nulls left out; None when the column was not read."""
        values = self.columns.get(column)
        if values is None:
            return None
        if not filters:  # the whole table (the national facets page): counted and ordered once
            if column not in self._whole:
                self._whole[column] = _ordered(Counter(values), limit=None)
            return self._whole[column][:limit]
        return _ordered(Counter(map(values.__getitem__, self._positions(filters))), limit)


def _ordered(counted: Counter, limit: int | None) -> list[tuple[object, int]]:
    """[(value, count)] most first, then by value as SQLite orders it, nulls left out; the first
    `limit` (only the values that can be among them are sorted)."""
    counted.pop(None, None)
    if limit is not None and len(counted) > limit:
        least = heapq.nlargest(limit, counted.values())[-1]
        counted = Counter({value: count for value, count in counted.items() if count >= least})
    ordered = sorted(counted.items(), key=lambda pair: (-pair[1], *_sqlite_order(pair[0])))
    return ordered if limit is None else ordered[:limit]


def _sqlite_order(value) -> tuple:
    """Where SQLite's ORDER BY puts a value: numbers, then text, then blobs."""
    if isinstance(value, (int, float)):
        return (0, value)
    return (1, value) if isinstance(value, str) else (2, value)


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


def configured_columns(datasette, database: str) -> tuple[str, ...]:
    """The plain column facets metadata.yml configures on the programs table (city, telehealth): the
    columns whose values are read beside the bitmaps."""
    facets = datasette.table_metadata(database, "programs").get("facets") or ()
    return tuple(facet for facet in facets if isinstance(facet, str))


async def _read(db, key: tuple) -> None:
    columns = configured_columns(db.ds, db.name)
    try:
        _builds[key] = await db.execute_fn(lambda conn: ValueSets.read(conn, columns))
    except Exception as error:  # the facets keep counting with SQL
        _builds[key] = FAILED
        print(f"plugins/value_sets.py: the facet bitmaps of {db.name} were not read ({error}); "
              "values facets count with SQL", file=sys.stderr)
