"""Listings of one facility become one program, across twins and across sources.

The merge rules (README "One record per program"; a labelled set of real pairs,
tests/fixtures/merge_pairs.csv, scored by `python -m bench.merge_pairs`):
1. Same key: the same name and second name, street and ZIP after folding (matching.py: case,
   punctuation, "Inc", "St"/"Street", suite numbers) are one program. This is how SAMHSA's SU
   and MH twins meet, and how a facility found by the API spider meets its export row.
2. Near-identical names at the same street and ZIP are one program only with evidence: the
   same phone number (an extension aside) or the same website host, and no conflicting second
   name (second names that differ by a typo, "Maintenance"/"Maintence", or by "DBA" do not
   conflict); one listing's second name naming the other ("X, DBA Y" / "Y") counts as the name.
3. SAMHSA lists a facility's opioid treatment program again as an OTP row without service
   detail: such a row joins the one facility at its street and ZIP with the same phone or
   website (not when several could be meant).
4. A facility that treats both is listed twice, SU and MH, sometimes under two names ("Department
   of Veterans Affairs" / "Lubbock VA Clinic"): the only SU and the only MH listing at one street
   and ZIP with the same phone are one program.
5. Anything else stays apart: different names at one address are different programs (AAMA's
   "Project Tejas" and "TARP Outpatient" share a building, a phone and a name1; buprenorphine
   practitioners at their clinic's address are people, not the clinic).

Ids are stable: a program keeps the id a previous build gave any of its listings; a new
program's id is a hash of its smallest key, so the same input always gives the same ids.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from urllib.parse import urlsplit

from pipelines.matching import names_near_identical
from pipelines.records import Listing
from pipelines.taxonomy import care_levels_from_codes, facet_values

RULE_SAME_KEY = "same name, street and ZIP"
RULE_NEAR_NAME = "near-identical name at the same street and ZIP, with the same {evidence}"
RULE_OTP = "SAMHSA's opioid treatment program listing of the facility at the same street and ZIP, with the same {evidence}"
RULE_TWINS = "the substance use and mental health listings at the same street and ZIP, with the same phone"


def key_text(merge_key: tuple[str, ...]) -> str:
    return "|".join(merge_key)


def _unique(values):
    return list(dict.fromkeys(filter(None, values)))


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
        return _unique(chain.from_iterable(listing.service_codes for listing in self.listings))

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
    """What the rules after the first need to know of all listings that share one key."""
    key: str  # key_text of the merge key
    phones: set[str]  # E.164, so numbers that differ only by an extension are one
    hosts: set[str]
    types: set[str] = field(default_factory=set)  # facility types: SU, MH, OTP, BUPREN...
    placeholder: bool = False  # every listing of the key is a placeholder (no service detail)

    @property
    def parts(self) -> list[str]:
        return self.key.split("|")

    @property
    def name(self) -> str:
        return self.parts[0]

    @property
    def second(self) -> str:
        return self.parts[1]


def website_host(url: str | None) -> str | None:
    return urlsplit(url).hostname.removeprefix("www.") if url else None


def _evidence(a: KeyInfo, b: KeyInfo) -> str | None:
    return "phone" if a.phones & b.phones else "website" if a.hosts & b.hosts else None


def _second_names_conflict(a: KeyInfo, b: KeyInfo) -> bool:
    """Both have a second name and they are not the same but for a typo ("Maintence")."""
    return bool(a.second and b.second and not names_near_identical(a.second, b.second))


def _near_names(a: KeyInfo, b: KeyInfo) -> bool:
    """Rule 2's names: near-identical names, or one's second name is the other's name (the
    "Central Texas MH/MR Center, DBA the Center for Life Resources" / "Center for Life
    Resources" kind), and no conflicting second names."""
    crossed = (a.second and not b.second and names_near_identical(a.second, b.name)) or \
              (b.second and not a.second and names_near_identical(b.second, a.name))
    return bool(crossed) or (names_near_identical(a.name, b.name) and not _second_names_conflict(a, b))


def _full_name(key: KeyInfo) -> str:
    return " ".join(filter(None, (key.name, key.second)))


def _only_partner(key: KeyInfo, others: list[KeyInfo], wanted) -> KeyInfo | None:
    """The one key among `others` that `wanted` accepts and that shares a phone or website with
    `key`; of several, the one whose whole name ("Texas Clinic" + "Fulton") is `key`'s; None
    when nothing says which is meant."""
    found = [o for o in others if o is not key and wanted(o) and _evidence(key, o)]
    if len(found) > 1:
        found = [o for o in found if names_near_identical(_full_name(o), _full_name(key))]
    return found[0] if len(found) == 1 else None


def bucket_merges(keys: list[KeyInfo]) -> list[tuple[str, str, str]]:
    """Rules 2-4 within one bucket (keys sharing street, ZIP and state): the pairs of keys that
    are one program, each with the rule that says so."""
    keys = sorted(keys, key=lambda k: k.key)
    merges = []
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            evidence = _evidence(a, b)
            if evidence and _near_names(a, b):
                merges.append((a.key, b.key, RULE_NEAR_NAME.format(evidence=evidence)))
    for key in keys:
        if key.placeholder and key.types == {"OTP"}:
            partner = _only_partner(key, keys, lambda o: not o.placeholder)
            if partner:
                merges.append((partner.key, key.key, RULE_OTP.format(evidence=_evidence(key, partner))))
        elif key.types == {"SU"} and not key.placeholder:
            partner = _only_partner(key, keys, lambda o: "MH" in o.types and not o.placeholder)
            if partner and partner.types == {"MH"} and partner.phones & key.phones \
                    and _only_partner(partner, keys, lambda o: "SU" in o.types and not o.placeholder) is key \
                    and not _second_names_conflict(key, partner):
                merges.append((key.key, partner.key, RULE_TWINS))
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
