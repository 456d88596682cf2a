"""A build that could hurt the published database is refused, each refusal with one line that
says why and how to override it (issue 15): two builds at once, a feed that drops areas, a feed of
junk, an unreadable previous database; and hostile source content is bounded."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time

import pytest

from common import normalize as n
from pipelines.build import BuildError, build
from tests.support import ROOT, item, write_feed


def names(db):
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("select name from programs")}


def houston(tmp_path, count=4):
    items = [item(source_ref=f"row {i + 2}", name1=f"Program {i}", street1=f"{i + 1} Main Street") for i in range(count)]
    db = tmp_path / "programs.db"
    build([write_feed(tmp_path / "good.jsonl", items)], db, quiet=True)
    return db


def test_a_second_build_of_one_database_says_who_holds_it(tmp_path):
    db = houston(tmp_path)
    env = {"TREATMENT_BUILD_PAUSE_AT": "listings-written", "PATH": "/usr/bin:/bin"}
    first = subprocess.Popen([sys.executable, "-m", "pipelines.build", str(tmp_path / "good.jsonl"), "--db", str(db),
                              "--quiet"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while "paused at listings-written" not in (first.stderr.readline() or ""):
            assert time.monotonic() < deadline and first.poll() is None
        second = subprocess.run([sys.executable, "-m", "pipelines.build", str(tmp_path / "good.jsonl"), "--db",
                                 str(db), "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert second.returncode == 1
        assert second.stderr.startswith(f"build failed: another build of {db} is running (pid {first.pid}, started ")
        assert len(second.stderr.strip().splitlines()) == 1
    finally:
        first.kill()
        first.wait()
    # The holder died: the kernel released its lock, the next build runs.
    build([tmp_path / "good.jsonl"], db, quiet=True)


def test_a_feed_that_leaves_an_area_out_is_refused(tmp_path):
    db = houston(tmp_path)
    other = [item(source_ref="row 2", name1="Dallas Place", city="Dallas", city_query="Dallas, TX", zip="75201",
                  latitude="32.78", longitude="-96.80")]
    with pytest.raises(BuildError, match=r"Houston, TX: 4 programs before, 0 now \(-100%\).*ALLOW_SHRINK=1"):
        build([write_feed(tmp_path / "other.jsonl", other)], db, quiet=True)
    # A feed that names no area at all is no different.
    bare = [dict(other[0], city_query=None)]
    with pytest.raises(BuildError, match=r"Houston, TX: 4 programs before, 0 now"):
        build([write_feed(tmp_path / "bare.jsonl", bare)], db, quiet=True)
    assert names(db) == {f"Program {i}" for i in range(4)}


def test_a_feed_of_junk_is_refused_by_its_reject_rate(tmp_path):
    db = houston(tmp_path)
    junk = [item(source_ref=f"row {i + 2}", name1=f"Program {i % 4}", street1=f"{i % 4 + 1} Main Street")
            for i in range(4)] + [{"junk": i} for i in range(96)]
    with pytest.raises(BuildError, match=r"96 of 100 rows of .* were rejected \(96%\).*ALLOW_REJECTS=1"):
        build([write_feed(tmp_path / "junk.jsonl", junk)], db, quiet=True)
    counts = build([tmp_path / "junk.jsonl"], db, quiet=True, allow_rejects=True)
    assert counts["rejects"] == 96 and counts["programs"] == 4


def test_an_unreadable_previous_database_stops_the_build(tmp_path):
    db = tmp_path / "programs.db"
    db.write_bytes(b"not a database at all" * 100)
    feed = write_feed(tmp_path / "good.jsonl", [item()])
    with pytest.raises(BuildError, match=r"previous database .* cannot be used: it is not a readable SQLite database"
                                         r".*FRESH=1"):
        build([feed], db, quiet=True)
    build([feed], db, quiet=True, fresh=True)
    assert names(db) == {"Example Recovery"}


def test_hostile_content_is_bounded(tmp_path):
    huge = "A" * 5_000_000
    feed = write_feed(tmp_path / "feed.jsonl", [
        item(name1=huge),
        item(source_ref="row 3", name1="Help\u202eevil\u202c Now", street1="2 Main Street",
             website='https://example.org/"><script>alert(1)</script>'),
    ])
    db = tmp_path / "p.db"
    build([feed], db, quiet=True)
    with sqlite3.connect(db) as conn:
        rows = {r[0][:20]: r for r in conn.execute("select name, website from programs")}
        warnings = [json.loads(r[0]) for r in conn.execute("select warnings from listings order by source_ref")]
    long_name = next(r for k, r in rows.items() if k.startswith("AAAA"))
    assert len(long_name[0]) == 300 and long_name[0].endswith("…")
    assert "name is 5,000,000 characters; cut to 300" in warnings[0]
    assert rows["Help evil Now"][1] is None  # the script-bearing URL is no website
    assert any("is not an http(s) address" in w for w in warnings[1])
    assert db.stat().st_size < 20_000_000  # the raw row is kept, bounded


def test_invisible_reordering_characters_are_removed():
    assert n.clean_text("Safe\u202eHarbor\u2066 Center\u200b") == "Safe Harbor Center"
    assert n.normalize_website("https://example.org/a b") is None
    assert n.normalize_website("https://example.org/path?x=1&y=%20") == "https://example.org/path?x=1&y=%20"
