"""Benchmark of the provider-website care-level classifier on the labelled pages: per level,
precision, recall and support against the levels a careful reader assigned. Each page goes the
way a crawled page goes: read by the spider's reader (crawler.page_reading), written to and read
back from a feed line as JSON, then judged by the build (pipelines.site_levels).

    python -m bench.site_levels [--labelled DIR] [--errors]

The labelled set is tests/fixtures/sites/labelled/: one HTML file per page and labels.csv
(page, url, levels, note), levels space-separated care-level slugs, empty for "states none".
Exits 1 when any level is below the targets (precision 0.95, recall 0.80).
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from common import vocab
from crawler.page_reading import read_page
from crawler.site_items import SitePageItem
from pipelines.site_judging import Finding
from pipelines.site_levels import judge_item

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "tests" / "fixtures" / "sites" / "labelled"
TARGET_PRECISION = 0.95
TARGET_RECALL = 0.80


def feed_item(html: str | bytes, url: str, program_id: str | None = None) -> dict:
    """The provider_sites feed item the spider writes for this page, as the build reads it back."""
    item = SitePageItem(program_id=program_id, url=url, site=url, fetched_at="2024-01-01T00:00:00Z",
                        **read_page(html, url).as_feed())
    return json.loads(json.dumps(asdict(item)))


def classify_page(html: str | bytes, url: str) -> list[Finding]:
    """The levels of care a page states, as a crawl and a build would find them."""
    return [Finding(**f) for f in judge_item(feed_item(html, url))["findings"]]


@dataclass
class LabelledPage:
    page: str
    url: str
    levels: set[str]
    note: str


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def support(self) -> int:
        return self.tp + self.fn

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / self.support if self.support else None

    def meets_targets(self) -> bool:
        precision_ok = self.precision is None or self.precision >= TARGET_PRECISION
        recall_ok = self.recall is None or self.recall >= TARGET_RECALL
        return precision_ok and recall_ok and (self.support > 0 or self.fp == 0)


def load_labels(directory: Path = LABELLED) -> list[LabelledPage]:
    """labels.csv, checked: every page exists and every level is a known slug."""
    path = directory / "labels.csv"
    known = vocab.care_levels()
    pages = []
    with path.open(newline="", encoding="utf-8") as fh:
        for number, row in enumerate(csv.DictReader(fh), start=2):
            levels = set((row.get("levels") or "").split())
            unknown = levels - set(known)
            if unknown:
                raise ValueError(f"{path}: row {number}: unknown care level(s) {sorted(unknown)}")
            if not (directory / row["page"]).is_file():
                raise ValueError(f"{path}: row {number}: no such page {row['page']!r}")
            if not row.get("url", "").startswith(("http://", "https://")):
                raise ValueError(f"{path}: row {number}: url must be the page's http(s) address")
            pages.append(LabelledPage(row["page"], row["url"], levels, row.get("note", "")))
    if not pages:
        raise ValueError(f"{path}: no labelled pages")
    return pages


def evaluate(pages: list[LabelledPage], directory: Path = LABELLED):
    """({level: Score}, [(page, level, "false positive" | "missed", quote)])."""
    scores = {level: Score() for level in vocab.care_levels()}
    errors = []
    for page in pages:
        html = (directory / page.page).read_text(encoding="utf-8")
        found = {f.level: f for f in classify_page(html, page.url)}
        for level, score in scores.items():
            if level in found and level in page.levels:
                score.tp += 1
            elif level in found:
                score.fp += 1
                errors.append((page.page, level, "false positive", found[level].quote))
            elif level in page.levels:
                score.fn += 1
                errors.append((page.page, level, "missed", ""))
    return scores, errors


def _pct(value: float | None) -> str:
    return "   n/a" if value is None else f"{value:6.1%}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labelled", type=Path, default=LABELLED, help="folder with labels.csv and the pages")
    parser.add_argument("--errors", action="store_true", help="list every false positive and missed level")
    args = parser.parse_args(argv)
    pages = load_labels(args.labelled)
    scores, errors = evaluate(pages, args.labelled)
    print(f"Care levels stated on provider websites: {len(pages)} labelled pages "
          f"(targets: precision >= {TARGET_PRECISION:.0%}, recall >= {TARGET_RECALL:.0%} per level)\n")
    print(f"{'level':<12}{'precision':>10}{'recall':>9}{'support':>9}{'tp':>5}{'fp':>5}{'fn':>5}  result")
    failed = []
    for level, s in scores.items():
        ok = s.meets_targets()
        if not ok:
            failed.append(level)
        print(f"{level:<12}{_pct(s.precision):>10}{_pct(s.recall):>9}{s.support:>9}{s.tp:>5}{s.fp:>5}{s.fn:>5}  "
              f"{'ok' if ok else 'BELOW TARGET'}")
    total = Score(sum(s.tp for s in scores.values()), sum(s.fp for s in scores.values()),
                  sum(s.fn for s in scores.values()))
    print(f"{'all':<12}{_pct(total.precision):>10}{_pct(total.recall):>9}{total.support:>9}{total.tp:>5}"
          f"{total.fp:>5}{total.fn:>5}")
    if args.errors or failed:
        print()
        for page, level, kind, quote in errors:
            print(f"  {kind:<15} {level:<11} {page}" + (f"  « {quote} »" if quote else ""))
    if failed:
        print(f"\nbelow target: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
