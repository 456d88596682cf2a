"""Freshness and history: first_seen/last_seen, the change log, missing programs, crawl runs."""
import json
import sqlite3

import pytest

from pipelines.build import BuildError, build
from tests.support import TX_CSV, crawl, need_shared
from tests.support import item, write_feed

MONDAY, FRIDAY = "2026-11-02T09:00:00Z", "2026-11-06T09:00:00Z"


def rows(db, sql, *params):
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


def programs_by_name(db):
    return {r["name"]: r for r in rows(db, "select * from programs")}


def three(fetched_at, **changes):
    listings = {
        "Alpha Recovery": item(source_ref="row 2", name1="Alpha Recovery", street1="1 Main Street", fetched_at=fetched_at),
        "Beta Counseling": item(source_ref="row 3", name1="Beta Counseling", street1="2 Main Street", fetched_at=fetched_at),
        "Gamma House": item(source_ref="row 4", name1="Gamma House", street1="3 Main Street", fetched_at=fetched_at),
    }
    for name, fields in changes.items():
        if fields is None:
            del listings[name]
        else:
            listings[name] = item(**{**listings.get(name, {}), **fields, "fetched_at": fetched_at})
    return list(listings.values())


def test_one_changed_one_removed_one_added_gives_exactly_three_entries(tmp_path):
    db = tmp_path / "programs.db"
    build([write_feed(tmp_path / "monday.jsonl", three(MONDAY))], db, quiet=True)
    before = programs_by_name(db)
    assert rows(db, "select * from program_changes") == []  # the first build has nothing to compare with

    friday = three(
        FRIDAY,
        **{"Alpha Recovery": {"phone": "713-555-0199"},
           "Beta Counseling": None,
           "Delta Clinic": {"source_ref": "row 5", "name1": "Delta Clinic", "street1": "4 Main Street"}},
    )
    counts = build([write_feed(tmp_path / "friday.jsonl", friday)], db, quiet=True)
    after = programs_by_name(db)
    changes = rows(db, "select program_id, field, old, new, changed_at from program_changes order by id")
    assert sorted(changes, key=lambda c: (c["field"], c["new"])) == [
        {"program_id": after["Alpha Recovery"]["id"], "field": "phone", "old": "(713) 555-0100",
         "new": "(713) 555-0199", "changed_at": FRIDAY},
        {"program_id": after["Delta Clinic"]["id"], "field": "status", "old": None, "new": "listed", "changed_at": FRIDAY},
        {"program_id": before["Beta Counseling"]["id"], "field": "status", "old": "listed", "new": "missing",
         "changed_at": FRIDAY},
    ]
    assert counts["changes"] == 3 and counts["missing"] == 1

    # last_seen moves for what Friday's crawl saw; the missing program keeps Monday's, and is kept.
    assert (after["Alpha Recovery"]["first_seen"], after["Alpha Recovery"]["last_seen"]) == (MONDAY, FRIDAY)
    assert (after["Gamma House"]["first_seen"], after["Gamma House"]["last_seen"]) == (MONDAY, FRIDAY)
    assert (after["Delta Clinic"]["first_seen"], after["Delta Clinic"]["last_seen"]) == (FRIDAY, FRIDAY)
    beta = after["Beta Counseling"]
    assert (beta["status"], beta["missing_since"], beta["last_seen"]) == ("missing", FRIDAY, MONDAY)
    assert beta["id"] == before["Beta Counseling"]["id"]
    assert rows(db, "select count(*) n from listings where program_id = ?", beta["id"])[0]["n"] == 1
    # Ids stay: the same programs keep the ids Monday gave them.
    assert all(after[n]["id"] == before[n]["id"] for n in ("Alpha Recovery", "Gamma House"))

    # Rebuilding from the same feed changes nothing more.
    build([write_feed(tmp_path / "friday.jsonl", friday)], db, quiet=True)
    assert len(rows(db, "select * from program_changes")) == 3
    assert programs_by_name(db)["Beta Counseling"]["status"] == "missing"


def test_a_program_that_comes_back_is_listed_again(tmp_path):
    db = tmp_path / "programs.db"
    build([write_feed(tmp_path / "a.jsonl", three(MONDAY))], db, quiet=True)
    # Two of three left is a fall of a third: more than the shrink guard lets through unasked.
    build([write_feed(tmp_path / "b.jsonl", three(FRIDAY, **{"Beta Counseling": None}))], db, quiet=True,
          allow_shrink=True)
    later = "2026-11-13T09:00:00Z"
    build([write_feed(tmp_path / "c.jsonl", three(later))], db, quiet=True)
    beta = programs_by_name(db)["Beta Counseling"]
    assert (beta["status"], beta["missing_since"], beta["first_seen"], beta["last_seen"]) == ("listed", None, MONDAY, later)
    assert [(c["field"], c["old"], c["new"]) for c in rows(
        db, "select * from program_changes where program_id = ? order by id", beta["id"])] == [
        ("status", "listed", "missing"), ("status", "missing", "listed")]


def test_programs_of_cities_not_rebuilt_are_not_marked_missing(tmp_path):
    db = tmp_path / "programs.db"
    build([write_feed(tmp_path / "a.jsonl", three(MONDAY))], db, quiet=True)
    dallas = [item(source_ref="row 9", name1="Dallas Place", city="Dallas", city_query="Dallas, TX",
                   zip="75201", fetched_at=FRIDAY)]
    # A feed for another city would drop every Houston program: refused unless asked for...
    with pytest.raises(BuildError, match=r"Houston, TX: 3 programs before, 0 now \(-100%\)"):
        build([write_feed(tmp_path / "b.jsonl", dallas)], db, quiet=True)
    assert set(programs_by_name(db)) == {"Alpha Recovery", "Beta Counseling", "Gamma House"}
    # ...and when asked for, the database holds the city built, none of it marked missing.
    build([write_feed(tmp_path / "b.jsonl", dallas)], db, quiet=True, allow_shrink=True)
    assert set(programs_by_name(db)) == {"Dallas Place"}
    assert [c["field"] for c in rows(db, "select * from program_changes")] == ["status"]


def test_crawl_runs_record_every_crawl_good_or_failed(tmp_path):
    need_shared(TX_CSV)
    crawl(tmp_path, "findtreatment_export", "Dallas, TX", "--source", str(TX_CSV))
    feed, _ = crawl(tmp_path, "findtreatment_export", "Dallas, TX", "--source", str(TX_CSV))
    _, failed = crawl(tmp_path, "findtreatment_export", "Austin, TX", "--source", str(TX_CSV), expect_ok=False)
    assert failed.returncode == 1
    db = tmp_path / "programs.db"
    build([feed], db, quiet=True)
    runs = rows(db, "select * from crawl_runs order by started, status")
    assert [r["status"] for r in runs].count("finished") == 2
    [bad] = [r for r in runs if r["status"] == "failed"]
    assert bad["cities"] == "Austin, TX" and "kept no listings" in bad["error"] and bad["items"] == 0
    good = [r for r in runs if r["status"] == "finished"]
    assert all(r["items"] == 177 and r["spider"] == "findtreatment_export" for r in good)
    assert all(r["source_url"] == str(TX_CSV) for r in runs)
    # The run this build read carries its reject count; its Scrapy stats are kept as JSON.
    assert [r["rejects"] for r in good] == [None, 0]  # only the later run is the one built from
    stats = json.loads(good[-1]["stats"])
    assert stats["item_scraped_count"] == 177 and stats["findtreatment_export/city/Dallas, TX"] == 177
    assert good[0]["started"] <= good[0]["finished"]
