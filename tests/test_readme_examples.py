"""The README's API guide, run: every `curl` example of its ```sh blocks is run against the
directory served by `make serve` (the built Houston and Dallas database) and its answer is checked
against the database itself, so the guide cannot drift from what the API does.

Each example needs a check below, keyed by its URL path and key parameters (@check): an example
without a check fails, and so does a check whose example has gone from the guide."""
from __future__ import annotations

import csv
import io
import json
import re
import shlex
import shutil
import sqlite3
import subprocess
import urllib.request
from dataclasses import dataclass
from typing import Callable
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import yaml

from tests.support import ROOT
from tests.support import haversine_miles

README = ROOT / "README.md"
SECTION = "API guide"
DEMO_BASE = "http://127.0.0.1:8001"
CURL = shutil.which("curl") or "/usr/bin/curl"
# Fenced blocks of the guide: ```sh holds the examples; the others show answers and are not run.
EXAMPLE_LANG = "sh"
ANSWER_LANGS = {"json", "csv", "text"}
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.M | re.S)
JSON_ARRAY_COLUMNS = {"care_levels", "payment", "facility_type", "ages", "populations", "languages", "medications",
                      "phones", "websites", "sources", "source_urls"}


# --- reading the guide -----------------------------------------------------------------------

def guide_section() -> str:
    match = re.search(rf"^## {re.escape(SECTION)}[ \t]*\n(.*?)(?=^## |\Z)", README.read_text(encoding="utf-8"),
                      re.M | re.S)
    assert match, f'README.md has no "## {SECTION}" section'
    return match.group(1)


def fenced_blocks(section: str) -> list[tuple[str, str]]:
    """(language, body) of every fenced block of the section, in order."""
    return [(m.group(1).strip(), m.group(2)) for m in FENCE.finditer(section)]


def block_lines(body: str) -> list[str]:
    """The block's lines that are not blank or comments, with backslash continuations joined."""
    lines, pending = [], ""
    for raw in body.splitlines():
        line = raw.strip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = (pending + line).strip(), ""
        if line and not line.startswith("#"):
            lines.append(line)
    if pending.strip():
        lines.append(pending.strip())
    return lines


def example_commands() -> list[str]:
    """Every command line of the guide's ```sh blocks (whether it is a good example is tested below)."""
    try:
        section = guide_section()
    except AssertionError:
        return []
    return [line for lang, body in fenced_blocks(section) if lang == EXAMPLE_LANG for line in block_lines(body)]


def example_url(command: str) -> str:
    urls = [arg for arg in shlex.split(command) if arg.startswith(DEMO_BASE + "/")]
    assert len(urls) == 1, f"an example has exactly one {DEMO_BASE}/ URL: {command}"
    return urls[0]


def example_urls() -> list[str]:
    """The URLs of the examples that have one (the others fail the tests below)."""
    urls = []
    for command in COMMANDS:
        try:
            urls.append(example_url(command))
        except (AssertionError, ValueError):
            pass
    return urls


COMMANDS = example_commands()


# --- the checks, one per example ---------------------------------------------------------------

ANY = object()     # the parameter is given, with any value
ABSENT = object()  # the parameter is not given


@dataclass
class Check:
    name: str
    path: str
    params: dict
    verify: Callable

    def matches(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.path != self.path:
            return False
        given = parse_qs(parts.query, keep_blank_values=True)
        for key, want in self.params.items():
            value = given.get(key, [None])[-1]
            if want is ABSENT:
                if key in given:
                    return False
            elif callable(want):
                if not want(value):
                    return False
            elif key not in given or (want is not ANY and given[key] != [want]):
                return False
        return True


CHECKS: list[Check] = []


def check(path: str, **params):
    """Register the check of the example whose URL has this path and these parameters: each
    a value, ANY, ABSENT or a test of the value (None when the parameter is not given)."""
    def register(verify):
        CHECKS.append(Check(verify.__name__, path, params, verify))
        return verify
    return register


class Answer:
    """What one example's curl printed, with the parameters of its URL."""

    def __init__(self, url: str, text: str, base: str, db):
        self.url, self.text, self.base, self.db = url, text, base, db
        self.params = parse_qs(urlsplit(url).query, keep_blank_values=True)

    def param(self, key: str, default=None):
        return self.params.get(key, [default])[-1]

    def json(self):
        try:
            data = json.loads(self.text)
        except ValueError:
            pytest.fail(f"{self.url} did not answer JSON:\n{self.text[:500]}")
        assert not (isinstance(data, dict) and data.get("ok") is False), f"{self.url} failed: {data}"
        return data


def db_rows(db, sql: str, *args) -> list[dict]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql, args)]


