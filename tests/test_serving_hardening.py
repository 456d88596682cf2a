"""Serving that holds (issue 15, serving side): SQLite limits, a per-request budget, inert CSV,
security headers, a rebuild swapped in live without mixing builds; checked with Datasette's test
client as `make serve` configures it, and with `make serve` itself where the real server matters."""
from __future__ import annotations

import asyncio
import csv
import io
import os
import shutil
from pathlib import Path

import pytest
from datasette.app import Datasette

from common.serving import datasette_options
from pipelines.build import build
from tests.support import item, write_feed


def build_of(tmp, n: int, **fields):
    """A database of n programs in Houston, each named 'Program i of n' (so any row says its build)."""
    tmp.mkdir(parents=True, exist_ok=True)
    items = [item(source_ref=f"row {i}", name1=f"Program {i} of {n}", street1=f"{i} Main Street",
                  phone=f"713-555-{i:04d}", **fields) for i in range(2, 2 + n)]
    build([write_feed(tmp / "feed.jsonl", items)], tmp / "programs.db", quiet=True)
    return tmp / "programs.db"


@pytest.fixture(scope="module")
def small_db(tmp_path_factory):
    return build_of(tmp_path_factory.mktemp("small"), 5)


def get(db, path):
    async def go():
        return await Datasette(**datasette_options(db)).client.get(path)
    return asyncio.run(go())


# 1. Memory: SQLite's limits.
def test_a_value_over_sqlites_length_limit_is_a_quick_400_and_the_server_answers_on(small_db):
    async def go():
        ds = Datasette(**datasette_options(small_db))
        big = await ds.client.get("/programs.json?sql=select+zeroblob(5000000)&_shape=array")
        after = await ds.client.get("/programs.json?sql=select+length(zeroblob(1000))+as+n&_shape=array")
        return big, after
    big, after = asyncio.run(go())
    assert big.status_code == 400 and "string or blob too big" in big.text
    assert after.status_code == 200 and after.json() == [{"n": 1000}]


# 4. The request budget.
@pytest.mark.parametrize("path", ["/programs/programs.json?_sort=nope", "/programs/programs.json?_sort_desc=nope",
                                  "/programs/programs?_sort=nope"])
def test_an_unknown_sort_column_is_a_400_not_a_500(small_db, path):
    response = get(small_db, path)
    assert response.status_code == 400 and "Cannot sort table by nope" in response.text


def test_a_repeated_facet_counts_once(small_db):
    once = get(small_db, "/programs/programs.json?_facet=city")
    response = get(small_db, "/programs/programs.json?_facet=city&" + "&".join(["_facet=city"] * 300))
    assert response.status_code == 200
    assert response.json()["facet_results"] == once.json()["facet_results"]
    assert len(response.json()["facet_results"]) == len(once.json()["facet_results"]) < 12


def test_too_many_facets_or_in_values_are_refused_with_a_400(small_db):
    many = "&".join(f"_facet=c{i}" for i in range(13))
    response = get(small_db, "/programs/programs.json?" + many)
    assert response.status_code == 400 and "facets" in response.json()["error"]
    ids = ",".join(str(i) for i in range(1000))
    response = get(small_db, f"/programs/programs.json?id__in={ids}")
    assert response.status_code == 400 and "id__in" in response.json()["error"]
    assert get(small_db, "/programs/programs.json?id__in=a,b,c").status_code == 200


def test_a_request_has_a_total_time(small_db, monkeypatch):
    monkeypatch.setenv("DIRECTORY_REQUEST_SECONDS", "0.5")

    async def go():
        ds = Datasette(**datasette_options(small_db, sql_time_limit_ms=5000))
        slow = ("with recursive n(i) as (select 1 union all select i + 1 from n where i < 100000000) "
                "select count(*) from n")
        return await ds.client.get("/programs.json", params={"sql": slow})
    response = asyncio.run(go())
    assert response.status_code == 503 and "longer than 0.5 s" in response.text


# 5. CSV cells that would start a formula.
@pytest.fixture(scope="module")
def formula_db(tmp_path_factory):
    return build_of(tmp_path_factory.mktemp("formula"), 1, name2='=HYPERLINK("http://evil.example/","Call now")')


@pytest.mark.parametrize("path", ["/programs/programs.csv?_size=max", "/programs/programs.csv?_stream=1",
                                  "/programs.csv?sql=select+'@SUM(1)'+as+a,+'-2%2B3'+as+b,+'%2B1'+as+c,+-95.5+as+d"])
