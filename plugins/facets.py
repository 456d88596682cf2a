"""A facet for JSON-array columns that counts from an indexed child table, not from the JSON.

Datasette's array facet runs json_each over every row of the filtered table, which on a
national table times out (DESIGN.md). This one counts `program_facet_values` (one row per
program and value, indexed) for the programs the page shows, and reads the precomputed
national counts (`facet_counts`) when the page has no filter. Selecting a value adds the same
`<column>__arraycontains=<value>` filter the array facet adds, so URLs stay as they were.

Configure it in metadata.yml as `- values: care_levels`, or ask for it with `?_facet_values=care_levels`.
On the programs table, `?_facet_array=` of one of these columns (Datasette's own array facet, the
URL people know) is answered by this facet too: same counts, from the index.

Filters: when array filters on indexed columns are a page's only filters (array_filters_only;
the home page links to the national IOP list), `care_levels__arraycontains=iop` is answered from
program_facet_values too (plugins/array_filter.py: the same programs, no JSON read; this module's
ASGI wrapper says per request where it applies), and the values facets of that page count from
bitmaps of the index held in memory (plugins/value_sets.py), or from the index alone until those
are read. Beside another filter (a city, a search) Datasette's own JSON filter stays: SQLite starts
from the other filter's index and reads the JSON of a few rows only.
"""
from __future__ import annotations

import re
import weakref
from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl
from datasette.facets import Facet
from datasette.database import QueryInterrupted
from datasette.utils import path_with_added_args, path_with_removed_args, tilde_decode

from common.vocab import FACET_ARRAYS
from plugins import array_filter, column_facets, value_sets

array_filter.install()

VALUES_TABLE = "program_facet_values"
# The programs table page, as HTML, JSON or CSV, in whatever database file it is served from
# (the path after base_url).
PROGRAMS_TABLE_PATH = re.compile(r"^/[^/]+/programs(?:\.(?:json|csv))?$")
# The same page in any format (the array filter applies to all): the database's name in group 1.
PROGRAMS_TABLE_ANY = re.compile(r"^/([^/]+)/programs(?:\.\w+)?$")
_HAS_INDEX: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # Database -> has VALUES_TABLE
COUNTS_TABLE = "facet_counts"
_WHERE = re.compile(r"\bwhere\b", re.IGNORECASE)
_DOT_SEGMENT = re.compile(r"(?:^|/)\.\.?(?:/|$)")  # a path urljoin would rewrite
# Arguments of a table page that change how it is shown, not which rows it counts.
PRESENTATION_ARGS = frozenset({
    "_size", "_facet", "_facet_array", "_facet_values", "_facet_date", "_facet_size", "_sort", "_sort_desc",
    "_col", "_nocol", "_shape", "_json", "_labels", "_nolabels", "_nofacet", "_nosuggest", "_nocount", "_trace",
    "_stream", "_dl", "_timelimit", "_ttl", "_extra", "_context",
})


def array_filters_only(query_string: str, paging: bool = False) -> list[tuple[str, str]] | None:
    """[(column, value)] when every filter of a programs table page is `<column>__arraycontains=`
    on an indexed array column (and there is at least one); None when any other argument could
    change which programs it counts (a city, a search, `_where`, a next page unless `paging`...)."""
    filters = []
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        column, _, op = key.rpartition("__")
        if op == "arraycontains" and column in FACET_ARRAYS:
            filters.append((column, value))
        elif key not in PRESENTATION_ARGS and not (paging and key == "_next"):
            return None
    return filters or None


def _programs_with_all(filters: list[tuple[str, str]], prefix: str) -> tuple[str, dict]:
    """SQL for the ids of the programs that list every (column, value), from the index."""
    parts, params = [], {}
    for i, (column, value) in enumerate(filters):
        parts.append(f"select program_id from {VALUES_TABLE} where facet = :{prefix}facet_{i} and value = :{prefix}value_{i}")
        params.update({f"{prefix}facet_{i}": column, f"{prefix}value_{i}": value})
    return " intersect ".join(parts), params


