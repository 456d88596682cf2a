"""Build data/programs.db from crawl feeds (JSON Lines of ListingItem), atomically.

    python -m pipelines.build data/feed/findtreatment_export.jsonl --db data/programs.db

The database is written to a temporary file beside the target and renamed into place only when
complete, so a failed or killed build leaves the previous database whole.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import sqlite_utils

from pipelines import schema, vocab
from pipelines.code_reference import CodeReferenceError, load_code_reference
from pipelines.crawl_log import crawl_runs, requested_cities
from pipelines.history import Previous, carry_over, compare, load_previous
from pipelines.merge import Program, key_text, merge_listings
from pipelines.progress import Progress
from pipelines.records import Listing, Reject, listing_from_item


class BuildError(RuntimeError):
    pass


def _json(values) -> str:
    return json.dumps(values, ensure_ascii=False)


def read_feed(path: Path):
    """Yield (line number, item or Reject) from a JSON Lines feed; a broken line is a Reject."""
    with path.open(encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, Reject(f"{path.name} line {number}: not JSON ({exc.msg})", {"line": line[:2000]})


# A city whose program count falls by more than this share is a failed crawl, not news.
SHRINK_LIMIT = 0.30


def build(feeds: list[Path], db_path: Path, *, code_reference: Path | None = None, quiet: bool = False,
          previous: Path | None = None, allow_shrink: bool = False) -> dict:
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
    before = load_previous(previous or db_path)
    try:
        counts = _write(feeds, temp_path, reference, quiet, before)
        if counts["programs"] == 0:
            raise BuildError(
                f"no programs in {', '.join(map(str, feeds))} ({counts['rejects']} rejected): "
                f"keeping the existing {db_path}"
            )
        if not allow_shrink:
            check_shrink(before, counts["cities"], counts["scope"], db_path)
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


def check_shrink(previous: Previous | None, cities_now: dict[str, int], scope: set[str], db_path: Path) -> None:
    """Refuse a build in which a city it covers lost more than SHRINK_LIMIT of its programs."""
    if previous is None:
        return
    before = Counter(f"{p['city']}, {p['state']}" for p in previous.programs.values()
                     if p.get("status", "listed") == "listed")
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


def _write(feeds, temp_path, reference, quiet, previous: Previous | None) -> dict:
    db = sqlite_utils.Database(temp_path)
    db.execute("PRAGMA journal_mode = OFF")  # a temp file: nothing to recover if we die
    db.execute("PRAGMA synchronous = OFF")
    schema.create(db)
    _write_vocabularies(db, reference)

    # Stream the feeds: rejects and listings go to the database as they are read; only the
    # normalized listings stay in memory for merging.
    listings: list[Listing] = []
    rejects_per_feed: Counter = Counter()
    progress = Progress("reading feed", quiet=quiet)
    for feed in feeds:
        db["rejects"].insert_all(_rows_of_feed(db, feed, reference, listings, rejects_per_feed, progress))
    progress.done()

    checkpoint("listings-written")
    programs = merge_listings(listings, previous.key_ids if previous else None)
    when = max((l.fetched_at for l in listings), default=None)
    rows = [_program_row(p, reference) for p in programs]
    scope = {(l.source, l.city_query) for l in listings} | requested_cities(feeds)
    changes, missing = compare(rows, previous, scope, when)
    db["programs"].insert_all(rows)
    db["program_care_levels"].insert_all(
        {
            "program_id": p.id, "care_level": level, "source": "SAMHSA service codes",
            "evidence": ", ".join(codes), "source_url": listing.source_url,
            "source_ref": listing.source_ref, "seen": listing.fetched_at,
        }
        for p in programs
        for level, listing, codes in p.care_level_evidence()
    )
    db["program_services"].insert_all(row for p in programs for row in _service_rows(p, reference))
    _link_listings(db, programs)
    db["crawl_runs"].insert_all(crawl_runs(feeds, rejects_per_feed), replace=True)
    if previous and (missing or previous.programs):
        carry_over(db.conn, previous, missing, when)
    db["program_changes"].insert_all(changes)
    checkpoint("programs-written")
    schema.index(db)
    db.execute("ANALYZE")
    db.conn.commit()
    db.close()

    cities = Counter(f"{p.first.city}, {p.first.state}" for p in programs)
    return {
        "programs": len(programs),
        "listings": len(listings),
        "rejects": sum(rejects_per_feed.values()),
        "merged": len(listings) - len(programs),
        "placeholders": sum(l.placeholder for l in listings),
        "missing": len(missing),
        "changes": len(changes),
        "cities": dict(cities.most_common()),
        "scope": {city for _, city in scope if city},
    }


def _rows_of_feed(db, feed: Path, reference, listings: list, rejects_per_feed: Counter, progress):
    """Yield the feed's reject rows; write its listings, and keep them normalized for merging."""
    batch = []
    for number, item in read_feed(feed):
        progress.tick()
        result = item if isinstance(item, Reject) else listing_from_item(item, len(reference.codes))
        if isinstance(result, Reject):
            rejects_per_feed[str(feed)] += 1
            yield _reject_row(result, feed, number)
            continue
        listings.append(result)
        batch.append(_listing_row(result, item))
        if len(batch) >= 500:
            db["listings"].insert_all(batch)
            batch = []
    db["listings"].insert_all(batch)


def _link_listings(db, programs) -> None:
    """Point every listing at the program it became (by its match key)."""
    db.execute("create temp table key_program (match_key text primary key, program_id text)")
    db.conn.executemany(
        "insert or ignore into key_program values (?, ?)",
        ((key_text(l.merge_key), p.id) for p in programs for l in p.listings),
    )
    db.execute(
        "update listings set program_id = (select program_id from key_program k where k.match_key = listings.match_key)"
    )
    db.conn.executemany(
        "update listings set merged_by = ? where source = ? and source_url = ? and source_ref = ?",
        ((rule, p.listings[i].source, p.listings[i].source_url, p.listings[i].source_ref)
         for p in programs for i, rule in p.merged_by.items()),
    )
    db.execute("drop table key_program")


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
        "program_id": None,  # set once listings are merged into programs
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


def _program_row(program: Program, reference) -> dict:
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
        "care_levels": _json(program.care_levels()),
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
                ", ".join(vocab.care_levels()[lv].label for lv in program.care_levels()) or "No service detail listed",
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


def summary_line(db_path: Path, counts: dict) -> str:
    cities = "; ".join(f"{city} {n}" for city, n in counts["cities"].items())
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
    parser.add_argument("--allow-shrink", action="store_true",
                        help=f"replace the database even if a city lost more than {SHRINK_LIMIT:.0%} of its programs")
    args = parser.parse_args(argv)
    try:
        counts = build(args.feeds, args.db, code_reference=args.code_reference, quiet=args.quiet,
                       allow_shrink=args.allow_shrink)
    except (BuildError, CodeReferenceError) as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    print(summary_line(args.db, counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
