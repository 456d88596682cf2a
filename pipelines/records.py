"""A feed item (one source row) becomes a normalized Listing, or a Reject that says why."""
from __future__ import annotations

import marshal
import operator
import re
from dataclasses import dataclass, field, fields

from common import normalize as n
from common.geo import checked_point, zip_area
from pipelines.matching import name_key, street_key
from pipelines.names import WholeName, whole_name
from pipelines.taxonomy import is_placeholder

REQUIRED_PROVENANCE = ("source", "source_url", "source_ref", "fetched_at")
# The longest text a display field keeps (a source's 50 MB "name" is not a name): longer text is
# cut, with a warning; the listing's raw row keeps what the source said.
FIELD_CAPS = {"name": 300, "alternate_name": 300, "street1": 300, "street2": 300, "city": 100, "county": 100}


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
    # The date the source vouches for the listing (an export's own date); None when it gave none.
    source_date: str | None
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
    # Every intake number the source gives (intake1, intake2), valid ones only, in its order.
    intake_phones: list[n.Phone]
    website: str | None
    latitude: float | None
    longitude: float | None
    # True when the ZIP code's centre stands in for the source's point (missing or far off).
    location_approximate: bool
    facility_type: str | None
    placeholder: bool
    service_codes: list[str]  # empty for a placeholder row: it has no real service detail
    unmapped_services: list[dict]
    warnings: list[str] = field(default_factory=list)

    @property
    def seen(self) -> str:
        """When the source listed it: its own date where it gave one, else when it was fetched."""
        return self.source_date or self.fetched_at

    @property
    def address(self) -> str | None:
        return ", ".join(p for p in (self.street1, self.street2) if p) or None

    @property
    def whole_name(self) -> WholeName:
        """The name a person reads: name1 and name2 joined where SAMHSA cut one name in two
        (pipelines/names.py, data/name_joins.csv). `name` and `alternate_name` stay the source's
        two fields: the merge key (and so the program's id) and the raw row keep what it said."""
        whole = whole_name(self.name, self.alternate_name, self.city)
        cap = FIELD_CAPS["name"]
        if len(whole.name) <= cap:
            return whole
        return WholeName(whole.name[:cap - 1].rstrip() + "…", whole.second, whole.joined)

    @property
    def merge_key(self) -> tuple[str, ...]:
        """(name, second name, street, ZIP or city, state), folded: see pipelines/merge.py."""
        where = self.zip or n.match_key(self.city)
        return (name_key(self.name), name_key(self.alternate_name), street_key(self.street1), where, self.state)


_LISTING_VALUES = operator.attrgetter(*(f.name for f in fields(Listing)))
_PHONE_VALUES = operator.attrgetter(*(f.name for f in fields(n.Phone)))
_PHONE, _INTAKE_PHONE, _INTAKE_PHONES = (
    [f.name for f in fields(Listing)].index(name) for name in ("phone", "intake_phone", "intake_phones"))


def pack_listing(listing: Listing) -> bytes:
    """The listing as bytes for the build's staging table, read back by unpack_listing in the same
    build: marshal of its values (phones as tuples) is half the size of its pickle and costs half
    as much both ways, for a million listings that go through it twice. marshal's format belongs to
    the Python that wrote it: nothing packed outlives the build."""
    values = list(_LISTING_VALUES(listing))
    for i in (_PHONE, _INTAKE_PHONE):
        if values[i] is not None:
            values[i] = _PHONE_VALUES(values[i])
    values[_INTAKE_PHONES] = [_PHONE_VALUES(p) for p in values[_INTAKE_PHONES]]
    return marshal.dumps(values)


def unpack_listing(data: bytes) -> Listing:
    """The Listing pack_listing packed, equal to it."""
    values = marshal.loads(data)
    for i in (_PHONE, _INTAKE_PHONE):
        if values[i] is not None:
            values[i] = n.Phone(*values[i])
    values[_INTAKE_PHONES] = [n.Phone(*p) for p in values[_INTAKE_PHONES]]
    return Listing(*values)


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


class _Rejected(Exception):
    """Raised by the checks below with the reason a row cannot be a program."""


