"""Levels of care and other facets derived from SAMHSA service codes, with the evidence kept."""
from __future__ import annotations

from functools import lru_cache

from common import vocab

# Types whose export rows are a template with every service flag set: "no service detail",
# not "offers everything" (SOURCES.md). A row of these types with most flags set is such a row.
PLACEHOLDER_TYPES = frozenset({"BUPREN", "OTP"})
PLACEHOLDER_MIN_SHARE = 0.5


def is_placeholder(facility_type: str | None, service_codes: list[str], known_code_count: int) -> bool:
    """True for a BUPREN or OTP row whose flags are the every-flag template."""
    if (facility_type or "").upper() not in PLACEHOLDER_TYPES or known_code_count == 0:
        return False
    threshold = PLACEHOLDER_MIN_SHARE * known_code_count
    # Cheap first: a list shorter than the threshold cannot hold enough distinct codes.
    return len(service_codes) >= threshold and len(set(service_codes)) >= threshold


def care_levels_from_codes(codes) -> dict[str, list[str]]:
    """{care level slug: [the codes that say so]}, in the vocabulary's display order."""
    mapping = vocab.care_level_codes()
    evidence: dict[str, list[str]] = {}
    # Only the codes that are evidence of a level, sorted: a program lists a hundred codes.
    for code in sorted(mapping.keys() & set(codes)):
        for level in mapping[code]:
            evidence.setdefault(level, []).append(code)
    return {slug: evidence[slug] for slug in vocab.care_levels() if slug in evidence}


@lru_cache(maxsize=1)
def _facet_codes() -> frozenset[str]:
    return frozenset(code for by_code in vocab.derived_facets().values() for code in by_code)


def facet_values(codes) -> dict[str, list[str]]:
    """{facet: [values]} for payment, ages, populations, languages, medications, telehealth;
    values in the order data/derived_facets.csv lists them, without repeats."""
    present = _facet_codes().intersection(codes)  # none at all for most listings (placeholders)
    return {facet: list(dict.fromkeys(value for code, value in by_code.items() if code in present)) if present else []
            for facet, by_code in vocab.derived_facets().items()}
