"""The benchmark's instruments (bench/): the synthetic national export is a real wide export, its
feed is what the real spider writes, and the load tool runs against a served build without error.
`make bench` itself is not run here (it takes minutes); see BENCHMARKS.md."""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict

import pytest

from bench import synthetic_export
from bench.load import timed_out_facets
from bench.run import write_feed
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
    assert write_feed(synthetic, feed, chunk_lines=37) == len(parsed(synthetic)[1])  # chunks cross rows
    items = [json.loads(line) for line in feed.read_text().splitlines()]
    cities = Counter(i["city_query"] for i in items).most_common(3)
    crawled, _ = crawl(tmp_path, "findtreatment_export", ";".join(c for c, _ in cities), "--source", str(synthetic))
    real = [json.loads(line) for line in crawled.read_text().splitlines()]
    mine = [i for i in items if i["city_query"] in {c for c, _ in cities}]
    assert len(real) == len(mine) == sum(n for _, n in cities)
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
def tiny_server(synthetic, tmp_path_factory):
    """The synthetic export built into programs.db and served by `make serve` on a free port."""
    from pipelines.build import build

    tmp = tmp_path_factory.mktemp("tiny")
    feed = tmp / "feed" / "national.jsonl"
    write_feed(synthetic, feed)
    db = tmp / "programs.db"
    counts = build([feed], db, quiet=True)
    assert counts["programs"] == PROGRAMS  # every SU/MH twin merged, nothing else
    with served(db) as base:
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
