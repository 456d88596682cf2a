"""Listings of one facility become one program: twins merge, ids stay stable."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pipelines.records import Listing
from pipelines.taxonomy import care_levels_from_codes, facet_values


def program_id(merge_key: tuple[str, ...]) -> str:
    """A stable id: the same facility (name, street, ZIP) gets the same id on every build."""
    return "p" + hashlib.sha1("|".join(merge_key).encode("utf-8")).hexdigest()[:12]


def _unique(values):
    return list(dict.fromkeys(v for v in values if v))


@dataclass
class Program:
    id: str
    listings: list[Listing]

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
        rows = []
        for listing in self.listings:
            for level, codes in care_levels_from_codes(listing.service_codes).items():
                rows.append((level, listing, codes))
        return rows

    def care_levels(self) -> list[str]:
        return list(care_levels_from_codes(self.service_codes))

    def facets(self) -> dict[str, list[str]]:
        return facet_values(self.service_codes)

    def phones(self):
        return list({p.display: p for l in self.listings for p in (l.phone,) if p}.values())

    def websites(self) -> list[str]:
        return _unique(l.website for l in self.listings)

    def facility_types(self) -> list[str]:
        return sorted(_unique(l.facility_type for l in self.listings))

    def location(self) -> tuple[float | None, float | None]:
        for listing in self.listings:
            if listing.latitude is not None:
                return listing.latitude, listing.longitude
        return None, None


def _ref_order(listing: Listing):
    digits = "".join(ch if ch.isdigit() else " " for ch in listing.source_ref).split()
    return (listing.source, listing.source_url, [int(d) for d in digits], listing.source_ref)


def merge_listings(listings: list[Listing]) -> list[Program]:
    """Group listings by merge key; each group is one program, listings in source order."""
    groups: dict[tuple[str, ...], list[Listing]] = {}
    for listing in listings:
        groups.setdefault(listing.merge_key, []).append(listing)
    programs = [Program(program_id(key), sorted(group, key=_ref_order)) for key, group in groups.items()]
    return sorted(programs, key=lambda p: _ref_order(p.first))
