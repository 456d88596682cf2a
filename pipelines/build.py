"""Build data/programs.db from crawl feeds (JSON Lines of ListingItem), atomically.

    python -m pipelines.build data/feed/findtreatment_export.jsonl --db data/programs.db

The database is written to a temporary file beside the target and renamed into place only when
complete, so a failed or killed build leaves the previous database whole.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

import sqlite_utils

from pipelines import history, schema, vocab
from pipelines.code_reference import CodeReferenceError, load_code_reference
from pipelines.crawl_log import crawl_runs, requested_cities
from pipelines.merge import RULE_SAME_KEY, KeyInfo, Program, UnionFind, bucket_merges, key_text, program_id_of, website_host
from pipelines.normalize import Phone
from pipelines.progress import Progress
from pipelines import normalize as n
from pipelines.records import Listing, Reject, listing_from_item, scrub_item
from pipelines.site_levels import program_care_level_rows


class BuildError(RuntimeError):
    pass


def _json(values) -> str:
    return json.dumps(values, ensure_ascii=False)


# A JSON escape of a lone surrogate ("\\ud800"): text no UTF-8 file or SQLite column can hold.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def parse_feed_line(line: str, where: str):
    """One feed line as an item, or a Reject saying why not. Lone surrogates ("\\ud800" escapes,
    which no UTF-8 file or SQLite text can hold) are replaced here, once, for the whole build."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        return Reject(f"{where}: not JSON ({exc.msg})", {"line": n.scrub(line[:2000])})
    except RecursionError:
        return Reject(f"{where}: JSON nested too deeply", {"line": n.scrub(line[:2000])})
    return scrub_item(item) if _SURROGATE_ESCAPE.search(line) else item