class AddedArgLinks:
    """`absolute_url(request, urls.path(path_with_added_args(request, {key: value})))`, the link a
    facet value adds its filter with, for many values of one request: its query string parsed and
    its origin joined once. A page's values facets link 50 to 60 values, and each link cost about
    0.14 ms the long way (8 ms of the national IOP list's 20 ms of Python). The same strings:
    urljoin of an absolute path is the origin and the path when the path has no dot segment (else
    the long way); tests/test_facet_index.py compares the two."""

    def __init__(self, ds, request):
        self.ds, self.request = ds, request
        current = urlencode(parse_qsl(request.query_string))  # as path_with_added_args reads it
        path = ds.urls.path(request.path)
        self.prefix = f"{path}?{current}&" if current else f"{path}?"
        origin = ds.absolute_url(request, "/")
        plain = path.startswith("/") and not path.startswith("//") and not _DOT_SEGMENT.search(path)
        self.origin = origin[:-1] if plain and origin.endswith("/") else None

    def added(self, key: str, value: str) -> str:
        if self.origin is None:
            return self.ds.absolute_url(self.request, self.ds.urls.path(
                path_with_added_args(self.request, {key: value})))
        return self.origin + self.prefix + urlencode([(key, value)])


class ValuesFacet(Facet):
    type = "values"

    def get_configs(self):
        """Each column once: metadata.yml's facet and the same one asked for in the URL are one."""
        configs, seen = [], set()
        for source_and_config in super().get_configs():
            config = source_and_config["config"]
            column = config.get("column") or config.get("simple")
            if column not in seen:
                seen.add(column)
                configs.append(source_and_config)
        return configs

    def _query(self, column: str, only_arrays, size: int) -> tuple[str, dict]:
        """SQL counting the values of `column` among the page's programs (the national counts when
        the page has no filter)."""
        if only_arrays:
            # The same programs as the page's filter, found in the index alone: no JSON read.
            ids, params = _programs_with_all(only_arrays, "_values_")
            return (f"select value, count(*) as count from {VALUES_TABLE} "
                    f"where facet = :_facet_column and program_id in ({ids}) "
                    f"group by value order by count desc, value limit {size + 1}"), {**params, "_facet_column": column}
        if _WHERE.search(self.sql):
            return (f"select value, count(*) as count from {VALUES_TABLE} "
                    f"where facet = :_facet_column and program_id in (select id from ({self.sql})) "
                    f"group by value order by count desc, value limit {size + 1}"), \
                {**(self.params if isinstance(self.params, dict) else {}), "_facet_column": column}
        return (f"select value, count from {COUNTS_TABLE} where facet = :_facet_column "
                f"order by count desc, value limit {size + 1}"), {"_facet_column": column}

    async def _counts(self, column: str, only_arrays, size: int) -> list[tuple[str, int]] | None:
        """[(value, programs)] of `column`, at most size + 1, most first; None when it timed out.
        With array filters only, from the build's bitmaps once they are read (plugins/value_sets.py)."""
        if only_arrays:
            sets = value_sets.ready(self.ds.get_database(self.database))
            if sets is not None:
                return sets.counts(only_arrays, column)[:size + 1]
        sql, params = self._query(column, only_arrays, size)
        try:
            rows = await self.ds.execute(self.database, sql, params, truncate=False,
                                         custom_time_limit=self.ds.setting("facet_time_limit_ms"))
        except QueryInterrupted:
            return None
        return [(str(row["value"]), row["count"]) for row in rows.rows]

    def _value(self, column: str, value: str, count: int, pairs, links: AddedArgLinks) -> dict:
        key = f"{column}__arraycontains"
        selected = (key, value) in pairs
        return {
            "value": value,
            "label": value,
            "count": count,
            # As Datasette's own facets: the request's path (base_url off, plugins/base_url.py)
            # with base_url put back.
            "toggle_url": self.ds.absolute_url(self.request, self.ds.urls.path(
                path_with_removed_args(self.request, {key: value}))) if selected else links.added(key, value),
            "selected": selected,
        }

    async def facet_results(self):
        results, timed_out = [], []
        size = self.get_facet_size()
        pairs = self.get_querystring_pairs()
        only_arrays = array_filters_only(self.request.query_string) if _WHERE.search(self.sql) else None
        links = AddedArgLinks(self.ds, self.request)
        for source_and_config in self.get_configs():
            column = source_and_config["config"].get("column") or source_and_config["config"]["simple"]
            counts = await self._counts(column, only_arrays, size)
            if counts is None:
                timed_out.append(column)
                continue
            results.append({
                "name": column,
                "type": self.type,
                "results": [self._value(column, value, count, pairs, links) for value, count in counts[:size]],
                "hideable": source_and_config["source"] != "metadata",
                "toggle_url": self.ds.urls.path(path_with_removed_args(self.request, {"_facet_values": column})),
                "truncated": len(counts) > size,
            })
        return results, timed_out