def listing_from_item(item, known_code_count: int) -> Listing | Reject:
    """Normalize one feed item. Rejects only what cannot be a program: no name, no address,
    no state, or a row the parser flagged; smaller faults (a bad phone) become warnings."""
    if not isinstance(item, dict):
        return Reject(f"not a JSON object but {type(item).__name__}", {"value": item})
    warnings: list[str] = []
    try:
        provenance = _provenance(item)
        _check_problems(item.get("problems"))
        zip_code = n.zip5(item.get("zip"))
        name, city_query, street1, city, state = _place(item, zip_code, warnings)
        codes = _listed_codes(item.get("service_codes"))
    except _Rejected as reason:
        return Reject(str(reason), item)
    facility_type = (n.clean_text(item.get("facility_type")) or "").upper() or None
    # A placeholder's ~270 codes are never used (they stay in the raw row): don't clean them.
    placeholder = is_placeholder(facility_type, codes, known_code_count)
    codes = [] if placeholder else _clean_codes(codes, warnings)
    phone, website = _contact(item, warnings)
    point = _checked_point(*_coordinates(item, warnings), zip_code, state, city, warnings)
    intake_phones = _intake_phones(item, warnings)
    services = _unmapped_services(item.get("unmapped_services"), warnings)
    texts = _capped({"name": name, "alternate_name": n.clean_text(item.get("name2")), "street1": street1,
                     "street2": n.clean_text(item.get("street2")), "city": city,
                     "county": n.clean_text(item.get("county"))}, warnings)
    return Listing(
        **provenance,
        city_query=city_query,
        source_date=_source_date(item.get("source_date"), warnings),
        **texts,
        state=state,
        zip=zip_code,
        phone=phone,
        intake_phone=intake_phones[0] if intake_phones else None,
        intake_phones=intake_phones,
        website=website,
        latitude=point.latitude,
        longitude=point.longitude,
        location_approximate=point.approximate,
        facility_type=facility_type,
        placeholder=placeholder,
        service_codes=codes,
        unmapped_services=[] if placeholder else services,
        warnings=warnings,
    )


def _capped(texts: dict[str, str | None], warnings: list[str]) -> dict[str, str | None]:
    for field_name, text in texts.items():
        cap = FIELD_CAPS[field_name]
        if text and len(text) > cap:
            warnings.append(f"{field_name} is {len(text):,} characters; cut to {cap}")
            texts[field_name] = text[:cap - 1].rstrip() + "…"
    return texts


def _provenance(item: dict) -> dict[str, str]:
    provenance = {k: n.clean_text(item.get(k)) if isinstance(item.get(k), str) else None for k in REQUIRED_PROVENANCE}
    missing = [k for k, v in provenance.items() if not v]
    if missing:
        raise _Rejected(f"missing provenance: {', '.join(missing)}")
    ref = provenance["source_ref"]
    if len(ref) > MAX_REF_LENGTH or any(ch.isdigit() and ch not in "0123456789" for ch in ref):
        # Listings are ordered by the numbers in their reference (pipelines/merge.py).
        raise _Rejected(f"source_ref {_show(ref)} is not a reference like 'row 17' or 'page 2 row 5'")
    return provenance


def _check_problems(problems) -> None:
    if problems:
        texts = [n.clean_text(str(p)) for p in (problems if isinstance(problems, list) else [problems])]
        raise _Rejected("; ".join(t for t in texts if t) or f"the parser flagged the row: {_show(problems)}")


def _place(item: dict, zip_code: str | None,
           warnings: list[str]) -> tuple[str, str | None, str | None, str | None, str]:
    """(name, city asked for, street, city, state), or _Rejected when a program cannot be placed.
    A state that contradicts the ZIP code takes the ZIP's state, with a warning."""
    name = n.clean_text(item.get("name1"))
    if not name:
        raw = item.get("name1")
        raise _Rejected(f"no name (name1 is {'blank' if raw is None or isinstance(raw, str) else _show(raw)})")
    city_query = n.clean_text(item.get("city_query"))
    street1, city = n.clean_text(item.get("street1")), n.city_name(item.get("city"), city_query)
    if not street1 and not city:
        raise _Rejected("no address (street1 and city are blank)")
    state = n.state_code(item.get("state"))
    if not state:
        raise _Rejected(f"state {_show(item.get('state'))} is not a two-letter code")
    area = zip_area(zip_code)
    if area and area.state != state:
        warnings.append(f"state {state} contradicts ZIP {zip_code} ({area.city}, {area.state}); {area.state} is used")
        state = area.state
    return name, city_query, street1, city, state