def test_csv_cells_that_would_start_a_formula_are_inert(formula_db, path):
    response = get(formula_db, path)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.text)))
    cells = [cell for row in rows[1:] for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r") or (c[:1] == "-" and not c[1:2].isdigit())]
    if "sql=" in path:
        assert rows[1] == ["'@SUM(1)", "'-2+3", "'+1", "-95.5"]
    else:
        assert "'=HYPERLINK(\"http://evil.example/\",\"Call now\")" in cells


def test_the_hsds_export_writes_formula_like_text_inert_and_stays_valid(formula_db, tmp_path):
    """The HSDS package's CSVs follow the server's rule (common/csv_cells.py); its JSON keeps the text."""
    import json
    import subprocess
    import sys

    from exports.hsds import export

    export(formula_db, tmp_path / "hsds")
    formula = '=HYPERLINK("http://evil.example/","Call now")'
    tables = {p.name: list(csv.DictReader(io.StringIO(p.read_text(encoding="utf-8"))))
              for p in (tmp_path / "hsds").glob("*.csv")}
    [organization], [service], [location] = tables["organizations.csv"], tables["services.csv"], tables["locations.csv"]
    assert organization["alternate_name"] == service["alternate_name"] == "'" + formula
    live = [(name, cell) for name, rows in tables.items() for row in rows for cell in row.values()
            if cell[:1] in ("=", "+", "@", "\t", "\r") or (cell[:1] == "-" and not cell[1:2].isdigit())]
    assert live == []
    assert location["longitude"] == "-95.36"  # a number stays a number
    [document] = [json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "hsds" / "json").iterdir()]
    assert document["alternate_name"] == formula
    validated = subprocess.run([str(Path(sys.executable).parent / "frictionless"), "validate", "--json",
                                str(tmp_path / "hsds" / "datapackage.json")], capture_output=True, text=True, timeout=300)
    assert validated.returncode == 0 and json.loads(validated.stdout)["valid"], validated.stdout[:2000]


# 3. Security headers.
def test_every_answer_has_the_security_headers_and_inline_scripts_by_hash(small_db):
    for path in ["/", "/programs/programs", "/programs/programs.json", "/programs/programs.csv", "/-/versions.json"]:
        response = get(small_db, path)
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp.split("style-src")[0], path
        assert response.headers["x-content-type-options"] == "nosniff" and response.headers["x-frame-options"] == "DENY"
    page = get(small_db, "/programs/programs")
    from plugins.security_headers import script_hashes
    hashes = script_hashes(page.content)
    assert hashes and all(h in page.headers["content-security-policy"] for h in hashes)


# 2. Live swap.
def test_a_rebuild_is_served_without_restart_and_each_answer_is_from_one_build(tmp_path):
    old, new = build_of(tmp_path / "old", 5), build_of(tmp_path / "new", 9)
    served = tmp_path / "served" / "programs.db"
    served.parent.mkdir()
    shutil.copy(old, served)
    path = "/programs/programs.json?_size=1&_facet=city&_sort=name&_shape=objects"

    async def one(ds):
        response = await ds.client.get(path)
        assert response.status_code == 200, response.text
        data = response.json()
        n = int(data["rows"][0]["name"].rsplit(" ", 1)[1])
        city = data["facet_results"]["city"]["results"][0]["count"]
        return n, data["filtered_table_rows_count"], city

    async def go():
        ds = Datasette(**datasette_options(served))
        await one(ds)
        tasks = [asyncio.ensure_future(one(ds)) for _ in range(40)]
        await asyncio.sleep(0.05)
        shutil.copy(new, served.with_suffix(".next"))
        os.replace(served.with_suffix(".next"), served)
        tasks += [asyncio.ensure_future(one(ds)) for _ in range(40)]
        answers = await asyncio.gather(*tasks)
        return answers, await one(ds), await ds.client.get("/programs.json")

    answers, last, database = asyncio.run(go())
    assert all(a == (a[0], a[0], a[0]) for a in answers), answers
    assert last == (9, 9, 9)
    assert database.status_code == 200


