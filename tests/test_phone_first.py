"""Phone-first (issue 13, items 1 and 2) in Debian's chromium at 375 × 667: after a search the
results start on the first screen, in English and in Spanish, with the crisis lines still there
and every one of their links at least 24 px tall; the folded form opens with one tap; the program
page puts how to call first, every number a link to tap (intake included). The screenshots the
README shows are made here (test-output/screenshots/)."""
from __future__ import annotations

import sqlite3

import pytest

from tests.support import PHONE, SCREENSHOTS

SEARCHES = ["/find?near=77002&miles=10&level=iop", "/find?near=Houston&miles=25", "/find?near=Plano&q=medicaid",
            "/find?near=Katy&miles=10&level=outpatient", "/find?near=75201&miles=5&q=suboxone%20spanish"]


def first_card_bottom_of_title(page) -> float:
    return page.locator("li.card h2").first.bounding_box()["y"] + page.locator("li.card h2").first.bounding_box()["height"]


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("path", SEARCHES)
def test_results_start_on_the_first_screen_with_the_crisis_lines_above(phone, server, path, lang):
    phone.goto(f"{server}{path}&lang={lang}")
    assert phone.locator("li.card").count() > 0, path
    assert first_card_bottom_of_title(phone) <= PHONE["height"], path  # a whole first name to tap
    crisis = phone.locator("#crisis-lines")
    assert crisis.bounding_box()["y"] < 60 and crisis.locator("a[href='tel:988']").is_visible()
    for link in crisis.locator("a").all():
        assert link.bounding_box()["height"] >= 24, link.inner_text()
    assert phone.locator("#search-summary").evaluate("d => d.open") is False
    if path == SEARCHES[0]:
        phone.screenshot(path=str(SCREENSHOTS / f"results-phone-{lang}.png"))


def test_the_folded_search_opens_with_one_tap_and_keeps_what_was_asked(phone, server):
    phone.goto(f"{server}/find?near=77002&miles=10&level=iop")
    summary = phone.locator("#search-summary > summary")
    assert "Intensive outpatient within 10 miles of ZIP 77002 (Houston, TX)" in " ".join(summary.inner_text().split())
    summary.tap()
    assert phone.locator("#near").is_visible() and phone.locator("#near").input_value() == "77002"
    assert phone.locator("#level").input_value() == "iop" and phone.locator("#miles").input_value() == "10"


def test_the_program_page_puts_calling_first_every_number_a_link(phone, server, built_db):
    with sqlite3.connect(built_db) as conn:
        pid, phones, intake = conn.execute(
            "select id, phones, intake_phones from programs where json_array_length(intake_phones) > 0 "
            "and json_array_length(phones) > 0 order by name limit 1").fetchone()
    phone.goto(f"{server}/program/{pid}")
    calls = phone.locator("#phones a[href^='tel:']")
    shown = calls.all_inner_texts()
    import json
    for number in json.loads(phones) + json.loads(intake):
        assert any(number in text for text in shown), (number, shown)
    assert any(text.startswith("Intake: call") for text in shown)
    assert phone.locator("#reach").bounding_box()["y"] < phone.locator("#where-from").bounding_box()["y"]
    assert not any("ext. 0" in text for text in shown)
    for link in calls.all():
        box = link.bounding_box()
        assert box["height"] >= 24 and box["width"] >= 24


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 800}])
def test_a_map_popup_in_the_corner_is_not_hidden_under_the_zoom_buttons(browser, server, viewport):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(f"{server}/find?near=77002&miles=10&level=iop")
    page.locator("#map-link").click()
    page.wait_for_selector("#find-map[data-markers]", timeout=15000)
    # Put a marker under the zoom buttons' corner, then open its popup as a tap would.
    page.evaluate("""() => new Promise(done => {
        const box = document.getElementById('find-map'), map = box.leafletMap;
        const marker = box.leafletMarkers.getLayers()[0];
        box.leafletMarkers.zoomToShowLayer(marker, () => {
            const p = map.latLngToContainerPoint(marker.getLatLng());
            map.panBy([p.x - 20, p.y - 30], {animate: false});
            marker.openPopup();
            setTimeout(done, 800);
        });
    })""")
    popup = page.locator(".leaflet-popup-content-wrapper").bounding_box()
    zoom = page.locator(".leaflet-control-zoom").bounding_box()
    overlap_x = min(popup["x"] + popup["width"], zoom["x"] + zoom["width"]) - max(popup["x"], zoom["x"])
    overlap_y = min(popup["y"] + popup["height"], zoom["y"] + zoom["height"]) - max(popup["y"], zoom["y"])
    assert overlap_x <= 0 or overlap_y <= 0, (popup, zoom)
    map_box = page.locator("#find-map").bounding_box()
    assert popup["y"] >= map_box["y"] and popup["x"] >= map_box["x"]  # inside the map, not cut off
    assert page.locator(".leaflet-popup-content a").first.inner_text()  # the program's name, to tap
    context.close()
