"""CSV cells that a spreadsheet would run as a formula are written inert in every CSV the server
writes (issue 15: a program named `=HYPERLINK("http://evil.example/","Call now")` came out of the
CSV export as a live formula). The rule, shared with the HSDS export, is common/csv_cells.py: a
text cell starting with =, +, -, @, a tab or a carriage return gets a leading apostrophe.

Every CSV Datasette writes (table and query pages, `_stream=1` included) goes through the
`csv.writer` of datasette.views.base; this plugin gives that module a `csv` whose writer
neutralizes each row as it is written. Numbers stay numbers: only strings are touched, so a
negative longitude (a float) is written as it is.
"""
from __future__ import annotations

import csv as _csv
import types

import datasette.views.base as datasette_views

from common.csv_cells import FORMULA_STARTS, inert  # noqa: F401  (the rule's names, here too)


class InertWriter:
    """csv.writer's interface (writerow returns what the file's write returns: Datasette's
    writer's write is a coroutine it awaits), with every cell made inert."""

    def __init__(self, file, *args, **kwargs):
        self._writer = _csv.writer(file, *args, **kwargs)

    def writerow(self, row):
        return self._writer.writerow([inert(cell) for cell in row])

    def writerows(self, rows):
        return [self.writerow(row) for row in rows]


def _csv_module():
    """The csv module with an inert writer (everything else is the standard module's)."""
    module = types.ModuleType("csv")
    module.__dict__.update({k: v for k, v in vars(_csv).items() if not k.startswith("__")})
    module.writer = InertWriter
    return module


datasette_views.csv = _csv_module()
