"""The build: every row accounted for, care levels exactly as the codes say, twins, rejects, ids."""
import csv
import json
import sqlite3
from collections import Counter

import pytest

from pipelines.build import BuildError, build
from tests.support import DESIGN_EVIDENCE, TX_CSV, item, write_feed


def query(db_path, sql, *params):
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


def raw_rows():
    with TX_CSV.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = [h.strip() for h in next(reader)]
        return header, [dict(zip(header, row)) for row in reader]


def test_every_row_is_a_listing_or_a_reject(built_db, houston_dallas_feed):
    lines = houston_dallas_feed.read_text(encoding="utf-8").splitlines()
    listings = query(built_db, "select count(*) n from listings")[0]["n"]
    rejects = query(built_db, "select count(*) n from rejects")[0]["n"]
    assert listings + rejects == len(lines) == 459
    # ...and every listing belongs to a program.
    orphans = query(built_db, "select count(*) n from listings where program_id not in (select id from programs)")
    assert orphans[0]["n"] == 0


def test_care_levels_per_city_match_counts_made_from_the_raw_export(built_db):
    """Count, straight from the csv, the SU/MH rows per city carrying each level's codes; the
    database's evidence rows (one per listing and level) must give the same numbers."""
    _, rows = raw_rows()
    by_hand = Counter()
    for row in rows:
        if row["type_facility"] not in ("SU", "MH"):
            continue  # BUPREN and OTP rows are placeholders
        for level, codes in DESIGN_EVIDENCE.items():
            if any(row[c.lower()] == "1" for c in codes):
                by_hand[(row["city"], level)] += 1
    in_db = Counter(
        {(r["city"], r["care_level"]): r["n"] for r in query(
            built_db,
            "select p.city, e.care_level, count(*) n from program_care_levels e "
            "join programs p on p.id = e.program_id group by 1, 2",
        )}
    )
    assert in_db == by_hand
    assert by_hand[("Houston", "iop")] > 20


def test_each_programs_care_levels_are_the_union_of_its_listings_codes(built_db):
    programs = {p["id"]: json.loads(p["care_levels"]) for p in query(built_db, "select id, care_levels from programs")}
    codes = {}
    for listing in query(built_db, "select program_id, placeholder, raw from listings"):
        if not listing["placeholder"]:
            codes.setdefault(listing["program_id"], set()).update(json.loads(listing["raw"])["service_codes"])
    for program_id, levels in programs.items():
        expected = {lv for lv, evidence in DESIGN_EVIDENCE.items() if evidence & codes.get(program_id, set())}
        assert set(levels) == expected, program_id


def test_placeholders_have_no_care_level_or_payment(built_db):
    rows = query(
        built_db,
        "select p.* from programs p where not exists "
        "(select 1 from listings l where l.program_id = p.id and l.placeholder = 0)",
    )
    assert len(rows) > 300  # the BUPREN and OTP listings of Houston and Dallas
    for row in rows:
        assert json.loads(row["care_levels"]) == [] and json.loads(row["payment"]) == []
        assert row["has_service_detail"] == 0 and row["telehealth"] is None
    assert query(built_db, "select count(*) n from program_services s join programs p on p.id = s.program_id "
                           "where p.has_service_detail = 0")[0]["n"] == 0


def test_su_and_mh_twins_merge_into_one_program(built_db):
    [menninger] = query(built_db, "select * from programs where name = 'Menninger Clinic'")
    assert json.loads(menninger["facility_type"]) == ["MH", "SU"]
    assert menninger["listing_count"] == 2
    assert json.loads(menninger["phones"]) == ["(713) 275-5400", "(713) 275-5000"]
    assert "iop" in json.loads(menninger["care_levels"])  # from the SU listing
    evidence = query(built_db, "select care_level, evidence, source_ref from program_care_levels "
                               "where program_id = ? and care_level = 'iop'", menninger["id"])
    assert evidence == [{"care_level": "iop", "evidence": "OIT", "source_ref": evidence[0]["source_ref"]}]
    # Two SU listings at one address under different names are two programs.
    aama = query(built_db, "select alternate_name from programs where name like 'Assoc for the Adv of Mexican%' "
                           "order by alternate_name")
    assert [a["alternate_name"] for a in aama] == ["(AAMA)/Project Tejas", "(AAMA)/TARP Outpatient"]


