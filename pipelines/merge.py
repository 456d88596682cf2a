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
from urllib.parse import urlsplit

from pipelines.matching import names_near_identical
from pipelines.records import Listing
from pipelines.taxonomy import care_levels_from_codes, facet_values

RULE_SAME_KEY = "same name, street and ZIP"
RULE_NEAR_NAME = "near-identical name at the same street and ZIP, with the same {evidence}"


def program_id(merge_key: tuple[str, ...]) -> str:
    """A stable id from a listing's key: the same facility gets the same id on every build."""
    return "p" + hashlib.sha1("|".join(merge_key).encode("utf-8")).hexdigest()[:12]


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

    @property
    def service_codes(self) -> list[str]:
        """The union of the services of all its listings (placeholders contribute none)."""
        return _unique(code for listing in self.listings for code in listing.service_codes)

    @property
    def has_service_detail(self) -> bool:
        return any(listing.service_codes for listing in self.listings)

    def care_level_evidence(self) -> list[tuple[str, Listing, list[str]]]:
        """(care level, listing that says it, the codes that say it), one per listing and level."""
        return [
            (level, listing, codes)
            for listing in self.listings
            for level, codes in care_levels_from_codes(listing.service_codes).items()
        ]

    def care_levels(self) -> list[str]:
        return list(care_levels_from_codes(self.service_codes))

    def facets(self) -> dict[str, list[str]]:
        return facet_values(self.service_codes)

    def phones(self):
        return list({p.display: p for listing in self.listings for p in (listing.phone,) if p}.values())

    def websites(self) -> list[str]:
        return _unique(listing.website for listing in self.listings)

    def facility_types(self) -> list[str]:
        return sorted(_unique(listing.facility_type for listing in self.listings))

    def location(self) -> tuple[float | None, float | None]:
        for listing in self.listings:
            if listing.latitude is not None:
                return listing.latitude, listing.longitude
        return None, None


def _ref_order(listing: Listing):
    digits = "".join(ch if ch.isdigit() else " " for ch in listing.source_ref).split()
    return (listing.source, listing.source_url, [int(d) for d in digits], listing.source_ref)


def _contact_evidence(a: list[Listing], b: list[Listing]) -> str | None:
    phones_a = {l.phone.e164 for l in a if l.phone}
    if phones_a & {l.phone.e164 for l in b if l.phone}:
        return "phone"
    hosts_a = {urlsplit(l.website).hostname.removeprefix("www.") for l in a if l.website}
    if hosts_a & {urlsplit(l.website).hostname.removeprefix("www.") for l in b if l.website}:
        return "website"
    return None


class _UnionFind:
    def __init__(self, items):
        self.parent = {i: i for i in items}

    def find(self, item):
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, a, b) -> None:
        ra, rb = sorted((self.find(a), self.find(b)))
        self.parent[rb] = ra


def merge_listings(listings: list[Listing], previous_ids: dict[str, str] | None = None) -> list[Program]:
    """Group listings into programs by the rules above; listings in source order in each."""
    by_key: dict[tuple[str, ...], list[Listing]] = {}
    for listing in listings:
        by_key.setdefault(listing.merge_key, []).append(listing)

    # Rule 2: compare keys that share a street and ZIP (small buckets, so pairs are cheap).
    union = _UnionFind(by_key)
    near_rule: dict[tuple[str, ...], str] = {}
    buckets: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for key in sorted(by_key):
        buckets.setdefault(key[2:], []).append(key)
    for keys in buckets.values():
        for i, a in enumerate(keys):
            for b in keys[i + 1:]:
                if a[1] and b[1] and a[1] != b[1]:
                    continue  # different second names: different programs
                if not names_near_identical(a[0], b[0]):
                    continue
                evidence = _contact_evidence(by_key[a], by_key[b])
                if evidence:
                    union.union(a, b)
                    near_rule[b] = near_rule[a] = RULE_NEAR_NAME.format(evidence=evidence)

    groups: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for key in sorted(by_key):
        groups.setdefault(union.find(key), []).append(key)

    previous_ids = previous_ids or {}
    taken: set[str] = set()
    programs = []
    for root, keys in groups.items():
        members = sorted((l for k in keys for l in by_key[k]), key=_ref_order)
        earlier = sorted({previous_ids[key_text(k)] for k in keys if key_text(k) in previous_ids} - taken)
        pid = earlier[0] if earlier else program_id(min(keys))
        taken.add(pid)
        first_key = members[0].merge_key
        merged_by = {
            i: (RULE_SAME_KEY if l.merge_key == first_key else near_rule.get(l.merge_key, RULE_SAME_KEY))
            for i, l in enumerate(members) if i
        }
        programs.append(Program(pid, members, merged_by))
    return sorted(programs, key=lambda p: _ref_order(p.first))
