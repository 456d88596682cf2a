"""FindTreatment.gov's wide export (xlsx or csv), read from https:// or file:// through Scrapy's
own download handlers, filtered to the requested cities: one item per row."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import scrapy
from scrapy.exceptions import CloseSpider

from crawler.export_format import LISTING_COLUMNS, ExportFormatError, export_date, read_export
from crawler.items import ListingItem
from crawler.spiders.base import ListingSpider

DEFAULT_EXPORT = "findtreatment_export_TX_2023.xlsx"


def source_to_url(source: str) -> str:
    """Accept an https:// or file:// URL, or a plain path (made absolute) for convenience."""
    if urlparse(source).scheme in ("http", "https", "file"):
        return source
    path = Path(source).expanduser().resolve()
    if not path.is_file():
        raise ValueError(f"source {source!r}: no such file")
    return path.as_uri()


class FindtreatmentExportSpider(ListingSpider):
    name = "findtreatment_export"
    # The export is read whole, once: its row number is the row's own (crawler/listing_key.py).
    search_fields = frozenset({"fetched_at", "city_query"})

    def __init__(self, source: str | None = None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.source = source
        self.source_date: str | None = None  # the export's own date, read from the response

    async def start(self):
        source = self.source or str(Path(self.settings["SHARED_SAMHSA_DIR"]) / DEFAULT_EXPORT)
        try:
            url = source_to_url(source)
        except ValueError as exc:  # no such file: a plain reason for the crawl's failure, no traceback
            raise CloseSpider(f"bad_source: {exc}") from None
        yield scrapy.Request(url, callback=self.parse, errback=self.on_error)

    def on_error(self, failure):
        raise CloseSpider(f"source_unreachable: {failure.request.url}: {failure.getErrorMessage()}")

    def parse(self, response):
        fetched_at = self.fetched_at(response)
        self.source_date = export_date(response.body, response.url, response.headers.get("Last-Modified"))
        try:
            code_columns, rows = read_export(response.body, response.url)
            for number, row in rows:
                self.count("rows_read")
                city = self.area_of(row.get("latitude"), row.get("longitude"), row.get("zip"),
                                    row.get("city"), row.get("state"))
                if city is None:
                    continue
                self.count_city(city)
                yield self.item_from_row(row, number, code_columns, response.url, fetched_at, city.label)
        except ExportFormatError as exc:
            raise CloseSpider(f"bad_export: {exc}") from exc

    def item_from_row(self, row, number, code_columns, url, fetched_at, city_label) -> ListingItem:
        text = {c: (row.get(c) or "").strip() or None for c in LISTING_COLUMNS}
        codes, problems = [], []
        for column in code_columns:
            value = (row.get(column) or "").strip()
            if value == "1":
                codes.append(column.upper())
            elif value:
                problems.append(f"column {column}: expected 1 or blank, found {value[:40]!r}")
        if "__extra_cells__" in row:
            problems.append(f"cells beyond the header: {row['__extra_cells__'][:80]!r}")
        return ListingItem(
            source=self.name,
            source_url=url,
            source_ref=f"row {number}",
            fetched_at=fetched_at,
            source_date=self.source_date,
            city_query=city_label,
            name1=text["name1"],
            name2=text["name2"],
            street1=text["street1"],
            street2=text["street2"],
            city=text["city"],
            state=text["state"],
            zip=text["zip"],
            county=text["county"],
            phone=text["phone"],
            intake_phone=text["intake1"],
            website=text["website"],
            latitude=text["latitude"],
            longitude=text["longitude"],
            facility_type=text["type_facility"],
            service_codes=codes,
            problems=problems,
            extras={k: v for k in ("zip4", "intake2", "intake_prompt") if (v := text[k])},
        )