def db_value(db, sql: str, *args):
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchone()[0]


def table_columns(db, table: str) -> list[str]:
    return [row["name"] for row in db_rows(db, f"pragma table_info({table})")]


def as_list(value) -> list:
    """A JSON-array column as Datasette gives it: a real array with _json=, else JSON text."""
    return value if isinstance(value, list) else json.loads(value)


def program_filter(answer: Answer) -> tuple[str, list]:
    """The SQL `where` of the URL's column filters on programs (exact values and __arraycontains)."""
    columns = set(table_columns(answer.db, "programs"))
    clauses, args = [], []
    for key, values in answer.params.items():
        if key.startswith("_"):
            continue
        column, _, operation = key.partition("__")
        assert column in columns, f"{key}: programs has no column {column}"
        if operation == "arraycontains":
            assert column in JSON_ARRAY_COLUMNS, key
            clauses.append(f"exists (select 1 from json_each(programs.{column}) where value = ?)")
        elif operation == "":
            clauses.append(f"programs.{column} = ?")
        else:
            pytest.fail(f"this test does not know the filter {key}: teach program_filter()")
        args.append(values[-1])
    return " and ".join(clauses) or "1", args


def program_ids(answer: Answer) -> list[str]:
    """The ids of the programs the URL's filters select, by name (the table's sort), then id."""
    where, args = program_filter(answer)
    return [r["id"] for r in db_rows(answer.db, f"select id from programs where {where} order by name, id", *args)]


def assert_by_name(db, ids: list[str]):
    """The programs come sorted by name. Programs that share a name may come in any order: Datasette
    0.65 adds the id as a tie-breaker only from the second page on."""
    names = {r["id"]: r["name"] for r in db_rows(db, "select id, name from programs")}
    listed = [names[i] for i in ids]
    assert listed == sorted(listed), "sorted by name"


def assert_columns(answer: Answer, row: dict, primary_keys: list[str]):
    """With _col=, a row holds the primary key and the columns asked for, nothing else."""
    cols = answer.params.get("_col")
    if cols:
        assert set(row) == set(primary_keys) | set(cols), (answer.url, sorted(row))


@check("/programs/programs.json", city=ANY, care_levels__arraycontains=ANY, _shape="array")
def programs_in_a_city_with_a_care_level(answer: Answer):
    rows = answer.json()
    city, level = answer.param("city"), answer.param("care_levels__arraycontains")
    expected = program_ids(answer)
    assert expected, f"the example should find some programs: no {level} in {city} in the database"
    assert len(rows) == len(expected), f"{len(rows)} rows, the database has {len(expected)} (a page too small?)"
    assert sorted(r["id"] for r in rows) == sorted(expected)
    assert_by_name(answer.db, [r["id"] for r in rows])
    for row in rows:
        assert_columns(answer, row, ["id"])
        if "city" in row:
            assert row["city"] == city
        if "care_levels" in row:
            if "care_levels" in answer.params.get("_json", []):
                assert isinstance(row["care_levels"], list), "_json=care_levels gives a real array"
            assert level in as_list(row["care_levels"]), row


NEARBY_FILTERS = {"focus": "facility_type", "ages": "ages", "languages": "languages", "medications": "medications",
                  "populations": "populations", "payment": "payment"}
PAGE_SIZE = 50


