"""A bad request is the client's mistake: a 4xx with one line that says what was wrong, never a
500 (issue 15, items 6 and 8: `_through=nope`, `_timelimit=abc`, `id__in=[1,`, `_where=1=1;drop`
answered 500 on the table, database and query pages). Checked with Datasette's test client as
`make serve` configures it, on HTML, JSON and CSV, on the programs table, another table and the
canned queries; and every refusal, the request budget's included, carries the security headers."""
from __future__ import annotations

import asyncio
import json
import re

import pytest
from datasette.app import Datasette

from common.serving import datasette_options
from pipelines.build import build
from tests.support import item, write_feed

REQUIRED = ["_through=nope", "_through={}", '_through={"table":"x","column":"y","value":1}', "_timelimit=abc",
            "id__in=[1,", "_where=1=1;drop"]
# Found by fuzzing every parameter Datasette 0.65 reads: each answered 500 before.
FUZZED = ["_through=[]", "_through=1", '_through={"table":"program_care_levels","column":"care_level","value":[1]}',
          "_timelimit=1e400", "_timelimit=-1", "id__in=[", "id__in=[[1]]", 'id__in=[{"a":1}]', "id__notin=[1,",
          "id__in=[99999999999999999999]", "latitude__gt=99999999999999999999999", "latitude__lt=²",
          "_where=1=1;select 1", "_where=%00", "_facet=%00", "_facet_date=%00", "_facet={", '_facet={"a":1}',
          '_facet={"column":1}', "_facet_array={", "_facet_size={", "_facet_size=²", "_ttl=²", "_json_infinity=",
          "_json_infinity=nope", "name__exact=%00"]
TABLES = ["/programs/programs", "/programs/listings"]
ERROR_BLOCK = re.compile(r'class="(?:error-message|message-error)"[^>]*>(.*?)</(?:div|p)>', re.DOTALL)
FORMATS = ["", ".json", ".csv"]


def _build(tmp, n: int) -> object:
    items = [item(source_ref=f"row {i}", name1=f"Program {i}", street1=f"{i} Main Street", phone=f"713-555-{i:04d}",
                  service_codes=["OIT"] if i % 2 else ["OP"]) for i in range(2, 2 + n)]
    build([write_feed(tmp / "feed.jsonl", items)], tmp / "programs.db", quiet=True)
    return tmp / "programs.db"


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("bad_requests"), 4)


def ask(db, *requests, **settings):
    """The answers to (method, path) pairs (or paths: GET) from one Datasette as `make serve` runs it."""
    async def go():
        ds = Datasette(**datasette_options(db, **settings))
        answers = []
        for request in requests:
            method, path = request if isinstance(request, tuple) else ("get", request)
            answers.append(await getattr(ds.client, method)(path))
        return answers
    return asyncio.run(go())


def one_line_error(response) -> str:
    """The error message of a refusal, asserted to be one line (JSON's "error" or the text body)."""
    kind = response.headers["content-type"]
    if kind.startswith("application/json"):
        message = response.json()["error"]
    elif kind.startswith("text/plain"):
        assert response.text.endswith("\n") and response.text.count("\n") == 1, response.text
        message = response.text.rstrip("\n")
    else:  # the error page (templates/error.html, or Datasette's own): the message in its own block
        found = ERROR_BLOCK.search(response.text)
        assert found, response.text
        message = found.group(1).strip()
    assert message and "\n" not in message and "Traceback" not in message, message
    return message


def query(parameter: str) -> str:
    """parameter (key=value as typed) as a query string, the value percent-encoded."""
    from urllib.parse import quote, unquote

    key, _, value = parameter.partition("=")
    return f"{key}={quote(unquote(value), safe='')}"


@pytest.mark.parametrize("parameter", REQUIRED + FUZZED)
def test_a_malformed_parameter_is_a_400_with_one_line_on_every_table_and_format(db, parameter):
    paths = [f"{table}{fmt}?{query(parameter)}" for table in TABLES for fmt in FORMATS]
    for path, response in zip(paths, ask(db, *paths)):
        assert response.status_code == 400, (path, response.status_code, response.text[:300])
        one_line_error(response)


@pytest.mark.parametrize("fmt", FORMATS)
def test_what_each_refusal_says(db, fmt):
    cases = {"_through=nope": "_through must be a JSON object like",
             '_through={"table":"x","column":"y","value":1}': "Invalid _through - could not find corresponding foreign key",
             "_timelimit=abc": "_timelimit must be a whole number of milliseconds",
             "id__in=[1,": "id__in starting with [ must be a JSON list",
             "_where=1=1;drop": "_where must be one SQL expression"}
    paths = [f"/programs/programs{fmt}?{query(p)}" for p in cases]
    for (parameter, said), response in zip(cases.items(), ask(db, *paths)):
        assert said in one_line_error(response), parameter


