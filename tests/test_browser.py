"""The pages for a person, in a real browser: Debian's chromium driven by Playwright against
the directory served by `make serve`, at the root and under a base_url. Screenshots go to
test-output/screenshots/."""
from __future__ import annotations

import json
import re
import sqlite3
import urllib.error
import urllib.request

import pytest

from common import serving
from tests.support import PHONE, ROOT, SCREENSHOTS, haversine_miles, served

ZIP_77002 = (29.7594, -95.3594)  # the zipcodes package's centroid, as the page resolves it
TEL = re.compile(r"^tel:\+1-\d{3}-\d{3}-\d{4}(;ext=\d+)?$")
BASE_URL = "/dir/"
# Every URL a page names for the browser to follow or load, resolved as the browser resolves it.
PAGE_URLS = """[...document.querySelectorAll('a[href], link[href], script[src], img[src], form[action]')]
    .map(e => e.tagName === 'FORM' ? new URL(e.getAttribute('action'), document.baseURI).href : (e.href || e.src))"""


def db_rows(db, sql, *params):
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


def no_sideways_scroll(page, width=PHONE["width"]):
    """Nothing wider than the phone's screen: no sideways scroll, no text cut off at the right.
    (A mobile browser widens its layout viewport to fit wide content, so compare with the
    screen's width, not window.innerWidth.)"""
    return page.evaluate(
        f"document.documentElement.scrollWidth <= {width} && "
        "[...document.querySelectorAll('main *, .crisis-lines *')]"
        f".every(e => e.getBoundingClientRect().right <= {width} + 1)"
    )


def search(page, base, near, miles="10", level="iop", payment=""):
    """Fill the home page's form as a person would, with the keyboard, and submit."""
    page.goto(base + "/")
    page.get_by_label("ZIP code or city").fill(near)
    page.get_by_label("Distance").select_option(miles)
    page.get_by_label("Level of care").select_option(level)
    page.get_by_label("Payment").select_option(payment)
    page.get_by_role("button", name="Find programs").click()
    page.wait_for_url(re.compile(r"/find\?"))


def test_zip_77002_iop_within_10_miles_nearest_first_with_tel_links(phone, server, built_db):
    search(phone, server, "77002")
    cards = phone.locator("li.card")
    count = cards.count()
    assert count > 5
    iop = {r["program_id"] for r in db_rows(built_db, "select program_id from program_care_levels where care_level = 'iop'")}
    miles = []
    for i in range(count):
        card = cards.nth(i)
        program_id = card.get_attribute("data-program-id")
        assert program_id in iop, f"{program_id} does not offer IOP"
        assert "Intensive outpatient" in card.inner_text()
        shown = float(card.locator(".distance").get_attribute("data-miles"))
        [program] = db_rows(built_db, "select latitude, longitude, phone_tel from programs where id = ?", program_id)
        assert abs(shown - haversine_miles(*ZIP_77002, program["latitude"], program["longitude"])) < 0.1
        assert shown <= 10
        miles.append(shown)
        call = card.locator("a.call")
        if program["phone_tel"]:
            assert TEL.match(call.get_attribute("href")), call.get_attribute("href")
            assert call.get_attribute("href") == program["phone_tel"]
    assert miles == sorted(miles)
    assert cards.locator("a.call").count() >= count - 1  # nearly every program has a phone
    # Every IOP program within 10 miles is listed: none missing.
    expected = [
        pid for pid in iop
        for p in db_rows(built_db, "select latitude, longitude from programs where id = ?", pid)
        if p["latitude"] is not None and haversine_miles(*ZIP_77002, p["latitude"], p["longitude"]) <= 10
    ]
    assert count == len(expected)
    assert no_sideways_scroll(phone)
    phone.screenshot(path=str(SCREENSHOTS / "search-77002-iop-375px.png"), full_page=True)


def test_crisis_lines_are_visible_without_scrolling_on_a_phone(phone, server):
    for path in ("/", "/find?near=77002&miles=10&level=iop", "/programs/programs"):
        phone.goto(server + path)
        for number in ("988", "1-800-662-4357"):
            link = phone.locator(f"a.crisis-number:has-text('{number}')").first
            box = link.bounding_box()
            assert box and box["y"] + box["height"] <= PHONE["height"], f"{number} below the fold on {path}"


def test_unknown_zip_shows_a_clear_message(phone, server):
    search(phone, server, "00000")
    assert "could not find ZIP code 00000" in phone.locator("#find-error").inner_text()
    assert phone.locator("li.card").count() == 0


