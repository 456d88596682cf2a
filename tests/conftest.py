"""Fixtures shared by the tests: the real SAMHSA files crawled by the real spider and built, the
directory served as `make serve` serves it, and Debian's chromium. Helpers live in tests/support."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import CHROMIUM, CODE_REFERENCE, PHONE, SCREENSHOTS, TX_CSV, crawl, need_shared, served
from tests.support.axe import COUNTS as AXE_COUNTS


def pytest_sessionstart(session):
    """A run's axe counts start empty (only in the main process, not in each xdist worker)."""
    if not hasattr(session.config, "workerinput"):
        AXE_COUNTS.unlink(missing_ok=True)


def pytest_terminal_summary(terminalreporter):
    """The axe-core counts of every page checked (tests/test_accessibility.py), at the end of the run."""
    if AXE_COUNTS.exists():
        terminalreporter.section("axe-core violations by impact, per page")
        for line in sorted(set(AXE_COUNTS.read_text(encoding="utf-8").splitlines())):
            terminalreporter.write_line(line)


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


@pytest.fixture
def phone(browser):
    """A page on a 375 x 667 touch phone."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    yield page
    context.close()
