"""Datasette's column facets (`city`, `telehealth`) of the national list of a care level, counted
from memory, and the list's rows read in name order (issue 15: the national outpatient list took
230 ms a request, its rows query 85 ms and the `city` facet 33).

On a programs table page whose only filters are array filters (plugins/facets.py, array_filters_only),
every column facet would group the programs of the value one index lookup at a time: 25,840 of them
for outpatient, three queries a page (the count too). Once the build's facet bitmaps are read
(plugins/value_sets.py, which reads each program's `city` and `telehealth`, the columns metadata.yml
facets on, beside them), IndexedColumnFacet counts those columns from memory instead, as
Datasette's ColumnFacet would: same values, counts, order, labels and links
(tests/test_facet_index.py compares each page with Datasette's own). So does the first page of the
whole table (the national facets page: its `city` facet grouped 100,000 rows, 13 ms, counted once
here). Datasette's ColumnFacet answers every other page, and a column not read.

With no SQL facet left on such a page, the filter can tell SQLite that the value's programs are
many (plugins/array_filter.py, `name_order`): SQLite cannot see which value is bound and sorts
every matching program for a page of 50, where walking the name index and keeping the matches reads
page / share rows. walks_name_index says when that reads fewer rows.
"""
from __future__ import annotations

import math
from urllib.parse import parse_qsl

from datasette import hookimpl
from datasette.facets import ColumnFacet
from datasette.utils import path_with_added_args, path_with_removed_args

from plugins import array_filter, facet_report, value_sets

# Arguments that make Datasette run a facet in SQL (any facet type but the values facet).
SQL_FACET_ARGS = frozenset({"_facet_date", "_facet_array"})
NAME = "name"


def _columns_asked(datasette, database: str, pairs: list[tuple[str, str]]) -> set[str]:
    """The plain column facets of the page: metadata.yml's and those asked for with `_facet=`."""
    return set(value_sets.configured_columns(datasette, database)) | {v for k, v in pairs if k == "_facet"}


def walks_name_index(datasette, database: str, query_string: str, sets, filters) -> bool:
    """Whether the rows of this array-filters-only page are best read by walking the name index:
    sorted by name, no next page (Datasette's facets then count only the rows after it, in SQL), every
    facet answered without SQL, and the programs of the filters so many that the walk reads fewer rows
    (page / share) than the other plan sorts (share x programs)."""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    args = dict(pairs)
    if "_next" in args or SQL_FACET_ARGS & args.keys() or args.get("_sort", NAME) != NAME \
            or args.get("_sort_desc", NAME) != NAME or "_where" in args:
        return False
    if "_nofacet" not in args and not _columns_asked(datasette, database, pairs) <= sets.columns.keys():
        return False
    size = args.get("_size") or datasette.table_metadata(database, "programs").get("size") or datasette.page_size
    size = datasette.max_returned_rows if size == "max" else int(size) if str(size).isdigit() else 0
    share = sets.count(filters) / sets.programs if sets.programs else 0.0
    return size > 0 and share > 0 and share >= math.sqrt((size + 1) / sets.programs)


class IndexedColumnFacet(ColumnFacet):
    """ColumnFacet, counted from the build's facet bitmaps on the pages plugins/facets.py marks
    (array_filter.in_memory: the bitmaps and the page's filters)."""

    async def facet_results(self):
        marked = array_filter.in_memory.get()
        configs = self.get_configs()
        columns = [c["config"].get("column") or c["config"]["simple"] for c in configs]
        if marked is None or not set(columns) <= marked[0].columns.keys():
            return await super().facet_results()
        sets, filters = marked
        limit = self.get_facet_size() + 1  # one more than shown, to say whether it is truncated
        return [await self._result(column, config["source"], sets.column_counts(filters, column, limit))
                for column, config in zip(columns, configs)], []

    async def _result(self, column: str, source: str, counts: list[tuple[object, int]]) -> dict:
        """One facet's entry, built as ColumnFacet.facet_results builds it from its SQL's rows."""
        size = self.get_facet_size()
        pairs = self.get_querystring_pairs()
        shown = counts[:size]
        expanded = await self.ds.expand_foreign_keys(self.database, self.table, column, [v for v, _ in shown])
        column_qs = f"{column}__exact" if column.startswith("_") else column
        values = []
        for value, count in shown:
            selected = (column_qs, str(value)) in pairs
            toggle_path = (path_with_removed_args(self.request, {column_qs: str(value)}) if selected
                           else path_with_added_args(self.request, {column_qs: value}))
            values.append({"value": value, "label": expanded.get((column, value), value), "count": count,
                           "toggle_url": self.ds.absolute_url(self.request, self.ds.urls.path(toggle_path)),
                           "selected": selected})
        return {"name": column, "type": self.type, "hideable": source != "metadata",
                "toggle_url": self.ds.urls.path(path_with_removed_args(self.request, {"_facet": column})),
                "results": values, "truncated": len(counts) > size}


@hookimpl(hookwrapper=True)
def register_facet_classes():
    """Datasette's ColumnFacet, wherever a plugin registers it, becomes IndexedColumnFacet; every
    facet class reports whether it timed out (plugins/facet_report.py, for the response cache)."""
    outcome = yield
    outcome.force_result([[facet_report.reported(IndexedColumnFacet if klass is ColumnFacet else klass)
                           for klass in classes] for classes in outcome.get_result()])
