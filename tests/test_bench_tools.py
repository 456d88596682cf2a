"""The benchmark's instruments (bench/): the synthetic national export is a real wide export, its
feed is what the real spider writes, the load tool runs against a served build without error, the
build's floor is the same database, the tracer captures the SQL a page runs, the serving settings
are those `make serve` applies, and memory and percentiles are measured as stated.
`make bench` itself is not run here (it takes minutes); see BENCHMARKS.md."""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict

import pytest

from bench import synthetic_export
from bench.load import timed_out_facets
from bench.generate import write_feed
from crawler.export_format import read_export
from pipelines.taxonomy import is_placeholder
from tests.support import CODE_REFERENCE, MA_CSV, ROOT, TX_CSV, crawl, need_shared, served

PROGRAMS = 200


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    need_shared(MA_CSV, TX_CSV, CODE_REFERENCE)
    out = tmp_path_factory.mktemp("synthetic") / "national_export.csv"
    assert synthetic_export.main(["--programs", str(PROGRAMS), "--out", str(out), "--seed", "1"]) == 0
    return out


def parsed(path):
    code_columns, rows = read_export(path.read_bytes(), str(path))
    return code_columns, [row for _, row in rows]


def codes_of(row, code_columns):
    return {c.upper() for c in code_columns if row.get(c) == "1"}


def test_synthetic_export_is_a_wide_export_the_real_parser_reads(synthetic):
    header = synthetic.read_bytes().split(b"\r\n", 1)[0]
    assert header == MA_CSV.read_bytes().split(b"\r\n", 1)[0]  # the real header, quirks included
    assert header.startswith(b"    name1,") and header.endswith(b",n40 ")
    code_columns, rows = parsed(synthetic)
    assert len(code_columns) > 300
    kinds = Counter(r["type_facility"] for r in rows)
    assert set(kinds) <= {"BUPREN", "SU", "MH", "OTP"} and kinds["BUPREN"] > len(rows) / 2
    assert {r["name2"] for r in rows} == {"SYNTHETIC"}
    assert all(r["name1"].strip() and r["street1"] and r["city"] and len(r["state"]) == 2 for r in rows)
    assert all(len(r["zip"]) == 5 and -180 <= float(r["longitude"]) <= 180 for r in rows)
    assert all("-555-01" in r["phone"] for r in rows)
    assert all(r[c] in ("", "1") for r in rows for c in code_columns)


def test_placeholders_carry_the_every_flag_template_and_the_others_real_code_sets(synthetic):
    from common.code_reference import load_code_reference

    known = len(load_code_reference(CODE_REFERENCE).codes)
    code_columns, rows = parsed(synthetic)
    by_kind = defaultdict(set)
    for row in rows:
        by_kind[row["type_facility"]].add(frozenset(codes_of(row, code_columns)))
    for kind in ("BUPREN", "OTP"):
        assert len(by_kind[kind]) == 1, f"every {kind} row has the same template"
        assert is_placeholder(kind, list(next(iter(by_kind[kind]))), known)
    for kind in ("SU", "MH"):
        assert len(by_kind[kind]) > 5, f"{kind} rows sample many real code sets"
        assert not any(is_placeholder("OTP", list(codes), known) for codes in by_kind[kind])


def test_su_mh_twins_are_present(synthetic):
    _, rows = parsed(synthetic)
    places = defaultdict(set)
    for row in rows:
        places[(row["name1"], row["street1"], row["zip"])].add(row["type_facility"])
    twins = [k for k, kinds in places.items() if kinds == {"SU", "MH"}]
    assert 1 <= len(twins) <= PROGRAMS * 0.1
    assert len(rows) == PROGRAMS + len(twins)


def test_readme_beside_it_says_synthetic_and_data_is_refused(synthetic, tmp_path):
    readme = synthetic_export.readme_path(synthetic).read_text()
    assert readme.startswith("SYNTHETIC DATA - NOT REAL TREATMENT PROGRAMS")
    with pytest.raises(synthetic_export.SourceError, match="refusing"):
        synthetic_export.generate(ROOT / "data" / "bench.csv", 5)
    assert not (ROOT / "data" / "bench.csv").exists()


