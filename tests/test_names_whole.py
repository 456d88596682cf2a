"""Names whole (issue 13): SAMHSA cuts long names across name1 and name2 ("Center for Recovery
and" / "Wellness Resources"); the rule of data/name_joins.csv joins them, and leaves second a
name2 that is a site or program of its own. Asserted on the real Texas and Massachusetts rows."""
from __future__ import annotations

import contextlib
import json
import sqlite3

import pytest

from common import paths
from crawler.export_format import read_export
from pipelines import names
from pipelines.names import NameJoinsError, WholeName, rules, whole_name
from tests.support import MA_CSV, TX_XLSX, need_shared


def query(db, sql: str, *params) -> list[dict]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


def _names(path) -> list[tuple[str, str, str]]:
    """(name1, name2, city) of every row of an export that has a second name, stripped."""
    _, rows = read_export(path.read_bytes(), path.name)
    return [(r["name1"].strip(), r["name2"].strip(), r["city"].strip()) for _, r in rows if r["name2"].strip()]


@pytest.fixture(scope="module")
def texas():
    need_shared(TX_XLSX)
    return _names(TX_XLSX)  # the whole state: the xlsx takes a few seconds to read


@pytest.fixture(scope="module")
def massachusetts():
    need_shared(MA_CSV)
    return _names(MA_CSV)


def _whole(rows, name1: str, name2: str) -> WholeName:
    """The rule's answer for a row that must be in the export (so every case here is real)."""
    found = [city for n1, n2, city in rows if (n1, n2) == (name1, name2)]
    assert found, f"no row {name1!r} / {name2!r} in the export"
    return whole_name(name1, name2, found[0])


# The four names the issue saw cut in two on the Houston and Dallas pages: name1 ends with "and".
ISSUE_FOUR = {
    ("Center for Recovery and", "Wellness Resources"): ("Center for Recovery and Wellness Resources", None),
    ("Texas Health Recovery and", "Wellness Center"): ("Texas Health Recovery and Wellness Center", None),
    ("Harris Center for Mental Health and", "IDD/Juvenile Justice Programs"):
        ("Harris Center for Mental Health and IDD", "Juvenile Justice Programs"),
    ("Harris Center for Mental Health and", "IDD/Bristow Center/PATH"):
        ("Harris Center for Mental Health and IDD", "Bristow Center/PATH"),
}


@pytest.mark.parametrize("raw, whole", ISSUE_FOUR.items(), ids=[k[0] + " " + k[1] for k in ISSUE_FOUR])
def test_the_four_names_cut_after_and_are_whole(texas, raw, whole):
    assert _whole(texas, *raw) == WholeName(*whole, joined=True)


def test_every_texas_name_cut_after_a_joining_word_is_joined_and_nothing_else_is(texas):
    """Of the 471 Texas rows with a second name, the ones whose name1 ends with a joining word
    ("and", "of", "for", "at", "on") are the ones joined, and they read as these names."""
    ends = set(rules()["name1_ends"])
    cut = {(n1, n2) for n1, n2, _ in texas if n1.lower().split()[-1] in ends}
    joined = {(n1, n2): whole_name(n1, n2, city) for n1, n2, city in texas if whole_name(n1, n2, city).joined}
    assert set(joined) == cut
    assert {(w.name, w.second) for w in joined.values()} == {
        ("Pecan Valley Centers for Behav and Developmental Healthcare", None),
        ("North Texas Addiction Counseling and Education Inc", None),
        ("Hill County Council on Alcohol and Drug Abuse Inc", None),
        ("Restoration House at Counseling Solutions", None),
        ("Texas Health Recovery and Wellness Center", None),
        ("Anti Aging and Longevity Center of Texas PA", None),
        ("Fort Bend Regional Council on Substance Abuse Inc", None),
        ("Harris Center for Mental Health and IDD", "Juvenile Justice Programs"),
        ("Harris Center for Mental Health and IDD", "Bristow Center/PATH"),
        ("Center for Recovering Families at The Council on Recovery", None),
        ("Alcohol and Drug Abuse Council of Deep East Texas", None),
        ("Center for Recovery and Wellness Resources", None),
        ("Nueces Center for Mental Health and Intellectual Disabilities", None),
        ("Nueces Center for Mental Health and Intellectual Disabilities", "Robstown"),
        ("Nueces Center for Mental Health and Intellectual Disabilities", "Youth Servs"),
        ("Behavioral Health Solutions of South Texas", None),
    }
    assert sum(1 for n1, n2, _ in texas if (n1, n2) in cut) == 30


