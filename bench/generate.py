"""The bench's input: a synthetic national export (bench.synthetic_export) and the feed a crawl of
every one of its cities would write, made with the export spider's own code.

A crawl of all ~23,000 cities cannot be started from a command line (its --cities argument would
pass Linux's 128 KiB limit for one argument), so the feed is written here: the rows of
`crawler.export_format.read_export` become items through
`FindtreatmentExportSpider.item_from_row`, and Scrapy's `JsonLinesItemExporter` writes them.
tests/test_bench_tools.py checks it item for item against a real crawl.
"""
from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from bench import synthetic_export


def generate_export(csv_path: Path, programs: int, seed: int) -> Counter:
    """Write the synthetic export; its counts (rows, per facility type, twins)."""
    return synthetic_export.generate(csv_path, programs, seed)


def _city_rows(csv_path: Path):
    """(city, STATE) of every row of an export, as written."""
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = [h.strip().lower() for h in next(reader)]
        city_at, state_at = header.index("city"), header.index("state")
        for row in reader:
            yield row[city_at].strip(), row[state_at].strip().upper()


def city_labels(csv_path: Path) -> dict[tuple[str, str], str]:
    """{(folded city, state): "City, ST"} for every city of the file, spelled as most rows spell
    it: the --cities a crawl of the whole file would be given."""
    from common.places import fold

    spellings: dict[tuple[str, str], Counter] = {}
    for city, state in _city_rows(csv_path):
        if city and state:
            spellings.setdefault((fold(city), state), Counter())[city] += 1
    return {key: f"{counts.most_common(1)[0][0]}, {key[1]}" for key, counts in spellings.items()}


def biggest_cities(csv_path: Path, count: int) -> list[str]:
    """The `count` cities of the file with the most rows, as --cities labels."""
    from common.places import fold

    labels = city_labels(csv_path)
    rows = Counter(labels.get((fold(city), state)) for city, state in _city_rows(csv_path))
    return [label for label, _ in rows.most_common(count + 1) if label][:count]


class _FeedWriter:
    """Items of export rows, read a chunk of lines at a time, into one JSON-lines feed."""

    def __init__(self, csv_path: Path, exporter, header: bytes, cities: str | None = None):
        from crawler.spiders.findtreatment_export import FindtreatmentExportSpider

        # The spider of a crawl of these cities (all of the file's by default): it decides which
        # area each row belongs to (area_of: a city is a centre and a radius) and makes its item.
        self.spider = FindtreatmentExportSpider(cities=cities or ";".join(sorted(set(city_labels(csv_path).values()))))
        self.url = csv_path.resolve().as_uri()
        self.fetched_at = FindtreatmentExportSpider.fetched_at(None)
        self.exporter, self.header = exporter, header
        self.offset = 0  # data lines before the current chunk
        self.written = 0

    def flush(self, lines: list[bytes]) -> None:
        from crawler.export_format import read_export

        code_columns, rows = read_export(self.header + b"".join(lines), self.url)
        for number, row in rows:
            city = self.spider.area_of(row.get("latitude"), row.get("longitude"), row.get("zip"),
                                       row.get("city"), row.get("state"))
            if city is None:
                continue  # outside every area: a crawl of these cities would not keep it either
            self.exporter.export_item(self.spider.item_from_row(row, self.offset + number, code_columns, self.url,
                                                                self.fetched_at, city.label))
            self.written += 1
        self.offset += len(lines)


def write_feed(csv_path: Path, feed_path: Path, chunk_lines: int = 20_000, cities: str | None = None) -> int:
    """Write the feed a crawl of every city of the export (or of `cities`) would write; the
    number of items.

    The export is read in chunks of lines (each given to read_export with the header), so memory
    stays flat at 1,000,000 rows; the generator writes no cell with a line break, which is checked."""
    from scrapy.exporters import JsonLinesItemExporter

    feed_path.parent.mkdir(parents=True, exist_ok=True)
    with csv_path.open("rb") as source, feed_path.open("wb") as out:
        exporter = JsonLinesItemExporter(out, encoding="utf-8")
        exporter.start_exporting()
        writer = _FeedWriter(csv_path, exporter, source.readline(), cities)
        lines: list[bytes] = []
        for line in source:
            if line.count(b'"') % 2:
                raise ValueError(f"{csv_path}: a cell spans lines; write_feed reads the generator's files only")
            lines.append(line)
            if len(lines) >= chunk_lines:
                writer.flush(lines)
                lines = []
        if lines:
            writer.flush(lines)
        exporter.finish_exporting()
    return writer.written