def read_feed(path: Path):
    """Yield (line number, item or Reject) from a JSON Lines feed; a broken line is a Reject."""
    with path.open(encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                yield number, parse_feed_line(line, f"{path.name} line {number}")


SHRINK_LIMIT = 0.30


def build(feeds: list[Path], db_path: Path, *, code_reference: Path | None = None, quiet: bool = False,
          previous: Path | None = None, allow_shrink: bool = False, sites: Path | None = None) -> dict:
    """Build the database from the feeds; return the counts printed in the summary.

    `previous` is the database this build replaces, for history and the shrink guard (default:
    `db_path` itself). The new database replaces it only when complete, by a rename."""
    started = time.monotonic()
    reference = load_code_reference(code_reference)
    for feed in feeds:
        if not feed.is_file():
            raise BuildError(f"feed {feed} not found: run `make crawl` first")
    db_path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(db_path)
    temp_path = db_path.with_name(f"{TEMP_PREFIX.format(name=db_path.name)}{os.getpid()}")
    temp_path.unlink(missing_ok=True)
    before = history.usable_previous(previous or db_path)
    try:
        counts = _write(feeds, temp_path, reference, quiet, before, load_site_findings(sites))
        if counts["programs"] == 0:
            raise BuildError(
                f"no programs in {', '.join(map(str, feeds))} ({counts['rejects']} rejected): "
                f"keeping the existing {db_path}"
            )
        if not allow_shrink:
            check_shrink(counts["cities_before"], counts["cities"], counts["scope"], db_path)
        _fsync(temp_path)
        checkpoint("before-rename")
        os.replace(temp_path, db_path)
        _fsync(db_path.parent)
        checkpoint("after-rename")
    finally:
        temp_path.unlink(missing_ok=True)
    counts["seconds"] = round(time.monotonic() - started, 2)
    return counts


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
    """Refuse a build in which a city it covers lost more than SHRINK_LIMIT of its programs."""
    shrunk = [
        f"{city}: {before[city]} programs before, {cities_now.get(city, 0)} now "
        f"({(cities_now.get(city, 0) - before[city]) / before[city]:+.0%})"
        for city in sorted(scope)
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
    insert_all is convenient but costs more per row than the whole normalization)."""

    def __init__(self, conn):
        self.conn, self.rows, self.sql = conn, {}, {}

    def add(self, table: str, row: dict) -> None:
        if table not in self.sql:
            cols = list(row)
            schema_name, _, name = table.rpartition(".")
            target = f"{schema_name + '.' if schema_name else ''}[{name}]"
            self.sql[table] = (cols, f"insert into {target} ({', '.join(f'[{c}]' for c in cols)}) "
                                     f"values ({', '.join('?' for _ in cols)})")
            self.rows[table] = []
        cols = self.sql[table][0]
        self.rows[table].append(tuple(row.get(c) for c in cols))
        if len(self.rows[table]) >= BATCH:
            self.flush(table)

    def flush(self, table: str | None = None) -> None:
        for name in [table] if table else list(self.rows):
            if self.rows.get(name):
                self.conn.executemany(self.sql[name][1], self.rows[name])
                self.rows[name] = []


def _write(feeds, temp_path, reference, quiet, previous: Path | None, site_rows: dict | None = None) -> dict:
    db = sqlite_utils.Database(temp_path)
    conn = db.conn
    conn.execute("PRAGMA journal_mode = OFF")  # a temp file: nothing to recover if we die
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA temp_store = FILE")  # staging tables can be larger than memory should be
    schema.create(db)
    _write_vocabularies(db, reference)
    if previous:
        history.attach(conn, previous)
    batches = _Batches(conn)

    # Pass 1: stream the feeds. Rejects go to their table; listings are staged, normalized, on
    # disk. Memory holds counters only, whatever the size of the input.
    conn.execute(
        "create temp table staged (id integer primary key, match_key text not null, bucket text not null, "
        "phone text, host text, listing text not null, row text not null)"
    )
    stats = Counter()
    rejects_per_feed: Counter = Counter()
    scope: set[tuple[str, str]] = set()
    when = None
    progress = Progress("reading feed", quiet=quiet)
    for feed in feeds:
        for number, item in read_feed(feed):
            progress.tick()
            result = item if isinstance(item, Reject) else listing_from_item(item, len(reference.codes))
            if isinstance(result, Reject):
                rejects_per_feed[str(feed)] += 1
                batches.add("rejects", _reject_row(result, feed, number))
                continue
            stats["listings"] += 1
            stats["placeholders"] += result.placeholder
            scope.add((result.source, result.city_query))
            when = max(when or result.fetched_at, result.fetched_at)
            key = key_text(result.merge_key)
            batches.add("temp.staged", {
                "match_key": key, "bucket": key.split("|", 2)[2],
                "phone": result.phone.e164 if result.phone else None, "host": website_host(result.website),
                "listing": listing_to_json(result),
                "row": _json(_listing_row(result, item)),
            })
    batches.flush()
    progress.done()
    checkpoint("listings-written")

    # Pass 2: which keys are one program (rules of pipelines/merge.py), and their ids.
    _resolve_program_ids(conn, previous)

    # Pass 3: one program at a time, in id order, beside the previous build's programs.
    site_rows = site_rows or {}
    scope |= requested_cities(feeds)
    conn.execute("create temp table new_changes (id integer primary key, program_id text, field text, "
                 "old text, new text, changed_at text)")
    before_rows = history.previous_rows(conn) if previous else iter(())
    before = next(before_rows, None)
    cities = Counter()
    progress = Progress("merging programs", quiet=quiet)
    for program in _programs(conn):
        progress.tick()
        row = _program_row(program, reference, site_rows.get(program.id, []))
        while before is not None and before["id"] < program.id:
            before = next(before_rows, None)
        if previous:
            same = before if before is not None and before["id"] == program.id else None
            for c in history.compare_program(row, same, when):
                batches.add("temp.new_changes", c)
        cities[f"{row['city']}, {row['state']}"] += 1
        batches.add("programs", row)
        for level, listing, codes in program.care_level_evidence():
            batches.add("program_care_levels", {
                "program_id": program.id, "care_level": level, "source": "SAMHSA service codes",
                "evidence": ", ".join(codes), "source_url": listing.source_url,
                "source_ref": listing.source_ref, "seen": listing.fetched_at,
            })
        for site_row in site_rows.get(program.id, []):
            batches.add("program_care_levels", site_row)
        for service in _service_rows(program, reference):
            batches.add("program_services", service)
        for i, listing_row in enumerate(program.rows):
            batches.add("listings", {**listing_row, "program_id": program.id, "merged_by": program.merged_by.get(i)})
    batches.flush()
    progress.done()
    if previous:
        before_rows.close()  # an open cursor would lock the tables dropped below

    db["crawl_runs"].insert_all(crawl_runs(feeds, rejects_per_feed), replace=True)
    missing = history.missing_programs(conn, scope) if previous else []
    for pid, status in missing:
        if status != "missing":
            batches.add("temp.new_changes", history.change(pid, "status", status or "listed", "missing", when))
    batches.flush()
    if previous:
        before_cities = dict(conn.execute(
            "select city || ', ' || state, count(*) from prev.programs"
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
    checkpoint("programs-written")
    schema.facet_values(db)
    schema.index(db)
    conn.execute("ANALYZE")
    conn.commit()
    db.close()

    programs = sum(cities.values())
    return {
        "programs": programs,
        "listings": stats["listings"],
        "rejects": sum(rejects_per_feed.values()),
        "merged": stats["listings"] - programs,
        "placeholders": stats["placeholders"],
        "missing": len(missing),
        "changes": changes,
        "cities": dict(cities.most_common()),
        "cities_before": before_cities,
        "scope": {city for _, city in scope if city},
    }


def _resolve_program_ids(conn, previous: Path | None) -> None:
    """Fill temp.key_program and temp.root_id: every staged key, the group (root key) it belongs
    to, the rule that joined it when rule 2 did, and each group's program id. Only buckets
    holding several keys are loaded into memory."""
    groups = UnionFind()
    near_rule: dict[str, str] = {}
    bucket_rows = conn.execute(
        "select bucket, match_key, group_concat(distinct phone), group_concat(distinct host) from temp.staged "
        "where bucket in (select bucket from temp.staged group by bucket having count(distinct match_key) > 1) "
        "group by bucket, match_key order by bucket, match_key"
    )
    for _, rows in itertools.groupby(bucket_rows, key=lambda r: r[0]):
        keys = [KeyInfo(r[1], set((r[2] or "").split(",")) - {""}, set((r[3] or "").split(",")) - {""}) for r in rows]
        for a, b, rule in bucket_merges(keys):
            groups.union(a, b)
            near_rule[a] = near_rule[b] = rule

    conn.execute("create temp table key_program (match_key text primary key, root text not null, "
                 "root_hash text not null, rule text, prev_id text)")
    conn.executemany(
        "insert into temp.key_program (match_key, root, root_hash, rule) values (?, ?, ?, ?)",
        [(key, root, program_id_of(root), near_rule.get(key))
         for (key,) in conn.execute("select distinct match_key from temp.staged")
         for root in [groups.find(key) if key in groups else key]],
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


def _programs(conn):
    """Programs one at a time, in id order, each with its listings in feed order."""
    rows = conn.execute(
        "select r.program_id, s.listing, s.row, s.match_key, k.rule from temp.staged s "
        "join temp.key_program k on k.match_key = s.match_key join temp.root_id r on r.root = k.root "
        "order by r.program_id, s.id"
    )
    for program_id, group in itertools.groupby(rows, key=lambda r: r[0]):
        group = list(group)
        listings = [listing_from_json(g[1]) for g in group]
        first_key, first_rule = group[0][3], group[0][4]
        merged_by = {
            i: RULE_SAME_KEY if g[3] == first_key else (g[4] or first_rule or RULE_SAME_KEY)
            for i, g in enumerate(group) if i
        }
        yield Program(program_id, listings, merged_by, rows=[json.loads(g[2]) for g in group])


def listing_to_json(listing: Listing) -> str:
    data = dict(vars(listing))
    for key in ("phone", "intake_phone"):
        if data[key] is not None:
            data[key] = vars(data[key])
    return json.dumps(data, ensure_ascii=False)


def listing_from_json(text: str) -> Listing:
    data = json.loads(text)
    for key in ("phone", "intake_phone"):
        if data.get(key):
            data[key] = Phone(**data[key])
    return Listing(**data)


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


def _listing_row(listing: Listing, item: dict) -> dict:
    return {
        "match_key": key_text(listing.merge_key),
        "source": listing.source,
        "source_url": listing.source_url,
        "source_ref": listing.source_ref,
        "fetched_at": listing.fetched_at,
        "city_query": listing.city_query,
        "facility_type": listing.facility_type,
        "placeholder": int(listing.placeholder),
        "warnings": _json(listing.warnings) if listing.warnings else None,
        "raw": _json(item),
    }


def _reject_row(reject: Reject, feed: Path, line: int) -> dict:
    item = reject.item if isinstance(reject.item, dict) else {}
    text = lambda key: item.get(key) if isinstance(item.get(key), str) else None  # noqa: E731
    return {
        "source": text("source"),
        "source_url": text("source_url") or str(feed),
        "source_ref": text("source_ref") or f"{feed.name} line {line}",
        "fetched_at": text("fetched_at"),
        "city_query": text("city_query"),
        "reason": reject.reason,
        "raw": _json(reject.item),
    }


def load_site_findings(path: Path | None) -> dict[str, list[dict]]:
    """Care levels programs' own websites state (the provider_sites feed), as program_care_levels
    rows by program id. A site shared by several programs says nothing about any one of them:
    precision first, so its findings are not attributed."""
    if not path or not Path(path).is_file():
        return {}
    items = []
    for _, item in read_feed(Path(path)):
        if isinstance(item, dict) and len(item.get("site_programs") or [item.get("program_id")]) <= 1:
            items.append(item)
    rows: dict[str, list[dict]] = {}
    for row in program_care_level_rows(items):
        rows.setdefault(row["program_id"], []).append(row)
    return rows


def _program_row(program: Program, reference, site_rows: list[dict] = ()) -> dict:
    first = program.first
    phones = program.phones()
    websites = program.websites()
    latitude, longitude = program.location()
    codes = program.service_codes
    facets = program.facets()
    detail = program.has_service_detail
    names = [reference.codes[c].name for c in codes if c in reference.codes]
    names += [u.get("text", "") for l in program.listings for u in l.unmapped_services]
    seen = sorted(l.fetched_at for l in program.listings)
    website_levels = [lv for lv in vocab.care_levels() if any(r["care_level"] == lv for r in site_rows)]
    return {
        "id": program.id,
        "name": first.name,
        "alternate_name": first.alternate_name,
        "address": first.address,
        "city": first.city,
        "state": first.state,
        "zip": first.zip,
        "county": first.county,
        "phone": phones[0].display if phones else None,
        "phone_e164": phones[0].e164 if phones else None,
        "phone_extension": phones[0].extension if phones else None,
        "phone_tel": phones[0].tel_uri if phones else None,
        "phones": _json([p.display for p in phones]),
        "intake_phone": next((l.intake_phone.display for l in program.listings if l.intake_phone), None),
        "website": websites[0] if websites else None,
        "websites": _json(websites),
        "latitude": latitude,
        "longitude": longitude,
        "facility_type": _json(program.facility_types()),
        "care_levels": _json(program.care_levels),
        "website_care_levels": _json(website_levels),
        "care_levels_any": _json([lv for lv in vocab.care_levels() if lv in website_levels or lv in program.care_levels]),
        "payment": _json(facets.get("payment", [])),
        "ages": _json(facets.get("ages", [])),
        "populations": _json(facets.get("populations", [])),
        "languages": _json(facets.get("languages", [])),
        "medications": _json(facets.get("medications", [])),
        # Unknown, not "no", when the source gave no service detail.
        "telehealth": int(bool(facets.get("telehealth"))) if detail else None,
        "has_service_detail": int(detail),
        "service_count": len(codes),
        "services_text": "; ".join(dict.fromkeys(n for n in names if n)) or None,
        "sources": _json(sorted({l.source for l in program.listings})),
        "source_urls": _json(list(dict.fromkeys(l.source_url for l in program.listings))),
        "listing_count": len(program.listings),
        "first_seen": seen[0],
        "last_seen": seen[-1],
        "status": "listed",
        "missing_since": None,
        "popup": _json({
            "title": first.name,
            "description": " · ".join(filter(None, [
                ", ".join(vocab.care_levels()[lv].label for lv in program.care_levels) or "No service detail listed",
                phones[0].display if phones else None,
                first.address,
            ])),
            "link": f"/program/{program.id}",
        }),
    }


def _service_rows(program: Program, reference):
    for code in program.service_codes:
        known = reference.codes.get(code)
        yield {
            "program_id": program.id,
            "service_code": code,
            "service_name": known.name if known else None,
            "category_code": known.category_code if known else None,
            "category_name": known.category_name if known else None,
        }
    seen = set()
    for listing in program.listings:
        for unmapped in listing.unmapped_services:
            key = (unmapped.get("category_code"), unmapped.get("text"))
            if key in seen:
                continue
            seen.add(key)
            yield {
                "program_id": program.id,
                "service_code": None,
                "service_name": unmapped.get("text"),
                "category_code": unmapped.get("category_code"),
                "category_name": unmapped.get("category_name"),
            }


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
                        help=f"replace the database even if a city lost more than {SHRINK_LIMIT:.0%} of its programs")
    args = parser.parse_args(argv)
    try:
        counts = build(args.feeds, args.db, code_reference=args.code_reference, quiet=args.quiet,
                       allow_shrink=args.allow_shrink, sites=args.sites)
    except (BuildError, CodeReferenceError) as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    print(summary_line(args.db, counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
