"""One line, not a traceback, when a command cannot write where it must (issue 15, item 8: a
read-only `data/` folder gave `make build` a 19-line traceback, `make crawl` thousands of lines,
`make hsds` 15), and the old database, feed or package kept; a `--sites` feed that is missing is
said, not ignored. The real commands run as a person runs them, into temporary folders.

What is simulated: a data folder in which no file can be created. Permission bits cannot make one
for root (these tests run as root here, and root ignores them), so as root the folder is made
immutable with `chattr +i`: nothing may be created, renamed or removed in it, by root either,
while the files already there stay readable. That is what a read-only mount, or a folder of
another user, does to these commands: creating their lock, temporary or probe file fails (with
EPERM here, EROFS or EACCES there; the commands treat any such failure alike). As another user the
folder is made read-only with chmod. Where neither is possible (no chattr, a file system without
the immutable flag) those tests are skipped, saying so. One more case needs neither: a regular file
where the folder should be, which no one can write into."""
from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from exports.hsds import export
from pipelines.build import build
from tests.support import ROOT, item, write_feed


def _programs(folder: Path) -> tuple[Path, Path]:
    """A feed of three programs and the database built from it, in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    items = [item(source_ref=f"row {i}", name1=f"Program {i}", street1=f"{i} Main Street", phone=f"713-555-{i:04d}")
             for i in range(2, 5)]
    feed = write_feed(folder / "feed.jsonl", items)
    build([feed], folder / "programs.db", quiet=True)
    return feed, folder / "programs.db"


def digest(path: Path) -> str:
    """The content of a file, or of every file under a folder, as one hash."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    h = hashlib.sha256()
    for file in files:
        h.update(str(file.relative_to(path) if path.is_dir() else file.name).encode() + file.read_bytes())
    return h.hexdigest()


@contextlib.contextmanager
def unwritable(folder: Path):
    """folder with no new file possible in it (see the module's docstring), for the with block."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        undo = ["chmod", "755", str(folder)]
    elif shutil.which("chattr") and subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0:
        undo = ["chattr", "-i", str(folder)]
    else:
        pytest.skip("cannot make a folder unwritable for root here (chattr +i failed)")
    try:
        with pytest.raises(OSError):
            (folder / "probe").touch()
        yield folder
    finally:
        subprocess.run(undo, check=True)


def make(*args: str) -> subprocess.CompletedProcess:
    """`make -s TARGET VAR=...` as a person's shell runs it (not as a sub-make of `make test`)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    return subprocess.run(["make", "--no-print-directory", "-s", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=env)


def said(result: subprocess.CompletedProcess) -> list[str]:
    """What the command said, make's own 'make: *** ... Error 1' line aside."""
    lines = (result.stdout + result.stderr).splitlines()
    return [line for line in lines if not line.startswith(("make: ", "make["))]


def test_make_build_into_an_unwritable_folder_says_so_in_one_line_and_keeps_the_database(tmp_path):
    feed, db = _programs(tmp_path)
    before = digest(db)
    with unwritable(tmp_path):
        result = make("build", f"DB={db}", f"FEED={feed}", f"SITES_FEED={tmp_path / 'no-sites.jsonl'}")
        assert result.returncode != 0
        lines = said(result)
        assert len(lines) == 1, lines
        assert lines[0].startswith(f"build failed: {tmp_path} cannot be written (")
        assert "make the folder writable, or build elsewhere (make build DB=" in lines[0]
        assert lines[0].endswith(f"{db} is unchanged")
    assert digest(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["feed.jsonl", "programs.db", ".programs.db.build-lock"])


def test_make_crawl_into_an_unwritable_folder_refuses_before_crawling_and_keeps_the_feed(tmp_path):
    old = tmp_path / "findtreatment_export.jsonl"
    old.write_text('{"old": "feed"}\n', encoding="utf-8")
    with unwritable(tmp_path):
        for output, problem in [(old, f"{tmp_path} cannot be written ("),
                                (tmp_path / "feed" / "export.jsonl", f"{tmp_path / 'feed'} cannot be created (")]:
            result = make("crawl", f"EXPORT_FEED={output}", "CITIES=Houston, TX")
            assert result.returncode != 0
            lines = said(result)
            assert len(lines) == 1, lines[:20]
            assert lines[0].startswith(f"crawl refused (findtreatment_export): {problem}")
            assert "make the folder writable, or crawl into another (--output, make crawl EXPORT_FEED=" in lines[0]
    assert old.read_text(encoding="utf-8") == '{"old": "feed"}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["findtreatment_export.jsonl"]  # no run log, no partial feed


