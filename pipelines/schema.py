"""The declared schema of data/programs.db (the database contract of DESIGN.md)."""
from __future__ import annotations

from collections import Counter
from typing import NamedTuple

import sqlite_utils

from common.vocab import FACET_ARRAYS

PROGRAMS = {
    "id": str,
    "name": str,
    "alternate_name": str,
    "address": str,
    "city": str,
    "state": str,
    "zip": str,
    "county": str,
    "area": str,  # the requested area ("Houston, TX") it was collected for
    "phone": str,
    "phone_e164": str,
    "phone_extension": str,
    "phone_tel": str,
    "phones": str,  # JSON array
    "intake_phone": str,
    "intake_phones": str,  # JSON array: every intake number (intake1, intake2) of every listing
    "website": str,
    "websites": str,  # JSON array
    "latitude": float,
    "longitude": float,
    "location_approximate": int,  # 1 when a ZIP code's centre stands in for SAMHSA's point
    "facility_type": str,  # JSON array of codes
    "care_levels": str,  # JSON array of slugs, from SAMHSA's codes
    "website_care_levels": str,  # JSON array of slugs the program's own website states
    "care_levels_any": str,  # the union of both, for finding a level by either source
    "payment": str,
    "ages": str,
    "populations": str,
    "languages": str,
    "medications": str,
    "telehealth": int,
    "has_service_detail": int,
    "service_count": int,
    "services_text": str,
    "sources": str,
    "source_urls": str,
    "listing_count": int,
    "first_seen": str,
    "last_seen": str,
    "status": str,  # "listed", or "missing" when the latest crawl of its city no longer found it
    "missing_since": str,
    "popup": str,  # JSON {title, description, link} for datasette-cluster-map's popups; link relative
}
PROGRAMS_NOT_NULL = {"name", "state", "facility_type", "care_levels", "sources", "first_seen", "last_seen", "status"}
FTS_COLUMNS = ["name", "alternate_name", "address", "city", "services_text"]


class Table(NamedTuple):
    columns: dict
    pk: str | tuple[str, ...]
    foreign_keys: tuple = ()
    not_null: frozenset = frozenset()


# Every table, in the order it is created (a foreign key names a table above it).
TABLES = {
    "care_levels": Table(
        {"slug": str, "label": str, "asam_level": str, "sort_order": int, "description": str}, pk="slug"),
    "facility_types": Table({"code": str, "label": str, "description": str}, pk="code"),
    "service_codes": Table(
        {"code": str, "name": str, "category_code": str, "category_name": str,
         "description": str, "substance_use": int, "mental_health": int, "both": int},
        pk="code"),
    "care_level_codes": Table(
        {"service_code": str, "care_level": str}, pk=("service_code", "care_level"),
        foreign_keys=(("care_level", "care_levels", "slug"),)),
    "programs": Table(PROGRAMS, pk="id", not_null=frozenset(PROGRAMS_NOT_NULL)),
    "program_care_levels": Table(
        {"program_id": str, "care_level": str, "source": str, "evidence": str,
         "source_url": str, "source_ref": str, "seen": str},
        pk=("program_id", "care_level", "source", "source_ref"),
        foreign_keys=(("program_id", "programs", "id"), ("care_level", "care_levels", "slug"))),
    # service_code is null for a text the source gave that matches no code;
    # service_name is null for a code the reference does not list (UBN, CT, MSNH).
    "program_services": Table(
        {"id": int, "program_id": str, "service_code": str, "service_name": str,
         "category_code": str, "category_name": str},
        pk="id", foreign_keys=(("program_id", "programs", "id"),)),
    "listings": Table(
        {"id": int, "program_id": str, "source": str, "source_url": str, "source_ref": str,
         "fetched_at": str, "source_date": str, "city_query": str, "facility_type": str, "placeholder": int,
         "match_key": str, "merged_by": str, "warnings": str, "raw": str},
        pk="id", foreign_keys=(("program_id", "programs", "id"),)),
    "program_changes": Table(
        {"id": int, "program_id": str, "field": str, "old": str, "new": str, "changed_at": str}, pk="id"),
    "crawl_runs": Table(
        {"run_id": str, "spider": str, "source_url": str, "cities": str, "started": str,
         "finished": str, "status": str, "error": str, "items": int, "rejects": int,
         "feed": str, "stats": str},
        pk="run_id"),
    "program_facet_values": Table(
        {"program_id": str, "facet": str, "value": str}, pk=("program_id", "facet", "value"),
        foreign_keys=(("program_id", "programs", "id"),)),
    "facet_counts": Table({"facet": str, "value": str, "count": int}, pk=("facet", "value")),
    # What the directory covers (pipelines/coverage.py): each area a crawl asked for.
    "coverage": Table(
        {"area": str, "state": str, "latitude": float, "longitude": float, "miles": float, "programs": int,
         "sources": str, "data_date": str, "oldest_date": str},
        pk="area"),
    "rejects": Table(
        {"id": int, "source": str, "source_url": str, "source_ref": str, "fetched_at": str,
         "city_query": str, "reason": str, "raw": str},
        pk="id"),
}


