"""What the build is compared with, each written by plain `sqlite3` in its own process:

- **the floor**: the database the build wrote, written again from its already-normalized rows:
  the same tables (the SQL of its sqlite_master), the same rows with the same rowids, then the
  same indexes, the same full-text index (the FTS5 table, same columns and tokenizer, rebuilt
  from its content table) and ANALYZE, with the build's pragmas. What the build spends beyond
  this is its own work: reading and normalizing the feed, matching, history, shaping rows.
  Only the writing is timed: each chunk of rows is read from the built file first, untimed.
- **the raw insert**: the feed's lines json-parsed and executemany'd into one plain table with
  no keys and no indexes (the comparison of the earlier rounds).

    python -m bench.baselines floor BUILT_DB FLOOR_DB [--threads N]   # prints its timings as JSON
    python -m bench.baselines raw FEED RAW_DB                          # prints the rows written
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sqlite3
import sys
import time
from pathlib import Path

CHUNK_ROWS = 2_000
# The build's pragmas (pipelines/build.py), so that page size and journaling are the same work.
FLOOR_PRAGMAS = ("page_size = 8192", "journal_mode = OFF", "synchronous = OFF", "temp_store = FILE")
RAW_PRAGMAS = ("journal_mode = OFF", "synchronous = OFF")  # as in the earlier rounds


def _open_new(db: Path, pragmas: tuple[str, ...]) -> sqlite3.Connection:
    db.unlink(missing_ok=True)
    conn = sqlite3.connect(db, isolation_level=None)
    for pragma in pragmas:
        conn.execute(f"PRAGMA {pragma}")
    return conn


def schema_entries(conn: sqlite3.Connection) -> dict[str, list[tuple[str, str]]]:
    """{kind: [(name, sql)]} of a database's own objects, in creation order: "table" (FTS shadow
    tables excluded: the FTS table makes them), "fts" (virtual tables), "index" (those with SQL;
    the others come with their table's keys), "view" and "trigger"."""
    kinds = dict(conn.execute("select name, type from pragma_table_list where schema = 'main'").fetchall())
    entries: dict[str, list] = {"table": [], "fts": [], "index": [], "view": [], "trigger": []}
    for kind, name, sql in conn.execute("select type, name, sql from sqlite_master where sql is not null "
                                        "and name not like 'sqlite_%' order by rowid"):
        if kind == "table" and kinds.get(name) == "virtual":
            entries["fts"].append((name, sql))
        elif kind != "table" or kinds.get(name) == "table":
            entries[kind].append((name, sql))
    return entries


def _copy_rows(source: sqlite3.Connection, target: sqlite3.Connection, table: str) -> float:
    """Copy a table's rows, rowids kept (the FTS index points at them), in rowid order (in key
    order for a WITHOUT ROWID table); the seconds spent writing them."""
    without_rowid = source.execute("select wr from pragma_table_list where schema = 'main' and name = ?",
                                   (table,)).fetchone()[0]
    columns = ([] if without_rowid else ["rowid"]) + [r[1] for r in source.execute(f"pragma table_info([{table}])")]
    names = ", ".join(c if c == "rowid" else f"[{c}]" for c in columns)
    insert = f"insert into [{table}] ({names}) values ({', '.join('?' * len(columns))})"
    cursor = source.execute(f"select {names} from [{table}]" + ("" if without_rowid else " order by rowid"))
    seconds = 0.0
    while chunk := cursor.fetchmany(CHUNK_ROWS):
        started = time.perf_counter()
        target.executemany(insert, chunk)
        seconds += time.perf_counter() - started
    return seconds


def _rebuild_fts(target: sqlite3.Connection, name: str, sql: str) -> None:
    if "content=" not in sql.replace(" ", "").lower():
        raise ValueError(f"{name}: the floor rebuilds external-content FTS tables only: {sql}")
    target.execute(sql)
    target.execute(f"insert into [{name}] ([{name}]) values ('rebuild')")


@dataclasses.dataclass
class FloorTimes:
    """Seconds of each part of the floor's writing (reading the rows back is not counted)."""
    tables: float = 0.0  # creating the tables and inserting their rows (keys maintained as rows go in)
    indexes: float = 0.0
    fts: float = 0.0
    analyze: float = 0.0
    rows: int = 0

    @property
    def seconds(self) -> float:
        return self.tables + self.indexes + self.fts + self.analyze


def _timed(times: FloorTimes, part: str, work) -> None:
    started = time.perf_counter()
    work()
    setattr(times, part, getattr(times, part) + time.perf_counter() - started)


def write_floor(built: Path, floor: Path, threads: int = 1) -> FloorTimes:
    """Write `floor` from the rows of `built` (see the module's docstring); its timings."""
    source = sqlite3.connect(f"file:{built}?immutable=1", uri=True)
    target = _open_new(floor, FLOOR_PRAGMAS + (f"threads = {threads}",))
    entries, times = schema_entries(source), FloorTimes()
    target.execute("begin")
    for name, sql in entries["table"]:
        _timed(times, "tables", lambda: target.execute(sql))
        times.tables += _copy_rows(source, target, name)
        times.rows += source.execute(f"select count(*) from [{name}]").fetchone()[0]
    for _, sql in entries["index"]:
        _timed(times, "indexes", lambda: target.execute(sql))
    for name, sql in entries["fts"]:
        _timed(times, "fts", lambda: _rebuild_fts(target, name, sql))
    for _, sql in entries["view"] + entries["trigger"]:
        target.execute(sql)
    _timed(times, "analyze", lambda: (target.execute("ANALYZE"), target.execute("commit")))
    source.close()
    target.close()
    return times


def raw_insert(feed: Path, db: Path) -> int:
    """The raw baseline: the feed's lines json-parsed and executemany'd into one plain table."""
    from crawler.items import ListingItem

    columns = [f.name for f in dataclasses.fields(ListingItem)]
    conn = _open_new(db, RAW_PRAGMAS)
    conn.execute(f"create table listings_raw ({', '.join(columns)})")

    def rows():
        with feed.open(encoding="utf-8") as fh:
            for line in fh:
                item = json.loads(line)
                yield tuple(
                    json.dumps(v, ensure_ascii=False) if isinstance(v := item.get(c), (list, dict)) else v
                    for c in columns
                )

    conn.execute("begin")
    conn.executemany(f"insert into listings_raw values ({', '.join('?' * len(columns))})", rows())
    conn.execute("commit")
    count = conn.execute("select count(*) from listings_raw").fetchone()[0]
    conn.close()
    return count


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    floor = commands.add_parser("floor", help="write the floor database from a built one")
    floor.add_argument("built", type=Path)
    floor.add_argument("floor", type=Path)
    floor.add_argument("--threads", type=int, default=1, help="PRAGMA threads, as the build sets it")
    raw = commands.add_parser("raw", help="the one-table raw insert of a feed")
    raw.add_argument("feed", type=Path)
    raw.add_argument("db", type=Path)
    args = parser.parse_args(argv)
    if args.command == "floor":
        times = write_floor(args.built, args.floor, args.threads)
        print(json.dumps({**dataclasses.asdict(times), "seconds": times.seconds}))
    else:
        print(raw_insert(args.feed, args.db))
    return 0


if __name__ == "__main__":
    sys.exit(main())