def test_no_results_suggests_a_wider_distance(phone, server):
    # Katy lies at the edge of Houston's area: no program within 5 miles. (El Paso, far from every
    # covered area, is told where help is instead of a wider distance: tests/test_find_browser.py.)
    search(phone, server, "Katy, TX", miles="5")
    message = phone.locator("#no-results")
    assert "No programs found within 5 miles" in message.inner_text()
    assert "miles=10" in message.get_by_role("link", name="Search a wider distance").first.get_attribute("href")


def test_the_search_works_from_the_keyboard_alone(phone, server):
    phone.goto(server + "/")
    phone.get_by_label("ZIP code or city").focus()
    phone.keyboard.type("75201")
    phone.keyboard.press("Enter")
    phone.wait_for_url(re.compile(r"near=75201"))
    assert phone.locator("li.card").count() > 0
    # On the results page the search is folded into one line: Enter on it opens the form, and the
    # payment is among the filters: Tab reaches the distance, level and order.
    phone.locator("#search-summary > summary").focus()
    phone.keyboard.press("Enter")
    assert tab_order(phone, "ZIP code or city", 3) == ["miles", "level", "sort"]
    # Tab from the search field of the home page reaches the distance, level and payment choices in order.
    phone.goto(server + "/")
    assert tab_order(phone, "ZIP code or city", 3) == ["miles", "level", "payment"]


def tab_order(page, label: str, steps: int) -> list[str]:
    """The ids focused by pressing Tab from the field of that label."""
    page.get_by_label(label).focus()
    order = []
    for _ in range(steps):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id"))
    return order


def test_pages_fit_375_px_without_sideways_scrolling(phone, server, built_db):
    [program] = db_rows(built_db, "select id from programs where name = 'Menninger Clinic'")
    for path in ("/", "/find?near=77002&miles=25&level=", f"/program/{program['id']}"):
        phone.goto(server + path)
        assert no_sideways_scroll(phone), path


def test_program_page_shows_care_levels_with_evidence_and_sources(phone, server, built_db):
    [program] = db_rows(built_db, "select id, phone_tel from programs where name = 'Menninger Clinic'")
    phone.goto(f"{server}/program/{program['id']}")
    text = phone.locator("main").inner_text()
    assert "Intensive outpatient — SAMHSA service codes (OIT)" in text
    assert "Partial hospitalization / day treatment" in text
    sources = phone.locator("#sources + table tbody tr")
    assert sources.count() == 2  # the SU and MH twins
    assert "Payment accepted" in text and "Private health insurance" in text
    phone.locator("#services > summary").click()  # every service, folded after what a person needs first
    assert "Intensive outpatient treatment" in phone.locator("#services").inner_text()  # in words, not codes
    assert phone.locator("a.call").get_attribute("href") == program["phone_tel"]
    phone.screenshot(path=str(SCREENSHOTS / "program-menninger-375px.png"), full_page=True)


def test_the_map_page_loads_with_markers(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server + "/programs/programs?care_levels__arraycontains=iop")
    page.wait_for_selector(".leaflet-container", timeout=15000)
    page.wait_for_selector(".leaflet-marker-icon", timeout=15000)
    assert page.locator(".leaflet-marker-icon").count() > 0
    assert errors == []
    page.screenshot(path=str(SCREENSHOTS / "map-iop.png"))
    context.close()


def test_the_same_search_as_json_for_researchers(phone, server):
    """The page's "As JSON" link is the canned query `nearby`: the same programs, same order."""
    search(phone, server, "77002", miles="10", level="iop", payment="Medicaid")
    ids = [phone.locator("li.card").nth(i).get_attribute("data-program-id") for i in range(phone.locator("li.card").count())]
    assert ids, "some IOPs near 77002 take Medicaid"
    json_url = phone.get_by_role("link", name="As JSON").get_attribute("href")
    assert json_url.startswith("/programs/nearby.json?")
    with urllib.request.urlopen(server + json_url, timeout=10) as response:
        rows = json.load(response)
    assert [r["id"] for r in rows] == ids
    assert all("Medicaid" in json.loads(r["payment"]) and r["miles"] <= 10 for r in rows)