def test_make_hsds_into_an_unwritable_folder_says_so_in_one_line_and_keeps_the_package(tmp_path):
    _, db = _programs(tmp_path)
    export(db, tmp_path / "hsds")
    before = digest(tmp_path / "hsds")
    with unwritable(tmp_path):
        result = make("hsds", f"DB={db}", f"HSDS_DIR={tmp_path / 'hsds'}")
        assert result.returncode != 0
        lines = said(result)
        assert len(lines) == 1, lines
        assert lines[0].startswith(f"hsds export failed: {tmp_path} cannot be written (")
        assert "make the folder writable, or export elsewhere (make hsds HSDS_DIR=" in lines[0]
        assert lines[0].endswith(f"{tmp_path / 'hsds'} is unchanged")
    assert digest(tmp_path / "hsds") == before


def test_a_file_where_the_folder_should_be_is_one_line_for_build_crawl_and_hsds(tmp_path):
    feed, db = _programs(tmp_path)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file\n", encoding="utf-8")
    results = {
        "build": make("build", f"DB={blocker / 'programs.db'}", f"FEED={feed}", f"SITES_FEED={tmp_path / 'none'}"),
        "hsds": make("hsds", f"DB={db}", f"HSDS_DIR={blocker / 'hsds'}"),
        "crawl": make("crawl", f"EXPORT_FEED={blocker / 'export.jsonl'}", "CITIES=Houston, TX"),
    }
    for command, result in results.items():
        lines = said(result)
        assert result.returncode != 0 and len(lines) == 1, (command, lines[:20])
        assert f"{blocker} is a file, not a folder" in lines[0], (command, lines[0])
    assert blocker.read_text(encoding="utf-8") == "a file\n"


def test_a_missing_sites_feed_is_said_in_one_line_and_nothing_is_built(tmp_path):
    feed, _ = _programs(tmp_path / "first")
    missing = tmp_path / "missing.jsonl"
    result = subprocess.run([sys.executable, "-m", "pipelines.build", str(feed), "--db", str(tmp_path / "programs.db"),
                             "--sites", str(missing)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"build failed: sites feed {missing} not found: run `make sites` first, or build without --sites"]
    assert not (tmp_path / "programs.db").exists()


def test_make_build_passes_the_sites_feed_only_when_it_exists(tmp_path):
    feed, _ = _programs(tmp_path / "first")
    result = make("build", f"DB={tmp_path / 'programs.db'}", f"FEED={feed}", f"SITES_FEED={tmp_path / 'none.jsonl'}")
    assert result.returncode == 0, result.stderr
    assert said(result)[-1].startswith(f"Built {tmp_path / 'programs.db'}: 3 programs")


@pytest.mark.parametrize("page, stored_url", [
    ({"blocks": [{"text": "Intensive outpatient program", "kind": "heading", "heading": 2},
                 {"text": "Our intensive outpatient program (IOP) meets three evenings a week for adults.",
                  "kind": "para"}]}, ""),
    # A feed written before the build judged pages: its findings as they were, their url null too.
    ({"findings": [{"level": "iop", "url": None,
                    "quote": "Our intensive outpatient program (IOP) meets three evenings a week for adults."}]}, None),
], ids=["page-read", "page-judged"])
def test_a_sites_feed_line_with_a_null_url_builds_and_its_program_page_answers(tmp_path, page, stored_url):
    """Issue 15, item 8: a provider_sites feed line with "url": null made its program page answer 500."""
    import asyncio
    import json
    import sqlite3

    from datasette.app import Datasette

    from common.serving import datasette_options

    feed = write_feed(tmp_path / "feed.jsonl", [item(source_ref="row 2", name1="Sunny Recovery", service_codes=["OP"])])
    db = tmp_path / "programs.db"
    build([feed], db, quiet=True)
    [(program_id,)] = sqlite3.connect(db).execute("select id from programs").fetchall()
    line = {"program_id": program_id, "url": None, "site": "https://sunny.example/", "fetched_at": "2026-11-01T10:00:00Z",
            "title": "Sunny Recovery", **page}
    sites = tmp_path / "provider_sites.jsonl"
    sites.write_text(json.dumps(line) + "\n", encoding="utf-8")
    assert build([feed], db, quiet=True, sites=sites)["changes"] == 1
    with sqlite3.connect(db) as conn:
        [(levels, website_levels)] = conn.execute("select care_levels, website_care_levels from programs").fetchall()
    assert (json.loads(levels), json.loads(website_levels)) == (["outpatient"], ["iop"])

    async def pages():
        ds = Datasette(**datasette_options(db))
        return [await ds.client.get(path) for path in (f"/program/{program_id}", f"/programs/programs/{program_id}.json",
                                                       "/programs/program_care_levels.json?_shape=array")]
    person, row, evidence = asyncio.run(pages())
    assert [person.status_code, row.status_code, evidence.status_code] == [200, 200, 200]
    assert "meets three evenings a week" in person.text
    assert 'href=""' not in person.text and 'href="None"' not in person.text and ">None<" not in person.text
    assert [e["source_url"] for e in evidence.json() if e["source"] == "provider website"] == [stored_url]
