"""CSV cells that a spreadsheet would run as a formula are written inert, in every CSV the project
writes: the server's (plugins/csv_formulas.py) and the HSDS export's (exports/hsds.py). Issue 15: a
program named `=HYPERLINK("http://evil.example/","Call now")` came out of a CSV as a live formula.

As OWASP's "CSV Injection" page recommends, a text cell starting with =, +, -, @, a tab or a
carriage return gets a leading apostrophe, which spreadsheets show as text. Only text is touched:
a number (a negative longitude) is written as it is, so numeric columns stay numeric.
"""
from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(cell):
    """The cell as a spreadsheet should show it: text that would start a formula gets a "'"."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell
