"""A feed item (one source row) becomes a normalized Listing, or a Reject that says why."""
from __future__ import annotations

from dataclasses import dataclass, field

from pipelines import normalize as n
from pipelines.matching import name_key, street_key
from pipelines.taxonomy import is_placeholder

REQUIRED_PROVENANCE = ("source", "source_url", "source_ref", "fetched_at")


@dataclass
class Reject:
    reason: str
    item: dict


@dataclass
class Listing:
    source: str
    source_url: str
    source_ref: str
    fetched_at: str
    city_query: str | None
    name: str
    alternate_name: str | None
    street1: str | None
    street2: str | None
    city: str | None
    state: str
    zip: str | None
    county: str | None
    phone: n.Phone | None
    intake_phone: n.Phone | None
    website: str | None
    latitude: float | None
    longitude: float | None
    facility_type: str | None
    placeholder: bool
    service_codes: list[str]  # empty for a placeholder row: it has no real service detail
    unmapped_services: list[dict]
    warnings: list[str] = field(default_factory=list)

    @property
    def address(self) -> str | None:
        return ", ".join(p for p in (self.street1, self.street2) if p) or None

    @property
    def merge_key(self) -> tuple[str, ...]:
        """(name, second name, street, ZIP or city, state), folded: see pipelines/merge.py."""
        where = self.zip or n.match_key(self.city)
        return (name_key(self.name), name_key(self.alternate_name), street_key(self.street1), where, self.state)


def listing_from_item(item, known_code_count: int) -> Listing | Reject:
    """Normalize one feed item. Rejects only what cannot be a program: no name, no address,
    no state, or a row the parser flagged; smaller faults (a bad phone) become warnings."""
    if not isinstance(item, dict):
        return Reject(f"not a JSON object but {type(item).__name__}", {"value": item})
    missing = [k for k in REQUIRED_PROVENANCE if not isinstance(item.get(k), str) or not item.get(k)]
    if missing:
        return Reject(f"missing provenance: {', '.join(missing)}", item)
    problems = item.get("problems") or []
    if problems:
        return Reject("; ".join(str(p) for p in problems), item)
    name = n.clean_text(item.get("name1"))
    if not name:
        return Reject("no name (name1 is blank)", item)
    street1, city = n.clean_text(item.get("street1")), n.city_name(item.get("city"), item.get("city_query"))
    if not street1 and not city:
        return Reject("no address (street1 and city are blank)", item)
    state = n.state_code(item.get("state"))
    if not state:
        return Reject(f"state {item.get('state')!r} is not a two-letter code", item)
    codes = item.get("service_codes") or []
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        return Reject("service_codes is not a list of codes", item)
    codes = list(dict.fromkeys(c.strip().upper() for c in codes if c.strip()))
    facility_type = (n.clean_text(item.get("facility_type")) or "").upper() or None
    placeholder = is_placeholder(facility_type, codes, known_code_count)

    warnings = []
    phone = n.normalize_phone(item.get("phone"))
    if item.get("phone") and not phone:
        warnings.append(f"phone {item.get('phone')!r} is not a valid US number")
    website = n.normalize_website(item.get("website"))
    if item.get("website") and not website:
        warnings.append(f"website {item.get('website')!r} is not an http(s) address")
    latitude, longitude = n.coordinate(item.get("latitude"), 90), n.coordinate(item.get("longitude"), 180)
    if latitude is None or longitude is None:
        if item.get("latitude") or item.get("longitude"):
            warnings.append(f"coordinates {item.get('latitude')!r}, {item.get('longitude')!r} are not usable")
        latitude = longitude = None
    unmapped = item.get("unmapped_services") or []
    return Listing(
        source=item["source"],
        source_url=item["source_url"],
        source_ref=item["source_ref"],
        fetched_at=item["fetched_at"],
        city_query=item.get("city_query"),
        name=name,
        alternate_name=n.clean_text(item.get("name2")),
        street1=street1,
        street2=n.clean_text(item.get("street2")),
        city=city,
        state=state,
        zip=n.zip5(item.get("zip")),
        county=n.clean_text(item.get("county")),
        phone=phone,
        intake_phone=n.normalize_phone(item.get("intake_phone")),
        website=website,
        latitude=latitude,
        longitude=longitude,
        facility_type=facility_type,
        placeholder=placeholder,
        service_codes=[] if placeholder else codes,
        unmapped_services=[] if placeholder else [u for u in unmapped if isinstance(u, dict)],
        warnings=warnings,
    )