def test_the_feed_is_what_the_real_spider_writes(synthetic, tmp_path):
    feed = tmp_path / "feed.jsonl"
    # Every row of a crawl of every city lies in some city's area (it is in its own city).
    assert write_feed(synthetic, feed, chunk_lines=37) == len(parsed(synthetic)[1])  # chunks cross rows
    items = [json.loads(line) for line in feed.read_text().splitlines()]
    cities = ";".join(c for c, _ in Counter(i["city_query"] for i in items).most_common(3))
    crawled, _ = crawl(tmp_path, "findtreatment_export", cities, "--source", str(synthetic))
    real = [json.loads(line) for line in crawled.read_text().splitlines()]
    assert write_feed(synthetic, feed, chunk_lines=37, cities=cities) == len(real) > 0
    mine = [json.loads(line) for line in feed.read_text().splitlines()]
    strip = lambda item: {k: v for k, v in item.items() if k != "fetched_at"}  # noqa: E731
    assert [strip(i) for i in mine] == [strip(i) for i in real]


def test_timed_out_facets_are_found_in_json_and_html():
    expected = ["city", "care_levels", "payment"]
    body = json.dumps({"facet_results": {"city": {}, "payment": {}}}).encode()
    assert timed_out_facets("/programs/programs.json?_size=0", body, expected) == ["care_levels"]
    assert timed_out_facets("/programs/programs.json?_nofacet=1", body, expected) == []
    assert timed_out_facets("/programs/search.json?q=x", body, expected) == []
    # Datasette keys a second facet of one column "<column>_2": one shown, one timed out
    both = json.dumps({"facet_results": {"city": {}, "care_levels": {}, "payment": {}}}).encode()
    assert timed_out_facets("/programs/programs.json?_facet=city", both, expected) == ["city"]
    both = json.dumps({"facet_results": {"city": {}, "city_2": {}, "care_levels": {}, "payment": {}}}).encode()
    assert timed_out_facets("/programs/programs.json?_facet=city", both, expected) == []
    # `_facet_array=` of an indexed column is answered by its configured values facet: one facet
    assert timed_out_facets("/programs/programs.json?_facet_array=care_levels", both, expected) == []
    assert timed_out_facets("/programs/programs.json?_facet_array=care_levels", body, expected) == ["care_levels"]
    assert timed_out_facets("/programs/programs.json?_facet_array=sources", both, expected) == ["sources"]
    html = b'<p class="facets-timed-out">These facets timed out: care_levels, payment</p>'
    assert timed_out_facets("/programs/programs?city=X", html, expected) == ["care_levels", "payment"]


@pytest.fixture(scope="module")
def tiny_db(synthetic, tmp_path_factory):
    """The synthetic export built into programs.db by the real build."""
    from pipelines.build import build

    tmp = tmp_path_factory.mktemp("tiny")
    feed = tmp / "feed" / "national.jsonl"
    write_feed(synthetic, feed)
    db = tmp / "programs.db"
    counts = build([feed], db, quiet=True)
    assert counts["programs"] == PROGRAMS  # every SU/MH twin merged, nothing else
    return db


@pytest.fixture(scope="module")
def tiny_server(tiny_db):
    """The tiny build served by `make serve` on a free port."""
    with served(tiny_db) as base:
        yield base