def nearby_expected(answer: Answer) -> list[str]:
    """The ids `nearby` should give, found here on their own: every listed program within `miles`
    (haversine of tests/support) that passes each filter by its JSON columns (a level by
    program_care_levels, either source), the words by the full-text index on the names; in the
    page's order, this page of 50."""
    lat, lon, miles = (float(answer.param(k)) for k in ("lat", "lon", "miles"))
    programs = db_rows(answer.db, "select * from programs where status = 'listed' and latitude is not null")
    levels: dict[str, set] = {}
    for r in db_rows(answer.db, "select program_id, care_level from program_care_levels"):
        levels.setdefault(r["program_id"], set()).add(r["care_level"])
    words = answer.param("words") or ""
    named = {r["id"] for r in db_rows(answer.db, "select p.id from programs p join programs_fts f on p.rowid = f.rowid "
                                                  "where programs_fts match ?", "{name alternate_name} : (" + " ".join(
                                                      '"{}"'.format(w.replace('"', '""')) for w in words.split()) + ")")} \
        if words else None

    def passes(program) -> bool:
        for param, column in [("level", None), *NEARBY_FILTERS.items()]:
            wanted = [v for v in (answer.param(param) or "").split("|") if v]
            have = levels.get(program["id"], set()) if column is None else set(json.loads(program[column] or "[]"))
            if wanted and not (have & set(wanted) or ("*" in wanted and have)):
                return False
        return (not answer.param("telehealth") or program["telehealth"] == 1) and (named is None or program["id"] in named)
    found = [(haversine_miles(lat, lon, p["latitude"], p["longitude"]), p) for p in programs if passes(p)]
    found = [(d, p) for d, p in found if d <= miles]
    if answer.param("sort") == "name":
        found.sort(key=lambda pair: (pair[1]["name"].lower(), pair[0], pair[1]["id"]))
    else:
        found.sort(key=lambda pair: (pair[0], pair[1]["name"], pair[1]["id"]))
    page = max(int(answer.param("page") or 1), 1)
    return [p["id"] for _, p in found], page


@check("/programs/nearby.json", lat=ANY, lon=ANY, miles=ANY, level=ANY, payment=ANY)
def programs_near_a_point(answer: Answer):
    rows = answer.json()
    lat, lon, miles = (float(answer.param(k)) for k in ("lat", "lon", "miles"))
    level, payment = answer.param("level"), answer.param("payment")
    assert rows, "the example should find some programs"
    distances = [r["miles"] for r in rows]
    if answer.param("sort") != "name":
        assert distances == sorted(distances), "nearest first"
    assert all(d <= miles for d in distances)
    programs = {p["id"]: p for p in db_rows(answer.db, "select * from programs where latitude is not null")}
    for row in rows:
        program = programs[row["id"]]
        assert abs(row["miles"] - haversine_miles(lat, lon, program["latitude"], program["longitude"])) < 0.01
        if level:
            assert set(level.split("|")) & set(as_list(row["care_levels"]) + json.loads(program["website_care_levels"] or "[]"))
        if payment:
            assert set(payment.split("|")) & set(as_list(row["payment"])), row
        for column in answer.params.get("_json", []):
            assert isinstance(row[column], list), f"_json={column} gives a real array"
    # Every program in range that passes the filters is there, in the page's order, with the true total.
    expected, page = nearby_expected(answer)
    assert [r["id"] for r in rows] == expected[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    assert all(r["total"] == len(expected) for r in rows)


@check("/programs/nearby_counts.json", lat=ANY, lon=ANY, miles=ANY)
def how_many_each_filter_would_leave(answer: Answer):
    counts = {(r["filter"], r["value"]): r["programs"] for r in answer.json()}
    expected, _ = nearby_expected(answer)
    assert counts[("all", "")] == len(expected) > 0
    chosen = {k: v for k, v in answer.params.items() if k in ("level", *NEARBY_FILTERS, "telehealth")}
    checked = 0
    for (name, value), number in counts.items():
        if name in ("level", *NEARBY_FILTERS, "telehealth") and name not in chosen and value:
            # For a filter not given: the search with that value would have this many programs.
            more = Answer(answer.url + "&" + urlencode({name: value}), "", answer.base, answer.db)
            assert number == len(nearby_expected(more)[0]), (name, value)
            checked += 1
    assert checked > 20


@check("/programs/programs.json", _size="0")
def facet_counts_only(answer: Answer):
    data = answer.json()
    assert data["rows"] == []
    where, args = program_filter(answer)
    assert data["filtered_table_rows_count"] == db_value(answer.db, f"select count(*) from programs where {where}", *args)
    facets = data["facet_results"]
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text())
    configured = {f if isinstance(f, str) else next(iter(f.values()))
                  for f in metadata["databases"]["programs"]["tables"]["programs"]["facets"]}
    assert configured <= set(facets), f"configured facets missing: {configured - set(facets)}"
    for name, facet in facets.items():
        if facet["type"] in ("array", "values"):  # values: JSON arrays counted from program_facet_values
            sql = (f"select j.value, count(distinct programs.id) from programs, json_each(programs.{name}) j "
                   f"where {where} group by j.value")
        else:
            assert facet["type"] == "column", facet["type"]
            sql = f"select {name}, count(*) from programs where {where} and {name} is not null group by {name}"
        with sqlite3.connect(answer.db) as conn:
            expected = dict(conn.execute(sql, args).fetchall())
        shown = {r["value"]: r["count"] for r in facet["results"]}
        counts = [r["count"] for r in facet["results"]]
        assert counts == sorted(counts, reverse=True), f"{name}: most first"
        if facet["truncated"]:
            assert {v: expected.get(v) for v in shown} == shown, name
            assert len(expected) > len(shown), name
        else:
            assert shown == expected, name


