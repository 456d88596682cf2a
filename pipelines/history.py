"""Freshness and history from build to build.

A rebuild is compared with the database it replaces:
- `first_seen` is carried over, `last_seen` is the new crawl's time;
- every change of a tracked field is logged in `program_changes` (program, field, old, new, when),
  and so are programs added ("status": null -> "listed") and gone ("listed" -> "missing");
- a program the new crawl did not find, in a city and source it did crawl, is carried over with
  `status = 'missing'` and `missing_since`, not deleted. Programs of cities the new build does not
  cover are not carried: the database holds the cities it was built for.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

TRACKED_FIELDS = (
    "name", "alternate_name", "address", "city", "state", "zip", "phone", "website",
    "latitude", "longitude", "facility_type", "care_levels", "payment", "ages", "populations",
    "languages", "medications", "telehealth",
)


@dataclass
class Previous:
    path: Path
    programs: dict[str, dict]  # id -> row
    key_ids: dict[str, str]  # listing match key -> program id
    scopes: dict[str, set[tuple[str, str]]]  # program id -> {(source, city searched)}


def _columns(conn, table: str, schema: str = "main") -> list[str]:
    return [r[1] for r in conn.execute(f"pragma {schema}.table_info([{table}])")]


def load_previous(path: Path | None) -> Previous | None:
    """The database a build replaces, read-only; None when there is none (or not ours)."""
    if not path or not Path(path).is_file():
        return None
    conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        if not {"id", "first_seen", "last_seen"} <= set(_columns(conn, "programs")):
            return None
        programs = {r["id"]: dict(r) for r in conn.execute("select * from programs")}
        key_ids, scopes = {}, {}
        listing_columns = set(_columns(conn, "listings"))
        if {"match_key", "program_id", "source", "city_query"} <= listing_columns:
            for r in conn.execute("select match_key, program_id, source, city_query from listings"):
                key_ids.setdefault(r["match_key"], r["program_id"])
                scopes.setdefault(r["program_id"], set()).add((r["source"], r["city_query"]))
        return Previous(Path(path), programs, key_ids, scopes)
    except sqlite3.DatabaseError:
        return None
    finally:
        conn.close()


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) < 1e-7
    return (a if a not in ("", None) else None) == (b if b not in ("", None) else None)


def _change(program_id, field, old, new, when) -> dict:
    text = lambda v: v if v is None or isinstance(v, str) else json.dumps(v)  # noqa: E731
    return {"program_id": program_id, "field": field, "old": text(old), "new": text(new), "changed_at": when}


def compare(rows: list[dict], previous: Previous | None, scope: set[tuple[str, str]], when: str):
    """Update rows' first_seen from the previous build; return (changes, ids of missing programs)."""
    if previous is None:
        return [], []
    changes, seen = [], set()
    for row in rows:
        seen.add(row["id"])
        before = previous.programs.get(row["id"])
        if before is None:
            changes.append(_change(row["id"], "status", None, "listed", when))
            continue
        row["first_seen"] = min(filter(None, [before.get("first_seen"), row["first_seen"]]))
        if before.get("status") == "missing":
            changes.append(_change(row["id"], "status", "missing", "listed", when))
        for field in TRACKED_FIELDS:
            if field in before and not _same(before[field], row.get(field)):
                changes.append(_change(row["id"], field, before[field], row.get(field), when))
    missing = sorted(
        pid for pid in previous.programs
        if pid not in seen and previous.scopes.get(pid, set()) & scope
    )
    for pid in missing:
        if previous.programs[pid].get("status") != "missing":
            changes.append(_change(pid, "status", previous.programs[pid].get("status") or "listed", "missing", when))
    return changes, missing


def carry_over(conn: sqlite3.Connection, previous: Previous, missing: list[str], when: str) -> None:
    """Copy the missing programs (with their evidence, services and listings) and the earlier
    change log and crawl runs from the previous database into the one being built."""
    conn.execute("attach database ? as prev", (f"file:{previous.path.resolve()}?mode=ro",))
    try:
        conn.execute("create temp table carried (id text primary key)")
        conn.executemany("insert into carried values (?)", [(pid,) for pid in missing])
        copies = {
            "programs": "id in (select id from carried)",
            "program_care_levels": "program_id in (select id from carried)",
            "program_services": "program_id in (select id from carried)",
            "listings": "program_id in (select id from carried)",
            "program_changes": "1",
            "crawl_runs": "run_id not in (select run_id from main.crawl_runs)",
        }
        prev_tables = {r[0] for r in conn.execute("select name from prev.sqlite_master where type = 'table'")}
        for table, where in copies.items():
            if table not in prev_tables:
                continue
            # Surrogate integer keys are renumbered; every other shared column is copied.
            columns = [c for c in _columns(conn, table) if c in _columns(conn, table, "prev") and c != "id"
                       or (c == "id" and table == "programs")]
            names = ", ".join(f"[{c}]" for c in columns)
            conn.execute(f"insert into main.[{table}] ({names}) select {names} from prev.[{table}] where {where}")
        conn.execute(
            "update programs set status = 'missing', missing_since = coalesce(missing_since, ?) "
            "where id in (select id from carried)",
            (when,),
        )
        conn.execute("drop table carried")
        conn.commit()
    finally:
        conn.execute("detach database prev")
