"""Whatever says "SAMHSA" holds SAMHSA's levels only; a level that only a program's website states
is labelled as the website's (issue 14, item 5)."""
from __future__ import annotations

import sqlite3

from datasette.app import Datasette

from common.serving import datasette_options
from pipelines.build import build
from tests.support import item, write_feed


def site_only_iop_db(tmp_path):
    """Two Houston programs: one with SAMHSA's IOP code, one whose IOP only its website states."""
    feed = write_feed(tmp_path / "feed.jsonl", [
        item(),
        item(source_ref="row 3", name1="Website Says IOP", street1="9 Elm Street", service_codes=["OP", "MD"]),
    ])
    db = tmp_path / "programs.db"
    build([feed], db, quiet=True)
    with sqlite3.connect(db) as conn:
        (program_id,) = conn.execute("select id from programs where name = 'Website Says IOP'").fetchone()
        conn.execute("insert into program_care_levels (program_id, care_level, source, evidence, source_url, "
                     "source_ref, seen) values (?, 'iop', 'provider website', 'Our intensive outpatient program…', "
                     "'https://example.org/iop', 'https://example.org/iop', '2026-11-30')", [program_id])
    return db


async def test_iop_in_city_lists_samhsa_levels_only(tmp_path):
    ds = Datasette(**datasette_options(site_only_iop_db(tmp_path)))
    response = await ds.client.get("/programs/iop_in_city.json?city=Houston&level=iop&_shape=array")
    assert response.status_code == 200
    assert [row["name"] for row in response.json()] == ["Example Recovery"]
    description = (await ds.client.get("/programs/iop_in_city")).text
    assert "SAMHSA service codes only" in description
