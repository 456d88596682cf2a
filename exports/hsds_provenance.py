"""HSDS metadata rows that say where a record came from and when: one per source record (a SAMHSA
listing behind a service, the listing or web page behind a care-level attribute).

HSDS's metadata table is a change log whose every field is required; reading a record from a
source is the change recorded here (data/hsds_package.json, "provenance", says how each field is
filled and why). last_action_date is when the directory read the record, a full date the
tabular form's `date` type accepts; the source's own date, which may be only a year, is quoted in
replacement_value.
"""
from __future__ import annotations

import re

from exports.hsds_ids import hsds_id

FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_date(value: str | None) -> str | None:
    """The YYYY-MM-DD day of an ISO 8601 date or timestamp; None for a year, a month or nothing."""
    if value and FULL_DATE.match(value):
        return value[:10]
    return None


def where(source_url: str | None, source_ref: str | None) -> str:
    """A source record's address: its URL, and its place in that file when it has one."""
    if source_ref and source_ref != source_url:
        return f"{source_url}, {source_ref}"
    return source_url or source_ref or ""


def metadata_row(resource: tuple[str, str], record: dict, spec: dict) -> dict | None:
    """The metadata row for one source record of a resource (type, id). record: source (key of
    provenance.sources), source_url, source_ref, read (when the directory read it), source_date.
    None when no full date says when it was read."""
    texts = spec["provenance"]
    resource_type, resource_id = resource
    day = iso_date(record.get("read"))
    if day is None:
        return None
    place = where(record.get("source_url"), record.get("source_ref"))
    replacement = (texts["replacement_value_dated"].format(where=place, date=record["source_date"])
                   if record.get("source_date") else texts["replacement_value"].format(where=place))
    source = texts["sources"].get(record["source"], record["source"])
    return {
        "id": hsds_id("metadata", resource_type, resource_id, record.get("source_url") or "",
                      record.get("source_ref") or ""),
        "resource_id": resource_id,
        "resource_type": resource_type,
        "last_action_date": day,
        "last_action_type": texts["last_action_type"],
        "field_name": texts["field_name"],
        "previous_value": texts["previous_value"],
        "replacement_value": replacement,
        "updated_by": texts["updated_by"].format(source=source),
    }


def listing_records(listings: list[dict]) -> list[dict]:
    """The source records of a service: its listings."""
    return [
        {"source": l["source"], "source_url": l["source_url"], "source_ref": l["source_ref"],
         "read": l["fetched_at"], "source_date": l.get("source_date")}
        for l in listings
    ]


def evidence_record(row: dict) -> dict:
    """The source record of one care-level evidence row: its listing, or the web page it quotes
    (a page's `seen` is when it was read; a listing's `seen` is the source's own date)."""
    if row["listing_fetched_at"]:
        return {"source": row["listing_source"], "source_url": row["source_url"], "source_ref": row["source_ref"],
                "read": row["listing_fetched_at"],
                "source_date": row["seen"] if row["seen"] != row["listing_fetched_at"] else None}
    return {"source": row["source"], "source_url": row["source_url"], "source_ref": row["source_ref"],
            "read": row["seen"], "source_date": None}
