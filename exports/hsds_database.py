"""Read what the HSDS export needs from data/programs.db, read-only, in a stable order.

    read_database(path) -> {"programs", "care_levels", "care_level_by_slug", "care_level_codes",
                            "facility_types", "levels_by_program", "listings_by_program"}

Columns newer than some databases (programs.status, listings.source_date) are read where they
exist; the export then says less, never fails for it.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

PROGRAM_COLUMNS = (
    "id", "name", "alternate_name", "address", "city", "state", "zip", "phones", "intake_phone",
    "website", "latitude", "longitude", "facility_type", "has_service_detail", "payment", "ages",
    "languages", "last_seen",
)
OPTIONAL_PROGRAM_COLUMNS = ("status",)
LISTING_COLUMNS = ("program_id", "source", "source_url", "source_ref", "fetched_at")
OPTIONAL_LISTING_COLUMNS = ("source_date",)
# Each care level's evidence, with the fetch time of the listing it came from (a website's
# evidence row is its own page: no listing, its `seen` is the page's fetch time).
LEVELS_SQL = """
select e.program_id, e.care_level, e.source, e.evidence, e.source_url, e.source_ref, e.seen,
       (select min(l.fetched_at) from listings l where l.program_id = e.program_id
        and l.source_url = e.source_url and l.source_ref = e.source_ref) as listing_fetched_at,
       (select min(l.source) from listings l where l.program_id = e.program_id
        and l.source_url = e.source_url and l.source_ref = e.source_ref) as listing_source
from program_care_levels e order by e.program_id, e.care_level, e.source, e.source_ref, e.source_url
"""


class DatabaseError(RuntimeError):
    pass


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"pragma table_info([{table}])")}


def _select(conn, table: str, wanted: tuple, optional: tuple, order: str) -> list[dict]:
    present = _columns(conn, table)
    columns = ", ".join(wanted + tuple(c for c in optional if c in present))
    return [dict(r) for r in conn.execute(f"select {columns} from {table} order by {order}")]


def _group(rows: list[dict], key: str) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row[key], []).append(row)
    return grouped


def _read(conn: sqlite3.Connection, db_path: Path) -> dict:
    rows = lambda sql: [dict(r) for r in conn.execute(sql)]  # noqa: E731
    care_levels = rows("select slug, label, asam_level, description from care_levels order by sort_order")
    known = {level["slug"] for level in care_levels}
    evidence = rows(LEVELS_SQL)
    for row in evidence:
        if row["care_level"] not in known:
            raise DatabaseError(f"{db_path}: program_care_levels names care level {row['care_level']!r}, "
                                f"which is not in care_levels (program {row['program_id']})")
    return {
        "programs": _select(conn, "programs", PROGRAM_COLUMNS, OPTIONAL_PROGRAM_COLUMNS, "id"),
        "care_levels": care_levels,
        "care_level_by_slug": {level["slug"]: level for level in care_levels},
        "care_level_codes": rows("select service_code, care_level from care_level_codes "
                                 "order by service_code, care_level"),
        "facility_types": {r["code"]: r["label"] for r in rows("select code, label from facility_types")},
        "levels_by_program": _group(evidence, "program_id"),
        "listings_by_program": _group(
            _select(conn, "listings", LISTING_COLUMNS, OPTIONAL_LISTING_COLUMNS, "program_id, id"), "program_id"),
    }


def read_database(db_path: Path) -> dict:
    """Programs, the care-level vocabulary, each program's care-level evidence and listings."""
    if not db_path.is_file():
        raise DatabaseError(f"no database at {db_path}: run `make data` first")
    conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return _read(conn, db_path)
    except sqlite3.Error as exc:
        raise DatabaseError(f"{db_path}: not a directory database this export can read ({exc})") from exc
    finally:
        conn.close()