@pytest.mark.parametrize("path", [
    "/programs/search?q=x&_timelimit=abc", "/programs/search.json?q=x&_timelimit=abc",
    "/programs/search.csv?q=x&_timelimit=-1", "/programs/nearby.json?_timelimit=1e400",
    "/programs?sql=select+1&_timelimit=abc", "/programs.json?sql=select+1&_timelimit=abc",
    "/programs.csv?sql=select+1&_timelimit=abc",
    "/programs.csv", "/programs.csv?sql=", "/programs.csv?sql=&sql=select+1", "/programs.json?_shape=array",
    "/programs.json?_shape=arrayfirst",
])
def test_canned_and_database_queries_answer_a_bad_parameter_with_a_400(db, path):
    response, = ask(db, path)
    assert response.status_code == 400, response.text[:300]
    one_line_error(response)


def test_well_formed_parameters_still_answer(db):
    through = '{"table":"program_care_levels","column":"care_level","value":"outpatient"}'
    paths = ["/programs/programs.json?_shape=array&" + query("_through=" + through),
             "/programs/programs.json?_shape=array&" + query("_where=name != ';' -- ;"),
             "/programs/programs.json?_shape=array&" + query('id__in=["nope", 1, null, true]'),
             "/programs/programs.json?_shape=array&_timelimit=500&_ttl=5&_facet_size=max&_json_infinity=on",
             "/programs/programs.json?_shape=array&latitude__gt=29",
             "/programs/programs.json?_shape=array&" + query('_facet={"column":"city"}'),
             "/programs.json?sql=select+1+as+n&_shape=array", "/programs.csv?sql=select+1+as+n",
             "/programs/programs.json?_shape=array&id__in=a,b"]
    answers = ask(db, *paths)
    assert [r.status_code for r in answers] == [200] * len(paths), [r.text[:200] for r in answers]
    with_outpatient, everything = answers[0].json(), answers[1].json()
    assert len(everything) == 4
    assert sorted(row["name"] for row in with_outpatient) == ["Program 2", "Program 4"]  # OP: even rows
    assert all(json.loads(row["care_levels"]) == ["outpatient"] for row in with_outpatient)
    assert answers[2].json() == [] and len(answers[4].json()) == 4
    assert answers[6].json() == [{"n": 1}] and answers[7].text.splitlines() == ["n", "1"]


def test_a_csv_query_over_the_time_limit_is_a_400_as_its_json_is(db):
    slow = ("with recursive n(i) as (select 1 union all select i + 1 from n where i < 100000000) "
            "select count(*) from n")
    from urllib.parse import quote

    paths = [f"/programs.csv?sql={quote(slow)}", f"/programs.json?sql={quote(slow)}",
             f"/programs/programs.csv?_where={quote('id in (' + slow + ')')}"]
    answers = ask(db, *paths, sql_time_limit_ms=50)
    assert [r.status_code for r in answers] == [400, 400, 400]
    assert "SQL query took too long" in one_line_error(answers[0])
    assert "SQL query took too long" in answers[1].json()["error"]
    assert "SQL query took too long" in one_line_error(answers[2])


def test_a_row_address_with_too_few_key_values_is_a_404(db):
    for response in ask(db, "/programs/program_care_levels/a.json", "/programs/program_care_levels/a"):
        assert response.status_code == 404, response.text[:300]


def test_writing_to_the_read_only_directory_is_a_405(db):
    paths = ["/programs/programs.json", "/programs/programs", "/programs/nearby.json", "/programs/search",
             "/programs.json"]
    for response in ask(db, *[("post", p) for p in paths]):
        assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD, OPTIONS"
        assert "read-only" in one_line_error(response)
    assert [r.status_code for r in ask(db, ("head", "/programs/programs"), ("options", "/programs/programs"))] \
        == [200, 200]


def _has_security_headers(response) -> bool:
    csp = response.headers.get("content-security-policy", "")
    return ("frame-ancestors 'none'" in csp and response.headers.get("x-content-type-options") == "nosniff"
            and response.headers.get("x-frame-options") == "DENY")


def test_the_budgets_own_refusals_carry_the_security_headers(db, monkeypatch):
    many_facets = "/programs/programs.json?" + "&".join(f"_facet=c{i}" for i in range(13))
    paths = [many_facets, "/programs/programs?" + "&".join(f"x{i}=1" for i in range(101)),
             "/programs/programs.json?id__in=" + ",".join(map(str, range(600)))]
    answers = ask(db, *paths)
    assert [r.status_code for r in answers] == [400, 400, 400]
    assert all(_has_security_headers(r) for r in answers), [dict(r.headers) for r in answers]
    monkeypatch.setenv("DIRECTORY_REQUEST_SECONDS", "0.3")
    slow = ("with recursive n(i) as (select 1 union all select i + 1 from n where i < 100000000) "
            "select count(*) from n")
    from urllib.parse import quote

    timed_out, = ask(db, f"/programs.json?sql={quote(slow)}", sql_time_limit_ms=5000)
    assert timed_out.status_code == 503 and _has_security_headers(timed_out), dict(timed_out.headers)


def test_bad_parameter_and_read_only_refusals_carry_the_security_headers(db):
    answers = ask(db, "/programs/programs?_timelimit=abc", "/programs/programs.csv?id__in=[1,",
                  "/programs/programs.json?" + query('_through={"table":"x","column":"y","value":1}'),
                  ("post", "/programs/programs"))
    assert [r.status_code for r in answers] == [400, 400, 400, 405]
    assert all(_has_security_headers(r) for r in answers), [dict(r.headers) for r in answers]