@check("/programs/search.json", q=ANY)
def full_text_search(answer: Answer):
    rows = answer.json()
    q = answer.param("q")
    assert rows, f"the example should find something for {q!r}"
    assert q.lower() in rows[0]["name"].lower(), f"the best match for {q!r} is {rows[0]['name']!r}"
    # The same FTS5 query, each word quoted as Datasette's escape_fts quotes it, best first.
    match = " ".join('"{}"'.format(word.replace('"', '""')) for word in q.split())
    expected = db_rows(answer.db, "select programs.id from programs join programs_fts on programs.rowid = programs_fts.rowid "
                                  "where programs_fts match ? order by programs_fts.rank limit 100", match)
    assert [r["id"] for r in rows] == [r["id"] for r in expected]


@check("/programs/programs.csv")
def csv_export_of_a_filtered_view(answer: Answer):
    header, *rows = list(csv.reader(io.StringIO(answer.text)))
    cols = answer.params.get("_col")
    columns = ["id", *cols] if cols else table_columns(answer.db, "programs")
    assert header == columns
    assert header[:2] == ["id", "name"]
    expected = program_ids(answer)
    assert expected, "the example should export some programs"
    assert len(rows) == len(expected), f"{len(rows)} rows, the database has {len(expected)}"
    assert sorted(r[0] for r in rows) == sorted(expected)
    assert_by_name(answer.db, [r[0] for r in rows])
    # Every cell as the database holds it (null as an empty cell); text that a spreadsheet would
    # run as a formula (=, +, -, @ first) with an apostrophe before it (plugins/csv_formulas.py).
    select = ", ".join(header)
    by_id = {r["id"]: r for r in db_rows(answer.db, f"select {select} from programs")}

    def cell(value):
        if value is None:
            return ""
        text = str(value)
        return "'" + text if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

    for row in rows:
        assert row == [cell(v) for v in by_id[row[0]].values()], row[0]
        record = dict(zip(header, row))
        for key, value in answer.params.items():
            column, _, operation = key.partition("__")
            if column in record and operation == "arraycontains":
                assert value[-1] in json.loads(record[column]), record
            elif column in record and not key.startswith("_"):
                assert record[column] == value[-1], record


@check("/programs/programs.json", _size=lambda size: size not in (None, "0"), _shape=lambda shape: shape != "array",
       city=ABSENT, care_levels__arraycontains=ABSENT)
