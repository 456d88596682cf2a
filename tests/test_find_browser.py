"""The person's search in a real browser (issue 12, one test per item of its list): Debian's
chromium driven by Playwright against the Houston/Dallas directory served by `make serve`, on a
375 px phone unless a wide screen is the point. Screenshots go to test-output/screenshots/.
Expected figures are counted here with sqlite3 over the JSON columns and the haversine of
tests/support, not with the queries the page runs."""
from __future__ import annotations

import json
import re
import sqlite3
import urllib.request

import pytest

from pipelines.build import build
from tests.support import PHONE, SCREENSHOTS, haversine_miles, item, served, write_feed

WIDE = {"width": 1366, "height": 900}
ZIP_77002 = (29.7594, -95.3594)


@pytest.fixture
def wide(browser):
    context = browser.new_context(viewport=WIDE)
    page = context.new_page()
    yield page
    context.close()


def db_rows(db, sql, *params):
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


def near(db, lat, lon, miles, where="1", *params) -> list[str]:
    """Ids of the listed programs within `miles`, nearest first (then by name, id)."""
    rows = db_rows(db, f"select id, name, latitude, longitude from programs p where status = 'listed' "
                       f"and latitude is not null and ({where})", *params)
    found = sorted((haversine_miles(lat, lon, r["latitude"], r["longitude"]), r["name"], r["id"]) for r in rows)
    return [pid for d, _, pid in found if d <= miles]


def card_ids(page) -> list[str]:
    return page.locator("li.card").evaluate_all("cards => cards.map(c => c.dataset.programId)")


def total(page) -> int:
    return int(re.match(r"(\d+) programs?", page.locator("#result-summary").inner_text()).group(1))


def search_from_home(page, base, near_text, words=""):
    """The home page's search, typed as a person types it."""
    page.goto(base + "/")
    if words:
        page.get_by_label("What are you looking for?").fill(words)
    page.get_by_label("ZIP code or city").fill(near_text)
    page.get_by_role("button", name="Find programs").click()
    page.wait_for_url(re.compile(r"/find\?"))


def fits_the_phone(page) -> bool:
    return page.evaluate(f"document.documentElement.scrollWidth <= {PHONE['width']}")


# 1. Places as people type them ----------------------------------------------------------------

def test_a_city_typed_alone_is_searched_and_the_other_states_offered(phone, server, built_db):
    search_from_home(phone, server, "Houston")
    chosen = phone.locator("#place-chosen")
    assert chosen.inner_text().startswith("Showing Houston, TX — or Houston, ")
    [(lat, lon)] = [(r["latitude"], r["longitude"]) for r in
                    db_rows(built_db, "select latitude, longitude from coverage where area = 'Houston, TX'")]
    assert total(phone) == len(near(built_db, lat, lon, 10)) > 50
    assert fits_the_phone(phone)
    phone.screenshot(path=str(SCREENSHOTS / "find-houston-alone-375px.png"))
    other = chosen.get_by_role("link").first
    label = other.inner_text()
    other.click()
    phone.wait_for_url(re.compile(r"near=Houston%2C\+[A-Z]{2}"))
    assert f"of {label}" in phone.locator("#result-summary").inner_text()
    assert "does not cover" in phone.locator("#coverage-note").inner_text()


def test_an_unknown_place_gets_a_helpful_page(phone, server):
    response = phone.goto(server + "/find?near=Xyzzyville")
    assert response.status == 200
    assert "could not find a place called “Xyzzyville”" in phone.locator("#find-error").inner_text()
    assert phone.locator("#find-help a[href='https://findtreatment.gov/']").count() == 1
    phone.screenshot(path=str(SCREENSHOTS / "find-unknown-place-375px.png"))


# 2. Coverage said plainly ----------------------------------------------------------------------

def test_home_says_what_is_covered_and_a_search_outside_says_where_help_is(phone, server, built_db):
    phone.goto(server + "/")
    areas = db_rows(built_db, "select area, programs from coverage order by programs desc")
    listed = phone.locator(".coverage-areas li").all_inner_texts()
    assert [t.split(":")[0] for t in listed] == [a["area"] for a in areas]
    assert all(f"{a['programs']} programs within 25 miles" in t and "data of 2023" in t for a, t in zip(areas, listed))
    phone.locator("#coverage").scroll_into_view_if_needed()
    phone.screenshot(path=str(SCREENSHOTS / "home-coverage-375px.png"))
    search_from_home(phone, server, "El Paso")
    note = phone.locator("#coverage-note")
    assert "This directory does not cover El Paso, TX yet" in note.inner_text()
    assert "the nearest is Dallas, TX, about" in note.inner_text()
    assert note.locator("a[href='tel:+1-800-662-4357']").count() == 1
    assert note.locator("a[href='https://findtreatment.gov/']").count() == 1
    assert fits_the_phone(phone)
    phone.screenshot(path=str(SCREENSHOTS / "find-outside-coverage-375px.png"), full_page=True)


