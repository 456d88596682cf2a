"""`python -m crawler.crawl SPIDER ...` is `scrapy safecrawl SPIDER ...` (crawler/commands/safecrawl.py),
kept for scripts that call the crawl by this name; it works from any directory."""
from __future__ import annotations

import os
import sys

from scrapy.cmdline import execute


def main(argv: list[str] | None = None) -> None:
    """Run `scrapy safecrawl` with these arguments; exits with its status."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    execute(["scrapy", "safecrawl", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
