"""No `javascript:` link from a row or a query result is clickable anywhere, the map popup
included, and the Content-Security-Policy stops the browser from running one (issue 15, finding 5:
`/programs?sql=select 29.76 as latitude, -95.36 as longitude, '{"link":"javascript:..."}' as popup`
made a link in datasette-cluster-map's popup that ran script when clicked). Checked in Debian's
chromium against `make serve`."""
from __future__ import annotations

import sqlite3
import urllib.parse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from pipelines.build import build
from tests.support import item, served, write_feed

HOSTILE = "javascript:alert(document.domain)"
POPUP_SQL = (f"""select 29.76 as latitude, -95.36 as longitude, '{{"title":"Help","link":"{HOSTILE}"}}' as popup """
             """union all select 32.78, -96.8, '{"title":"Safe","link":"https://example.org/help"}'""")


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory):
    """Two programs; the first's website is then set to a `javascript:` URL in the file itself. The
    build refuses such a website (tests/test_safety.py), so this stands for a database made by
    other means (an older build, a hand edit): the serving side must hold on its own."""
    tmp = tmp_path_factory.mktemp("hostile")
    db = tmp / "programs.db"
    feed = write_feed(tmp / "feed.jsonl", [
        item(source_ref="row 2", name1="Script Site", website=HOSTILE),
        item(source_ref="row 3", name1="Good Site", website="https://example.org/", street1="2 Main Street",
             phone="713-555-0111", latitude="29.9", longitude="-95.1", zip="77532")])
    build([feed], db, quiet=True)
    with sqlite3.connect(db) as conn:
        assert conn.execute("select website from programs where name = 'Script Site'").fetchone() == (None,)
        conn.execute("update programs set website = ? where name = 'Script Site'", (HOSTILE,))
    return db


@pytest.fixture(scope="module")
def hostile_server(hostile_db):
    with served(hostile_db) as base:
        yield base


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    yield page
    context.close()


def links(element) -> list[tuple[str | None, str]]:
    """(href attribute, resolved href) of every a and area element inside `element` (a locator)."""
    return element.evaluate(
        "el => [...el.querySelectorAll('a, area')].map(a => [a.getAttribute('href'), a.href])")


def open_popup(page, title: str):
    """Click markers until the popup titled `title` is open; return its content element."""
    page.wait_for_selector(".leaflet-marker-icon", timeout=15000)
    markers = page.locator(".leaflet-marker-icon")
    for i in range(markers.count()):
        markers.nth(i).click(force=True)
        content = page.locator(".leaflet-popup-content", has_text=title)
        try:
            content.wait_for(timeout=3000)
        except PlaywrightTimeout:
            continue
        return content
    raise AssertionError(f"no popup titled {title!r}")


def test_a_javascript_link_in_a_query_popup_is_not_clickable(page, hostile_server):
    page.goto(hostile_server + "/programs?sql=" + urllib.parse.quote(POPUP_SQL))
    before = page.url
    popup = open_popup(page, "Help")
    assert popup.locator("strong").inner_text() == "Help"  # the title is shown, as text
    assert [href for href, _ in links(popup)] == [None]
    popup.locator("strong").click()
    page.wait_for_timeout(500)
    assert page.dialogs == [] and page.url == before
    # A web address in a popup stays a link: the guard removes only what is not one.
    safe = open_popup(page, "Safe")
    assert [href for href, _ in links(safe)] == ["https://example.org/help"]


def test_the_policy_forbids_running_a_javascript_url(page, hostile_server):
    response = page.goto(hostile_server + "/programs?sql=" + urllib.parse.quote(POPUP_SQL))
    policy = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    assert policy["script-src"].startswith("'self'")
    assert not {"'unsafe-inline'", "'unsafe-hashes'", "'unsafe-eval'"} & set(policy["script-src"].split())
    assert policy["frame-ancestors"] == "'none'" and response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    # The browser itself refuses: a javascript: navigation (no link involved, so the link guard
    # plays no part) is reported as a violation of script-src and runs nothing.
    violation = page.evaluate("""() => new Promise((resolve) => {
        document.addEventListener("securitypolicyviolation",
            (e) => resolve([e.effectiveDirective, e.blockedURI]), {once: true});
        window.__ran = false;
        location.href = "javascript:window.__ran = true; alert(document.domain)";
    })""")
    assert violation == ["script-src-elem", "inline"]
    page.wait_for_timeout(300)
    assert page.evaluate("window.__ran") is False and page.dialogs == []


def test_a_javascript_website_is_no_live_link_on_the_table_and_program_pages(page, hostile_server, hostile_db):
    with sqlite3.connect(hostile_db) as conn:
        script_id = conn.execute("select id from programs where name = 'Script Site'").fetchone()[0]
    for path in ["/programs/programs", f"/programs/programs/{script_id}", f"/program/{script_id}",
                 "/programs/programs?_search=script"]:
        page.goto(hostile_server + path)
        bad = [(h, r) for h, r in links(page.locator("body"))
               if "javascript" in (h or "").lower() or r.lower().startswith("javascript:")]
        assert bad == [], (path, bad)
    page.goto(hostile_server + "/programs/programs?_sort=name")
    cells = page.locator("td.col-website")
    assert cells.all_inner_texts() == ["https://example.org/", HOSTILE]  # shown as text
    assert cells.nth(0).locator("a").get_attribute("href") == "https://example.org/"
    assert cells.nth(1).locator("a").count() == 0
    cells.nth(1).click()
    page.wait_for_timeout(300)
    assert page.dialogs == []
