"""Builds that never lose the good database: the shrink guard, and atomic builds killed with
SIGKILL at several points while the old database is being served."""
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request

import pytest

from pipelines.build import BuildError, build
from tests.support import ROOT, TX_CSV, crawl, need_shared, served


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def city_counts(db):
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("select city || ', ' || state, count(*) from programs "
                                 "where status = 'listed' group by 1").fetchall())


def without_half_of(feed, city, out):
    """The feed with every other listing of one city left out."""
    kept, seen = [], 0
    for line in feed.read_text(encoding="utf-8").splitlines():
        if json.loads(line)["city_query"] == city:
            seen += 1
            if seen % 2:
                continue
        kept.append(line)
    out.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return out


@pytest.fixture
def good_db(houston_dallas_feed, tmp_path):
    db = tmp_path / "programs.db"
    build([houston_dallas_feed], db, quiet=True)
    return db


def test_a_city_that_lost_over_30_percent_is_refused_with_the_numbers(good_db, houston_dallas_feed, tmp_path):
    before = digest(good_db)
    shrunk = without_half_of(houston_dallas_feed, "Dallas, TX", tmp_path / "shrunk.jsonl")
    with pytest.raises(BuildError) as refused:
        build([shrunk], good_db, quiet=True)
    message = str(refused.value)
    dallas_before = city_counts(good_db)["Dallas, TX"]
    assert f"Dallas, TX: {dallas_before} programs before" in message
    assert "Houston" not in message and "--allow-shrink" in message
    assert digest(good_db) == before
    # The override is explicit, and then the build goes through.
    build([shrunk], good_db, quiet=True, allow_shrink=True)
    assert city_counts(good_db)["Dallas, TX"] < 0.7 * dallas_before


def test_the_shrink_guard_through_make(good_db, houston_dallas_feed, tmp_path):
    shrunk = without_half_of(houston_dallas_feed, "Houston, TX", tmp_path / "shrunk.jsonl")
    make = ["make", "--no-print-directory", "build", f"FEED={shrunk}", f"DB={good_db}"]
    refused = subprocess.run(make, cwd=ROOT, capture_output=True, text=True)
    assert refused.returncode != 0 and "refusing to replace" in refused.stderr and "Houston, TX" in refused.stderr
    allowed = subprocess.run(make + ["ALLOW_SHRINK=1"], cwd=ROOT, capture_output=True, text=True)
    assert allowed.returncode == 0, allowed.stderr


def test_a_requested_city_that_yielded_nothing_counts_as_shrunk(tmp_path):
    need_shared(TX_CSV)
    feed, _ = crawl(tmp_path, "findtreatment_export", "Houston, TX;Dallas, TX", "--source", str(TX_CSV))
    db = tmp_path / "programs.db"
    build([feed], db, quiet=True)
    # Austin has no rows in this file; asking for Dallas and Austin keeps only Dallas.
    feed, _ = crawl(tmp_path, "findtreatment_export", "Dallas, TX;Houston, TX", "--source", str(TX_CSV))
    lines = [l for l in feed.read_text(encoding="utf-8").splitlines() if '"city_query": "Dallas, TX"' in l]
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")  # as if Houston had come back empty
    with pytest.raises(BuildError, match=r"Houston, TX: \d+ programs before, 0 now \(-100%\)"):
        build([feed], db, quiet=True)


def program_count(base):
    with urllib.request.urlopen(base + "/programs/programs.json?_size=0", timeout=10) as response:
        return json.load(response)["filtered_table_rows_count"]


