"""A facet for JSON-array columns that counts from an indexed child table, not from the JSON.

Datasette's array facet runs json_each over every row of the filtered table, which on a
national table times out (DESIGN.md). This one counts `program_facet_values` (one row per
program and value, indexed) for the programs the page shows, and reads the precomputed
national counts (`facet_counts`) when the page has no filter. Selecting a value adds the same
`<column>__arraycontains=<value>` filter the array facet adds, so URLs stay as they were.

Configure it in metadata.yml as `- values: care_levels`, or ask for it with `?_facet_values=care_levels`.
"""
from __future__ import annotations

import re

from datasette import hookimpl
from datasette.facets import Facet
from datasette.database import QueryInterrupted
from datasette.utils import path_with_added_args, path_with_removed_args

VALUES_TABLE = "program_facet_values"
COUNTS_TABLE = "facet_counts"
_WHERE = re.compile(r"\bwhere\b", re.IGNORECASE)


class ValuesFacet(Facet):
    type = "values"

    async def facet_results(self):
        results, timed_out = [], []
        size = self.get_facet_size()
        pairs = self.get_querystring_pairs()
        for source_and_config in self.get_configs():
            config = source_and_config["config"]
            column = config.get("column") or config["simple"]
            filtered = bool(_WHERE.search(self.sql))
            if filtered:
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
                    "toggle_url": self.ds.absolute_url(
                        self.request, change(self.request, {f"{column}__arraycontains": value})),
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