@pytest.mark.parametrize("name1, name2", [
    ("Cenikor Foundation", "Odyssey House Texas"),  # an organisation and its program
    ("Santa Maria Hostel Inc", "Bonita House"),
    ("Cypress Creek Hospital", "Inpatient CD"),  # a unit
    ("Family Houston", "Bay Area District Office"),  # a site
    ("Harris Center", "Southeast Community Service Center"),
    ("Texas Treatment Services LLC", "DBA Hemphill Treatment Services"),  # doing business as
    ("Substance Abuse Guidance and Education", "(SAGE)"),  # name1's acronym
    ("Assoc for the Adv of Mexican Amer Inc", "(AAMA)/Project Tejas"),
    ("Helen Farabee Centers", "Wichita County Child and Adol Services"),
    ("MedMark Treatment Centers", "Center"),  # the site in Center, Texas, not a cut "Center"
    ("Symetria Recovery", "Fort Worth"),
])
def test_a_second_name_that_is_a_site_or_program_stays_second(texas, name1, name2):
    assert _whole(texas, name1, name2) == WholeName(name1, name2, joined=False)


@pytest.mark.parametrize("raw, whole", [
    (("Brockton Comprehensive Treatment", "Center"), ("Brockton Comprehensive Treatment Center", None)),
    (("Beth Israel Lahey Health Behavioral", "Services/Solstice Day School"),
     ("Beth Israel Lahey Health Behavioral Services", "Solstice Day School")),
    (("McLean Ambulatory and Residential", "Treatment Center at Naukeag"),
     ("McLean Ambulatory and Residential Treatment Center at Naukeag", None)),
    (("North Charles Institute for the", "Addictions/Medication Unit at The Camb"),
     ("North Charles Institute for the Addictions", "Medication Unit at The Camb")),
    (("Bay Cove Behavioral Health and", "Wellness Center"), ("Bay Cove Behavioral Health and Wellness Center", None)),
])
def test_massachusetts_names_cut_in_two_are_whole(massachusetts, raw, whole):
    assert _whole(massachusetts, *raw) == WholeName(*whole, joined=True)


@pytest.mark.parametrize("name1, name2", [
    ("New England Aftercare Ministries Inc", "The Bridge House"),  # "The" starts a program's name
    ("Evergreen Behavioral LLC", "DBA Woburn Wellness"),
    ("Commonwealth Behavioral Health", "DBA New Harbor Behavioral Healthcare"),
    ("Cambridge Eating Disorder Center", "(CEDC)"),
])
def test_massachusetts_second_names_stay_second(massachusetts, name1, name2):
    assert _whole(massachusetts, name1, name2) == WholeName(name1, name2, joined=False)


def test_the_rule_words():
    """A lower-case start continues a name; a slash between two abbreviations is not a site."""
    assert whole_name("Center for", "MH/MR Services") == WholeName("Center for MH/MR Services", None, True)
    assert whole_name("Recovery Center", "of the Hills") == WholeName("Recovery Center of the Hills", None, True)
    assert whole_name("Recovery Center", "at home") == WholeName("Recovery Center at home", None, True)
    assert whole_name("Alcohol Council of", "DBA Hope") == WholeName("Alcohol Council of", "DBA Hope", False)
    assert whole_name("Dbase Clinic", None) == WholeName("Dbase Clinic", None, False)


def test_a_bad_rule_row_is_an_error_that_names_it(tmp_path, monkeypatch):
    (tmp_path / "name_joins.csv").write_text("# comment\nrule,text,why\nname1_end,and,typo\n", encoding="utf-8")
    monkeypatch.setattr(paths, "DATA", tmp_path)
    names.rules.cache_clear()
    try:
        with pytest.raises(NameJoinsError, match="name_joins.csv row 2.*name1_end"):
            names.rules()
    finally:
        names.rules.cache_clear()


def test_the_directory_shows_the_whole_name_and_keeps_what_samhsa_said(built_db):
    """The programs row has the whole name; its listing keeps the source's two fields in the raw
    row and in its merge key, so the program's id is the one the two fields always gave."""
    [program] = query(built_db, "select id, alternate_name, popup from programs "
                                "where name = 'Center for Recovery and Wellness Resources'")
    assert program["alternate_name"] is None
    assert json.loads(program["popup"])["title"] == "Center for Recovery and Wellness Resources"
    [listing] = query(built_db, "select raw, match_key from listings where program_id = ?", program["id"])
    raw = json.loads(listing["raw"])
    assert (raw["name1"].strip(), raw["name2"].strip()) == ("Center for Recovery and", "Wellness Resources")
    assert listing["match_key"].startswith("center for recovery and|wellness resources|")
    harris = query(built_db, "select alternate_name from programs where name = 'Harris Center for Mental Health and IDD' "
                             "order by alternate_name")
    assert [h["alternate_name"] for h in harris] == ["Bristow Center/PATH", "Juvenile Justice Programs"]
