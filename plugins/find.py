"""The pages for a person looking for help: /find (near me) and /program/<id> (one program).

Both read the directory's database, whatever Datasette serves it as (directory_database.py);
/find runs the canned query `nearby` of metadata.yml, so the page and the researchers' JSON API
(/programs/nearby.json) agree. Every link they make goes through `datasette.urls`, so it holds
under any `base_url`.
"""
from __future__ import annotations

import json
from collections import OrderedDict
from urllib.parse import quote_plus, urlencode, urlsplit

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

from common.places import CityError, resolve_place
from plugins.directory_database import directory_database

WEBSITE_SOURCE = "provider website"  # program_care_levels.source of levels a program's site states
DISTANCES = (5, 10, 25, 50)
DEFAULT_MILES = 10
# Payment choices people ask for, as the `payment` facet spells them (data/derived_facets.csv).
PAYMENTS = (
    "Medicaid", "Medicare", "Private health insurance", "Military insurance (TRICARE)",
    "State-financed insurance (not Medicaid)", "Sliding fee scale", "Cash or self-payment",
    "Payment assistance",
)


async def _care_levels(db) -> "OrderedDict[str, dict]":
    rows = await db.execute("select slug, label, asam_level from care_levels order by sort_order")
    return OrderedDict((r["slug"], dict(r)) for r in rows)


async def _facility_labels(db) -> dict[str, str]:
    return {r["code"]: r["label"] for r in await db.execute("select code, label from facility_types")}


def source_label(url: str | None) -> str:
    """A short name for a source: the file of a file:// export, else the site's host."""
    parts = urlsplit(url or "")
    if parts.scheme == "file":
        return parts.path.rsplit("/", 1)[-1] or url
    return parts.hostname or (url or "")


def maps_url(*parts) -> str:
    """A map search link that opens the phone's map app for an address."""
    return "https://www.google.com/maps/search/?api=1&query=" + quote_plus(", ".join(p for p in parts if p))


def _json_list(text) -> list:
    try:
        value = json.loads(text or "[]")
    except (TypeError, ValueError):
        return []
    return value if isinstance(value, list) else []


def _card(row, levels, facility_labels) -> dict:
    program = dict(row)
    program["care_level_labels"] = [levels[s]["label"] for s in _json_list(row["care_levels"]) if s in levels]
    # Levels only the program's own website states, shown apart from SAMHSA's.
    samhsa = set(_json_list(row["care_levels"]))
    program["website_level_labels"] = [
        levels[s]["label"] for s in _json_list(row["website_care_levels"] if "website_care_levels" in row.keys() else None)
        if s in levels and s not in samhsa
    ]
    program["facility_types"] = _json_list(row["facility_type"])
    program["facility_type_labels"] = [facility_labels.get(t, t) for t in program["facility_types"]]
    program["payment_list"] = _json_list(row["payment"])
    program["map_url"] = maps_url(row["address"], row["city"], f"{row['state']} {row['zip'] or ''}".strip())
    return program


async def find_page(datasette, request):
    database = directory_database(datasette)
    db = datasette.get_database(database)
    levels = await _care_levels(db)
    args = request.args
    near = (args.get("near") or "").strip()[:100]
    try:
        miles = int(args.get("miles") or DEFAULT_MILES)
    except ValueError:
        miles = DEFAULT_MILES
    miles = miles if miles in DISTANCES else DEFAULT_MILES
    level = args.get("level", "iop") if args.get("level", "iop") in levels or args.get("level") == "" else "iop"
    payment = args.get("payment", "") if args.get("payment", "") in PAYMENTS else ""
    context = {
        "near": near, "miles": miles, "level": level, "payment": payment,
        "levels": levels,
        "searched": bool(near), "error": None, "place": None, "results": [], "wider": None, "json_url": None,
    }
    status = 200
    if near:
        try:
            place = resolve_place(near)
        except CityError as exc:
            context["error"] = str(exc)
            status = 404
        else:
            params = {"lat": place.latitude, "lon": place.longitude, "miles": miles,
                      "level": level, "payment": payment}
            query = await datasette.get_canned_query(database, "nearby", request.actor)
            rows = await db.execute(query["sql"], params)
            context["place"] = place
            labels = await _facility_labels(db)
            context["results"] = [_card(r, levels, labels) for r in rows]
            context["json_url"] = (datasette.urls.query(database, "nearby", format="json") + "?"
                                   + urlencode({**params, "_shape": "array"}))
            wider = next((d for d in DISTANCES if d > miles), None)
            if wider and not context["results"]:
                context["wider"] = datasette.urls.path("/find") + "?" + urlencode(
                    {"near": near, "miles": wider, "level": level, "payment": payment})
    html = await datasette.render_template("find.html", context, request=request)
    return Response.html(html, status=status)


async def program_page(datasette, request):
    db = datasette.get_database(directory_database(datasette))
    program_id = request.url_vars["id"]
    rows = await db.execute("select * from programs where id = ?", [program_id])
    row = rows.first()
    if row is None:
        raise NotFound(f"No program with id {program_id}")
    levels = await _care_levels(db)
    facility_labels = await _facility_labels(db)
    program = _card(row, levels, facility_labels)
    evidence = await db.execute(
        "select e.care_level, c.label, e.source, e.evidence, e.source_url, e.source_ref, e.seen "
        "from program_care_levels e join care_levels c on c.slug = e.care_level "
        "where e.program_id = ? order by c.sort_order, e.source, e.source_ref",
        [program_id],
    )
    services = await db.execute(
        "select coalesce(s.category_name, 'Other') as category, coalesce(s.service_name, s.service_code) as name "
        "from program_services s where s.program_id = ? order by category, name",
        [program_id],
    )
    grouped: OrderedDict[str, list[str]] = OrderedDict()
    for s in services:
        grouped.setdefault(s["category"], []).append(s["name"])
    listings = await db.execute(
        "select source, source_url, source_ref, fetched_at, facility_type, placeholder from listings "
        "where program_id = ? order by id",
        [program_id],
    )
    changes = await db.execute(
        "select field, old, new, changed_at from program_changes where program_id = ? order by id desc limit 50",
        [program_id],
    )
    evidence = [{**dict(e), "where": source_label(e["source_url"])} for e in evidence]
    context = {
        "program": program,
        "changes": [dict(c) for c in changes],
        "evidence": [e for e in evidence if e["source"] != WEBSITE_SOURCE],
        "website_evidence": [e for e in evidence if e["source"] == WEBSITE_SOURCE],
        "services": grouped,
        "listings": [{**dict(l), "where": source_label(l["source_url"])} for l in listings],
        "lists": {name: _json_list(row[name]) for name in
                  ("payment", "ages", "populations", "languages", "medications", "phones", "websites")},
    }
    html = await datasette.render_template("program.html", context, request=request)
    return Response.html(html)


@hookimpl
def extra_template_vars(template, datasette):
    """The search form's choices and the directory's largest cities, for the home page."""
    if template not in ("index.html", "find.html"):
        return {}

    async def inner():
        db = datasette.get_database(directory_database(datasette))
        cities = await db.execute(
            "select city, state, count(*) as n from programs where city is not null "
            "group by city, state order by n desc, city limit 8"
        )
        return {
            "find_levels": await _care_levels(db),
            "find_distances": DISTANCES,
            "find_payments": PAYMENTS,
            "directory_cities": [dict(c) for c in cities],
        }

    return inner


@hookimpl
def register_routes():
    return [
        (r"^/find$", find_page),
        (r"^/program/(?P<id>[A-Za-z0-9_-]{1,64})$", program_page),
    ]
