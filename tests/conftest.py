"""Fixtures shared by the tests: the real SAMHSA files crawled by the real spider and built, the
directory served as `make serve` serves it, and Debian's chromium. Helpers live in tests/support."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import CHROMIUM, CODE_REFERENCE, SCREENSHOTS, TX_CSV, crawl, need_shared, served


@pytest.fixture(scope="session")
def houston_dallas_feed(tmp_path_factory) -> Path:
    """Houston and Dallas rows of the real Texas export (the csv generation, fast to read)."""
    need_shared(TX_CSV, CODE_REFERENCE)
    output, _ = crawl(tmp_path_factory.mktemp("feed"), "findtreatment_export", "Houston, TX;Dallas, TX",
                      "--source", str(TX_CSV))
    return output


@pytest.fixture(scope="session")
def built_db(houston_dallas_feed, tmp_path_factory) -> Path:
    """data/programs.db as `make data` builds it, from the Houston and Dallas feed."""
    from pipelines.build import build

    db_path = tmp_path_factory.mktemp("db") / "programs.db"
    build([houston_dallas_feed], db_path, quiet=True)
    return db_path


@pytest.fixture(scope="module")
def server(built_db):
    """`make serve` on a free port, as a user starts it."""
    with served(built_db) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium; .ci/run does it)")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()
