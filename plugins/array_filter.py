"""`<column>__arraycontains=<value>` on the programs table's indexed array columns, answered from
the index program_facet_values instead of the JSON of each row.

Datasette's filter is `:p0 in (select value from json_each(programs.care_levels))`: SQLite reads
the row and parses its JSON for every program it checks, and the page repeats that in each of its
queries (the rows, the count, every column facet). The national IOP list the home page links to
spent most of its time there (BENCHMARKS.md). Here the same filter is
`id in (select program_id from program_facet_values where facet = 'care_levels' and value = :p0)`:
the build writes one row there for each text value of each program's array (pipelines/schema.py,
facet_values), so both select the same programs; the count and the facets then need no JSON.

Datasette 0.65 has no hook that replaces one of its filters (filters_from_request only adds
clauses), so install() puts a subclass in place of its `arraycontains` entry. It answers from the
index only while the context variable `indexed` is set, which plugins/facets.py's ASGI wrapper does
for a request on a database that has the index table; anywhere else (another table, another
column, a database without the index) it writes Datasette's own SQL. The human description ("where
care_levels contains "iop"") and the filter's place in the page's form are Datasette's.

A helper module, imported as `plugins.array_filter` (one copy, whatever copies of facets.py
Datasette makes of its plugins folder); no hooks of its own.
"""
from __future__ import annotations

import contextvars
import re

from datasette.filters import Filters, TemplatedFilter

from common.vocab import FACET_ARRAYS

VALUES_TABLE = "program_facet_values"
TABLE = "programs"
KEY = "arraycontains"
_IDENTIFIER = re.compile(r"^[a-z_]+$")
indexed: contextvars.ContextVar[bool] = contextvars.ContextVar("programs_array_index", default=False)
# (the build's facet bitmaps, the page's [(column, value)]) on a first page of array filters only, once
# the bitmaps are read (plugins/value_sets.py): its facets are counted from them.
in_memory: contextvars.ContextVar = contextvars.ContextVar("programs_array_in_memory", default=None)
# Whether the rows are best read by walking the name index (plugins/column_facets.py, walks_name_index).
name_order: contextvars.ContextVar[bool] = contextvars.ContextVar("programs_name_order", default=False)
LIKELY = 0.9  # what likelihood() tells SQLite when the rows are to be read in name order


def index_clause(column: str, param: str, likely: bool = False) -> str:
    """SQL selecting the programs whose `column` array holds the value bound to :param.

    `likely` wraps it in likelihood(): SQLite cannot see which value is bound and plans as if it were
    a rare one, reading every matching program and sorting them all for a page of 50; told that most
    programs match, it walks the name index and stops at the page's end (the national outpatient list:
    85 ms -> 22; the count's plan does not change). Only where no SQL facet runs on the page: their
    `is not null` plans go wrong with it (plugins/column_facets.py)."""
    if column not in FACET_ARRAYS or not _IDENTIFIER.match(column):
        raise ValueError(f"{column!r} is not an indexed array column")
    clause = f"id in (select program_id from {VALUES_TABLE} where facet = '{column}' and value = :{param})"
    return f"likelihood({clause}, {LIKELY})" if likely else clause


class IndexedArrayContains(TemplatedFilter):
    """Datasette's `arraycontains` filter (same key, display and description), from the index
    where there is one."""

    def where_clause(self, table, column, value, param_counter):
        if table == TABLE and column in FACET_ARRAYS and indexed.get():
            return index_clause(column, f"p{param_counter}", name_order.get()), self.format.format(value)
        return super().where_clause(table, column, value, param_counter)


def install() -> None:
    """Put IndexedArrayContains in place of Datasette's `arraycontains` filter (once)."""
    current = Filters._filters_by_key[KEY]
    if isinstance(current, IndexedArrayContains):
        return
    replacement = IndexedArrayContains(current.key, current.display, current.sql_template, current.human_template,
                                       format=current.format, numeric=current.numeric,
                                       no_argument=current.no_argument)
    Filters._filters = [replacement if f is current else f for f in Filters._filters]
    Filters._filters_by_key = {**Filters._filters_by_key, KEY: replacement}
