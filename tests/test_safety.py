"""Serving safely: read-only, bounded SQL, and scraped text that renders inert on every page,
checked in the real browser."""
import json
import sqlite3
import urllib.error
import urllib.parse
import urllib.request

import pytest

from pipelines.build import build
from tests.support import served
from tests.support import item, write_feed

# Each point lies in its own ZIP code (a point far from its ZIP would be replaced by the ZIP's
# centre, and markers on one spot never open one by one).
ATTACKS = [
    item(source_ref="row 2", name1='<script>window.__xss = "name"</script>Evil Recovery',
         name2='<img src=x onerror="window.__xss=\'name2\'">', street1='1 Main St"><svg onload="window.__xss=\'street\'">',
         website="javascript:window.__xss='website'", latitude="29.7604", longitude="-95.3698"),
    item(source_ref="row 3", name1="Quote Clinic", name2="\"'><iframe src=javascript:window.__xss='iframe'>",
         website='http://example.org/"><script>window.__xss="href"</script>', latitude="29.9", longitude="-95.1", zip="77532",
         phone="713-555-0101", street1="2 Elm Street"),
    item(source_ref="row 4", name1="Data Link House", website="data:text/html,<script>alert(1)</script>",
         latitude="29.6", longitude="-95.6", zip="77478", street1="3 Oak Street", phone="713-555-0102"),
    item(source_ref="row 5", name1="Mixed Case Scheme", website=" JaVaScRiPt:alert(1)", latitude="30.0", zip="77068",
         longitude="-95.5", street1="4 Pine Street", phone="713-555-0103"),
]


@pytest.fixture(scope="module")
def evil_db(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("evil")
    db = tmp / "programs.db"
    build([write_feed(tmp / "evil.jsonl", ATTACKS)], db, quiet=True)
    return db


@pytest.fixture(scope="module")
def evil_server(evil_db):
    with served(evil_db) as base:
        yield base


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_websites_are_only_ever_http_or_https(evil_db):
    with sqlite3.connect(evil_db) as conn:
        websites = dict(conn.execute("select name, website from programs").fetchall())
    assert websites["Data Link House"] is None and websites["Mixed Case Scheme"] is None
    assert websites['<script>window.__xss = "name"</script>Evil Recovery'] is None
    # Quotes and angle brackets are no part of a URL a source meant (RFC 3986): no website at all,
    # rather than one that carries markup into every JSON and CSV answer (issue 15).
    assert websites["Quote Clinic"] is None


def test_the_database_cannot_be_changed_through_the_server(evil_server):
    for sql in ("delete from programs", "update programs set name = 'x'", "drop table programs",
                "insert into rejects (reason) values ('x')"):
        status, body = get(f"{evil_server}/programs.json?sql={urllib.parse.quote(sql)}")
        assert status == 400, (sql, status)
    status, body = get(f"{evil_server}/programs/programs.json?_size=0")
    assert json.loads(body)["filtered_table_rows_count"] == len(ATTACKS)


def test_arbitrary_sql_is_bounded_by_a_time_limit(evil_server):
    endless = "with recursive n(i) as (select 1 union all select i + 1 from n) select count(*) from n"
    status, body = get(f"{evil_server}/programs.json?sql={urllib.parse.quote(endless)}")
    assert status == 400 and "SQL query took too long" in body


def pages(base, db):
    with sqlite3.connect(db) as conn:
        ids = [r[0] for r in conn.execute("select id from programs order by id")]
    yield from ["/", "/find?near=77002&miles=50&level=", "/find?near=Houston%2C+TX&miles=50&level=&payment=",
                "/programs", "/programs/programs", "/programs/programs?_search=evil", "/programs/search?q=evil",
                "/programs/nearby?lat=29.76&lon=-95.37&miles=50&level=&payment=", "/programs/listings",
                "/programs/program_changes", "/programs/rejects"]
    for program_id in ids:
        yield f"/program/{program_id}"
        yield f"/programs/programs/{program_id}"


def test_scraped_markup_renders_inert_on_every_page(browser, evil_server, evil_db):  # noqa: F811
    context = browser.new_context()
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for path in pages(evil_server, evil_db):
        page.goto(evil_server + path)
        assert page.evaluate("typeof window.__xss") == "undefined", path
        scripts = page.evaluate("[...document.scripts].map(s => s.textContent).join('\\n')")
        assert "__xss" not in scripts, path
        assert page.locator("iframe, svg[onload], img[onerror]").count() == 0, path
        hrefs = page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)")
        bad = [h for h in hrefs if h.lower().split(":", 1)[0] not in ("http", "https", "tel", "sms", "mailto")]
        assert bad == [], (path, bad)
    assert dialogs == []
    # The text is shown as text: a person sees the odd name, not a running script.
    page.goto(evil_server + "/find?near=77002&miles=50&level=")
    assert '<script>window.__xss = "name"</script>Evil Recovery' in page.locator("main").inner_text()
    context.close()


def test_map_popups_are_inert(browser, evil_server):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(evil_server + "/programs/programs")
    page.wait_for_selector(".leaflet-marker-icon, .marker-cluster", timeout=15000)
    texts = []
    for _ in range(10):  # open clusters until single markers show, then every popup
        clusters = page.locator(".marker-cluster")
        if clusters.count() == 0:
            break
        clusters.first.click()
        page.wait_for_timeout(400)
    markers = page.locator(".leaflet-marker-icon:not(.marker-cluster)")
    for i in range(markers.count()):
        markers.nth(i).click(force=True)
        page.wait_for_selector(".leaflet-popup-content", timeout=5000)
        texts.append(page.locator(".leaflet-popup-content").last.inner_text())
        assert page.evaluate("typeof window.__xss") == "undefined"
    assert len(texts) == len(ATTACKS)
    # The popup shows the markup as text.
    assert any('<script>window.__xss = "name"</script>Evil Recovery' in t for t in texts), texts
    context.close()
