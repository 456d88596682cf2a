"""One record per program: the merge rules of pipelines/merge.py, and the same facility found by
the API spider and the export spider becoming one program with one stable id."""
import dataclasses
import json
import sqlite3
import tempfile
from pathlib import Path

import pytest

from pipelines.build import build
from pipelines.matching import name_key, street_key
from pipelines.merge import RULE_SAME_KEY
from tests.support import item, write_feed


def listing(**fields):
    return item(**fields)


def groups(*items):
    """Build a database from these feed items; the listings' refs, grouped by program."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "programs.db"
        build([write_feed(Path(tmp) / "feed.jsonl", list(items))], db, quiet=True)
        with sqlite3.connect(db) as conn:
            rows = conn.execute("select program_id, source_ref from listings").fetchall()
    by_program = {}
    for program_id, ref in rows:
        by_program.setdefault(program_id, []).append(ref)
    return sorted(sorted(refs) for refs in by_program.values())


@pytest.mark.parametrize("a, b", [
    ("6910 Bellaire Blvd., Suite 13", "6910 Bellaire Boulevard"),
    ("4405 Caroline St.", "4405 Caroline Street"),
    ("1050 N. Westmoreland Road", "1050 North Westmoreland Rd"),
    ("2150 W 18th St #200", "2150 West 18th Street"),
    ("11301 Richmond Avenue Building K", "11301 Richmond Ave"),
])
def test_street_variants_meet(a, b):
    assert street_key(a) == street_key(b)


@pytest.mark.parametrize("a, b", [
    ("Toxicology Associates, Inc.", "Toxicology Associates Inc"),
    ("The Menninger Clinic", "Menninger Clinic"),
    ("Harris Ctr for Mental Health & IDD", "Harris Center for Mental Health and IDD"),
    ("Metro Treatment of Texas L.P.", "Metro Treatment of Texas LP"),
])
def test_name_variants_meet(a, b):
    assert name_key(a) == name_key(b)


def test_spelling_variants_of_one_facility_are_one_program():
    assert groups(
        listing(source_ref="row 2", name1="Toxicology Associates Inc", street1="6910 Bellaire Boulevard"),
        listing(source_ref="row 3", name1="Toxicology Associates, Inc.", street1="6910 Bellaire Blvd., Suite 13",
                facility_type="OTP", phone="713-271-0067"),
    ) == [["row 2", "row 3"]]


def test_near_identical_names_merge_only_with_the_same_phone_or_website():
    same_phone = groups(
        listing(source_ref="row 2", name1="Best Recovery Healthcare Inc", phone="713-555-0100", website=None),
        listing(source_ref="row 3", name1="Best Recovery Health Care, Inc.", phone="(713) 555-0100", website=None),
    )
    assert same_phone == [["row 2", "row 3"]]
    no_evidence = groups(
        listing(source_ref="row 2", name1="Best Recovery Healthcare Inc", phone="713-555-0100", website=None),
        listing(source_ref="row 3", name1="Best Recovery Health Care, Inc.", phone="713-555-0199", website=None),
    )
    assert no_evidence == [["row 2"], ["row 3"]]


def test_different_names_at_one_address_stay_apart_even_with_one_phone():
    assert groups(
        listing(source_ref="row 2", name1="Sunrise Counseling", phone="713-555-0100"),
        listing(source_ref="row 3", name1="Harbor Family Clinic", phone="713-555-0100"),
    ) == [["row 2"], ["row 3"]]
    # AAMA: one name1, one building, one phone, two programs told apart by name2.
    assert groups(
        listing(source_ref="row 2", name1="Assoc for the Adv of Mexican Amer Inc", name2="(AAMA)/Project Tejas"),
        listing(source_ref="row 3", name1="Assoc for the Adv of Mexican Amer Inc", name2="(AAMA)/TARP Outpatient",
                phone="713-555-0100 x3101"),
    ) == [["row 2"], ["row 3"]]


def test_the_same_name_on_another_street_is_another_program():
    assert groups(
        listing(source_ref="row 2", name1="Positive Recovery LLC", street1="513 Thornton Road", zip="77018"),
        listing(source_ref="row 3", name1="Positive Recovery LLC", street1="902 West Alabama Street", zip="77006"),
    ) == [["row 2"], ["row 3"]]


def test_the_merge_rule_is_recorded_on_each_listing(tmp_path):
    db = tmp_path / "programs.db"
    build([write_feed(tmp_path / "f.jsonl", [
        item(source_ref="row 2", name1="Best Recovery Healthcare Inc"),
        item(source_ref="row 3", name1="Best Recovery Health Care, Inc.", street1="1 Main St."),
        item(source_ref="row 4", name1="Best Recovery Healthcare Inc", facility_type="MH"),
    ])], db, quiet=True)
    with sqlite3.connect(db) as conn:
        rows = conn.execute("select source_ref, merged_by from listings order by id").fetchall()
        assert conn.execute("select count(*) from programs").fetchone()[0] == 1
    assert rows == [
        ("row 2", None),
        ("row 3", "near-identical name at the same street and ZIP, with the same phone"),
        ("row 4", RULE_SAME_KEY),
    ]


@pytest.fixture(scope="module")
def api_feed(tmp_path_factory):
    """The saved API responses (tests/fixtures/api), parsed by the real spider, as a feed."""
    from tests.support.api_spider import make_spider, parse_page

    spider = make_spider()
    items = [dataclasses.asdict(i) for page in (1, 2, 3) for i in parse_page(spider, page)[0]]
    path = tmp_path_factory.mktemp("api") / "findtreatment_api.jsonl"
    return write_feed(path, items)


def test_a_facility_found_by_both_spiders_is_one_program(houston_dallas_feed, api_feed, tmp_path):
    db = tmp_path / "programs.db"
    build([houston_dallas_feed, api_feed], db, quiet=True)
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        both = {r["name"]: r for r in conn.execute(
            "select * from programs where sources = '[\"findtreatment_api\", \"findtreatment_export\"]'")}
        api_rows = conn.execute("select count(*) from listings where source = 'findtreatment_api'").fetchone()[0]
    # Every saved API row is a Houston program of the Texas export (under its own spelling).
    assert api_rows == 8
    assert {"West Oaks Hospital LP", "Volunteers of America Texas Inc", "Lone Star Counseling Services"} <= set(both)
    west_oaks = both["West Oaks Hospital LP"]
    assert json.loads(west_oaks["facility_type"]) == ["MH", "SU"]
    assert west_oaks["listing_count"] == 3  # the SU and MH export twins and the API row


def test_the_id_of_a_program_does_not_depend_on_which_source_found_it(houston_dallas_feed, api_feed, tmp_path):
    build([houston_dallas_feed], tmp_path / "export.db", quiet=True)
    build([api_feed], tmp_path / "api.db", quiet=True)
    build([houston_dallas_feed, api_feed], tmp_path / "both.db", quiet=True)

    def ids(name, db):
        with sqlite3.connect(tmp_path / db) as conn:
            return {r[0] for r in conn.execute("select id from programs where name = ?", (name,))}

    for name in ("West Oaks Hospital LP", "Lone Star Counseling Services"):
        assert ids(name, "export.db") == ids(name, "api.db") == ids(name, "both.db")
        assert len(ids(name, "both.db")) == 1