def _listed_codes(codes) -> list[str]:
    codes = codes or []
    if not isinstance(codes, list) or not set(map(type, codes)) <= {str}:
        raise _Rejected("service_codes is not a list of codes")
    return codes


# Codes that are already clean (upper case, stripped, SAMHSA's shape), one a line: checked at once.
_CLEAN_CODES = re.compile(r"[A-Z0-9]{1,12}(?:\n[A-Z0-9]{1,12})*")


def _clean_codes(codes: list[str], warnings: list[str]) -> list[str]:
    joined = "\n".join(codes)
    if _CLEAN_CODES.fullmatch(joined) and joined.count("\n") == len(codes) - 1:
        return list(dict.fromkeys(codes))  # what the general path below gives such codes
    codes = list(dict.fromkeys(c.strip().upper() for c in codes if c.strip()))
    odd = [c for c in codes if not SERVICE_CODE.fullmatch(c)]
    if odd:
        warnings.append(f"service codes {_show(odd)} are not SAMHSA codes; dropped")
    return [c for c in codes if c not in odd]


# An ISO 8601 date, or a year, month or time: "2023", "2023-11", "2023-11-07", "2023-11-07T19:17:14Z".
SOURCE_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?)?)?")


def _source_date(value, warnings: list[str]) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and SOURCE_DATE.fullmatch(value.strip()):
        return value.strip()
    warnings.append(f"source_date {_show(value)} is not an ISO 8601 date; the fetch time stands for it")
    return None


def _contact(item: dict, warnings: list[str]) -> tuple[n.Phone | None, str | None]:
    phone = n.normalize_phone(item.get("phone"))
    if item.get("phone") and not phone:
        warnings.append(f"phone {_show(item.get('phone'))} is not a valid US number")
    website = n.normalize_website(item.get("website"))
    if item.get("website") and not website:
        warnings.append(f"website {_show(item.get('website'))} is not an http(s) address")
    return phone, website


def _coordinates(item: dict, warnings: list[str]) -> tuple[float | None, float | None]:
    latitude, longitude = n.coordinate(item.get("latitude"), 90), n.coordinate(item.get("longitude"), 180)
    if latitude is None or longitude is None:
        if item.get("latitude") or item.get("longitude"):
            warnings.append(f"coordinates {_show(item.get('latitude'))}, {_show(item.get('longitude'))} are not usable")
        return None, None
    return latitude, longitude


def _checked_point(latitude, longitude, zip_code, state, city, warnings: list[str]):
    """The listing's point checked against its ZIP code, city and state (common/geo.py)."""
    point = checked_point(latitude, longitude, zip_code, state, city)
    if point.problem and latitude is not None:
        used = "the ZIP code's centre is used" if point.latitude is not None else "no point is used"
        warnings.append(f"coordinates {latitude}, {longitude} are {point.problem}; {used}")
    return point


def _intake_phones(item: dict, warnings: list[str]) -> list[n.Phone]:
    """intake_phone (the source's intake1) and the export's intake2 (kept in extras)."""
    extras = item.get("extras") if isinstance(item.get("extras"), dict) else {}
    phones = []
    for field_name, value in (("intake_phone", item.get("intake_phone")), ("intake2", extras.get("intake2"))):
        phone = n.normalize_phone(value)
        if value and not phone:
            warnings.append(f"{field_name} {_show(value)} is not a valid US number")
        elif phone and phone.display not in {p.display for p in phones}:
            phones.append(phone)
    return phones


def _unmapped_services(unmapped, warnings: list[str]) -> list[dict]:
    """Service texts the source gave that matched no code, cleaned; the unusable ones are warned of."""
    unmapped = unmapped or []
    if not isinstance(unmapped, list):
        warnings.append(f"unmapped_services {_show(unmapped)} is not a list; dropped")
        return []
    services = []
    for u in unmapped:
        text = n.clean_text(u.get("text")) if isinstance(u, dict) else None
        if text:
            services.append({"category_code": n.clean_text(u.get("category_code")),
                             "category_name": n.clean_text(u.get("category_name")), "text": text})
        else:
            warnings.append(f"unmapped service {_show(u)} has no text; dropped")
    return services
