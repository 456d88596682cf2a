"""/program/<id>: one program for a person first (how to reach it, its levels of care with the
evidence, services, payment, who listed it and when), the evidence and sources after. Reads the
directory's database whatever Datasette serves it as (directory_database.py); links go through
`datasette.urls`.
"""
from collections import OrderedDict

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

from plugins import cards, find_coverage
from plugins.directory_database import directory_database

WEBSITE_SOURCE = "provider website"  # program_care_levels.source of levels a program's site states


async def program_page(datasette, request):
    db = datasette.get_database(directory_database(datasette))
    program_id = request.url_vars["id"]
    rows = await db.execute("select * from programs where id = ?", [program_id])
    row = rows.first()
    if row is None:
        raise NotFound(f"No program with id {program_id}")
    levels = await cards.care_levels(db)
    facility_labels = await cards.facility_labels(db)
    program = cards.card(row, levels, facility_labels)
    program["phone_links"] = cards.phone_links(row)  # the program page only: not on /find's 50 cards
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
    # The date the source vouches for (an export's own date), else when it was fetched.
    data_date = "coalesce(source_date, fetched_at)" if "source_date" in await db.table_columns("listings") else "fetched_at"
    listings = await db.execute(
        f"select source, source_url, source_ref, fetched_at, {data_date} as data_date, facility_type, placeholder "
        "from listings where program_id = ? order by id",
        [program_id],
    )
    changes = await db.execute(
        "select field, old, new, changed_at from program_changes where program_id = ? order by id desc limit 50",
        [program_id],
    )
    evidence = [{**dict(e), "where": find_coverage.where_from(e["source_url"])} for e in evidence]
    context = {
        "program": program,
        "changes": [dict(c) for c in changes],
        "evidence": [e for e in evidence if e["source"] != WEBSITE_SOURCE],
        "website_evidence": [e for e in evidence if e["source"] == WEBSITE_SOURCE],
        "services": grouped,
        "listings": [{**dict(l), "where": find_coverage.where_from(l["source_url"])} for l in listings],
        "lists": {name: cards.json_list(row[name]) for name in
                  ("payment", "ages", "populations", "languages", "medications", "phones", "websites")},
    }
    html = await datasette.render_template("program.html", context, request=request)
    return Response.html(html)


@hookimpl
def register_routes():
    return [(r"^/program/(?P<id>[A-Za-z0-9_-]{1,64})$", program_page)]
