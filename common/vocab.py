"""The project's own vocabularies (data/*.csv): care levels, their SAMHSA evidence, derived facets."""
from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from common import paths

# The JSON-array columns of `programs` faceted through program_facet_values (plugins/facets.py),
# never by scanning JSON over the whole table: part of the database contract the build writes
# and the serving side reads.
FACET_ARRAYS = ("care_levels", "care_levels_any", "payment", "facility_type", "ages", "populations",
                "languages", "medications")


def _read(name: str) -> list[dict[str, str]]:
    with (paths.DATA / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@dataclass(frozen=True)
class CareLevel:
    slug: str
    label: str
    asam_level: str
    sort_order: int
    description: str


@lru_cache(maxsize=1)
def care_levels() -> dict[str, CareLevel]:
    """Care-level slugs in display order (IOP first: it is what most people here look for)."""
    levels = [
        CareLevel(r["slug"], r["label"], r["asam_level"], int(r["sort_order"]), r["description"])
        for r in _read("care_levels.csv")
    ]
    return {lv.slug: lv for lv in sorted(levels, key=lambda lv: lv.sort_order)}


@lru_cache(maxsize=1)
def care_level_codes() -> dict[str, tuple[str, ...]]:
    """Service code -> the care levels it is evidence for (HID: detox and inpatient)."""
    mapping: dict[str, list[str]] = defaultdict(list)
    for row in _read("care_level_codes.csv"):
        if row["care_level"] not in care_levels():
            raise ValueError(f"data/care_level_codes.csv: unknown care level {row['care_level']!r}")
        mapping[row["service_code"].upper()].append(row["care_level"])
    return {code: tuple(levels) for code, levels in mapping.items()}


@lru_cache(maxsize=1)
def derived_facets() -> dict[str, dict[str, str]]:
    """Facet name -> {service code: value}, e.g. payment -> {"MD": "Medicaid", ...}."""
    facets: dict[str, dict[str, str]] = defaultdict(dict)
    for row in _read("derived_facets.csv"):
        facets[row["facet"]][row["service_code"].upper()] = row["value"]
    return dict(facets)


@lru_cache(maxsize=1)
def facility_types() -> dict[str, dict[str, str]]:
    return {r["code"]: r for r in _read("facility_types.csv")}
