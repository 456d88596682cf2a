"""One program of the directory as HSDS rows (pure functions over what hsds_database read).

A program becomes one organization, service, location, physical address and
service_at_location; its phones, the languages its staff treat in, the payment it accepts (cost
options), the ages it accepts (eligibility), the attributes giving its care levels, and metadata
rows saying where it came from and when. Values keep their Python types (numbers stay numbers)
so that the CSV and the JSON forms are made from the same rows.
"""
from __future__ import annotations

import json

from common.normalize import normalize_phone
from exports.hsds_ids import hsds_id
from exports.hsds_provenance import iso_date, listing_records, metadata_row
from exports.hsds_taxonomy import attribute_rows, levels_by_source

# HSDS 3.0 requires every part of an address (schema/address.json): its field -> our column.
ADDRESS_REQUIRED = {"address_1": "address", "city": "city", "state_province": "state", "postal_code": "zip"}
SAMHSA_LEVELS = "SAMHSA service codes"
SITE_LEVELS = "provider website"


class RowError(RuntimeError):
    pass


def _list(value: str | None) -> list[str]:
    return json.loads(value) if value else []


def organization_description(facility_codes: list[str], facility_types: dict[str, str], texts: dict) -> str:
    labels = [facility_types.get(code, code) for code in facility_codes]
    if not labels:
        return texts["organization_description_no_type"]
    return texts["organization_description"].format(facility_types=", ".join(labels))


def service_description(levels: dict[str, list[str]], has_detail: bool, db: dict, texts: dict) -> str:
    """SAMHSA's levels of care in words (why they are unknown when there are none), then the
    levels the program's own website states, said to be the website's."""
    words = lambda slugs: "; ".join(texts["service_level"].format(**db["care_level_by_slug"][s]) for s in slugs)  # noqa: E731
    samhsa, site = levels.get(SAMHSA_LEVELS, []), levels.get(SITE_LEVELS, [])
    if samhsa:
        text = texts["service_levels"].format(levels=words(samhsa))
    else:
        text = texts["service_no_level"] if has_detail else texts["service_no_detail"]
    return text + (texts["service_site_levels"].format(levels=words(site)) if site else "")


def service_status(program_status: str | None, mapping: dict) -> str:
    """HSDS service.status for programs.status (absent in older databases: the default)."""
    if program_status is None:
        return mapping["default"]
    try:
        return mapping["map"][program_status]
    except KeyError:
        raise RowError(f"programs.status {program_status!r} has no HSDS service status "
                       "in data/hsds_package.json") from None


def _ages_text(low: int | None, high: int | None) -> str:
    if low is None:
        return f"{high} or younger"
    return f"{low} or older" if high is None else f"{low}–{high}"


def eligibility(groups: list[str], spec: dict) -> dict:
    """service.eligibility_description, minimum_age and maximum_age from SAMHSA's age groups: the
    ages are filled only where the groups make one unbroken range (an open end stays empty)."""
    if not groups:
        return {}
    unknown = [g for g in groups if g not in spec["ages"]]
    if unknown:
        raise RowError(f"age groups {unknown} have no ages in data/hsds_package.json (ages)")
    ranges = sorted(((spec["ages"][g]["min"], spec["ages"][g]["max"], g) for g in groups),
                    key=lambda r: -1 if r[0] is None else r[0])
    unbroken = all(a[1] is not None and b[0] == a[1] + 1 for a, b in zip(ranges, ranges[1:]))
    texts = spec["texts"]
    described = ", ".join(texts["age_group"].format(name=g, ages=_ages_text(lo, hi)) for lo, hi, g in ranges)
    return {
        "eligibility_description": texts["eligibility_description"].format(groups=described),
        "minimum_age": ranges[0][0] if unbroken else None,
        "maximum_age": ranges[-1][1] if unbroken else None,
    }


def phone_rows(program: dict, service_id: str, texts: dict) -> list[dict]:
    """Every listed number (the first is the main one) and the intake number, each once."""
    entries = [
        [display, texts["phone_main"] if n == 0 else texts["phone_other"]]
        for n, display in enumerate(_list(program["phones"]))
    ]
    intake = program["intake_phone"]
    if intake:
        same = next((e for e in entries if e[0] == intake), None)
        if same:
            same[1] = f"{same[1]} {texts['phone_also_intake']}"
        else:
            entries.append([intake, texts["phone_intake"]])
    rows = []
    for display, description in entries:
        phone = normalize_phone(display)
        if phone is None:
            raise RowError(f"programs row {program['id']}: phone {display!r} is not a valid number")
        # HSDS's extension is a number: one a number holds whole (digits, no leading zero), else
        # the number keeps its extension as it was written.
        ext = phone.extension or ""
        extension = int(ext) if ext.isdigit() and str(int(ext)) == ext else None
        if extension is not None:
            number = display.removesuffix(f" ext. {phone.extension}")
        else:  # no extension ("ext. 0" is none: common.normalize.real_extension), or one kept as written
            number = display if phone.extension else phone.display
        rows.append({"id": hsds_id("phone", program["id"], display), "service_id": service_id,
                     "number": number, "extension": extension, "type": "voice", "description": description})
    return rows


