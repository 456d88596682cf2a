"""Build data/programs.db from crawl feeds (JSON Lines of ListingItem), atomically.

    python -m pipelines.build data/feed/findtreatment_export.jsonl --db data/programs.db

The database is written to a temporary file beside the target and renamed into place only when
complete, so a failed or killed build leaves the previous database whole.
"""
from __future__ import annotations

import argparse
import itertools
import marshal
import operator
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from pipelines import history, rows, schema
from common import vocab
from common.code_reference import CodeReferenceError, load_code_reference
from common.geo import zip_areas
from pipelines.coverage import Coverage, area_centres
from pipelines.build_lock import BuildLocked, build_lock
from pipelines.crawl_runs import crawl_runs, requested_cities
from pipelines.merge import KeyInfo, UnionFind, bucket_merges, program_id_of
from common.progress import Progress, Stopwatch
from common.writable import cannot_write, os_error_line
from pipelines.rows import parse_feed_line  # noqa: F401  (part of this module's interface)
from pipelines.site_levels import judge_item, program_care_level_rows
from pipelines.workers import WorkerCountError, Workers, worker_count


class BuildError(RuntimeError):
    pass


def read_feed(path: Path):
    """Yield (line number, item or Reject) from a JSON Lines feed; a broken line is a Reject."""
    with path.open(encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                yield number, parse_feed_line(line, f"{path.name} line {number}")


SHRINK_LIMIT = 0.30
STAGES_AFTER_SECONDS = 10  # a longer build also says where its time went


@dataclass(frozen=True)
class Overrides:
    """What a person may tell a build to accept that its guards would refuse."""
    allow_shrink: bool = False  # an area lost more than SHRINK_LIMIT of its programs, or is gone
    allow_rejects: bool = False  # more than REJECT_LIMIT of the feed's rows were rejected
    fresh: bool = False  # the previous database cannot be read: build without it (history anew)


def build(feeds: list[Path], db_path: Path, *, code_reference: Path | None = None, quiet: bool = False,
          previous: Path | None = None, allow_shrink: bool = False, sites: Path | None = None,
          allow_rejects: bool = False, fresh: bool = False) -> dict:
    """Build the database from the feeds; return the counts printed in the summary.

    `previous` is the database this build replaces, for history and the shrink guard (default:
    `db_path` itself). The new database replaces it only when complete, by a rename, and only one
    build of a database runs at a time (pipelines/build_lock.py)."""
    started = time.monotonic()
    reference = load_code_reference(code_reference)
    for feed in feeds:
        if not feed.is_file():
            raise BuildError(f"feed {feed} not found: run `make crawl` first")
    if sites is not None and not Path(sites).is_file():
        raise BuildError(f"sites feed {sites} not found: run `make sites` first, or build without --sites")
    problem = cannot_write(db_path.parent)  # creates the folder when missing
    if problem:
        raise BuildError(f"{problem}: the new database is written beside {db_path.name} there; make the folder "
                         f"writable, or build elsewhere (make build DB=other/programs.db). {db_path} is unchanged")
    overrides = Overrides(allow_shrink, allow_rejects, fresh)
    try:
        with build_lock(db_path):
            counts = _build_locked(feeds, db_path, reference, quiet, previous, sites, overrides)
    except BuildLocked as exc:
        raise BuildError(str(exc)) from None
    counts["seconds"] = round(time.monotonic() - started, 2)
    return counts


def _build_locked(feeds, db_path: Path, reference, quiet, previous, sites, overrides: Overrides) -> dict:
    remove_stale_temp_files(db_path)
    temp_path = db_path.with_name(f"{TEMP_PREFIX.format(name=db_path.name)}{os.getpid()}")
    temp_path.unlink(missing_ok=True)
    before = _previous(previous or db_path, overrides.fresh)
    try:
        counts = _write(feeds, temp_path, reference, quiet, before, load_site_findings(sites))
        if counts["programs"] == 0:
            raise BuildError(
                f"no programs in {', '.join(map(str, feeds))} ({counts['rejects']} rejected): "
                f"keeping the existing {db_path}"
            )
        if before and not overrides.allow_rejects:  # a good database is at stake
            check_rejects(counts, feeds, db_path)
        if not overrides.allow_shrink:
            check_shrink(counts["cities_before"], counts["cities"], counts["scope"], db_path)
        _fsync(temp_path)
        checkpoint("before-rename")
        os.replace(temp_path, db_path)
        _fsync(db_path.parent)
        checkpoint("after-rename")
    finally:
        temp_path.unlink(missing_ok=True)
    return counts


def _previous(path: Path, fresh: bool) -> Path | None:
    """The database this build replaces; an unreadable one stops the build (history and the
    shrink guard would silently start anew) unless `fresh` says to build without it."""
    if fresh or not path.is_file():
        return None
    problem = history.previous_problem(path)
    if problem:
        raise BuildError(f"the previous database {path} cannot be used: {problem}. History and the shrink "
                         "guard need it; move it away, or build without it: make build FRESH=1 (--fresh)")
    return path


REJECT_LIMIT = 0.5


def check_rejects(counts: dict, feeds: list[Path], db_path: Path) -> None:
    """Refuse to replace a database with a build that rejected more than REJECT_LIMIT of its
    rows: a feed of junk."""
    rows = counts["listings"] + counts["rejects"]
    if rows and counts["rejects"] > REJECT_LIMIT * rows:
        raise BuildError(
            f"refusing to replace {db_path}: {counts['rejects']:,} of {rows:,} rows of {', '.join(map(str, feeds))} "
            f"were rejected ({counts['rejects'] / rows:.0%}): is it the feed you meant? If it is: "
            "make build ALLOW_REJECTS=1 (--allow-rejects), and the rejects table says why each row was")


TEMP_PREFIX = ".{name}.building-"


def remove_stale_temp_files(db_path: Path) -> None:
    """A killed build leaves its temporary file: remove those whose process is gone."""
    for temp in db_path.parent.glob(TEMP_PREFIX.format(name=db_path.name) + "*"):
        pid = temp.name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            temp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync(path: Path) -> None:
    """Make the new file (and the rename) durable before anyone relies on them."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def checkpoint(stage: str) -> None:
    """Tests stop a build here to kill it at a known point (TREATMENT_BUILD_PAUSE_AT=stage)."""
    if os.environ.get("TREATMENT_BUILD_PAUSE_AT") == stage:
        print(f"paused at {stage}", file=sys.stderr, flush=True)
        time.sleep(3600)


def check_shrink(before: dict[str, int], cities_now: dict[str, int], scope: set[str], db_path: Path) -> None:
    """Refuse a build in which an area of the previous database, whether the new feed asked for
    it or not, lost more than SHRINK_LIMIT of its programs (an area the feed left out lost all)."""
    shrunk = [
        f"{city}: {before[city]} programs before, {cities_now.get(city, 0)} now "
        f"({(cities_now.get(city, 0) - before[city]) / before[city]:+.0%})"
        for city in sorted(set(before) | scope)
        if before.get(city) and cities_now.get(city, 0) < (1 - SHRINK_LIMIT) * before[city]
    ]
    if shrunk:
        raise BuildError(
            f"refusing to replace {db_path}: " + "; ".join(shrunk)
            + f". A fall of more than {SHRINK_LIMIT:.0%} looks like a failed crawl; if it is real, "
            "rebuild with --allow-shrink (make build ALLOW_SHRINK=1)"
        )


BATCH = 2000


class _Batches:
    """Rows for several tables, written with executemany every BATCH rows (sqlite-utils'
    insert_all is convenient but costs more per row than the whole normalization). A table's
    columns are those of its first row; rows come as dicts (add) or as tuples in that order
    (add_values, for the tables with millions of rows)."""

    def __init__(self, conn):
        self.conn, self.rows, self.sql, self.getters = conn, {}, {}, {}

    def columns(self, table: str, columns) -> None:
        columns = list(columns)
        self.sql[table] = (columns, _insert_sql(table, columns))
        self.getters[table] = operator.itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
        self.rows[table] = []

    def add(self, table: str, row: dict) -> None:
        if table not in self.sql:
            self.columns(table, row)
        try:
            values = self.getters[table](row)
        except KeyError:  # a row without some columns: those are null
            values = tuple(row.get(c) for c in self.sql[table][0])
        self.add_values(table, values)

    def add_values(self, table: str, values: tuple) -> None:
        rows = self.rows[table]
        rows.append(values)
        if len(rows) >= BATCH:
            self.flush(table)

    def flush(self, table: str | None = None) -> None:
        for name in [table] if table else list(self.rows):
            if self.rows.get(name):
                self.conn.executemany(self.sql[name][1], self.rows[name])
                self.rows[name] = []


def _write(feeds, temp_path, reference, quiet, previous: Path | None, site_rows: dict | None = None) -> dict:
    zip_areas()  # read once before the workers fork (a second each, else), for them and for coverage
    with Workers(worker_count(sum(feed.stat().st_size for feed in feeds))) as workers:
        return _write_with(workers, feeds, temp_path, reference, quiet, previous, site_rows)


BLOCK_BYTES = 1 << 20  # feed bytes per worker task (some 500 listings): whole lines, read by the worker


def _feed_blocks(feeds: list[Path]):
    """The feeds as rows.FeedBlocks of whole lines, about BLOCK_BYTES each, feed after feed."""
    for index, feed in enumerate(feeds):
        with feed.open("rb") as fh:
            offset, line = 0, 1
            while block := fh.read(BLOCK_BYTES):
                if not block.endswith(b"\n"):
                    block += fh.readline()  # the rest of the block's last line
                yield rows.FeedBlock(index, line, offset, len(block))
                offset, line = offset + len(block), line + block.count(b"\n")


CHUNK_LISTINGS = 600  # staged listings per worker task in pass 3 (some 500 programs), whole programs


def _program_runs(conn, site_rows: dict):
    """Pass 3's worker tasks: runs of staged members (rows.StagedMember fields) of whole programs,
    in program id order, each with the website findings of its programs. The main process only
    cuts the query's rows at a program's end; the workers group and shape them."""
    cursor = conn.execute(
        "select r.program_id, s.listing, s.match_key, k.rule, s.feed, s.offset, s.length, s.raw from temp.staged s "
        "join temp.key_program k on k.match_key = s.match_key join temp.root_id r on r.root = k.root "
        "order by r.program_id, s.id"
    )
    pending: list[tuple] = []
    while batch := cursor.fetchmany(CHUNK_LISTINGS):
        pending += batch
        cut, last = len(pending), pending[-1][0]
        while cut and pending[cut - 1][0] == last:  # the last program may go on in the next batch
            cut -= 1
        if cut:
            yield pending[:cut], _site_rows_of(pending[:cut], site_rows)
            pending = pending[cut:]
    if pending:
        yield pending, _site_rows_of(pending, site_rows)


def _site_rows_of(members: list[tuple], site_rows: dict) -> dict:
    if not site_rows:
        return {}
    return {pid: site_rows[pid] for pid in {m[0] for m in members} if pid in site_rows}


@dataclass
class _Staged:
    """What pass 1 learned while staging the feeds."""
    listings: int = 0
    placeholders: int = 0
    rejects_per_feed: Counter = field(default_factory=Counter)
    scope: set = field(default_factory=set)  # (source, city asked for)
    when: str | None = None  # the latest fetch time


def _write_with(workers, feeds, temp_path, reference, quiet, previous: Path | None, site_rows: dict | None) -> dict:
    watch = Stopwatch()
    db = sqlite_utils.Database(temp_path)
    conn = db.conn
    conn.execute("PRAGMA page_size = 8192")  # wide rows (raw JSON, services text) spill less into overflow pages
    conn.execute("PRAGMA journal_mode = OFF")  # a temp file: nothing to recover if we die
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA temp_store = FILE")  # staging tables can be larger than memory should be
    conn.execute(f"PRAGMA threads = {workers.count}")  # sorting for indexes on the workers' cores
    schema.create(db)
    _write_vocabularies(db, reference)
    if previous:
        history.attach(conn, previous)
    batches = _Batches(conn)

    staged = _stage_listings(conn, batches, workers, feeds, reference, quiet)
    watch.lap("reading and normalizing")
    checkpoint("listings-written")
    centres = workers.submit(area_centres, sorted({city for _, city in staged.scope if city}))

    # Pass 2: which keys are one program (rules of pipelines/merge.py), and their ids.
    _resolve_program_ids(conn, previous)
    watch.lap("matching")

    scope = staged.scope | requested_cities(feeds)
    cities, coverage, facet_counts = _write_programs(db, batches, workers, feeds, reference, site_rows or {},
                                                     previous, staged.when, quiet)
    watch.lap("writing programs")

    db["crawl_runs"].insert_all(crawl_runs(feeds, staged.rejects_per_feed), replace=True)
    db["coverage"].insert_all(coverage.rows(centres.get()))
    missing, before_cities, changes = _record_history(conn, batches, previous, scope, staged.when)
    watch.lap("history")
    checkpoint("programs-written")
    schema.facet_values(db, [pid for pid, _ in missing], facet_counts)  # the others' came with their rows
    watch.lap("facet values")
    schema.index(db)
    watch.lap("indexes and full-text search")
    conn.execute("ANALYZE")
    conn.commit()
    db.close()
    watch.lap("analyze")

    programs = sum(cities.values())
    return {
        "programs": programs,
        "listings": staged.listings,
        "rejects": sum(staged.rejects_per_feed.values()),
        "merged": staged.listings - programs,
        "placeholders": staged.placeholders,
        "missing": len(missing),
        "changes": changes,
        "cities": dict(cities.most_common()),
        "cities_before": before_cities,
        "scope": {city for _, city in scope if city},
        "stages": watch.stages,
    }


def _stage_listings(conn, batches: _Batches, workers: Workers, feeds, reference, quiet) -> _Staged:
    """Pass 1: stream the feeds. Rejects go to their table; listings are staged, normalized, on
    disk. Memory holds counters only, whatever the size of the input."""
    conn.execute(
        "create temp table staged (id integer primary key, match_key text not null, bucket text not null, "
        "phone text, host text, facility_type text, placeholder integer not null, listing blob not null, "
        "feed integer not null, offset integer not null, "
        "length integer not null, raw text)"
    )
    batches.columns("temp.staged", rows.STAGED_COLUMNS)
    staged = _Staged()
    progress = Progress("reading feed", quiet=quiet)
    for results in workers.map(rows.stage_block, _feed_blocks(feeds), feeds, len(reference.codes)):
        progress.tick(len(results))
        for result in results:
            if isinstance(result, rows.StagedReject):
                staged.rejects_per_feed[str(feeds[result.feed_index])] += 1
                batches.add("rejects", result.row)
                continue
            staged.listings += 1
            staged.placeholders += result.placeholder
            staged.scope.add((result.source, result.city_query))
            staged.when = max(staged.when or result.fetched_at, result.fetched_at)
            batches.add_values("temp.staged", result.row)
    batches.flush()
    progress.done()
    return staged


def _write_programs(db, batches: _Batches, workers: Workers, feeds, reference, site_rows: dict,
                    previous: Path | None, when: str | None, quiet) -> tuple[Counter, Coverage, Counter]:
    """Pass 3: programs in id order, their rows made by the workers (rows.program_chunk_rows),
    beside the previous build's programs (its changes go to temp.new_changes). Returns the number
    of programs per "City, ST", what they cover (pipelines/coverage.py), and their facet values'
    counts."""
    conn = db.conn
    conn.execute("create temp table new_changes (id integer primary key, program_id text, field text, "
                 "old text, new text, changed_at text)")
    conn.execute("create temp table program_codes (program_id text, codes text, unmapped text, "
                 "codes_before integer, unmapped_before integer)")
    inserts = {table: _insert_sql(table, columns) for table, columns in (
        ("program_care_levels", rows.CARE_LEVEL_COLUMNS), ("listings", (*rows.LISTING_COLUMNS, "raw")),
        ("program_facet_values", ("program_id", "facet", "value")),
        ("temp.program_codes", ("program_id", "codes", "unmapped", "codes_before", "unmapped_before")))}
    totals = {"codes": 0, "unmapped": 0}  # codes and unmatched texts so far: program_services' numbering
    base = conn.execute("select coalesce(max(id), 0) from program_services").fetchone()[0]
    compare = _Comparison(conn, batches, when) if previous else None
    cities, coverage, facet_counts = Counter(), Coverage(), Counter()
    progress = Progress("merging programs", quiet=quiet)
    for payload in workers.map(rows.program_chunk_rows, _program_runs(conn, site_rows), feeds, reference):
        chunk = rows.ChunkRows(*marshal.loads(payload))
        progress.tick(len(chunk.programs))
        if "programs" not in inserts:
            inserts["programs"] = _insert_sql("programs", chunk.program_columns)
        programs = compare.programs(chunk) if compare else chunk.programs
        conn.executemany(inserts["programs"], programs)
        conn.executemany(inserts["program_care_levels"], chunk.care_levels)
        written = conn.execute("select coalesce(max(rowid), 0) from temp.program_codes").fetchone()[0]
        conn.executemany(inserts["temp.program_codes"], _numbered(chunk.services, totals))
        schema.program_service_codes(db, "temp.program_codes", base, after=written)
        conn.executemany(inserts["listings"], chunk.listings)
        conn.executemany(inserts["program_facet_values"], chunk.facet_values)
        facet_counts.update(map(_facet_and_value, chunk.facet_values))
        cities.update(chunk.areas)
        coverage.add(chunk.coverage)
    batches.flush()
    progress.done()
    schema.program_service_texts(db, "temp.program_codes", base + totals["codes"])
    if compare:
        compare.close()  # an open cursor would lock the tables dropped below
    return cities, coverage, facet_counts


_facet_and_value = operator.itemgetter(1, 2)


def _insert_sql(table: str, columns) -> str:
    schema_name, _, name = table.rpartition(".")
    target = f"{schema_name + '.' if schema_name else ''}[{name}]"
    return (f"insert into {target} ({', '.join(f'[{c}]' for c in columns)}) "
            f"values ({', '.join('?' for _ in columns)})")


def _numbered(services: list[tuple], totals: dict) -> list[tuple]:
    """program_codes rows: each program's service lists with the counts of the programs before it."""
    out = []
    for program_id, codes, unmapped, code_count, unmapped_count in services:
        out.append((program_id, codes, unmapped, totals["codes"], totals["unmapped"]))
        totals["codes"] += code_count
        totals["unmapped"] += unmapped_count
    return out


class _Comparison:
    """The previous build's programs, walked beside the new ones in id order: each program's
    changes go to temp.new_changes (pipelines/history.py)."""

    def __init__(self, conn, batches: _Batches, when: str | None):
        self.batches, self.when = batches, when
        self.before_rows = history.previous_rows(conn)
        self.before = next(self.before_rows, None)

    def programs(self, chunk: rows.ChunkRows) -> list[tuple]:
        """The chunk's programs rows, each with the first_seen of its previous build."""
        out = []
        for values in chunk.programs:
            row = dict(zip(chunk.program_columns, values))
            while self.before is not None and self.before["id"] < row["id"]:
                self.before = next(self.before_rows, None)
            same = self.before if self.before is not None and self.before["id"] == row["id"] else None
            for change in history.compare_program(row, same, self.when):
                self.batches.add("temp.new_changes", change)
            out.append(tuple(row.values()))
        return out

    def close(self) -> None:
        self.before_rows.close()


def _record_history(conn, batches: _Batches, previous: Path | None, scope: set, when: str | None):
    """Programs the crawled cities no longer list, carried over as missing; every change into
    program_changes. Returns (missing programs, the previous build's programs per city, changes)."""
    missing = history.missing_programs(conn, scope) if previous else []
    for pid, status in missing:
        if status != "missing":
            batches.add("temp.new_changes", history.change(pid, "status", status or "listed", "missing", when))
    batches.flush()
    if previous:
        area = "coalesce(area, city || ', ' || state)" if "area" in history.columns(conn, "programs", "prev") \
            else "city || ', ' || state"  # a database built before programs had an area
        before_cities = dict(conn.execute(
            f"select {area}, count(*) from prev.programs"
            + (" where status = 'listed'" if "status" in history.columns(conn, "programs", "prev") else "")
            + " group by 1").fetchall())
        history.carry_over(conn, [pid for pid, _ in missing], when)
    else:
        before_cities = {}
    conn.execute("insert into program_changes (program_id, field, old, new, changed_at) "
                 "select program_id, field, old, new, changed_at from temp.new_changes order by id")
    changes = conn.execute("select count(*) from temp.new_changes").fetchone()[0]
    conn.commit()
    if previous:
        conn.execute("detach database prev")
    return missing, before_cities, changes


def _resolve_program_ids(conn, previous: Path | None) -> None:
    """Fill temp.key_program and temp.root_id: every staged key, the group (root key) it belongs
    to, the rule that joined it when rule 2 did, and each group's program id. Only buckets
    holding several keys are loaded into memory."""
    groups = UnionFind()
    near_rule: dict[str, str] = {}
    bucket_rows = conn.execute(
        "select bucket, match_key, group_concat(distinct phone), group_concat(distinct host), "
        "group_concat(distinct facility_type), min(placeholder) from temp.staged "
        "where bucket in (select bucket from temp.staged group by bucket having count(distinct match_key) > 1) "
        "group by bucket, match_key order by bucket, match_key"
    )
    for _, bucket in itertools.groupby(bucket_rows, key=lambda r: r[0]):
        keys = [KeyInfo(r[1], _set(r[2]), _set(r[3]), _set(r[4]), bool(r[5])) for r in bucket]
        for a, b, rule in bucket_merges(keys):
            groups.union(a, b)
            near_rule[a] = near_rule[b] = rule

    conn.execute("create temp table key_program (match_key text primary key, root text not null, "
                 "root_hash text not null, rule text, prev_id text)")
    conn.executemany(
        "insert into temp.key_program (match_key, root, root_hash, rule) values (?, ?, ?, ?)",
        ((key, root, program_id_of(root), near_rule.get(key))  # a generator: a million keys stream
         # group by, not distinct: SQLite sorts the keys for either, and this way took half the time
         for (key,) in conn.execute("select match_key from temp.staged group by match_key")
         for root in [groups.find(key) if key in groups else key]),
    )
    if previous:
        # A program keeps the id an earlier build gave any of its listings.
        conn.execute("update temp.key_program set prev_id = (select min(l.program_id) from prev.listings l "
                     "where l.match_key = key_program.match_key)")
    conn.execute("create temp table root_id as select root, min(root_hash) as root_hash, "
                 "coalesce(min(prev_id), min(root_hash)) as program_id from temp.key_program group by root")
    # Two groups claiming one earlier id (a program that split): the smallest root keeps it.
    conn.execute("update temp.root_id set program_id = root_hash where rowid not in "
                 "(select min(rowid) from temp.root_id group by program_id)")
    conn.execute("create index temp.root_id_root on root_id (root)")


def _set(group_concat: str | None) -> set[str]:
    return set((group_concat or "").split(",")) - {""}


def _write_vocabularies(db, reference) -> None:
    db["care_levels"].insert_all(vars(level) for level in vocab.care_levels().values())
    db["care_level_codes"].insert_all(
        {"service_code": code, "care_level": level}
        for code, levels in vocab.care_level_codes().items()
        for level in levels
    )
    db["facility_types"].insert_all(vocab.facility_types().values())
    db["service_codes"].insert_all(
        {
            "code": c.code, "name": c.name, "category_code": c.category_code,
            "category_name": c.category_name, "description": c.description,
            "substance_use": int(c.sa), "mental_health": int(c.mh), "both": int(c.both),
        }
        for c in reference.codes.values()
    )


def load_site_findings(path: Path | None) -> dict[str, list[dict]]:
    """Care levels programs' own websites state, judged here from what the provider_sites feed
    read (so a change to data/site_level_phrases.csv needs a build, not a crawl), as
    program_care_levels rows by program id. A site shared by several programs says nothing about
    any one of them: precision first, so its pages are not judged for any."""
    if not path or not Path(path).is_file():
        return {}
    judged = (judge_item(item) for _, item in read_feed(Path(path))
              if isinstance(item, dict) and item.get("program_id")
              and len(item.get("site_programs") or [item.get("program_id")]) <= 1)
    rows: dict[str, list[dict]] = {}
    for row in program_care_level_rows(judged):
        rows.setdefault(row["program_id"], []).append(row)
    return rows


def summary_line(db_path: Path, counts: dict, most: int = 6) -> str:
    cities = "; ".join(f"{city} {n}" for city, n in list(counts["cities"].items())[:most])
    if len(counts["cities"]) > most:
        cities += f"; {len(counts['cities']) - most:,} more cities"
    return (
        f"Built {db_path}: {counts['programs']} programs ({cities}) from {counts['listings']} listings "
        f"({counts['merged']} duplicate listings merged, {counts['placeholders']} placeholders without service detail, "
        f"{counts['rejects']} rejected; {counts['changes']} changes, {counts['missing']} missing since the last build) "
        f"in {counts['seconds']} s"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("feeds", nargs="+", type=Path, help="JSON Lines feeds written by `make crawl`")
    parser.add_argument("--db", type=Path, default=Path("data/programs.db"))
    parser.add_argument("--code-reference", type=Path, default=None)
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--sites", type=Path, default=None,
                        help="the provider_sites feed: care levels programs' own websites state")
    parser.add_argument("--allow-shrink", action="store_true",
                        help=f"replace the database even if an area lost more than {SHRINK_LIMIT * 100:.0f}%% of its programs")
    parser.add_argument("--allow-rejects", action="store_true",
                        help=f"replace the database even if more than {REJECT_LIMIT * 100:.0f}%% of the rows were rejected")
    parser.add_argument("--fresh", action="store_true",
                        help="build without the previous database (when it cannot be read): history starts anew")
    args = parser.parse_args(argv)
    try:
        counts = build(args.feeds, args.db, code_reference=args.code_reference, quiet=args.quiet,
                       allow_shrink=args.allow_shrink, sites=args.sites, allow_rejects=args.allow_rejects,
                       fresh=args.fresh)
    except (BuildError, CodeReferenceError, WorkerCountError) as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # the disk, not the data (full, gone read-only mid-build): one line
        print(f"build failed: {os_error_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"build interrupted: {args.db} is unchanged", file=sys.stderr)
        return 130
    if not args.quiet and counts["seconds"] >= STAGES_AFTER_SECONDS:
        print("Build stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in counts["stages"].items()), file=sys.stderr)
    print(summary_line(args.db, counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
