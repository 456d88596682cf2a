"""The care levels as an HSDS taxonomy, and the attributes that give each service its levels.

One taxonomy ("Levels of care": uri, version), one term per care level (slug as code, ASAM level
in the description, term_uri). A service gets one attribute per level and per kind of source
(data/hsds_package.json, "level_sources"): levels derived from SAMHSA's service codes and levels
the program's own website states are separate attributes, told apart by link_type, each with its
evidence as value (the codes, or the site's words) and a metadata row per source record.
"""
from __future__ import annotations

import hashlib
import json

from exports.hsds_ids import hsds_id
from exports.hsds_provenance import evidence_record, metadata_row


class TaxonomyError(RuntimeError):
    pass


def taxonomy_version(care_levels: list[dict], care_level_codes: list[dict]) -> str:
    """A digest of the levels and the codes that give them: it changes exactly when they do."""
    content = json.dumps([care_levels, care_level_codes], sort_keys=True, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]


def taxonomy_id(spec: dict) -> str:
    return hsds_id("taxonomy", spec["taxonomy"]["key"])


def term_id(spec: dict, slug: str) -> str:
    return hsds_id("taxonomy_term", spec["taxonomy"]["key"], slug)


def term_description(level: dict, texts: dict) -> str:
    """The care level's own description, with its ASAM level added where it does not name one."""
    if "ASAM level" in level["description"]:
        return level["description"]
    return texts["term_description_asam"].format(**level)


def taxonomy_rows(db: dict, spec: dict) -> tuple[list[dict], list[dict]]:
    """The taxonomy "Levels of care" and one term per care level."""
    taxonomy = spec["taxonomy"]
    row = {
        "id": taxonomy_id(spec),
        "name": taxonomy["name"],
        "description": taxonomy["description"],
        "uri": taxonomy["uri"],
        "version": taxonomy_version(db["care_levels"], db["care_level_codes"]),
    }
    terms = [
        {
            "id": term_id(spec, level["slug"]),
            "code": level["slug"],
            "name": level["label"],
            "description": term_description(level, spec["texts"]),
            "parent_id": None,
            "taxonomy": taxonomy["name"],
            "language": taxonomy["language"],
            "taxonomy_id": row["id"],
            "term_uri": taxonomy["term_uri"].format(slug=level["slug"]),
        }
        for level in db["care_levels"]
    ]
    return [row], terms


def _by_level_and_source(evidence: list[dict], db: dict, spec: dict) -> list[tuple[str, str, list[dict]]]:
    """(slug, source, evidence rows) in care-level order, then in the order of level_sources."""
    sources = [key for key in spec["level_sources"] if key != "why"]
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in evidence:
        if row["source"] not in sources:
            raise TaxonomyError(f"program_care_levels.source {row['source']!r} (program {row['program_id']}) "
                                "has no entry in data/hsds_package.json level_sources")
        groups.setdefault((row["care_level"], row["source"]), []).append(row)
    order = {slug: n for n, slug in enumerate(db["care_level_by_slug"])}
    return [(slug, source, rows) for (slug, source), rows in
            sorted(groups.items(), key=lambda item: (order[item[0][0]], sources.index(item[0][1])))]


def evidence_value(rows: list[dict], kind: str) -> str:
    """The SAMHSA codes that give the level (each once), or the website's words (each quote once)."""
    if kind == "codes":
        return ", ".join(sorted({code.strip() for r in rows for code in (r["evidence"] or "").split(",")
                                 if code.strip()}))
    return " | ".join(dict.fromkeys(r["evidence"] for r in rows if r["evidence"]))


def levels_by_source(evidence: list[dict], db: dict, spec: dict) -> dict[str, list[str]]:
    """Each kind of source's care levels for one program, in care-level order."""
    found: dict[str, list[str]] = {}
    for slug, source, _ in _by_level_and_source(evidence, db, spec):
        found.setdefault(source, []).append(slug)
    return found


def attribute_rows(program_id: str, service_id: str, db: dict, spec: dict) -> tuple[list[dict], list[dict]]:
    """The attributes giving one service its care levels, and their metadata rows."""
    attributes, metadata = [], []
    evidence = db["levels_by_program"].get(program_id, [])
    for slug, source, rows in _by_level_and_source(evidence, db, spec):
        kind = spec["level_sources"][source]
        keys = (program_id, slug, kind["id_key"]) if kind["id_key"] else (program_id, slug)
        attribute = {
            "id": hsds_id("attribute", *keys),
            "link_id": service_id,
            "taxonomy_term_id": term_id(spec, slug),
            "link_type": kind["link_type"],
            "link_entity": "service",
            "value": evidence_value(rows, kind["evidence"]),
        }
        attributes.append(attribute)
        records = (metadata_row(("attribute", attribute["id"]), evidence_record(r), spec) for r in rows)
        metadata.extend(m for m in records if m)
    return attributes, metadata
