"""What a /find request asks for, read once from its URL, and the same search written out again:
as the parameters of the canned queries `nearby` and `nearby_counts` (metadata.yml), and as a
/find URL (links to another page, order, distance or filter).

A filter holds several values (any of them): the page's checkboxes send a name once per value
(`payment=Medicaid&payment=Medicare`), the canned queries take one value with the values joined
by "|" (`payment=Medicaid|Medicare`); both are read here. "*" is any value of its filter.
Everyday words of `q` (common.search_words) become filters too; what they leave is searched in
the programs' names. No hooks here: a helper module of plugins/find.py.
"""
# No `from __future__ import annotations`: Datasette runs plugins/*.py without registering them in
# sys.modules, and dataclasses with string annotations look their module up there.
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from common.places import CityError
from common.search_words import SearchTerms
from common.typed_places import Place

# The filters of /find and of the canned queries, in the order a page lists them.
FILTERS = ("level", "focus", "ages", "languages", "medications", "populations", "payment", "telehealth")
# common.search_words facets -> the filter they set.
WORD_FACETS = {"care_level": "level", "focus": "focus", "ages": "ages", "languages": "languages",
               "medications": "medications", "populations": "populations", "payment": "payment",
               "telehealth": "telehealth"}
DISTANCES = (5, 10, 25, 50)
DEFAULT_MILES = 10
PAGE_SIZE = 50  # the canned query's `limit 50`
SORTS = ("distance", "name")
MAX_VALUES = 20  # per filter: more is not a person's search
MAX_TEXT = 100   # characters of a place, of the words, of one value
ZIP_WORD = re.compile(r"^\d{5}(?:-\d{4})?$")


@dataclass(frozen=True)
class Search:
    """The request's own choices, as given (checked, not yet combined with the words)."""
    near: str = ""
    q: str = ""
    miles: int = DEFAULT_MILES
    sort: str = "distance"
    page: int = 1
    chosen: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _values(args, name: str) -> tuple[str, ...]:
    """Every value of a filter, whether sent once per value or joined by "|"; blanks dropped."""
    values: list[str] = []
    for given in args.getlist(name):
        for value in given.split("|"):
            value = value.strip()[:MAX_TEXT]
            if value and value not in values:
                values.append(value)
    return tuple(values[:MAX_VALUES])


def _number(text, default: int) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        return default


def read_search(args, levels) -> Search:
    """The search a /find URL asks for; values it cannot use (an unknown level, a distance
    not offered, telehealth other than 1) are left out rather than refused."""
    chosen = {name: _values(args, name) for name in FILTERS}
    chosen["level"] = tuple(v for v in chosen["level"] if v in levels)
    chosen["telehealth"] = ("1",) if "1" in chosen["telehealth"] else ()
    miles = _number(args.get("miles"), DEFAULT_MILES)
    return Search(
        near=(args.get("near") or "").strip()[:MAX_TEXT],
        q=(args.get("q") or "").strip()[:MAX_TEXT],
        miles=miles if miles in DISTANCES else DEFAULT_MILES,
        sort="name" if args.get("sort") == "name" else "distance",
        page=max(1, _number(args.get("page"), 1)),
        chosen={name: values for name, values in chosen.items() if values},
    )


def combined_filters(chosen: dict, terms: SearchTerms) -> tuple[dict[str, tuple[str, ...]], frozenset]:
    """The filters the search runs with: those chosen, and those the words name (each filter any of
    its values, so a word adds to a choice). Also which (filter, value) came from the words only."""
    filters = {name: list(values) for name, values in chosen.items()}
    from_words = set()
    for facet, values in terms.filters.items():
        name = WORD_FACETS[facet]
        for value in values:
            if value not in filters.setdefault(name, []):
                filters[name].append(value)
                from_words.add((name, value))
    return {name: tuple(v) for name, v in filters.items() if v}, frozenset(from_words)


def place_in_words(words: str, resolve) -> tuple[Place, str, str] | None:
    """A place typed among the words ("iop houston", "katy tx detox", "menninger 77030"): a ZIP
    code anywhere, else all the words, else their last or first one to three. (place, the words
    that name it, the words left); None when no words name a place. `resolve` reads a place
    (common.typed_places.resolve_place with the coverage) or raises CityError."""
    tokens = words.split()
    zips = [i for i, token in enumerate(tokens) if ZIP_WORD.match(token)]
    spans = [(i, i + 1) for i in zips] if zips else (
        [(0, len(tokens))] + [(len(tokens) - n, len(tokens)) for n in (3, 2, 1) if n < len(tokens)]
        + [(0, n) for n in (3, 2, 1) if n < len(tokens)])
    for start, end in spans:
        try:
            place = resolve(" ".join(tokens[start:end]))
        except CityError:
            continue
        return place, " ".join(tokens[start:end]), " ".join(tokens[:start] + tokens[end:])
    return None


def query_params(place: Place, search: Search, filters: dict, words: str) -> dict[str, str]:
    """The named parameters of the canned queries `nearby` and `nearby_counts` for this search."""
    params = {"lat": round(place.latitude, 6), "lon": round(place.longitude, 6), "miles": search.miles}
    params.update({name: "|".join(filters.get(name, ())) for name in FILTERS})
    params.update({"words": words, "sort": search.sort, "page": search.page})
    return params


def find_query(near: str, words: str, miles: int, filters: dict, sort: str = "distance", page: int = 1) -> str:
    """The query string of the /find page of a search: the place as typed, the words left, the
    filters one value per name (as the page's checkboxes send them); defaults left out."""
    pairs = [("near", near)]
    if words:
        pairs.append(("q", words))
    pairs.append(("miles", miles))
    for name in FILTERS:
        pairs += [(name, value) for value in filters.get(name, ())]
    if sort != "distance":
        pairs.append(("sort", sort))
    if page > 1:
        pairs.append(("page", page))
    return urlencode(pairs)


def without(filters: dict, name: str, value: str) -> dict:
    """The filters with one value taken off."""
    return {n: tuple(v for v in values if (n, v) != (name, value)) for n, values in filters.items()}