def test_load_tool_runs_two_clients_for_two_seconds_without_error(tiny_server):
    result = subprocess.run(
        [sys.executable, "-m", "bench.load", "--base", tiny_server, "--seconds", "2", "--clients", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("load: 2 clients") and ", 0 errors," in first
    assert " p50 " in first and " p95 " in first
    kinds = {line.split()[0] for line in result.stdout.splitlines()[2:] if line.startswith("  ")}
    assert {"search", "facet", "program", "json"} <= kinds


def test_load_tool_refuses_other_hosts():
    result = subprocess.run([sys.executable, "-m", "bench.load", "--base", "http://example.org", "--seconds", "1"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "127.0.0.1" in result.stderr


# --- the build's floor -------------------------------------------------------------------------

def _immutable(db):
    import sqlite3

    return sqlite3.connect(f"file:{db}?immutable=1", uri=True)


def test_the_floor_is_the_built_database_written_again_by_plain_sqlite(tiny_db, tmp_path):
    from bench.baselines import write_floor

    floor = tmp_path / "floor.db"
    times = write_floor(tiny_db, floor, threads=2)
    built, again = _immutable(tiny_db), _immutable(floor)
    schema = "select type, name, tbl_name, sql from sqlite_master order by type, name"
    assert again.execute(schema).fetchall() == built.execute(schema).fetchall()  # tables, indexes, FTS
    kinds = dict(built.execute("select name, type from pragma_table_list where schema = 'main'").fetchall())
    assert kinds["programs_fts"] == "virtual" and kinds["programs_fts_data"] == "shadow"
    assert {"programs", "listings", "program_services", "program_facet_values", "sqlite_stat1"} <= set(kinds)
    plain = [name for name, kind in kinds.items() if kind == "table" and not name.startswith("sqlite_schema")]
    for table in plain:  # the same rows with the same rowids, ANALYZE's statistics included
        rows = f"select {'rowid, ' if table != 'sqlite_stat1' else ''}* from [{table}] order by 1, 2, 3"
        assert again.execute(rows).fetchall() == built.execute(rows).fetchall(), table
    assert times.rows == sum(built.execute(f"select count(*) from [{t}]").fetchone()[0]
                             for t in plain if t != "sqlite_stat1")
    word = built.execute("select name from programs order by id limit 1").fetchone()[0].split()[0]
    search = "select rowid, rank from programs_fts where programs_fts match ? order by rank"
    found = built.execute(search, [word]).fetchall()
    assert found and again.execute(search, [word]).fetchall() == found  # same tokenizer, same index
    assert again.execute("pragma page_size").fetchone() == built.execute("pragma page_size").fetchone() == (8192,)
    assert times.seconds == times.tables + times.indexes + times.fts + times.analyze > 0


def test_the_raw_baseline_is_one_plain_table_of_the_feed(synthetic, tmp_path):
    from bench.baselines import raw_insert

    feed = tmp_path / "feed.jsonl"
    items = write_feed(synthetic, feed)
    assert raw_insert(feed, tmp_path / "raw.db") == items
    conn = _immutable(tmp_path / "raw.db")
    assert [r[0] for r in conn.execute("select name from sqlite_master")] == ["listings_raw"]  # no index
    first = json.loads(feed.read_text().splitlines()[0])
    row = conn.execute("select name1, service_codes from listings_raw where rowid = 1").fetchone()
    assert row == (first["name1"], json.dumps(first["service_codes"], ensure_ascii=False))


# --- serving: the settings, the tracer ---------------------------------------------------------

def test_until_the_settings_have_their_own_file_they_are_read_from_the_serve_recipe(tmp_path):
    from bench.serving import recipe_kwargs, recipe_settings

    makefile = tmp_path / "Makefile"
    makefile.write_text(
        "first:\n\techo --setting not_this one\n\n"
        "serve: install\n\tdatasette inspect $(DB) --inspect-file $(DB).inspect.json\n"
        "\tdatasette serve -i $(DB) --inspect-file $(DB).inspect.json -m metadata.yml \\\n"
        "\t\t--setting suggest_facets off \\\n\t\t--setting sql_time_limit_ms 1000 -p $(PORT)\n\n"
        "after:\n\techo --setting nor_this one\n")
    assert recipe_settings(makefile) == {"suggest_facets": False, "sql_time_limit_ms": 1000}
    db = tmp_path / "x.db"
    (tmp_path / "x.db.inspect.json").write_text('{"x": {"hash": "h", "size": 1, "tables": {}}}')
    kwargs = recipe_kwargs(db, makefile, facet_time_limit_ms=5)
    assert kwargs["metadata"]["title"] == "Treatment program directory" and kwargs["plugins_dir"] is None
    assert kwargs["settings"] == {"suggest_facets": False, "sql_time_limit_ms": 1000, "facet_time_limit_ms": 5}
    assert kwargs["immutables"] == [str(db)] and kwargs["inspect_data"]["x"]["hash"] == "h"


def test_the_bench_serves_with_the_settings_make_serve_applies(tiny_server, tiny_db):
    import httpx

    from bench.capture import twin
    from bench.serving import datasette_settings, inspect_file

    served_settings = httpx.get(tiny_server + "/-/settings.json").json()
    settings = datasette_settings()
    assert settings and {k: served_settings[k] for k in settings} == settings
    assert inspect_file(tiny_db) == tiny_db.parent / "programs.db.inspect.json"  # written by make serve
    ds = twin(tiny_db)  # the capturing twin: the same settings, the time limits lifted
    assert ds.setting("max_returned_rows") == served_settings["max_returned_rows"]
    assert ds.setting("suggest_facets") == served_settings["suggest_facets"]
    assert ds.setting("sql_time_limit_ms") == ds.setting("facet_time_limit_ms") == 600_000
    assert {p["name"] for p in ds._plugins()} >= {"facets.py", "find.py"}  # plugins/, as served


async def test_the_tracer_captures_the_sql_a_page_runs(tiny_db):
    from bench.capture import capture_sql
    from bench.measure_serving import raw_connection

    conn = _immutable(tiny_db)
    program_id, city = conn.execute("select id, city from programs order by id limit 1").fetchone()
    program, search = f"/program/{program_id}", "/programs/search.json?q=" + city.split()[0]
    sql, statuses = await capture_sql(tiny_db, [program, search])
    assert statuses == {program: 200, search: 200}
    assert ("select * from programs where id = ?", [program_id]) in sql[program]
    assert len(sql[program]) == 7  # the program, its care levels, services, listings, changes, vocabularies
    ranked = [(q, params) for q, params in sql[search] if "programs_fts" in q]
    assert len(ranked) == 1 and ranked[0][1]["q"] == city.split()[0]
    raw = raw_connection(tiny_db)
    assert raw.execute(*ranked[0]).fetchall()  # the captured statement runs as it is, and finds rows
    assert raw.execute(*sql[program][[q for q, _ in sql[program]].index("select * from programs where id = ?")]
                       ).fetchone()[0] == program_id


# --- memory and percentiles --------------------------------------------------------------------

def test_memory_is_the_peak_of_the_process_and_of_its_workers():
    from bench.measure import run_measured

    mib = 1 << 20
    child = "import time; block = b'x' * (80 << 20); time.sleep(0.6)"
    parent = ("import subprocess, sys; block = b'x' * (40 << 20); "
              f"subprocess.run([sys.executable, '-c', {child!r}], check=True); print('done')")
    m = run_measured([sys.executable, "-c", parent])
    assert m.returncode == 0 and m.stdout == "done\n"
    assert 40 * mib < m.peak_rss < 80 * mib  # the command's own process: its block, not its child's
    assert m.tree_peak_rss > 120 * mib  # both blocks at once
    assert 0.6 < m.seconds < 30


def test_percentiles_interpolate_within_the_samples():
    from bench.stats import percentile

    assert percentile(list(range(1, 31)), 95) == pytest.approx(28.55)
    assert percentile(list(range(1, 31)), 50) == 15.5
    assert percentile([3.0, 1.0, 100.0], 95) <= 100.0  # never past the largest sample
    assert percentile([7.0], 95) == 7.0


def test_the_load_clients_http_reads_length_and_chunked_bodies_and_says_what_failed(httpserver):
    """bench.http_client, the load test's own keep-alive client, against a real HTTP server."""
    import asyncio

    from werkzeug import Response

    from bench.http_client import Connection, HTTPError

    httpserver.expect_request("/fixed").respond_with_data("fixed body", headers={"x-directory-cache": "hit"})
    httpserver.expect_request("/chunked").respond_with_response(
        Response(iter([b"one ", b"two ", b"three"]), mimetype="text/plain"))
    httpserver.expect_request("/missing").respond_with_data("no", status=404)

    async def go():
        connection = Connection(httpserver.url_for("/").rstrip("/"))
        answers = [await connection.get(path, 10) for path in ("/fixed", "/chunked", "/missing", "/fixed")]
        await connection.close()
        try:
            await Connection("http://127.0.0.1:1").get("/", 5)
        except HTTPError as exc:
            return answers, str(exc)
        return answers, None

    answers, failure = asyncio.run(go())
    assert [(a.status_code, a.content) for a in answers] == [
        (200, b"fixed body"), (200, b"one two three"), (404, b"no"), (200, b"fixed body")]
    assert answers[0].headers["x-directory-cache"] == "hit"
    assert failure and "ConnectionRefusedError" in failure