@hookimpl
def register_facet_classes():
    return [ValuesFacet]


@hookimpl
def startup(datasette):
    """Start reading the facet bitmaps of every served database that has the index, so that they
    are ready before the first page that can use them (plugins/value_sets.py)."""
    async def read_bitmaps():
        for name, db in list(datasette.databases.items()):
            if name != "_internal" and await has_index(datasette, name):
                value_sets.ready(db)
    return read_bitmaps


def route_path(path: str, base_url: str) -> str:
    """The path Datasette routes: the request's path with base_url taken off, if it has it (this
    wrapper may run before or after plugins/base_url.py's)."""
    return "/" + path[len(base_url):] if base_url != "/" and path.startswith(base_url) else path


def array_facets_to_values(query_string: bytes) -> bytes:
    """`_facet_array=<column>` of an indexed column becomes `_facet_values=<column>`."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    if not any(key == "_facet_array" and value in FACET_ARRAYS for key, value in pairs):
        return query_string
    return urlencode([("_facet_values", value) if key == "_facet_array" and value in FACET_ARRAYS else (key, value)
                      for key, value in pairs]).encode("latin-1")


async def has_index(datasette, database: str) -> bool:
    """Whether the served database `database` (a build: live_swap.py serves each as its own
    Database) has the index table; asked once per build."""
    db = datasette.databases.get(database)
    if db is None:
        return False
    known = _HAS_INDEX.get(db)
    if known is None:
        known = _HAS_INDEX[db] = await db.table_exists(VALUES_TABLE)
        if known:
            value_sets.ready(db)  # a build swapped in: its facet bitmaps, read in the background from now on
    return known


def _unfiltered(query_string: str) -> bool:
    """A first page of the whole programs table: no argument but how it is shown."""
    return all(key in PRESENTATION_ARGS for key, _ in parse_qsl(query_string, keep_blank_values=True))


async def _in_memory(datasette, database: str, query_string: str):
    """((bitmaps, filters) or None, name_order): a first page of the whole table or of array filters
    only, whose column facets the build's bitmaps count once they are read, and whether its rows
    are best read in name order (plugins/column_facets.py)."""
    filters = [] if _unfiltered(query_string) else array_filters_only(query_string)
    if filters is None or not await has_index(datasette, database):
        return None, False
    sets = value_sets.ready(datasette.databases[database])
    if sets is None:
        return None, False
    name_order = bool(filters) and column_facets.walks_name_index(datasette, database, query_string, sets, filters)
    return (sets, filters), name_order


@hookimpl
def asgi_wrapper(datasette):
    """Datasette's array facet over the programs table parses every row's JSON and times out
    nationally (DESIGN.md); the values facet gives the same counts from an index. Its array
    filter reads the JSON too: plugins/array_filter.py answers it from the index, for a request
    on a programs table whose database has it and whose only filters are array filters."""
    def wrap(app):
        async def programs_array_facets_from_index(scope, receive, send):
            table = scope.get("type") == "http" and PROGRAMS_TABLE_ANY.match(
                route_path(scope.get("path", ""), datasette.setting("base_url")))
            if not table:
                await app(scope, receive, send)
                return
            if scope.get("query_string") and PROGRAMS_TABLE_PATH.match(table.group(0)):
                scope = dict(scope, query_string=array_facets_to_values(scope["query_string"]))
            # Beside another filter (a city, a search) SQLite starts from that one's index and reads the
            # JSON of a few rows: listing every program of the value nationally would cost more.
            database = tilde_decode(table.group(1))
            query_string = scope.get("query_string", b"").decode("latin-1")
            indexed = await has_index(datasette, database) and bool(array_filters_only(query_string, paging=True))
            in_memory, name_order = await _in_memory(datasette, database, query_string)
            tokens = [(array_filter.indexed, array_filter.indexed.set(indexed)),
                      (array_filter.in_memory, array_filter.in_memory.set(in_memory)),
                      (array_filter.name_order, array_filter.name_order.set(name_order))]
            try:
                await app(scope, receive, send)
            finally:
                for variable, token in tokens:
                    variable.reset(token)
        return programs_array_facets_from_index
    return wrap
