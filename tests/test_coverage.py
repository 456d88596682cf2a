"""What the directory covers, and dates the source vouches for (pipelines/coverage.py, records)."""
from __future__ import annotations

import json
import sqlite3

from pipelines.build import build
from tests.support import haversine_miles, item, write_feed


def rows(db, sql):
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql)]


def test_a_listing_is_seen_on_the_date_its_source_gives(tmp_path):
    feed = write_feed(tmp_path / "feed.jsonl", [
        item(source_date="2023-11-07", fetched_at="2026-11-30T10:00:00Z"),
        item(source_ref="row 3", name1="Other Place", street1="2 Main Street", fetched_at="2026-11-30T10:00:00Z"),
    ])
    build([feed], tmp_path / "p.db", quiet=True)
    programs = {r["name"]: r for r in rows(tmp_path / "p.db", "select name, first_seen, last_seen from programs")}
    assert (programs["Example Recovery"]["first_seen"], programs["Example Recovery"]["last_seen"]) == (
        "2023-11-07", "2023-11-07")
    # No date from the source: the fetch time stands for it.
    assert programs["Other Place"]["first_seen"] == "2026-11-30T10:00:00Z"
    levels = rows(tmp_path / "p.db", "select seen from program_care_levels where care_level = 'iop'")
    assert {r["seen"] for r in levels} == {"2023-11-07", "2026-11-30T10:00:00Z"}


def test_a_date_that_is_not_one_is_warned_of_and_not_used(tmp_path):
    feed = write_feed(tmp_path / "feed.jsonl", [item(source_date="last Tuesday")])
    build([feed], tmp_path / "p.db", quiet=True)
    listing = rows(tmp_path / "p.db", "select source_date, warnings from listings")[0]
    assert listing["source_date"] is None
    assert "source_date 'last Tuesday' is not an ISO 8601 date" in listing["warnings"]
    assert rows(tmp_path / "p.db", "select first_seen from programs")[0]["first_seen"] == "2026-11-26T12:00:00Z"


def test_coverage_names_each_area_with_its_centre_sources_and_dates(tmp_path):
    feed = write_feed(tmp_path / "feed.jsonl", [
        item(source_date="2023-11-07"),
        item(source_ref="row 3", name1="Dallas Place", street1="3 Elm Street", city="Dallas", zip="75201",
             city_query="Dallas, TX", latitude="32.78", longitude="-96.80", source_date="2023-11-07"),
        item(source_ref="row 4", name1="Second Dallas Place", street1="4 Elm Street", city="Dallas", zip="75201",
             city_query="Dallas, TX", latitude="32.79", longitude="-96.80", source="findtreatment_api",
             source_url="https://findtreatment.gov/locator/exportsAsJson/v2?page=1", fetched_at="2026-11-29T08:00:00Z"),
    ])
    build([feed], tmp_path / "p.db", quiet=True)
    areas = {r["area"]: r for r in rows(tmp_path / "p.db", "select * from coverage")}
    assert set(areas) == {"Houston, TX", "Dallas, TX"}
    dallas = areas["Dallas, TX"]
    assert dallas["programs"] == 2 and dallas["state"] == "TX" and dallas["miles"] == 25
    assert haversine_miles(dallas["latitude"], dallas["longitude"], 32.78, -96.80) < 3
    assert (dallas["data_date"], dallas["oldest_date"]) == ("2026-11-29", "2023-11-07")
    assert json.loads(dallas["sources"]) == [
        {"source": "findtreatment_api", "url": "https://findtreatment.gov/locator/exportsAsJson/v2?page=1",
         "data_date": "2026-11-29"},
        {"source": "findtreatment_export", "url": "file:///tmp/export.csv", "data_date": "2023-11-07"},
    ]
    assert areas["Houston, TX"]["programs"] == 1


def test_the_demo_build_covers_houston_and_dallas(built_db):
    areas = {r["area"]: r for r in rows(built_db, "select area, programs from coverage")}
    listed = {r["city_query"]: r["n"] for r in rows(
        built_db, "select l.city_query, count(distinct l.program_id) n from listings l join programs p "
                  "on p.id = l.program_id where p.status = 'listed' group by 1")}
    assert set(areas) == {"Houston, TX", "Dallas, TX"}
    assert {a: r["programs"] for a, r in areas.items()} == listed
