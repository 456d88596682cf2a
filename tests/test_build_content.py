"""The build's content, recorded: the same feed gives the same rows of `programs`,
`program_care_levels` and `listings`, value for value, as the build recorded in
tests/fixtures/build_digest.json. A refactoring must leave it unchanged; a deliberate change of
the data rules updates the record in the same commit (RECORD_BUILD_DIGEST=1 rewrites it) and
says why."""
from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

from pipelines.build import build
from tests.support import ROOT, item, table_digests, write_feed

RECORD = ROOT / "tests" / "fixtures" / "build_digest.json"
# Where the pages are served from is not content (the map popup's link depends on it).
LEAVE_OUT = ("popup",)


def fixed_feed(feed: Path, out: Path) -> Path:
    """The feed with what differs between checkouts and crawls made fixed: the fetch time and the
    folder the shared files were read from."""
    items = []
    for line in feed.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        entry["fetched_at"] = "2023-06-30T00:00:00Z"
        entry["source_url"] = "file:///shared/data/samhsa/" + Path(urlsplit(entry["source_url"]).path).name
        items.append(entry)
    return write_feed(out, items)


def test_the_same_feed_builds_the_recorded_content(houston_dallas_feed, tmp_path):
    db = tmp_path / "programs.db"
    build([fixed_feed(houston_dallas_feed, tmp_path / "feed.jsonl")], db, quiet=True)
    digests = table_digests(db, leave_out=LEAVE_OUT)
    if os.environ.get("RECORD_BUILD_DIGEST") == "1":
        RECORD.write_text(json.dumps(digests, indent=1) + "\n", encoding="utf-8")
    assert digests == json.loads(RECORD.read_text(encoding="utf-8"))


def test_the_digest_sees_a_changed_value(tmp_path):
    one, other = tmp_path / "a.db", tmp_path / "b.db"
    build([write_feed(tmp_path / "a.jsonl", [item()])], one, quiet=True)
    build([write_feed(tmp_path / "b.jsonl", [item(phone="713-555-0101")])], other, quiet=True)
    a, b = table_digests(one), table_digests(other)
    assert a["programs"]["rows"] == b["programs"]["rows"] == 1
    assert a["programs"]["sha256"] != b["programs"]["sha256"]
    assert a["program_care_levels"] == b["program_care_levels"]