def test_phone_extension_and_website_are_normalized(built_db):
    [aama] = query(built_db, "select * from programs where alternate_name = '(AAMA)/TARP Outpatient'")
    assert aama["phone"] == "(713) 926-9491 ext. 3101"
    assert aama["phone_tel"] == "tel:+1-713-926-9491;ext=3101"
    assert aama["website"] == "http://www.aama.org/"


def test_raw_service_codes_are_kept_with_their_names(built_db):
    [menninger] = query(built_db, "select id from programs where name = 'Menninger Clinic'")
    services = {r["service_code"]: r["service_name"] for r in query(
        built_db, "select service_code, service_name from program_services where program_id = ?", menninger["id"])}
    raw = set()
    for listing in query(built_db, "select raw from listings where program_id = ?", menninger["id"]):
        raw |= set(json.loads(listing["raw"])["service_codes"])
    assert set(services) == raw  # the union of both twins' codes, nothing dropped or added
    assert services["OIT"] == "Intensive outpatient treatment"
    assert services["PI"] == "Private health insurance"


def test_full_text_search_finds_a_program_by_name_and_by_service(built_db):
    hits = query(built_db, "select name from programs where rowid in "
                           "(select rowid from programs_fts where programs_fts match 'menninger')")
    assert {h["name"] for h in hits} == {"Menninger Clinic", "Menninger Solutions Outpatient Service"}
    assert len(query(built_db, "select rowid from programs_fts where programs_fts match '\"intensive outpatient\"'")) > 20


def test_indexes_on_what_people_filter_by(built_db):
    indexed = {r["name"] for r in query(built_db, "select name from sqlite_master where type = 'index'")}
    assert {"idx_programs_city_state", "idx_programs_zip", "idx_programs_latitude_longitude",
            "idx_program_care_levels_care_level_program_id"} <= indexed


def test_building_twice_gives_the_same_ids(houston_dallas_feed, built_db, tmp_path):
    again = tmp_path / "again.db"
    build([houston_dallas_feed], again, quiet=True)
    assert query(again, "select id, name from programs order by id") == query(built_db, "select id, name from programs order by id")


def test_ids_do_not_depend_on_when_or_where_it_was_crawled(tmp_path):
    first = build([write_feed(tmp_path / "a.jsonl", [item()])], tmp_path / "a.db", quiet=True)
    moved = item(fetched_at="2027-01-01T00:00:00Z", source_url="https://example.org/x.xlsx", source_ref="row 99")
    build([write_feed(tmp_path / "b.jsonl", [moved])], tmp_path / "b.db", quiet=True)
    assert first["programs"] == 1
    assert query(tmp_path / "a.db", "select id from programs") == query(tmp_path / "b.db", "select id from programs")


def test_a_bad_row_is_rejected_with_its_reason_and_the_rest_goes_on(tmp_path):
    feed = tmp_path / "feed.jsonl"
    write_feed(feed, [
        item(source_ref="row 2"),
        item(source_ref="row 3", name1="  ", street1="2 Main"),
        item(source_ref="row 4", name1="Flagged", problems=["column oit: expected 1 or blank, found 'yes'"]),
        item(source_ref="row 5", name1="No State", state="Texas"),
        item(source_ref="row 6", name1="Other Good", street1="9 Elm Street", phone="not a phone"),
    ])
    with feed.open("a", encoding="utf-8") as fh:
        fh.write("{this is not json\n")
    db = tmp_path / "programs.db"
    counts = build([feed], db, quiet=True)
    assert counts["programs"] == 2 and counts["rejects"] == 4
    reasons = {r["source_ref"]: r["reason"] for r in query(db, "select source_ref, reason from rejects")}
    assert reasons["row 3"] == "no name (name1 is blank)"
    assert reasons["row 4"] == "column oit: expected 1 or blank, found 'yes'"
    assert reasons["row 5"] == "state 'Texas' is not a two-letter code"
    assert reasons["feed.jsonl line 6"].startswith("feed.jsonl line 6: not JSON")
    [other] = query(db, "select * from programs where name = 'Other Good'")
    assert other["phone"] is None
    [warned] = query(db, "select warnings from listings where source_ref = 'row 6'")
    assert json.loads(warned["warnings"]) == ["phone 'not a phone' is not a valid US number"]


