"""Freshness and history from build to build.

A rebuild is compared with the database it replaces, attached read-only as `prev`:
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
from pathlib import Path

TRACKED_FIELDS = (
    "name", "alternate_name", "address", "city", "state", "zip", "phone", "website",
    "latitude", "longitude", "facility_type", "care_levels", "website_care_levels", "payment", "ages",
    "populations", "languages", "medications", "telehealth",
)


def columns(conn, table: str, schema: str = "main") -> list[str]:
    return [r[1] for r in conn.execute(f"pragma {schema}.table_info([{table}])")]


def usable_previous(path: Path | None) -> Path | None:
    """The database a build replaces, if there is one and it is ours."""
    if not path or not Path(path).is_file():
        return None
    return None if previous_problem(path) else Path(path)


def previous_problem(path: Path) -> str | None:
    """Why an existing file cannot serve as the previous build (history, shrink guard), or None."""
    try:
        conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
        try:
            ok = {"id", "first_seen", "last_seen"} <= set(columns(conn, "programs")) and \
                {"match_key", "program_id", "source", "city_query"} <= set(columns(conn, "listings"))
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return f"it is not a readable SQLite database ({exc})"
    return None if ok else "it has no programs and listings tables of this directory"


def attach(conn: sqlite3.Connection, previous: Path) -> None:
    conn.execute("attach database ? as prev", (f"file:{previous.resolve()}?mode=ro",))


def previous_rows(conn: sqlite3.Connection):
    """The previous programs in id order, for a merge join with the new ones (also in id order)."""
    conn_rows = conn.cursor()
    conn_rows.row_factory = sqlite3.Row
    return conn_rows.execute("select * from prev.programs order by id")


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) < 1e-7
    return (a if a not in ("", None) else None) == (b if b not in ("", None) else None)


def change(program_id, field, old, new, when) -> dict:
    text = lambda v: v if v is None or isinstance(v, str) else json.dumps(v)  # noqa: E731
    return {"program_id": program_id, "field": field, "old": text(old), "new": text(new), "changed_at": when}


def compare_program(row: dict, before: sqlite3.Row | None, when: str) -> list[dict]:
    """Changes of one program since the previous build; sets row["first_seen"] from it."""
    if before is None:
        return [change(row["id"], "status", None, "listed", when)]
    keys = before.keys()
    row["first_seen"] = min(filter(None, [before["first_seen"], row["first_seen"]]))
    changes = []
    if "status" in keys and before["status"] == "missing":
        changes.append(change(row["id"], "status", "missing", "listed", when))
    for field in TRACKED_FIELDS:
        if field in keys and not _same(before[field], row.get(field)):
            changes.append(change(row["id"], field, before[field], row.get(field), when))
    return changes


def missing_programs(conn: sqlite3.Connection, scope: set[tuple[str, str]]) -> list[tuple[str, str | None]]:
    """(id, previous status) of the previous programs, in a city and source this build covers,
    that the new build did not find."""
    conn.execute("create temp table scope (source text, city_query text)")
    conn.executemany("insert into scope values (?, ?)", sorted(scope))
    status = "p.status" if "status" in columns(conn, "programs", "prev") else "null"
    rows = conn.execute(
        f"select p.id, {status} from prev.programs p where p.id not in (select id from main.programs) "
        "and exists (select 1 from prev.listings l join temp.scope s on s.source = l.source "
        "and s.city_query = l.city_query where l.program_id = p.id) order by p.id"
    ).fetchall()
    conn.execute("drop table temp.scope")
    return rows


def carry_over(conn: sqlite3.Connection, missing: list[str], when: str) -> None:
    """Copy the missing programs (with their evidence, services and listings) and the earlier
    change log and crawl runs from the previous database into the one being built."""
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
        shared = set(columns(conn, table, "prev"))
        names = ", ".join(f"[{c}]" for c in columns(conn, table)
                          if c in shared and (c != "id" or table == "programs"))
        conn.execute(f"insert into main.[{table}] ({names}) select {names} from prev.[{table}] where {where}")
    conn.execute(
        "update programs set status = 'missing', missing_since = coalesce(missing_since, ?) "
        "where id in (select id from carried)",
        (when,),
    )
    conn.execute("drop table carried")
