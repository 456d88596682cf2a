"""Two client mistakes Datasette 0.65's views answer with a 500, answered as the views answer the
same mistake elsewhere (issue 15: never a 500 for a bad request):

- A CSV whose query runs out of time (`/programs/search.csv?q=...` slower than sql_time_limit_ms,
  any slow `.csv?sql=` or `_where=`): DataView.get turns QueryInterrupted into a 400 "SQL query
  took too long", but the CSV path (DataView.as_csv) calls the same data() without that except
  clause. Wrapped here with it: a 400 with one line.
- A row address with fewer key values than the table's primary key
  (`/programs/program_care_levels/a.json`, the table's key has four columns): the row query is
  run with a parameter missing ("You did not supply a value for binding parameter"). Such a row
  does not exist: a 404, as for any other row that does not.

The wrappers are installed once however often this module is imported (Datasette loads it from the
plugins directory; tests may import it as plugins.view_mistakes).
"""
from __future__ import annotations

import datasette.views.row as row_view
from datasette.database import QueryInterrupted
from datasette.utils.asgi import NotFound
from datasette.views.base import DataView, DatasetteError

TOO_SLOW = "SQL query took too long (the limit is the sql_time_limit_ms setting); ask for less"
_as_csv = getattr(DataView.as_csv, "__wrapped__", DataView.as_csv)
_sql_params_pks = getattr(row_view._sql_params_pks, "__wrapped__", row_view._sql_params_pks)


async def as_csv(self, request, database):
    try:
        return await _as_csv(self, request, database)
    except QueryInterrupted:
        raise DatasetteError(TOO_SLOW, title="SQL Interrupted", status=400) from None


async def sql_params_pks(db, table, pk_values):
    sql, params, pks = await _sql_params_pks(db, table, pk_values)
    if len(pk_values) < len(pks):
        raise NotFound(f"Record not found: {table}'s rows are named by {len(pks)} values ({', '.join(pks)})")
    return sql, params, pks


as_csv.__wrapped__ = _as_csv
sql_params_pks.__wrapped__ = _sql_params_pks
DataView.as_csv = as_csv
row_view._sql_params_pks = sql_params_pks