def paging_with_next(answer: Answer):
    page = answer.json()
    total = db_value(answer.db, "select count(*) from programs")
    size = int(answer.param("_size"))
    assert page["filtered_table_rows_count"] == total
    assert len(page["rows"]) == min(size, total)
    assert page["next_url"] and page["next_url"].startswith(answer.base + "/"), page["next_url"]
    ids = []
    for _ in range(total // size + 2):
        rows = page["rows"]
        ids += [r["id"] if isinstance(r, dict) else r[page["columns"].index("id")] for r in rows]
        if page["next"] is None:
            break
        assert "_next=" in page["next_url"]
        with urllib.request.urlopen(page["next_url"], timeout=30) as response:
            page = json.load(response)
    assert page["next"] is None and page["next_url"] is None, "following next_url ends"
    assert len(ids) == len(set(ids)) == total, "every program exactly once"
    if answer.param("_sort") == "id":
        assert ids == sorted(ids), "in id order"
    else:
        assert_by_name(answer.db, ids)


@check("/programs/program_services.json", program_id=ANY)
def services_of_one_program(answer: Answer):
    rows = answer.json()
    program_id = answer.param("program_id")
    columns = ["id", *answer.params["_col"]] if "_col" in answer.params else table_columns(answer.db, "program_services")
    expected = db_rows(answer.db, f"select {', '.join(columns)} from program_services where program_id = ? order by id",
                       program_id)
    assert expected, f"{program_id} has no services in the database"
    assert len(rows) == len(expected), f"{len(rows)} rows, the database has {len(expected)} (a page too small?)"
    assert rows == expected


@check("/programs/program_care_levels.json", program_id=ANY)
def care_level_evidence_of_one_program(answer: Answer):
    rows = answer.json()
    program_id = answer.param("program_id")
    keys = ["program_id", "care_level", "source", "source_ref"]
    columns = list(dict.fromkeys([*keys, *answer.params["_col"]])) if "_col" in answer.params else \
        table_columns(answer.db, "program_care_levels")
    expected = db_rows(answer.db, f"select {', '.join(columns)} from program_care_levels where program_id = ?", program_id)
    assert expected, f"{program_id} has no care levels in the database"
    for row in rows:
        assert set(row) == set(columns), sorted(row)

    def key(row):
        return tuple(str(row[c]) for c in columns)
    assert sorted(rows, key=key) == sorted(expected, key=key)
    [program] = db_rows(answer.db, "select care_levels from programs where id = ?", program_id)
    assert {r["care_level"] for r in rows} == set(json.loads(program["care_levels"])), "the evidence is for every level"


# --- the tests -------------------------------------------------------------------------------

def test_the_guide_has_curl_examples_and_nothing_else_to_run():
    section = guide_section()
    assert "(to be written)" not in section
    blocks = fenced_blocks(section)
    examples = [body for lang, body in blocks if lang == EXAMPLE_LANG]
    assert examples, f"the {SECTION} has no ```{EXAMPLE_LANG} block"
    for lang, body in blocks:
        assert lang == EXAMPLE_LANG or lang in ANSWER_LANGS, (
            f"a ```{lang} block in the {SECTION}: examples are ```{EXAMPLE_LANG} (run by this test), "
            f"answers ```{'/'.join(sorted(ANSWER_LANGS))}:\n{body}")
    for body in examples:
        lines = block_lines(body)
        not_curl = [line for line in lines if shlex.split(line)[0] != "curl"]
        assert not not_curl, f"only curl commands and # comments in a ```{EXAMPLE_LANG} block: {not_curl}"
        assert len(lines) == 1, f"one curl command per example block, not {len(lines)}:\n{body}"
        [command] = lines
        argv = shlex.split(command)
        assert "-s" in argv, f"curl -s, so that the answer is all it prints: {command}"
        url = example_url(command)
        assert f"'{url}'" in command, f"quote the URL with single quotes so that it pastes into a shell: {command}"


def example_id(command: str) -> str:
    """The test id of an example: the name of its check."""
    try:
        url = example_url(command)
    except (AssertionError, ValueError):
        return "no-url"
    return "+".join(c.name for c in CHECKS if c.matches(url)) or "unchecked:" + urlsplit(url).path


@pytest.mark.parametrize("command", COMMANDS, ids=example_id)
def test_the_example_answers_what_the_guide_says(command, server, built_db):  # noqa: F811
    url = example_url(command)
    matching = [c for c in CHECKS if c.matches(url)]
    assert matching, f"no check for this README example: add one to {__file__}\n{command}"
    assert len(matching) == 1, f"several checks match {url}: {[c.name for c in matching]}"
    argv = shlex.split(command)
    assert argv[0] == "curl"
    run_url = server + url[len(DEMO_BASE):]
    argv = [CURL, *(run_url if arg == url else arg for arg in argv[1:])]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{command}\nexit {result.returncode}: {result.stderr}"
    matching[0].verify(Answer(run_url, result.stdout, server, built_db))


def test_every_check_has_its_example():
    unused = [c.name for c in CHECKS if not any(c.matches(url) for url in example_urls())]
    assert not unused, f"checks whose example is not in the README's {SECTION}: {unused}"


def test_the_ids_and_names_shown_are_those_of_the_build(built_db):
    """Program ids are stable, so the ids in the guide's URLs and sample answers are real ones."""
    section = guide_section()
    programs = {r["id"]: r["name"] for r in db_rows(built_db, "select id, name from programs")}
    shown = re.findall(r'"id": "(p[0-9a-f]{12})", "name": "([^"]*)"', section)
    assert shown, "the sample answers show some programs"
    for program_id, name in shown:
        assert programs.get(program_id) == name, f"{program_id} is {programs.get(program_id)!r}, the guide says {name!r}"
    for program_id in re.findall(r"program_id=(p[0-9a-f]{12})", section):
        assert program_id in programs, f"{program_id} in the guide is not a program of the build"