def test_a_build_with_no_programs_keeps_the_existing_database(tmp_path):
    db = tmp_path / "programs.db"
    build([write_feed(tmp_path / "good.jsonl", [item()])], db, quiet=True)
    before = db.read_bytes()
    with pytest.raises(BuildError, match="no programs .* keeping the existing"):
        build([write_feed(tmp_path / "bad.jsonl", [item(name1="")])], db, quiet=True)
    assert db.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if "building" in p.name] == []


def _table_contents(db_path) -> dict[str, list[tuple]]:
    with sqlite3.connect(db_path) as conn:
        tables = [t for (t,) in conn.execute("select name from sqlite_master where type = 'table' "
                                             "and name not like 'sqlite_%' and name not like '%_fts%'")]
        return {t: conn.execute(f"select * from [{t}] order by 1, 2").fetchall() for t in tables}


def test_worker_processes_change_nothing_in_the_database(houston_dallas_feed, tmp_path, monkeypatch):
    """The build's per-row work runs in worker processes on a large feed (pipelines/workers.py):
    with 3 workers, and with none, the database is the same, row for row."""
    import pipelines.build

    # Many runs of programs in flight, back in order, a program's listings cut across fetches.
    monkeypatch.setattr(pipelines.build, "CHUNK_LISTINGS", 3)
    monkeypatch.setattr(pipelines.build, "BLOCK_BYTES", 40_000)  # and many blocks of the feed
    databases, programs = {}, {}
    for workers in ("1", "3"):
        monkeypatch.setenv("TREATMENT_BUILD_WORKERS", workers)
        databases[workers] = tmp_path / f"workers-{workers}.db"
        programs[workers] = build([houston_dallas_feed], databases[workers], quiet=True)["programs"]
    serial, parallel = (_table_contents(databases[w]) for w in ("1", "3"))
    assert programs["1"] == programs["3"] == len(serial["programs"]) > 400
    assert len(serial["program_services"]) > 5000
    assert serial == parallel


def test_a_bad_worker_count_is_refused_with_its_name(houston_dallas_feed, tmp_path, monkeypatch):
    monkeypatch.setenv("TREATMENT_BUILD_WORKERS", "two")
    with pytest.raises(ValueError, match="TREATMENT_BUILD_WORKERS='two'"):
        build([houston_dallas_feed], tmp_path / "p.db", quiet=True)


def test_a_long_build_says_where_its_time_went(houston_dallas_feed, tmp_path, monkeypatch, capsys):
    """The stage timings that builds over STAGES_AFTER_SECONDS print before their summary."""
    import pipelines.build

    db = tmp_path / "p.db"
    assert pipelines.build.main([str(houston_dallas_feed), "--db", str(db)]) == 0
    assert "Build stages:" not in capsys.readouterr().err  # a quick build: the summary only
    monkeypatch.setattr(pipelines.build, "STAGES_AFTER_SECONDS", 0)
    assert pipelines.build.main([str(houston_dallas_feed), "--db", str(db)]) == 0
    stages = capsys.readouterr().err.strip().splitlines()[-1]
    assert stages.startswith("Build stages: reading and normalizing ")
    for stage in ("matching", "writing programs", "history", "facet values", "indexes and full-text search", "analyze"):
        assert f", {stage} " in stages
