"""/find, the search of a person looking for help: near a place as they type it, in everyday
words, with filters in plain words, a map beside the list and every result page by page.

It reads the directory's database, whatever Datasette serves it as (directory_database.py), and
runs the canned queries `nearby` (the rows) and `nearby_counts` (the number each filter
would leave) of metadata.yml with the parameters its "As JSON" link gives, so the page and the
researchers' JSON API agree. Places are read offline (common.typed_places), words through the
vocabulary of data/search_words.csv (common.search_words). Every link goes through
`datasette.urls`, so it holds under any `base_url`. The helpers: find_search.py (the search in
the URL), find_filters.py (the filters in plain words), find_coverage.py (what is covered),
cards.py (a program as a card). The home page's hooks are in home.py, /program/<id> in
program_page.py.
"""
# No `from __future__ import annotations`: Datasette runs plugins/*.py without registering them in
# sys.modules, and dataclasses with string annotations look their module up there.
import asyncio
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils.asgi import Response

from common.places import CityError
from common.search_words import parse_search
from common.typed_places import Place, resolve_place
from plugins import cards, find_coverage, find_filters, find_search, i18n
from plugins.directory_database import directory_database
from plugins.find_search import DISTANCES, PAGE_SIZE, Search, find_query

MAP_SCRIPT = Path(__file__).resolve().parent.parent / "templates" / "find-map.js"
TILES = "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png"
FULL_COVERAGE_CHECK = 300  # covered areas a city typed alone is measured against, all of them; beyond, see typed_place
WARM_PLACE = "Springfield"  # a name typed alone: reading it builds the whole place index


@dataclass(frozen=True)
class Located:
    place: Place
    near: str  # the place as typed (in its box, or among the words)
    words: str  # the words left for the programs' names
    place_words: str  # the words that named the place, if any did


def typed_place(text: str, known) -> Place:
    """The place a person typed, a city alone read against the coverage (common.typed_places):
    against every area when there are few; else against those around the places the words most
    likely mean (the most populous and the others it names), so that a national build's tens of
    thousands of areas are not each measured against each town of the name."""
    if len(known.covered) <= FULL_COVERAGE_CHECK:
        return resolve_place(text, known.covered)
    first = resolve_place(text)
    if not first.state_chosen or not first.alternatives:
        return first
    points = [(first.latitude, first.longitude)]
    for label in first.alternatives:
        try:
            other = resolve_place(label)
        except CityError:
            continue
        points.append((other.latitude, other.longitude))
    return resolve_place(text, known.covering(points))


def locate(search: Search, words: str, known) -> Located:
    """The search's place: typed in its box, else among the words; CityError with a message for
    the person when there is none or it is unknown. Words that name the place again ("iop
    houston" near Houston) are the place, not a program's name."""
    def resolve(text):
        return typed_place(text, known)
    if search.near:
        place = resolve(search.near)
        again = find_search.place_in_words(words, resolve)
        if again and again[0].label in place.label:
            return Located(place, search.near, again[2], again[1])
        return Located(place, search.near, words, "")
    found = find_search.place_in_words(words, resolve)
    if found is None:
        raise CityError("Type a ZIP code or a city (for example 77002 or Houston) to see programs near it.")
    place, said, rest = found
    return Located(place, said, rest, said)


async def _run_query(datasette, database: str, name: str, params: dict, actor):
    query = await datasette.get_canned_query(database, name, actor)
    return await datasette.get_database(database).execute(query["sql"], params)


async def search_results(datasette, database: str, params: dict, actor) -> tuple[list, dict]:
    """The rows of the page (canned query `nearby`) and the number each filter would leave
    (`nearby_counts`), for the same parameters: both at once, each on a thread of Datasette's
    (plain SQL, no Python function per row, so the two use both cores)."""
    rows, counts = await asyncio.gather(_run_query(datasette, database, "nearby", params, actor),
                                        _run_query(datasette, database, "nearby_counts", params, actor))
    return list(rows), {(r["filter"], r["value"]): r["programs"] for r in counts}


async def wider_counts(datasette, database: str, params: dict, actor) -> list[tuple[int, int]]:
    """(miles, programs) for each distance wider than the search's, with the same filters."""
    wider = []
    for miles in (d for d in DISTANCES if d > params["miles"]):
        counts = await _run_query(datasette, database, "nearby_counts", {**params, "miles": miles}, actor)
        wider.append((miles, next((r["programs"] for r in counts if r["filter"] == "all"), 0)))
    return wider


def _links(datasette, located: Located, search: Search, filters: dict, lang: str):
    """A function giving the /find URL of this search with some of it changed, in the page's language."""
    def url(**changes) -> str:
        state = {"near": located.near, "words": located.words, "miles": search.miles, "filters": filters,
                 "sort": search.sort, "page": 1, **changes}
        return i18n.with_lang(datasette.urls.path("/find") + "?" + find_query(**state), lang)
    return url


