"""The merge rules scored on a labelled set of real pairs (tests/fixtures/merge_pairs.csv).

    python -m bench.merge_pairs [--pairs FILE]

Every row of each export the pairs name (../shared/data/samhsa) becomes a listing as the build
makes it (the export spider's item, pipelines.records); listings are grouped as the build
groups them (the same key, then the rules of pipelines.merge within each street-and-ZIP
bucket, all of a bucket's keys at once, so the rules that ask "the only one" see the whole
address). A pair is predicted "merge" when its two rows end up in one program. Prints
precision and recall of "merge" and every pair the rules get wrong.
"""
from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

from common import paths
from pipelines.merge import KeyInfo, UnionFind, bucket_merges, key_text, website_host
from pipelines.records import Listing, listing_from_item

PAIRS = paths.ROOT / "tests" / "fixtures" / "merge_pairs.csv"
EXPORTS = {"tx": "findtreatment_export_TX_2023.xlsx", "ma": "findtreatment_export_MA_2025-08-19.csv"}


@dataclass(frozen=True)
class Pair:
    export: str
    row_a: int
    row_b: int
    merge: bool
    why: str


def load_pairs(path: Path = PAIRS) -> list[Pair]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return [Pair(r["export"], int(r["row_a"]), int(r["row_b"]), r["label"] == "merge", r["why"]) for r in rows]


def export_listings(export: str) -> dict[int, Listing]:
    """Every row of an export that the build would keep, as the build's Listing, by row number."""
    from crawler.export_format import read_export
    from crawler.spiders.findtreatment_export import FindtreatmentExportSpider

    path = paths.SHARED_SAMHSA / EXPORTS[export]
    spider = FindtreatmentExportSpider(cities="Houston, TX")  # its item_from_row only
    code_columns, rows = read_export(path.read_bytes(), path.name)
    listings = {}
    for number, row in rows:
        item = spider.item_from_row(row, number, code_columns, path.as_uri(), "2023-01-01T00:00:00Z", "")
        listing = listing_from_item(asdict(item), known_code_count=314)
        if isinstance(listing, Listing):
            listings[number] = listing
    return listings


def program_of(listings: dict[int, Listing]) -> dict[int, str]:
    """Row number -> the root key of its program, grouped as the build groups keys."""
    keys = {number: key_text(listing.merge_key) for number, listing in listings.items()}
    by_key: dict[str, list[Listing]] = defaultdict(list)
    for number, listing in listings.items():
        by_key[keys[number]].append(listing)
    buckets: dict[str, list[KeyInfo]] = defaultdict(list)
    for key, group in by_key.items():
        buckets[key.split("|", 2)[2]].append(KeyInfo(
            key, {l.phone.e164 for l in group if l.phone}, {website_host(l.website) for l in group if l.website},
            {l.facility_type for l in group if l.facility_type}, all(l.placeholder for l in group)))
    groups = UnionFind()
    for infos in buckets.values():
        for a, b, _ in bucket_merges(infos) if len(infos) > 1 else ():
            groups.union(a, b)
    return {number: groups.find(key) if key in groups else key for number, key in keys.items()}


def score(pairs: list[Pair]) -> tuple[float, float, list[tuple[Pair, bool]]]:
    """(precision, recall) of "merge", and the pairs predicted wrong with the prediction."""
    programs = {export: program_of(export_listings(export)) for export in {p.export for p in pairs}}
    predicted = [(p, programs[p.export].get(p.row_a, "a") == programs[p.export].get(p.row_b, "b")) for p in pairs]
    true_merges = sum(1 for p, merged in predicted if merged and p.merge)
    precision = true_merges / max(1, sum(1 for _, merged in predicted if merged))
    recall = true_merges / max(1, sum(1 for p in pairs if p.merge))
    return precision, recall, [(p, merged) for p, merged in predicted if merged != p.merge]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    args = parser.parse_args(argv)
    pairs = load_pairs(args.pairs)
    precision, recall, wrong = score(pairs)
    merges = sum(p.merge for p in pairs)
    print(f"{len(pairs)} labelled pairs ({merges} one program, {len(pairs) - merges} two): "
          f"precision {precision:.1%}, recall {recall:.1%}")
    for pair, merged in wrong:
        print(f"  wrong: {pair.export} rows {pair.row_a}/{pair.row_b} {'merged' if merged else 'kept apart'}: {pair.why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