def language_rows(program: dict, service_id: str, spec: dict) -> list[dict]:
    return [{"id": hsds_id("language", program["id"], name), "service_id": service_id, "name": name,
             "code": spec["languages"].get(name)} for name in _list(program["languages"])]


def cost_option_rows(program: dict, service_id: str, spec: dict) -> list[dict]:
    """One cost option per payment accepted; "no payment accepted" is a cost of 0."""
    free = spec["free_payment"]
    return [
        {"id": hsds_id("cost_option", program["id"], option), "service_id": service_id, "option": option,
         **({"currency": free["currency"], "amount": 0,
             "amount_description": spec["texts"]["free_amount_description"]} if option == free["value"] else {})}
        for option in _list(program["payment"])
    ]


def organization_row(program: dict, ids: dict, db: dict, spec: dict) -> dict:
    return {
        "id": ids["organization"],
        "name": program["name"],
        "alternate_name": program["alternate_name"],
        "description": organization_description(_list(program["facility_type"]), db["facility_types"],
                                                 spec["texts"]),
        "website": program["website"],
    }


def service_row(program: dict, ids: dict, db: dict, spec: dict) -> dict:
    levels = levels_by_source(db["levels_by_program"].get(program["id"], []), db, spec)
    payments = _list(program["payment"])
    return {
        "id": ids["service"],
        "organization_id": ids["organization"],
        "name": program["name"],
        "alternate_name": program["alternate_name"],
        "description": service_description(levels, bool(program["has_service_detail"]), db, spec["texts"]),
        "url": program["website"],
        "email": None,
        "status": service_status(program.get("status"), spec["service_status"]),
        "fees_description": spec["texts"]["fees_description"].format(payments=", ".join(payments))
        if payments else None,
        **eligibility(_list(program["ages"]), spec),
        # When the source last vouched for the listing, where it gave a full date.
        "assured_date": iso_date(program["last_seen"]),
    }


def location_row(program: dict, ids: dict) -> dict:
    return {"id": ids["location"], "location_type": "physical", "organization_id": ids["organization"],
            "name": program["name"], "latitude": program["latitude"], "longitude": program["longitude"]}


def address_row(program: dict, location_id: str) -> dict:
    return {
        "id": hsds_id("address", program["id"]),
        "location_id": location_id,
        "address_1": program["address"],
        "city": program["city"],
        "state_province": program["state"],
        "postal_code": program["zip"],
        "country": "US",
        "address_type": "physical",
    }


def program_rows(program: dict, db: dict, spec: dict) -> tuple[dict[str, list[dict]], list[str]]:
    """The HSDS rows of one program, by resource name, and what had to be left out, and why."""
    pid = program["id"]
    ids = {kind: hsds_id(kind, pid) for kind in ("organization", "service", "location")}
    attributes, attribute_metadata = attribute_rows(pid, ids["service"], db, spec)
    service_metadata = (metadata_row(("service", ids["service"]), record, spec)
                        for record in listing_records(db["listings_by_program"].get(pid, [])))
    rows: dict[str, list[dict]] = {
        "organization": [organization_row(program, ids, db, spec)],
        "service": [service_row(program, ids, db, spec)],
        "location": [location_row(program, ids)],
        "address": [],
        "phone": phone_rows(program, ids["service"], spec["texts"]),
        "service_at_location": [{"id": hsds_id("service_at_location", pid), "service_id": ids["service"],
                                 "location_id": ids["location"]}],
        "language": language_rows(program, ids["service"], spec),
        "cost_option": cost_option_rows(program, ids["service"], spec),
        "attribute": attributes,
        "metadata": [m for m in service_metadata if m] + attribute_metadata,
    }
    missing = [column for column in ADDRESS_REQUIRED.values() if not program[column]]
    if missing:
        # HSDS requires every part of an address: an incomplete one is left out, said out loud,
        # and the location (with its coordinates) stays.
        return rows, [f"programs row {pid}: no {', '.join(missing)}: its address is left out of addresses.csv"]
    rows["address"].append(address_row(program, ids["location"]))
    return rows, []