def understood(terms, located: Located, filters: dict, levels, url, tr) -> list[dict]:
    """What the words were read as, each with a link to the search without it."""
    said = [{"typed": typed, "meaning": find_filters.chip_of(find_search.WORD_FACETS[facet], value, levels, tr),
             "remove": url(filters=find_search.without(filters, find_search.WORD_FACETS[facet], value))}
            for typed, facet, value in terms.understood]
    if located.place_words:
        said.append({"typed": located.place_words, "meaning": tr.plain("The place: {place}", place=located.place.label),
                     "remove": None})
    if located.words:
        said.append({"typed": located.words, "meaning": tr.plain("Searched for in program names"), "remove": url(words="")})
    return said


def paging(url, page: int, total: int, shown: int) -> dict:
    pages = max(1, -(-total // PAGE_SIZE))
    first = (page - 1) * PAGE_SIZE + 1
    return {"page": page, "pages": pages, "first": first if shown else 0, "last": first + shown - 1,
            "previous": url(page=page - 1) if page > 1 else None,
            "next": url(page=page + 1) if page < pages else None,
            "first_page": url(page=1) if page > pages else None}


def nearest_url(url, coverage) -> str | None:
    """The same search in the nearest covered area, over the whole of it."""
    if coverage.nearest is None:
        return None
    return url(near=coverage.nearest.label, miles=min((d for d in DISTANCES if d >= coverage.nearest.miles),
                                                      default=DISTANCES[-1]))


async def results_context(datasette, request, database, levels, search: Search, located: Located, terms, known):
    """The context of a /find page that has a place: results, filters, map, coverage, links."""
    tr = i18n.Translator(i18n.language_of(request))
    filters, from_words = find_search.combined_filters(search.chosen, terms)
    params = find_search.query_params(located.place, search, filters, located.words)
    rows, counts = await search_results(datasette, database, params, request.actor)
    total = counts.get(("all", ""), 0)
    facility_labels = await cards.facility_labels(datasette.get_database(database))
    found = [cards.card(r, levels, facility_labels) for r in rows]
    url = _links(datasette, located, search, filters, tr.lang)
    coverage = known.judge(located.place.latitude, located.place.longitude, search.miles)
    wider = []
    if not total and coverage.kind != "outside":
        wider = [(m, n, url(miles=m)) for m, n in await wider_counts(datasette, database, params, request.actor)]
    return {
        "place": located.place, "near": located.near, "q": located.words, "results": found, "total": total,
        "filters": filters, "filter_groups": find_filters.filter_groups(filters, from_words, counts, tr),
        "level_options": find_filters.level_options(levels, filters, counts, tr),
        "chosen_filters": sum(len(v) for k, v in filters.items() if k != "level"),
        "understood": understood(terms, located, filters, levels, url, tr),
        "alternatives": [(label, url(near=label)) for label in located.place.alternatives],
        "coverage": coverage, "wider": wider, "nearest_url": nearest_url(url, coverage), "paging": paging(url, search.page, total, len(found)),
        "sort_url": url(sort="name" if search.sort == "distance" else "distance"),
        "clear_url": url(filters={}, words=""),
        "json_url": datasette.urls.query(database, "nearby", format="json") + "?" + urlencode({**params, "_shape": "array"}),
        "counts_url": datasette.urls.query(database, "nearby_counts", format="json") + "?" + urlencode({**params, "_shape": "array"}),
        "mappable": sum(c["latitude"] is not None and c["longitude"] is not None for c in found), "map_tiles": TILES,
    }


async def find_page(datasette, request):
    database = directory_database(datasette)
    db = datasette.get_database(database)
    levels = await cards.care_levels(db)
    search = find_search.read_search(request.args, levels)
    known = await find_coverage.read_areas(db)
    terms = parse_search(search.q)
    context = {"near": search.near, "q": search.q, "miles": search.miles, "sort": search.sort, "levels": levels,
               "level": "|".join(search.chosen.get("level", ())),
               "searched": "near" in request.args or "q" in request.args,
               "error": None, "place": None, "results": [], "helpline": find_coverage.HELPLINE,
               "findtreatment": find_coverage.FINDTREATMENT, "data_url": datasette.urls.table(database, "programs")}
    if context["searched"]:
        try:
            located = locate(search, terms.words, known)
        except CityError as exc:
            context["error"] = str(exc)
        else:
            context.update(await results_context(datasette, request, database, levels, search, located, terms, known))
    html = await datasette.render_template("find.html", context, request=request)
    return Response.html(html)


async def map_script(request):
    """The /find map's script (templates/find-map.js), served as a file of its own."""
    return Response(MAP_SCRIPT.read_text(encoding="utf-8"), content_type="application/javascript; charset=utf-8",
                    headers={"Cache-Control": "max-age=3600"})


@hookimpl
def startup(datasette):
    """Build the place index (a few seconds) and read what the directory covers before the first
    search, not during it."""
    async def warm():
        await asyncio.to_thread(resolve_place, WARM_PLACE)
        name = directory_database(datasette)
        if name is not None:  # Datasette with no database file serves no /find
            await find_coverage.read_areas(datasette.get_database(name))
    return warm


@hookimpl
def register_routes():
    return [
        (r"^/find$", find_page),
        (r"^/-/find-map\.js$", map_script),
    ]