# 3. Words people use -------------------------------------------------------------------------------

def test_one_search_box_in_everyday_words(phone, server, built_db):
    search_from_home(phone, server, "77002", "IOP that takes Medicaid")
    assert "q=IOP+that+takes+Medicaid" in phone.url  # the URL of the search, to share
    said = phone.locator("#understood").inner_text()
    assert "iop → Level of care: Intensive outpatient" in said
    assert "medicaid → Takes Medicaid" in said
    expected = near(built_db, *ZIP_77002, 10, "p.id in (select program_id from program_care_levels where care_level = "
                                               "'iop') and exists (select 1 from json_each(p.payment) j where "
                                               "j.value = 'Medicaid')")
    assert card_ids(phone) == expected and expected
    for card in phone.locator("li.card").all():
        text = card.inner_text()
        assert "Intensive outpatient" in text and "Medicaid" in text
    assert "CREATE TABLE" not in phone.content().upper()
    phone.screenshot(path=str(SCREENSHOTS / "find-words-375px.png"))
    # The home page's quick links go to the same cards.
    phone.goto(server + "/")
    phone.get_by_role("link", name="Treatment in Spanish in Dallas, TX").click()
    phone.wait_for_url(re.compile(r"/find\?near=Dallas"))
    assert phone.locator("li.card").count() > 0 and "/programs/programs" not in phone.url


# 4. Filters in plain words ---------------------------------------------------------------------------

def count_beside(page, label: str) -> int:
    option = page.locator("label.filter-option", has_text=label).first
    return int(re.search(r"\((\d+)\)", option.locator(".count").inner_text()).group(1))


def test_filters_show_what_each_would_leave_and_combine_with_the_place(phone, server, built_db):
    phone.goto(server + "/find?near=77002&miles=25")
    phone.get_by_text("Filters", exact=True).click()
    spanish = count_beside(phone, "Spanish (español)")
    spanish_ids = near(built_db, *ZIP_77002, 25, "exists (select 1 from json_each(p.languages) j where j.value = "
                                                 "'Spanish')")
    assert spanish == len(spanish_ids) > 0
    phone.get_by_role("checkbox", name=re.compile(r"^Spanish \(español\)")).check()
    phone.screenshot(path=str(SCREENSHOTS / "find-filters-375px.png"))
    phone.get_by_role("button", name="Show programs").click()
    phone.wait_for_url(re.compile(r"languages=Spanish"))
    assert total(phone) == spanish and card_ids(phone) == spanish_ids[:50]
    phone.get_by_text("Filters (1 chosen)").click()
    telehealth = count_beside(phone, "Offers telehealth")
    assert telehealth == len([pid for pid in spanish_ids if db_rows(
        built_db, "select 1 from programs where id = ? and telehealth = 1", pid)])
    phone.get_by_role("checkbox", name=re.compile(r"^Offers telehealth")).check()
    phone.get_by_role("button", name="Show programs").click()
    phone.wait_for_url(re.compile(r"telehealth=1"))
    assert total(phone) == telehealth
    for label in ("Substance use (addiction)", "Mental health", "Teens and children", "Any of these medications",
                  "Veterans", "Pregnant or postpartum women", "Medicaid", "Sliding fee scale"):
        assert phone.locator("label.filter-option", has_text=label).count() >= 1, label
    phone.get_by_role("link", name="Data and API").click()
    phone.wait_for_url(re.compile(r"/programs/programs$"))


# 5. All results, paged ---------------------------------------------------------------------------------

def test_every_result_page_by_page_nearest_first_or_by_name(phone, server, built_db):
    phone.goto(server + "/find?near=77002&miles=25")
    expected = near(built_db, *ZIP_77002, 25)
    assert total(phone) == len(expected) > 100
    seen = card_ids(phone)
    while phone.locator("#next-page").count():
        phone.locator("#next-page").click()
        phone.wait_for_load_state()
        seen += card_ids(phone)
    assert seen == expected
    phone.get_by_role("link", name="Sort by name").click()
    phone.wait_for_url(re.compile(r"sort=name"))
    names = [n.lower() for n in phone.locator("li.card h2").all_inner_texts()]
    assert names == sorted(names) and len(names) == 50


# 6. A map beside the list ------------------------------------------------------------------------------

