"""A rebuild swapped in under `make serve` stays unmixed when uvicorn restarts a worker (issue 15,
finding 2): the worker's new Datasette must not count the new build with the counts the inspect
file holds of the old one (it answered 9 rows under "5 programs" before common.serving.inspect_of)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request

from common.serving import inspect_of
from pipelines.build import build
from tests.support import item, served, write_feed


def build_of(tmp, n: int):
    """A database of n programs named 'Program i of n', so that any row says its build."""
    tmp.mkdir(parents=True, exist_ok=True)
    items = [item(source_ref=f"row {i}", name1=f"Program {i} of {n}", street1=f"{i} Main Street",
                  phone=f"713-555-{i:04d}") for i in range(2, 2 + n)]
    build([write_feed(tmp / "feed.jsonl", items)], tmp / "programs.db", quiet=True)
    return tmp / "programs.db"


def answer(base: str) -> tuple[int, int, int]:
    """(the build the first row names, the table's row count, the database page's count)."""
    with urllib.request.urlopen(base + "/programs/programs.json?_size=1&_sort=name&_shape=objects", timeout=30) as r:
        table = json.load(r)
    with urllib.request.urlopen(base + "/programs.json", timeout=30) as r:
        counts = {t["name"]: t["count"] for t in json.load(r)["tables"]}
    return int(table["rows"][0]["name"].rsplit(" ", 1)[1]), table["filtered_table_rows_count"], counts["programs"]


def workers(base: str) -> list[int]:
    """The uvicorn worker processes of the `make serve` at base."""
    out = subprocess.run(["ps", "-ewwo", "pid,ppid,args"], capture_output=True, text=True).stdout.splitlines()[1:]
    rows = [line.split(None, 2) for line in out]
    port = base.rsplit(":", 1)[1]
    parents = {p for p, _, a in rows if "common.serving:asgi_app" in a and f"--port {port} " in a}
    return [int(pid) for pid, ppid, args in rows if "spawn_main" in args and ppid in parents]


def test_the_inspect_counts_are_dropped_once_the_database_is_replaced(tmp_path):
    old, new = build_of(tmp_path / "old", 5), build_of(tmp_path / "new", 9)
    db, counts = tmp_path / "programs.db", tmp_path / "programs.db.inspect.json"
    shutil.copy(old, db)
    counts.write_text("{}")
    assert inspect_of(db, counts) == counts
    shutil.copy(new, tmp_path / "next.db")
    os.replace(tmp_path / "next.db", db)
    assert inspect_of(db, counts) is None
    assert inspect_of(db, None) is None


def test_a_worker_restarted_after_a_swap_counts_the_new_build(tmp_path):
    old, new = build_of(tmp_path / "old", 5), build_of(tmp_path / "new", 9)
    db = tmp_path / "served" / "programs.db"
    db.parent.mkdir()
    shutil.copy(old, db)
    with served(db, WORKERS=2) as base:
        assert {answer(base) for _ in range(6)} == {(5, 5, 5)}
        shutil.copy(new, db.with_suffix(".next"))
        os.replace(db.with_suffix(".next"), db)
        assert {answer(base) for _ in range(6)} == {(9, 9, 9)}
        first = workers(base)
        for pid in first:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while len([p for p in workers(base) if p not in first]) < 2:
            assert time.monotonic() < deadline, "uvicorn did not replace its workers"
            time.sleep(0.5)
        answers = set()
        while time.monotonic() < deadline and not answers:
            try:
                answers = {answer(base) for _ in range(6)}
            except OSError:
                time.sleep(0.5)  # a new worker still starting
        assert answers == {(9, 9, 9)}