@pytest.mark.parametrize("stage", ["listings-written", "programs-written", "before-rename"])
def test_a_build_killed_at_any_point_leaves_the_old_database_whole_and_served(stage, good_db, houston_dallas_feed):
    before, count = digest(good_db), city_counts(good_db)
    with served(good_db) as base:
        shown = program_count(base)
        env = {**os.environ, "TREATMENT_BUILD_PAUSE_AT": stage}
        builder = subprocess.Popen([sys.executable, "-m", "pipelines.build", str(houston_dallas_feed), "--db",
                                    str(good_db), "--quiet"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        assert builder.stderr.readline().strip() == f"paused at {stage}"
        builder.send_signal(signal.SIGKILL)
        builder.wait(timeout=10)
        leftovers = [p for p in good_db.parent.iterdir() if ".building-" in p.name]
        assert leftovers, "a SIGKILLed build cannot clean up: its temporary file is still there"
        # The old database is untouched, intact and still served.
        assert digest(good_db) == before
        with sqlite3.connect(good_db) as conn:
            assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert program_count(base) == shown
    # The next build removes the dead build's file and completes.
    build([houston_dallas_feed], good_db, quiet=True)
    assert [p for p in good_db.parent.iterdir() if ".building-" in p.name] == []
    assert city_counts(good_db) == count


def test_a_build_killed_after_the_rename_leaves_the_new_database_whole(good_db, houston_dallas_feed, tmp_path):
    other = tmp_path / "other.db"
    other.write_bytes(good_db.read_bytes())
    env = {**os.environ, "TREATMENT_BUILD_PAUSE_AT": "after-rename"}
    builder = subprocess.Popen([sys.executable, "-m", "pipelines.build", str(houston_dallas_feed), "--db", str(other),
                                "--quiet"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    assert builder.stderr.readline().strip() == "paused at after-rename"
    builder.send_signal(signal.SIGKILL)
    builder.wait(timeout=10)
    with sqlite3.connect(other) as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert city_counts(other) == city_counts(good_db)
    assert [p for p in tmp_path.iterdir() if ".building-" in p.name] == []


def _children(pid: int) -> set[int]:
    children = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        children.add(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return children


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_worker_processes_end_with_a_killed_build(houston_dallas_feed, tmp_path):
    """A build killed outright cannot stop its worker processes: they notice and exit by themselves."""
    env = {**os.environ, "TREATMENT_BUILD_PAUSE_AT": "listings-written", "TREATMENT_BUILD_WORKERS": "2"}
    builder = subprocess.Popen([sys.executable, "-m", "pipelines.build", str(houston_dallas_feed), "--db",
                                str(tmp_path / "p.db"), "--quiet"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    assert builder.stderr.readline().strip() == "paused at listings-written"
    workers = _children(builder.pid)
    assert len(workers) == 2 and all(_alive(w) for w in workers)
    builder.send_signal(signal.SIGKILL)
    builder.wait(timeout=10)
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(w) for w in workers), "worker processes outlived their build"


def test_ctrl_c_stops_a_build_and_its_workers_and_keeps_the_old_database(good_db, houston_dallas_feed):
    before = digest(good_db)
    env = {**os.environ, "TREATMENT_BUILD_PAUSE_AT": "listings-written", "TREATMENT_BUILD_WORKERS": "2"}
    # A terminal's Ctrl-C: SIGINT delivered as it is by default, whatever this test run inherited
    # (a job started in the background by a script has SIGINT ignored, and children inherit that).
    builder = subprocess.Popen([sys.executable, "-m", "pipelines.build", str(houston_dallas_feed), "--db",
                                str(good_db), "--quiet"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
                               start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert builder.stderr.readline().strip() == "paused at listings-written"
    workers = _children(builder.pid)
    assert len(workers) == 2
    os.killpg(builder.pid, signal.SIGINT)  # what Ctrl-C on a terminal does: the whole process group
    _, stderr = builder.communicate(timeout=20)
    assert builder.returncode == 130
    assert stderr.strip() == f"build interrupted: {good_db} is unchanged"  # no worker tracebacks
    assert not any(_alive(w) for w in workers)
    assert digest(good_db) == before
    assert [p for p in good_db.parent.iterdir() if ".building-" in p.name] == []