def test_on_a_phone_the_map_is_folded_and_never_hides_the_list(phone, server):
    phone.goto(server + "/find?near=77002&miles=10&level=iop")
    box = phone.locator("#map-box")
    assert box.evaluate("d => d.open") is False
    first = phone.locator("li.card").first.bounding_box()
    assert box.bounding_box()["y"] > first["y"]  # after the list begins, folded to one line
    phone.locator("#map-link").click()
    phone.wait_for_selector("#find-map[data-markers]", timeout=15000)
    assert int(phone.locator("#find-map").get_attribute("data-markers")) == phone.locator("li.card").count()
    assert fits_the_phone(phone)
    phone.screenshot(path=str(SCREENSHOTS / "find-map-open-375px.png"))


def test_on_a_wide_screen_the_map_stands_beside_the_list_with_the_same_rows(wide, server):
    errors = []
    wide.on("pageerror", lambda exc: errors.append(str(exc)))
    wide.goto(server + "/find?near=77002&miles=10&level=iop")
    wide.wait_for_selector("#find-map[data-markers]", timeout=15000)
    listing, map_box = wide.locator(".find-list").bounding_box(), wide.locator("#map-box").bounding_box()
    assert map_box["x"] >= listing["x"] + listing["width"] and map_box["y"] < listing["y"] + 200
    assert wide.locator("#find-map").get_attribute("data-program-ids").split() == card_ids(wide)
    wide.locator(".marker-cluster, .leaflet-marker-icon").first.wait_for(timeout=15000)
    wide.locator("#result-summary strong").click()  # a click beside them folds neither the map nor the filters
    assert wide.locator("#map-box").evaluate("d => d.open") and wide.locator("#filters").evaluate("d => d.open")
    wide.screenshot(path=str(SCREENSHOTS / "find-map-wide.png"))
    assert errors == []


EVIL = '<img src=x onerror="window.__xss=1">Evil <b>Recovery</b>'


@pytest.fixture(scope="module")
def evil_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("evil-find")
    feed = write_feed(tmp / "evil.jsonl", [
        item(source_ref="row 2", name1=EVIL, street1='1 Main St"><svg onload="window.__xss=2">'),
        item(source_ref="row 3", name1="Plain Place", street1="9 Elm Street", latitude="29.82", longitude="-95.42"),
    ])
    build([feed], tmp / "programs.db", quiet=True)
    with served(tmp / "programs.db") as base:
        yield base


def test_scraped_text_in_map_popups_and_cards_stays_text(wide, evil_server):
    wide.goto(evil_server + "/find?near=77002&miles=50")
    wide.wait_for_selector("#find-map[data-markers='2']", timeout=15000)
    for _ in range(5):  # open clusters until the single markers show
        if wide.locator(".marker-cluster").count() == 0:
            break
        wide.locator(".marker-cluster").first.click()
        wide.wait_for_timeout(400)
    texts = []
    for marker in wide.locator(".leaflet-marker-icon:not(.marker-cluster)").all():
        marker.click(force=True)
        wide.wait_for_selector(".leaflet-popup-content")
        texts.append(wide.locator(".leaflet-popup-content").last.inner_text())
    assert any(EVIL in t for t in texts), texts
    assert EVIL in wide.locator("li.card").first.inner_text() or EVIL in wide.locator("main").inner_text()
    assert wide.evaluate("typeof window.__xss") == "undefined"
    assert wide.locator("main img[src='x'], main svg[onload]").count() == 0


# 7. Dates that are true ------------------------------------------------------------------------------

def test_cards_and_the_program_page_say_when_the_source_listed_it(phone, server, built_db):
    phone.goto(server + "/find?near=77002&miles=10&level=iop")
    first = phone.locator("li.card").first
    [program] = db_rows(built_db, "select last_seen from programs where id = ?", first.get_attribute("data-program-id"))
    assert program["last_seen"] == "2023"  # the export's own date, not the build's
    assert first.locator(".listed").inner_text() == "Listed by SAMHSA: 2023"
    first.get_by_role("link", name="Details").click()
    phone.wait_for_url(re.compile(r"/program/p"))
    assert phone.locator("#listed").inner_text() == "Listed by SAMHSA: 2023"
    assert set(phone.locator("#sources + table tbody td:nth-child(3)").all_inner_texts()) == {"2023"}
    phone.screenshot(path=str(SCREENSHOTS / "program-listed-375px.png"))


# 8. The page and its JSON are one ---------------------------------------------------------------------

def test_the_as_json_link_gives_the_rows_of_the_page(phone, server):
    phone.goto(server + "/find?near=Houston&miles=25&q=suboxone+spanish&page=1")
    ids = card_ids(phone)
    json_url = phone.get_by_role("link", name="As JSON").get_attribute("href")
    assert json_url.startswith("/programs/nearby.json?")
    with urllib.request.urlopen(server + json_url, timeout=30) as response:
        rows = json.load(response)
    assert [r["id"] for r in rows] == ids and ids
    assert all("Buprenorphine" in json.loads(r["medications"]) and "Spanish" in json.loads(r["languages"]) for r in rows)
