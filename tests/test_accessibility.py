"""Every page a person or a researcher sees, checked by axe-core inside Debian's chromium (issue 13,
item 5): the WCAG 2.0/2.1/2.2 A and AA rules, at a 375 x 667 phone and a 1280 x 800 screen, the
person's pages in English and in Spanish (`lang=es`). No critical and no serious violation is
allowed. On the person's pages every link and button also has a name a screen reader can say and
a target of at least 24 x 24 px, unless it is a link inside a sentence (WCAG 2.5.8's inline
exception). The axe counts are printed for each page; screenshots go to test-output/accessibility/.
"""
from __future__ import annotations

import sqlite3
from urllib.parse import urlencode

import pytest

from tests.support.axe import IMPACTS, check_page, describe, summary, unnamed_or_small

PHONE = {"width": 375, "height": 667}
WIDE = {"width": 1280, "height": 800}
VIEWPORTS = {"375px": PHONE, "1280px": WIDE}

# (label, path, expected status). {program} is a program of the built directory, {db} the name
# Datasette serves the directory's database under (its file's stem).
PERSON_PAGES = [
    ("home", "/", 200),
    ("results", "/find?near=77002&level=iop", 200),
    ("program", "/program/{program}", 200),
    ("404", "/no-such-page", 404),
]
RESEARCHER_PAGES = [
    ("database", "/{db}", 200),
    ("table", "/{db}/programs", 200),
    # A filter and a facet add the remove-filter cross, the facet's cross and its "…" link.
    ("table-filtered", "/{db}/programs?city=Houston&_facet=zip", 200),
    ("row", "/{db}/programs/{program}", 200),
    # Wider than either screen: the results' box scrolls sideways.
    ("query", "/{db}?" + urlencode({"sql": "select * from listings limit 5"}), 200),
    ("canned-query", "/{db}/search?q=detox", 200),
]
LANGUAGES = ["en", "es"]


def in_language(path: str, lang: str) -> str:
    """The path as the language switch makes it: English is the default, Spanish adds lang=es."""
    if lang == "en":
        return path
    return path + ("&" if "?" in path else "?") + "lang=es"


PERSON = [pytest.param(label, in_language(path, lang), status, id=f"{label}-{lang}")
          for label, path, status in PERSON_PAGES for lang in LANGUAGES]
PAGES = PERSON + [pytest.param(label, path, status, id=label) for label, path, status in RESEARCHER_PAGES]


@pytest.fixture(scope="module")
def program_id(built_db) -> str:
    """A listed program a person would open from the 77002 IOP results: with a phone, a website
    and intensive outpatient care (the fullest program page)."""
    with sqlite3.connect(built_db) as conn:
        [(pid,)] = conn.execute(
            "select p.id from programs p join program_care_levels c on c.program_id = p.id "
            "where c.care_level = 'iop' and p.status = 'listed' and p.phone is not null "
            "and p.website is not null order by p.id limit 1").fetchall()
    return pid


@pytest.fixture
def open_page(browser, server, built_db, program_id):
    """open_page(path, viewport, status) -> a Playwright page showing path, the answer's status
    checked. The phone is a touch device, as in the other browser tests."""
    contexts = []

    def open_(path: str, viewport: dict, status: int):
        phone = viewport is PHONE
        context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
        contexts.append(context)
        page = context.new_page()
        response = page.goto(server + path.format(db=built_db.stem, program=program_id))
        assert response.status == status, f"{path}: {response.status}"
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=list(VIEWPORTS))
@pytest.mark.parametrize("label, path, status", PAGES)
def test_no_critical_or_serious_violation(open_page, capsys, label, path, status, viewport):
    page = open_page(path, VIEWPORTS[viewport], status)
    name = f"{label}{'-es' if 'lang=es' in path else ''}-{viewport}"
    grouped = check_page(page, name)
    with capsys.disabled():
        print("\n" + summary(name, grouped))
    assert set(grouped) == set(IMPACTS)
    assert not grouped["critical"] and not grouped["serious"], (
        f"{path} at {viewport}:\n" + describe(grouped, ("critical", "serious")))


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=list(VIEWPORTS))
@pytest.mark.parametrize("label, path, status", PERSON)
def test_every_link_and_button_is_named_and_big_enough(open_page, label, path, status, viewport):
    page = open_page(path, VIEWPORTS[viewport], status)
    unnamed, small = unnamed_or_small(page)
    assert not unnamed, f"{path} at {viewport}: links or buttons a screen reader cannot name:\n" + "\n".join(unnamed)
    assert not small, f"{path} at {viewport}: targets under 24 x 24 px outside a sentence:\n" + "\n".join(small)


def test_the_checks_find_what_they_look_for(browser):
    """The same helpers on a page made to fail: an unlabelled field (critical), grey on white
    (serious), a 12 px icon button without a name."""
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.set_content('<html lang="en"><title>t</title><main><p style="color:#bbb">Faint text</p>'
                         '<input type="text"><button style="width:12px;height:12px;padding:0"></button>'
                         '<p>A <a href="#x">link in a sentence</a> is exempt.</p></main></html>')
        grouped = check_page(page, "made-to-fail")
        assert {v["id"] for v in grouped["critical"]} >= {"label", "button-name"}
        assert "color-contrast" in {v["id"] for v in grouped["serious"]}
        unnamed, small = unnamed_or_small(page)
        assert len(unnamed) == 1 and unnamed[0].startswith("<button")
        assert len(small) == 1 and small[0].startswith("12x12 <button")
    finally:
        context.close()
