"""A program as the person's pages show it (/find's cards, /program/<id>): care levels, facility
types and payment in words, a link that opens the phone's map app, and who listed it when (the
dates the source vouches for, not the build's). No hooks here: helpers of find.py and
program_page.py.
"""
import json
from collections import OrderedDict
from urllib.parse import quote_plus

from common.normalize import normalize_phone
from plugins import find_coverage, find_filters


async def care_levels(db) -> "OrderedDict[str, dict]":
    rows = await db.execute("select slug, label, asam_level from care_levels order by sort_order")
    return OrderedDict((r["slug"], dict(r)) for r in rows)


async def facility_labels(db) -> dict[str, str]:
    return {r["code"]: r["label"] for r in await db.execute("select code, label from facility_types")}


def maps_url(*parts) -> str:
    """A map search link that opens the phone's map app for an address."""
    return "https://www.google.com/maps/search/?api=1&query=" + quote_plus(", ".join(p for p in parts if p))


def json_list(text) -> list:
    try:
        value = json.loads(text or "[]")
    except (TypeError, ValueError):
        return []
    return value if isinstance(value, list) else []


def listed_dates(first_seen, last_seen) -> str:
    """When the source listed the program (the dates it vouches for), as a person reads it."""
    first, last = (first_seen or "")[:10], (last_seen or "")[:10]
    return last if first in ("", last) else f"{first} to {last}"


def phone_links(row) -> list[dict]:
    """Every number of a program a person can tap to call: the main one first, then the others,
    then intake (`intake_phones`, else the older `intake_phone`), each once."""
    keys = row.keys()
    main = json_list(row["phones"]) if "phones" in keys else []
    intake = json_list(row["intake_phones"]) if "intake_phones" in keys else []
    if not intake and "intake_phone" in keys and row["intake_phone"]:
        intake = [row["intake_phone"]]
    links, seen = [], set()
    for kind, numbers in (("main", [row["phone"]] + main), ("intake", intake)):
        for text in numbers:
            phone = normalize_phone(text) if text else None
            if phone is None or phone.e164 + (phone.extension or "") in seen:
                continue
            seen.add(phone.e164 + (phone.extension or ""))
            links.append({"kind": "intake" if kind == "intake" else ("main" if not links else "other"),
                          "display": phone.display, "tel": phone.tel_uri})
    return links


def card(row, levels, facility_labels) -> dict:
    """A program row as the person's pages show it: levels, facility types and payment in words,
    a map link, and who listed it when."""
    program = dict(row)
    program["care_level_labels"] = [levels[s]["label"] for s in json_list(row["care_levels"]) if s in levels]
    # Levels only the program's own website states, shown apart from SAMHSA's.
    samhsa = set(json_list(row["care_levels"]))
    program["website_level_labels"] = [
        levels[s]["label"] for s in json_list(row["website_care_levels"] if "website_care_levels" in row.keys() else None)
        if s in levels and s not in samhsa
    ]
    program["facility_types"] = json_list(row["facility_type"])
    program["facility_type_labels"] = [facility_labels.get(t, t) for t in program["facility_types"]]
    program["payment_list"] = json_list(row["payment"])
    # In plain words: SAMHSA's free-care code reads "No payment accepted".
    program["payment_labels"] = [find_filters.label_of("payment", p, levels) for p in program["payment_list"]]
    program["map_url"] = maps_url(row["address"], row["city"], f"{row['state']} {row['zip'] or ''}".strip())
    program["listed_by"] = find_coverage.publisher(row["sources"])
    program["listed"] = listed_dates(row["first_seen"], row["last_seen"])
    return program