def create(db: sqlite_utils.Database) -> None:
    """Create every table with its declared columns, keys and foreign keys."""
    for name, table in TABLES.items():
        db[name].create(table.columns, pk=table.pk, foreign_keys=list(table.foreign_keys) or None,
                        not_null=set(table.not_null) or None)


def program_service_codes(db: sqlite_utils.Database, lists: str, base: int, after: int = 0) -> None:
    """program_services rows of the service codes in the rows of `lists` after rowid `after`
    (program_id; codes: JSON array; codes_before: how many codes the programs before it hold),
    numbered from `base`, the names of codes from service_codes. The build calls it for each run
    of programs as it writes them, so the rows go in while its workers make the next runs. A
    program's codes are numbered from the counts of the programs before it, so the rows need no
    sort (of millions) to be numbered the same, whatever order SQLite reads them in."""
    db.execute(
        "insert into program_services (id, program_id, service_code, service_name, category_code, category_name) "
        "select ? + t.codes_before + j.key + 1, t.program_id, j.value, c.name, c.category_code, c.category_name "
        f"from {lists} t, json_each(t.codes) j left join service_codes c on c.code = j.value where t.rowid > ?",
        [base, after],
    )


def program_service_texts(db: sqlite_utils.Database, lists: str, base: int) -> None:
    """program_services rows of the texts no code matched (`lists`' unmapped: JSON array of
    [text, category code, category name] or null; unmapped_before: how many the programs before
    it hold), numbered from `base`, after every program's codes."""
    db.execute(
        "insert into program_services (id, program_id, service_code, service_name, category_code, category_name) "
        "select ? + t.unmapped_before + j.key + 1, t.program_id, null, json_extract(j.value, '$[0]'), "
        f"json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]') from {lists} t, json_each(t.unmapped) j "
        "where t.unmapped is not null",
        [base],
    )


def facet_values(db: sqlite_utils.Database, program_ids: list[str] | None = None,
                 counted: Counter | None = None) -> None:
    """One row per program and value of each faceted JSON array, and the national counts
    (what an unfiltered table page shows, computed once here instead of on every request).
    `program_ids`: only these programs' values are added here (the build's workers made the
    rows of the programs it wrote: pipelines/rows.facet_value_rows; these are those it carried
    over from the previous database), and `counted` are the counts of the others' rows;
    None: every program's."""
    source = "programs p"
    if program_ids is not None:
        db.execute("create temp table facet_programs (id text primary key)")
        db.conn.executemany("insert into temp.facet_programs values (?)", [(pid,) for pid in program_ids])
        source = "temp.facet_programs f cross join programs p on p.id = f.id"
    for column in FACET_ARRAYS if program_ids != [] else ():  # none carried over: no rows to add
        db.execute(
            f"insert or ignore into program_facet_values (program_id, facet, value) "
            f"select p.id, ?, j.value from {source}, json_each(p.[{column}]) j "
            f"where json_valid(p.[{column}]) and j.type = 'text'",
            [column],
        )
    counts = Counter(counted or {})
    counts.update({(facet, value): count for facet, value, count in db.execute(
        "select facet, value, count(*) from program_facet_values "
        + ("where program_id in (select id from temp.facet_programs) " if program_ids is not None else "")
        + "group by facet, value")})
    db.conn.executemany("insert into facet_counts (facet, value, count) values (?, ?, ?)",
                        [(facet, value, count) for (facet, value), count in sorted(counts.items())])


def index(db: sqlite_utils.Database) -> None:
    """Indexes on what people filter by, and full-text search."""
    programs = db["programs"]
    programs.create_index(["city", "state"])
    programs.create_index(["state"])
    programs.create_index(["zip"])
    programs.create_index(["latitude", "longitude"])
    programs.create_index(["name"])
    db["program_care_levels"].create_index(["care_level", "program_id"])
    db["program_services"].create_index(["program_id"])
    db["program_services"].create_index(["service_code"])
    db["listings"].create_index(["program_id"])
    db["listings"].create_index(["match_key"])
    db["program_changes"].create_index(["program_id"])
    db["program_changes"].create_index(["changed_at"])
    programs.create_index(["status"])
    programs.create_index(["telehealth"])
    # The column facets (city, telehealth) of a page whose filter names programs by id (a national
    # array filter, plugins/array_filter.py) read this index instead of each program's row.
    programs.create_index(["id", "city", "telehealth"])
    # The near-me search (canned queries nearby and nearby_counts, /find) reads the programs in its
    # bounding box from this index alone: the box, whether listed, and what it carries on.
    programs.create_index(["latitude", "longitude", "status", "telehealth", "id", "name"],
                          index_name="idx_programs_near")
    db["program_facet_values"].create_index(["facet", "value", "program_id"])
    programs.enable_fts(FTS_COLUMNS, fts_version="FTS5", tokenize="porter")
