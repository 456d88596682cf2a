"""A facet for JSON-array columns that counts from an indexed child table, not from the JSON.

Datasette's array facet runs json_each over every row of the filtered table, which on a
national table times out (DESIGN.md). This one counts `program_facet_values` (one row per
program and value, indexed) for the programs the page shows, and reads the precomputed
national counts (`facet_counts`) when the page has no filter. Selecting a value adds the same
`<column>__arraycontains=<value>` filter the array facet adds, so URLs stay as they were.

Configure it in metadata.yml as `- values: care_levels`, or ask for it with `?_facet_values=care_levels`.
On the programs table, `?_facet_array=` of one of these columns (Datasette's own array facet, the
URL people know) is answered by this facet too: same counts, from the index.

Filters: `care_levels__arraycontains=iop` stays Datasette's own filter (json_each on each row it
checks). When array filters are a page's only filters (array_filters_only), an equivalent
`id in (select program_id from program_facet_values ...)` is added beside it, so SQLite checks the
JSON only of the programs the index names, not of every row of the country (the home page links
to the national IOP list); and the values facets of that page count from the index alone.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl
from datasette.facets import Facet
from datasette.database import QueryInterrupted
from datasette.filters import FilterArguments
from datasette.utils import path_with_added_args, path_with_removed_args

from common.vocab import FACET_ARRAYS

VALUES_TABLE = "program_facet_values"
# The programs table page, as HTML, JSON or CSV, in whatever database file it is served from
# (the path after base_url).
PROGRAMS_TABLE_PATH = re.compile(r"^/[^/]+/programs(?:\.(?:json|csv))?$")
COUNTS_TABLE = "facet_counts"
_WHERE = re.compile(r"\bwhere\b", re.IGNORECASE)
# Arguments of a table page that change how it is shown, not which rows it counts.
PRESENTATION_ARGS = frozenset({
    "_size", "_facet", "_facet_array", "_facet_values", "_facet_date", "_facet_size", "_sort", "_sort_desc",
    "_col", "_nocol", "_shape", "_json", "_labels", "_nolabels", "_nofacet", "_nosuggest", "_nocount", "_trace",
    "_stream", "_dl", "_timelimit", "_ttl", "_extra", "_context",
})


def array_filters_only(query_string: str) -> list[tuple[str, str]] | None:
    """[(column, value)] when every filter of a programs table page is `<column>__arraycontains=`
    on an indexed array column (and there is at least one); None when any other argument could
    change which programs it counts (a city, a search, `_where`, a next page...)."""
    filters = []
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        column, _, op = key.rpartition("__")
        if op == "arraycontains" and column in FACET_ARRAYS:
            filters.append((column, value))
        elif key not in PRESENTATION_ARGS:
            return None
    return filters or None


def _programs_with_all(filters: list[tuple[str, str]], prefix: str) -> tuple[str, dict]:
    """SQL for the ids of the programs that list every (column, value), from the index."""
    parts, params = [], {}
    for i, (column, value) in enumerate(filters):
        parts.append(f"select program_id from {VALUES_TABLE} where facet = :{prefix}facet_{i} and value = :{prefix}value_{i}")
        params.update({f"{prefix}facet_{i}": column, f"{prefix}value_{i}": value})
    return " intersect ".join(parts), params


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

    async def facet_results(self):
        results, timed_out = [], []
        size = self.get_facet_size()
        pairs = self.get_querystring_pairs()
        for source_and_config in self.get_configs():
            config = source_and_config["config"]
            column = config.get("column") or config["simple"]
            filtered = bool(_WHERE.search(self.sql))
            only_arrays = array_filters_only(self.request.query_string) if filtered else None
            if only_arrays:
                # The same programs as the page's filter, found in the index alone: no JSON read.
                ids, params = _programs_with_all(only_arrays, "_values_")
                sql = (f"select value, count(*) as count from {VALUES_TABLE} "
                       f"where facet = :_facet_column and program_id in ({ids}) "
                       f"group by value order by count desc, value limit {size + 1}")
                params["_facet_column"] = column
            elif filtered:
                sql = (f"select value, count(*) as count from {VALUES_TABLE} "
                       f"where facet = :_facet_column and program_id in (select id from ({self.sql})) "
                       f"group by value order by count desc, value limit {size + 1}")
                params = {**(self.params if isinstance(self.params, dict) else {}), "_facet_column": column}
            else:
                sql = (f"select value, count from {COUNTS_TABLE} where facet = :_facet_column "
                       f"order by count desc, value limit {size + 1}")
                params = {"_facet_column": column}
            try:
                rows = await self.ds.execute(self.database, sql, params, truncate=False,
                                             custom_time_limit=self.ds.setting("facet_time_limit_ms"))
            except QueryInterrupted:
                timed_out.append(column)
                continue
            values = []
            for row in rows.rows[:size]:
                value = str(row["value"])
                selected = (f"{column}__arraycontains", value) in pairs
                change = path_with_removed_args if selected else path_with_added_args
                values.append({
                    "value": value,
                    "label": value,
                    "count": row["count"],
                    # As Datasette's own facets: the request's path (base_url off, plugins/base_url.py)
                    # with base_url put back.
                    "toggle_url": self.ds.absolute_url(self.request, self.ds.urls.path(
                        change(self.request, {f"{column}__arraycontains": value}))),
                    "selected": selected,
                })
            results.append({
                "name": column,
                "type": self.type,
                "results": values,
                "hideable": source_and_config["source"] != "metadata",
                "toggle_url": self.ds.urls.path(path_with_removed_args(self.request, {"_facet_values": column})),
                "truncated": len(rows.rows) > size,
            })
        return results, timed_out


@hookimpl
def register_facet_classes():
    return [ValuesFacet]


@hookimpl
def filters_from_request(request, database, table, datasette):
    if table != "programs":
        return None
    wanted = array_filters_only(request.query_string)
    if not wanted:
        # Beside another filter (a city, a state, a search) SQLite starts from that one's index,
        # and the list of every matching id nationally would cost more than it saves.
        return None

    async def index_prefilter():
        if not await datasette.get_database(database).table_exists(VALUES_TABLE):
            return None
        ids, params = _programs_with_all(wanted, "_prefilter_")
        return FilterArguments([f"id in ({ids})"], params)  # no description: Datasette's filter describes it

    return index_prefilter


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


@hookimpl
def asgi_wrapper(datasette):
    """Datasette's array facet over the programs table parses every row's JSON and times out
    nationally (DESIGN.md); the values facet gives the same counts from an index."""
    def wrap(app):
        async def programs_array_facets_from_index(scope, receive, send):
            if (scope.get("type") == "http" and scope.get("query_string")
                    and PROGRAMS_TABLE_PATH.match(route_path(scope.get("path", ""), datasette.setting("base_url")))):
                scope = dict(scope, query_string=array_facets_to_values(scope["query_string"]))
            await app(scope, receive, send)
        return programs_array_facets_from_index
    return wrap
