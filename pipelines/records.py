"""A feed item (one source row) becomes a normalized Listing, or a Reject that says why."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from common import normalize as n
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


SERVICE_CODE = re.compile(r"[A-Z0-9]{1,12}")  # SAMHSA's codes: "SA", "OIT", "CSAA"...
MAX_REF_LENGTH = 200


def _show(value, limit: int = 80) -> str:
    """A bad value, quoted for a reason or warning, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def scrub_item(value):
    """The value with lone surrogates (a JSON "\\ud800") replaced: what SQLite can store.
    The build calls it only for feed lines that hold such an escape (pipelines/rows.parse_feed_line)."""
    if isinstance(value, str):
        return n.scrub(value)
    if isinstance(value, list):
        return [scrub_item(v) for v in value]
    if isinstance(value, dict):
        return {n.scrub(str(k)): scrub_item(v) for k, v in value.items()}
    return value


def listing_from_item(item, known_code_count: int) -> Listing | Reject:
    """Normalize one feed item. Rejects only what cannot be a program: no name, no address,
    no state, or a row the parser flagged; smaller faults (a bad phone) become warnings."""
    if not isinstance(item, dict):
        return Reject(f"not a JSON object but {type(item).__name__}", {"value": item})
    provenance = {k: n.clean_text(item.get(k)) if isinstance(item.get(k), str) else None for k in REQUIRED_PROVENANCE}
    missing = [k for k, v in provenance.items() if not v]
    if missing:
        return Reject(f"missing provenance: {', '.join(missing)}", item)
    ref = provenance["source_ref"]
    if len(ref) > MAX_REF_LENGTH or any(ch.isdigit() and ch not in "0123456789" for ch in ref):
        # Listings are ordered by the numbers in their reference (pipelines/merge.py).
        return Reject(f"source_ref {_show(ref)} is not a reference like 'row 17' or 'page 2 row 5'", item)
    problems = item.get("problems")
    if problems:
        texts = [n.clean_text(str(p)) for p in (problems if isinstance(problems, list) else [problems])]
        return Reject("; ".join(t for t in texts if t) or f"the parser flagged the row: {_show(problems)}", item)
    name = n.clean_text(item.get("name1"))
    if not name:
        raw = item.get("name1")
        return Reject(f"no name (name1 is {'blank' if raw is None or isinstance(raw, str) else _show(raw)})", item)
    city_query = n.clean_text(item.get("city_query"))
    street1, city = n.clean_text(item.get("street1")), n.city_name(item.get("city"), city_query)
    if not street1 and not city:
        return Reject("no address (street1 and city are blank)", item)
    state = n.state_code(item.get("state"))
    if not state:
        return Reject(f"state {_show(item.get('state'))} is not a two-letter code", item)
    codes = item.get("service_codes") or []
    if not isinstance(codes, list) or not set(map(type, codes)) <= {str}:
        return Reject("service_codes is not a list of codes", item)

    warnings = []
    facility_type = (n.clean_text(item.get("facility_type")) or "").upper() or None
    # A placeholder's ~270 codes are never used (they stay in the raw row): don't clean them.
    placeholder = is_placeholder(facility_type, codes, known_code_count)
    if placeholder:
        codes = []
    else:
        codes = list(dict.fromkeys(c.strip().upper() for c in codes if c.strip()))
        odd = [c for c in codes if not SERVICE_CODE.fullmatch(c)]
        if odd:
            warnings.append(f"service codes {_show(odd)} are not SAMHSA codes; dropped")
            codes = [c for c in codes if c not in odd]

    phone = n.normalize_phone(item.get("phone"))
    if item.get("phone") and not phone:
        warnings.append(f"phone {_show(item.get('phone'))} is not a valid US number")
    website = n.normalize_website(item.get("website"))
    if item.get("website") and not website:
        warnings.append(f"website {_show(item.get('website'))} is not an http(s) address")
    latitude, longitude = n.coordinate(item.get("latitude"), 90), n.coordinate(item.get("longitude"), 180)
    if latitude is None or longitude is None:
        if item.get("latitude") or item.get("longitude"):
            warnings.append(f"coordinates {_show(item.get('latitude'))}, {_show(item.get('longitude'))} are not usable")
        latitude = longitude = None
    unmapped = item.get("unmapped_services") or []
    if not isinstance(unmapped, list):
        warnings.append(f"unmapped_services {_show(unmapped)} is not a list; dropped")
        unmapped = []
    services = []
    for u in unmapped:
        text = n.clean_text(u.get("text")) if isinstance(u, dict) else None
        if text:
            services.append({"category_code": n.clean_text(u.get("category_code")),
                             "category_name": n.clean_text(u.get("category_name")), "text": text})
        else:
            warnings.append(f"unmapped service {_show(u)} has no text; dropped")
    return Listing(
        source=provenance["source"],
        source_url=provenance["source_url"],
        source_ref=provenance["source_ref"],
        fetched_at=provenance["fetched_at"],
        city_query=city_query,
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
        unmapped_services=[] if placeholder else services,
        warnings=warnings,
    )