# --- Under a base_url ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def dir_server(built_db, tmp_path_factory):
    """`make serve` of a configuration directory that is the project's (metadata.yml, plugins/,
    templates/ linked) with base_url added to its settings.json; yields the directory's URL."""
    config = tmp_path_factory.mktemp("config")
    for name in ("metadata.yml", "plugins", "templates"):
        (config / name).symlink_to(ROOT / name)
    (config / "settings.json").write_text(json.dumps(serving.settings(base_url=BASE_URL)))
    with served(built_db, SERVE_CONFIG=config) as base:
        yield base + BASE_URL


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def assert_all_under(page, home: str) -> list[str]:
    """Every URL of the page on this server is under home (the base_url) and answers 200."""
    origin = home[:home.index(BASE_URL)]
    urls = [u for u in page.evaluate(PAGE_URLS) if u.startswith(origin + "/")]
    assert [u for u in urls if not u.startswith(home)] == [], page.url
    for url in dict.fromkeys(u.split("#")[0] for u in urls):
        assert status_of(url) == 200, (page.url, url)
    return urls


def test_under_a_base_url_home_find_and_program_keep_every_link_under_it(browser, dir_server, built_db):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    loaded = []  # every request the pages make to this server, and its answer
    page.on("response", lambda r: loaded.append((r.url, r.status)))
    assert page.goto(dir_server).status == 200
    assert_all_under(page, dir_server)
    page.get_by_label("ZIP code or city").fill("77002")
    page.get_by_label("Level of care").select_option("iop")
    page.get_by_role("button", name="Find programs").click()
    page.wait_for_url(re.compile(re.escape(dir_server) + r"find\?.*near=77002"))
    assert page.locator("li.card").count() > 5
    assert_all_under(page, dir_server)
    first = page.locator("li.card").first
    program_id = first.get_attribute("data-program-id")
    first.get_by_role("link").first.click()
    page.wait_for_url(dir_server + f"program/{program_id}")
    [program] = db_rows(built_db, "select name from programs where id = ?", program_id)
    assert page.locator("h1").inner_text() == program["name"]
    links = assert_all_under(page, dir_server)
    assert dir_server + f"programs/programs/{program_id}" in links  # the record as data
    page.get_by_role("link", name="← Find another program").click()
    page.wait_for_url(dir_server + "find")
    origin = dir_server[:dir_server.index(BASE_URL)]
    mine = [(url, status) for url, status in loaded if url.startswith(origin)]
    assert len(mine) > 4 and all(url.startswith(dir_server) and status == 200 for url, status in mine), mine
    page.screenshot(path=str(SCREENSHOTS / "base-url-find-375px.png"), full_page=True)
    context.close()


@pytest.mark.parametrize("path", ["programs/programs?_search=Menninger+12301", "programs/search?q=Menninger+12301"])
def test_under_a_base_url_the_map_popup_links_to_the_program_page(browser, dir_server, built_db, path):
    """The popup's link is stored relative ("../program/<id>"), so it is right on the table page
    and on a canned query's page, under any base_url and database name."""
    [program] = db_rows(built_db, "select id, name from programs where name = 'Menninger Clinic'")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(dir_server + path)
    page.wait_for_selector(".leaflet-marker-icon", timeout=15000)
    page.locator(".leaflet-marker-icon").first.click(force=True)
    link = page.locator(".leaflet-popup-content a")
    link.wait_for(timeout=5000)
    assert "Menninger Clinic" in link.inner_text()
    assert link.evaluate("a => a.href") == dir_server + f"program/{program['id']}"
    link.click()
    page.wait_for_url(dir_server + f"program/{program['id']}")
    assert page.locator("h1").inner_text() == program["name"]
    context.close()


def test_under_a_base_url_the_find_map_loads_everything_from_under_it(browser, dir_server):
    """The /find map's script, Leaflet and its clusters come from under the base_url (the tiles
    come from OpenStreetMap, offline here)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    loaded = []
    page.on("response", lambda r: loaded.append((r.url, r.status)))
    page.goto(dir_server + "find?near=77002&miles=10&level=iop")
    page.wait_for_selector("#find-map[data-markers]", timeout=15000)
    assert int(page.locator("#find-map").get_attribute("data-markers")) == page.locator("li.card").count() > 5
    origin = dir_server[:dir_server.index(BASE_URL)]
    mine = [(url, status) for url, status in loaded if url.startswith(origin)]
    assert any(url.endswith("/-/find-map.js") for url, _ in mine)
    assert any("leaflet.markercluster" in url for url, _ in mine)
    assert all(url.startswith(dir_server) and status == 200 for url, status in mine), mine
    context.close()
