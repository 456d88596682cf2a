"""What the home page and the search form need: the form's choices (levels, distances, payments),
and on the home page what the directory covers (the `coverage` table, read by find_coverage.py)
with quick searches in its largest areas, all on /find.
"""
from datasette import hookimpl

from plugins import cards, find_coverage, find_search
from plugins.directory_database import directory_database
from plugins.find_search import DISTANCES, find_query

# Payment choices of the home page's search, as the `payment` facet spells them (data/derived_facets.csv).
PAYMENTS = (
    "Medicaid", "Medicare", "Private health insurance", "Military insurance (TRICARE)",
    "State-financed insurance (not Medicaid)", "Sliding fee scale", "Cash or self-payment",
    "Payment assistance",
)


def quick_searches(datasette, areas) -> list[dict]:
    """The home page's quick links: a few searches in each of the largest covered areas, on /find."""
    searches = (("Intensive outpatient programs in {}", {"level": ("iop",)}),
                ("Programs that take Medicaid in {}", {"payment": ("Medicaid",)}),
                ("Treatment in Spanish in {}", {"languages": ("Spanish",)}),
                ("Withdrawal management (detox) in {}", {"level": ("detox",)}))
    miles = lambda area: min((d for d in DISTANCES if d >= area.miles), default=DISTANCES[-1])  # noqa: E731
    return [{"area": area, "links": [(text.format(area.label),
                                      datasette.urls.path("/find") + "?" + find_query(area.label, "", miles(area), f))
                                     for text, f in searches]}
            for area in areas[:4]]


@hookimpl
def extra_template_vars(template, datasette):
    """The search form's choices; on the home page, what the directory covers."""
    if template not in ("index.html", "find.html"):
        return {}

    async def inner():
        db = datasette.get_database(directory_database(datasette))
        values = {"find_levels": await cards.care_levels(db), "find_distances": DISTANCES, "find_payments": PAYMENTS,
                  "find_default_miles": find_search.DEFAULT_MILES}
        if template == "index.html":
            known = await find_coverage.read_areas(db)
            listed = await db.execute("select count(*) from programs where status = 'listed'")
            values.update(coverage=known.summary, listed_programs=listed.single_value(),
                          quick_searches=quick_searches(datasette, known.areas),
                          findtreatment=find_coverage.FINDTREATMENT, helpline=find_coverage.HELPLINE)
        return values

    return inner