# 1, 6, 7 with the real `make serve`.
def _workers(base: str) -> list[int]:
    """The uvicorn worker processes of the `make serve` at base (children of its uvicorn parent)."""
    import subprocess

    out = subprocess.run(["ps", "-ewwo", "pid,ppid,args"], capture_output=True, text=True).stdout.splitlines()[1:]
    rows = [line.split(None, 2) for line in out]
    port = base.rsplit(":", 1)[1]
    parents = {p for p, _, a in rows if "common.serving:asgi_app" in a and f"--port {port} " in a}
    return [int(pid) for pid, ppid, args in rows if "spawn_main" in args and ppid in parents]


def test_make_serve_runs_workers_under_a_memory_ceiling_and_restarts_a_dead_one(small_db):
    import signal
    import time
    import urllib.request

    from tests.support import served

    with served(small_db, WORKERS=2, MEMORY_MB=1500) as base:
        workers = _workers(base)
        assert len(workers) == 2, workers
        for pid in workers:
            limits = open(f"/proc/{pid}/limits").read()
            assert [line for line in limits.splitlines() if line.startswith("Max address space")][0].split()[3] \
                == str(1500 * 1024 * 1024)
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while len([p for p in _workers(base) if p not in workers]) < 1:
            assert time.monotonic() < deadline, "the dead worker was not replaced"
            time.sleep(0.5)
        for _ in range(6):
            with urllib.request.urlopen(base + "/programs/programs.json?_size=1", timeout=30) as response:
                assert response.status == 200


def test_make_serve_works_on_a_read_only_data_folder(small_db, tmp_path):
    import subprocess
    import urllib.request

    from tests.support import served

    folder = tmp_path / "ro"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(folder)], capture_output=True).returncode:
        pytest.skip("cannot mount a read-only folder here (needs root)")
    try:
        shutil.copy(small_db, folder / "programs.db")
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        assert not os.access(folder, os.W_OK)
        with served(folder / "programs.db", XDG_CACHE_HOME=str(tmp_path / "cache")) as base:
            with urllib.request.urlopen(base + "/programs/programs.json?_size=1", timeout=30) as response:
                assert response.status == 200
        assert list((tmp_path / "cache" / "treatment-directory").glob("*.inspect.json"))
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)


def test_make_serve_without_a_database_says_so_in_one_line(tmp_path):
    import subprocess

    # As a person's shell runs it: not as a sub-make of `make test` (which would say "make[1]: ...").
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    result = subprocess.run(["make", "--no-print-directory", "-s", "serve", f"DB={tmp_path / 'none.db'}"],
                            cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=120,
                            env=env)
    assert result.returncode != 0
    assert [line for line in result.stderr.splitlines() if not line.startswith("make: ")] == \
        [f"make serve: no {tmp_path / 'none.db'} yet: run 'make data' first"]


def test_an_answer_past_the_memory_ceiling_is_a_400_that_says_so_and_the_worker_answers_on(small_db):
    """150 rows of 4 MB values (each under SQLite's 4 MiB limit) need more than a 700 MB worker
    has: Python's MemoryError was answered 500; now a 400 says the answer is too large. Few rows
    and a low ceiling, so the ceiling is met in a fraction of the 1 s SQL time limit even on a
    loaded machine (with 400 rows and 1,000 MB a busy CI run hit the time limit first)."""
    import json
    import urllib.error
    import urllib.parse
    import urllib.request

    from tests.support import served

    sql = ("with recursive n(i) as (select 1 union all select i + 1 from n where i < 150) "
           "select i, zeroblob(4000000) as b from n")
    with served(small_db, WORKERS=2, MEMORY_MB=700) as base:
        for path, kind in (("/programs.json", "application/json"), ("/programs", "text/html")):
            url = f"{base}{path}?sql={urllib.parse.quote(sql)}&_shape=array"
            with pytest.raises(urllib.error.HTTPError) as answer:
                urllib.request.urlopen(url, timeout=120)
            assert answer.value.code == 400
            assert answer.value.headers["content-type"].startswith(kind)
            body = answer.value.read().decode()
            assert "too large for this server" in body
            if kind == "application/json":
                assert json.loads(body)["title"] == "Answer too large"
        with pytest.raises(urllib.error.HTTPError) as answer:  # in the person's language
            urllib.request.urlopen(f"{base}/programs?sql={urllib.parse.quote(sql)}&lang=es", timeout=120)
        body = answer.value.read().decode()
        assert answer.value.code == 400
        assert "Respuesta demasiado grande" in body and "demasiado grande para la memoria" in body
        with urllib.request.urlopen(base + "/programs/programs.json?_size=1", timeout=30) as response:
            assert response.status == 200
