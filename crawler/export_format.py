"""Reading FindTreatment.gov's wide export (xlsx or csv) into plain rows.

The export has 17 listing columns, then one lower-case column per SAMHSA service code holding
"1" or blank. Both generations (Texas 2023 xlsx, Massachusetts 2025 csv) share the layout; the
header cells carry stray spaces ("    name1", "n40 ") that must be stripped.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import warnings
import zipfile
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

LISTING_COLUMNS = (
    "name1", "name2", "street1", "street2", "city", "state", "zip", "zip4", "county", "phone",
    "intake_prompt", "intake1", "intake2", "website", "latitude", "longitude", "type_facility",
)
REQUIRED_COLUMNS = ("name1", "street1", "city", "state", "type_facility")
XLSX_MAGIC = b"PK\x03\x04"  # an xlsx file is a zip archive


class ExportFormatError(ValueError):
    """The file is not a wide export we can read; the message says why."""


def read_export(body: bytes, where: str) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """Return (service code columns, rows) of an export given as bytes.

    Each row is (spreadsheet row number, {column: text}); row 1 is the header, so data starts at 2.
    `where` names the file in error messages.
    """
    raw_rows = _xlsx_rows(body, where) if body.startswith(XLSX_MAGIC) else _csv_rows(body, where)
    try:
        header = [_cell_text(h).strip().lower() for h in next(raw_rows)]
    except StopIteration:
        raise ExportFormatError(f"{where}: the file is empty") from None
    except Exception as exc:  # csv.Error, or a broken part of an xlsx archive
        raise ExportFormatError(f"{where}: unreadable header ({exc})") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ExportFormatError(
            f"{where}: header lacks {', '.join(missing)}; is this a FindTreatment.gov wide export? "
            f"(first header cells: {header[:5]})"
        )
    code_columns = [h for h in header if h and h not in LISTING_COLUMNS]

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        number = 1
        try:
            for number, values in enumerate(raw_rows, start=2):
                texts = [_cell_text(v) for v in values]
                if not any(t.strip() for t in texts):
                    continue  # blank line at the end of a sheet
                if len(texts) < len(header):
                    texts += [""] * (len(header) - len(texts))
                row = dict(zip(header, texts))
                if len(values) > len(header) and any(t.strip() for t in texts[len(header):]):
                    row["__extra_cells__"] = "; ".join(t for t in texts[len(header):] if t.strip())
                yield number, row
        except Exception as exc:  # a cell over csv's size limit, a damaged xlsx part (zlib, XML)...
            raise ExportFormatError(f"{where}: unreadable after row {number} ({str(exc)[:200]})") from exc

    return code_columns, rows()


def _cell_text(value) -> str:
    """Cell value as text: openpyxl gives str, int, float or None; a csv gives str."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_rows(body: bytes, where: str):
    import openpyxl

    # The export has no default style; openpyxl warns about it on every load. Harmless.
    warnings.filterwarnings("ignore", message="Workbook contains no default style", module="openpyxl")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken archive
        raise ExportFormatError(f"{where}: not a readable xlsx workbook ({exc})") from exc
    sheet = workbook.worksheets[0]
    # The export records a wrong sheet size (A1:A1); read_only mode trusts it unless reset.
    sheet.reset_dimensions()
    return sheet.iter_rows(values_only=True)


def _csv_rows(body: bytes, where: str):
    if b"\x00" in body[:4096]:
        raise ExportFormatError(f"{where}: binary data, neither csv nor xlsx")
    # Older exports saved from Excel on Windows are cp1252; every byte decodes there.
    encoding = "utf-8-sig" if _is_utf8(body) else "cp1252"
    # Decoded as it is read: a national export is hundreds of MB, and a decoded copy of all of
    # it (4 bytes a character once one is not Latin-1) would be several times that.
    return csv.reader(io.TextIOWrapper(io.BytesIO(body), encoding=encoding, errors="replace", newline=""))


def _is_utf8(body: bytes, chunk: int = 1 << 20) -> bool:
    """Whether all of body decodes as UTF-8, checked a chunk at a time (no decoded copy kept)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(body)
    try:
        for start in range(0, len(body), chunk):
            decoder.decode(view[start:start + chunk], final=start + chunk >= len(body))
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


_FULL_DATE = re.compile(r"(?<!\d)(\d{4}-\d{2}-\d{2})(?!\d)")
_YEAR = re.compile(r"(?<![\d-])((?:19|20)\d{2})(?![\d-])")
_CORE_CREATED = "{http://purl.org/dc/terms/}created"


def export_date(body: bytes, url: str, last_modified: bytes | str | None = None) -> str | None:
    """The date the export vouches for its data, ISO 8601 (a year alone when that is all it says):
    the workbook's own creation date (docProps/core.xml), else a date in its file name
    ("..._MA_2025-08-19.csv"), else the server's Last-Modified, else a year in its file name
    ("..._TX_2023.xlsx"). None when it says nothing."""
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    full = _FULL_DATE.search(name)
    year = _YEAR.search(name)
    return (_workbook_created(body) or (full and full.group(1)) or _http_date(last_modified)
            or (year and year.group(1)) or None)


def _workbook_created(body: bytes) -> str | None:
    if not body.startswith(XLSX_MAGIC):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            created = ElementTree.fromstring(archive.read("docProps/core.xml")).findtext(_CORE_CREATED)
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return None
    match = _FULL_DATE.match((created or "").strip())
    return match.group(1) if match else None


def _http_date(value: bytes | str | None) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    try:
        return parsedate_to_datetime(value).date().isoformat() if value else None
    except (TypeError, ValueError, IndexError):
        return None
