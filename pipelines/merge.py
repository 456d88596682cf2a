"""Listings of one facility become one program, across twins and across sources.

The merge rules, in order (README "One record per program"):
1. Same key: the same name and second name, street and ZIP after folding (matching.py: case,
   punctuation, "Inc", "St"/"Street", suite numbers) are one program. This is how SAMHSA's SU
   and MH twins meet, and how a facility found by the API spider meets its export row.
2. Near-identical names at the same street and ZIP are one program only with evidence: the
   same phone number or the same website host, and no conflicting second name.
3. Anything else stays apart: different names at one address are different programs
   (AAMA's "Project Tejas" and "TARP Outpatient" share a building, a phone and a name1).

Ids are stable: a program keeps the id a previous build gave any of its listings; a new
program's id is a hash of its smallest key, so the same input always gives the same ids.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

from pipelines.matching import names_near_identical
from pipelines.records import Listing
from pipelines.taxonomy import care_levels_from_codes, facet_values

RULE_SAME_KEY = "same name, street and ZIP"
RULE_NEAR_NAME = "near-identical name at the same street and ZIP, with the same {evidence}"


def key_text(merge_key: tuple[str, ...]) -> str:
    return "|".join(merge_key)


def _unique(values):
    return list(dict.fromkeys(v for v in values if v))


@dataclass
class Program:
    id: str
    listings: list[Listing]
    # Why each listing after the first belongs here: listing index -> rule.
    merged_by: dict[int, str] = field(default_factory=dict)

    @property
    def first(self) -> Listing:
        return self.listings[0]

    @cached_property
    def service_codes(self) -> list[str]:
        """The union of the services of all its listings (placeholders contribute none)."""
        return _unique(code for listing in self.listings for code in listing.service_codes)

    @property
    def has_service_detail(self) -> bool:
        return any(listing.service_codes for listing in self.listings)

    def care_level_evidence(self) -> list[tuple[str, Listing, list[str]]]:
        """(care level, listing that says it, the codes that say it), one per listing and level;
        a listing repeated in the feed (same source and reference) counts once."""
        seen, rows = set(), []
        for listing in self.listings:
            if (listing.source, listing.source_ref) in seen:
                continue
            seen.add((listing.source, listing.source_ref))
            rows += [(level, listing, codes) for level, codes in care_levels_from_codes(listing.service_codes).items()]
        return rows

    @cached_property
    def care_levels(self) -> list[str]:
        """The program's levels from SAMHSA's codes, in display order."""
        return list(care_levels_from_codes(self.service_codes))

    def facets(self) -> dict[str, list[str]]:
        return facet_values(self.service_codes)

    def phones(self):
        return list({p.display: p for listing in self.listings for p in (listing.phone,) if p}.values())

    def websites(self) -> list[str]:
        return _unique(listing.website for listing in self.listings)

    def facility_types(self) -> list[str]:
        return sorted(_unique(listing.facility_type for listing in self.listings))

    def location(self) -> tuple[float | None, float | None, bool]:
        """(latitude, longitude, approximate): the first listing's own point that its ZIP code
        confirms, else the first ZIP code centre that stands in for one."""
        placed = [listing for listing in self.listings if listing.latitude is not None]
        for listing in sorted(placed, key=lambda listing: listing.location_approximate):
            return listing.latitude, listing.longitude, listing.location_approximate
        return None, None, False

    def intake_phones(self):
        return list({p.display: p for listing in self.listings for p in listing.intake_phones}.values())


def program_id_of(key_text_: str) -> str:
    """A stable id from a key (key_text): the same facility gets the same id on every build."""
    return "p" + hashlib.sha1(key_text_.encode("utf-8")).hexdigest()[:12]


@dataclass
class KeyInfo:
    """What rule 2 needs to know of all listings that share one key."""
    key: str  # key_text of the merge key
    phones: set[str]
    hosts: set[str]

    @property
    def parts(self) -> list[str]:
        return self.key.split("|")


def website_host(url: str | None) -> str | None:
    return urlsplit(url).hostname.removeprefix("www.") if url else None


def bucket_merges(keys: list[KeyInfo]) -> list[tuple[str, str, str]]:
    """Rule 2 within one bucket (keys sharing street, ZIP and state): the pairs of keys that are
    one program, each with the rule that says so."""
    merges = []
    keys = sorted(keys, key=lambda k: k.key)
    for i, a in enumerate(keys):
        name_a, second_a = a.parts[0], a.parts[1]
        for b in keys[i + 1:]:
            name_b, second_b = b.parts[0], b.parts[1]
            if second_a and second_b and second_a != second_b:
                continue  # different second names: different programs
            if not names_near_identical(name_a, name_b):
                continue
            evidence = "phone" if a.phones & b.phones else "website" if a.hosts & b.hosts else None
            if evidence:
                merges.append((a.key, b.key, RULE_NEAR_NAME.format(evidence=evidence)))
    return merges


class UnionFind:
    """Groups of keys; the root of a group is its smallest key (so its id is stable)."""

    def __init__(self):
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        self.parent.setdefault(item, item)
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, a: str, b: str) -> None:
        ra, rb = sorted((self.find(a), self.find(b)))
        self.parent[rb] = ra

    def __contains__(self, item: str) -> bool:
        return item in self.parent
