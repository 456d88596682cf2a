"""A second state: the Massachusetts 2025 export (newer generation) builds as cleanly as Texas."""
import csv
import json
import sqlite3
from collections import Counter, defaultdict

import pytest

from pipelines.build import build
from tests.support import MA_CSV, crawl, need_shared
from tests.support import DESIGN_EVIDENCE

CITIES = "Boston, MA;Worcester, MA;Chelsea, MA"


@pytest.fixture(scope="module")
def massachusetts(tmp_path_factory):
    need_shared(MA_CSV)
    tmp = tmp_path_factory.mktemp("ma")
    feed, _ = crawl(tmp, "findtreatment_export", CITIES, "--source", str(MA_CSV))
    db = tmp / "programs.db"
    counts = build([feed], db, quiet=True)
    with MA_CSV.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = [h.strip() for h in next(reader)]
        raw = [dict(zip(header, r)) for r in reader]
    # The rows the spider kept: the three cities and the places within 25 miles of them.
    kept = {int(json.loads(line)["source_ref"].removeprefix("row ")) for line in feed.read_text().splitlines()}
    named = [r for r in raw if r["city"].strip().lower() in ("boston", "worcester", "chelsea")]
    raw = [dict(r, source_ref=f"row {number}") for number, r in enumerate(raw, start=2) if number in kept]
    # ...and every row that names one of them is among those kept.
    assert len(named) == sum(1 for r in raw if r["city"].strip().lower() in ("boston", "worcester", "chelsea"))
    return db, counts, raw


def query(db, sql, *params):
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


def test_every_massachusetts_row_is_a_listing_and_none_is_rejected(massachusetts):
    db, counts, raw = massachusetts
    assert counts["rejects"] == 0
    assert counts["listings"] == len(raw) > 50
    assert {r["area"] for r in query(db, "select distinct area from programs")} == set(CITIES.split(";"))
    assert {"Boston", "Worcester", "Chelsea"} <= {r["city"] for r in query(db, "select distinct city from programs")}


def test_massachusetts_twins_merge_as_the_texas_ones_do(massachusetts):
    db, _, raw = massachusetts
    twins = defaultdict(set)
    for row in raw:
        twins[(row["name1"].strip(), row["name2"].strip(), row["street1"].strip(), row["zip"])].add(row["type_facility"])
    pairs = [key for key, types in twins.items() if types == {"SU", "MH"}]
    assert len(pairs) >= 10
    for name1, name2, street1, zip_code in pairs:
        programs = query(db, "select facility_type, listing_count from programs where name = ? and "
                             "coalesce(alternate_name, '') = ? and zip = ? and (address = ? or address like ? || ', %')",
                         name1, name2, zip_code, street1, street1)
        assert len(programs) == 1, (name1, name2, street1)
        assert json.loads(programs[0]["facility_type"]) == ["MH", "SU"]


def test_massachusetts_care_levels_match_the_raw_export(massachusetts):
    db, _, raw = massachusetts
    by_hand = Counter()
    for row in raw:
        for level, codes in DESIGN_EVIDENCE.items():
            if any(row.get(c.lower()) == "1" for c in codes):
                by_hand[(row["source_ref"], level)] += 1
    in_db = Counter({(r["source_ref"], r["care_level"]): r["n"] for r in query(
        db, "select e.source_ref, e.care_level, count(*) n from program_care_levels e group by 1, 2")})
    assert in_db == by_hand
    per_city = Counter((row["city"].strip(), level) for (ref, level) in by_hand
                       for row in raw if row["source_ref"] == ref)
    assert per_city[("Boston", "iop")] > 0 and per_city[("Boston", "outpatient")] > 10


def test_massachusetts_ids_are_stable(massachusetts, tmp_path):
    db, _, _ = massachusetts
    feed, _ = crawl(tmp_path, "findtreatment_export", CITIES, "--source", MA_CSV.as_uri())
    again = tmp_path / "again.db"
    build([feed], again, quiet=True)
    assert query(again, "select id, name from programs order by id") == query(db, "select id, name from programs order by id")
