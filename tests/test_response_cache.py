"""Answers kept in memory per serving process (plugins/response_cache.py): the same URL is
rendered once per build, a new build is answered from the new file at once, and nothing private,
failed or large is kept."""
from __future__ import annotations

import asyncio
import os
import shutil

import pytest
from datasette.app import Datasette

from common.serving import datasette_options
from pipelines.build import build
from plugins import facet_report, response_cache
from tests.support import item, write_feed


def build_of(folder, n: int):
    folder.mkdir(parents=True, exist_ok=True)
    items = [item(source_ref=f"row {i}", name1=f"Program {i} of {n}", street1=f"{i} Main Street",
                  phone=f"713-555-{i:04d}") for i in range(2, 2 + n)]
    build([write_feed(folder / "feed.jsonl", items)], folder / "programs.db", quiet=True)
    return folder / "programs.db"


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    root = tmp_path_factory.mktemp("cache")
    return build_of(root / "a", 3), build_of(root / "b", 4)


def get_all(ds, requests):
    async def go():
        return [await ds.client.get(path, **kwargs) for path, kwargs in requests]
    return asyncio.run(go())


def test_the_same_page_twice_is_rendered_once_and_answered_the_same(builds, tmp_path):
    served = tmp_path / "programs.db"
    shutil.copy(builds[0], served)
    ds = Datasette(**datasette_options(served))
    first, second = get_all(ds, [("/programs/programs.json?_shape=array", {})] * 2)
    assert (first.headers["x-directory-cache"], second.headers["x-directory-cache"]) == ("miss", "hit")
    assert first.content == second.content and len(first.json()) == 3
    assert second.headers["content-security-policy"] == first.headers["content-security-policy"]
    page1, page2 = get_all(ds, [("/find?place=77002", {})] * 2)
    assert page2.headers["x-directory-cache"] == "hit" and page1.text == page2.text


def test_a_new_build_renamed_into_place_is_answered_at_once(builds, tmp_path):
    served = tmp_path / "programs.db"
    shutil.copy(builds[0], served)
    ds = Datasette(**datasette_options(served))
    before = get_all(ds, [("/programs/programs.json?_shape=array", {})] * 2)
    staged = tmp_path / "next.db"
    shutil.copy(builds[1], staged)
    os.replace(staged, served)  # as a build does
    after = get_all(ds, [("/programs/programs.json?_shape=array", {})] * 2)
    assert [len(r.json()) for r in before + after] == [3, 3, 4, 4]
    assert [r.headers["x-directory-cache"] for r in after] == ["miss", "hit"]


def test_private_failed_and_own_pages_are_not_kept(builds, tmp_path):
    served = tmp_path / "programs.db"
    shutil.copy(builds[0], served)
    ds = Datasette(**datasette_options(served))
    with_cookie = get_all(ds, [("/programs/programs.json", {"cookies": {"ds_actor": "x"}})] * 2)
    assert all("x-directory-cache" not in r.headers for r in with_cookie)  # not even looked up
    missing = get_all(ds, [("/programs/no_such_table", {})] * 2)
    assert [r.status_code for r in missing] == [404, 404]
    assert [r.headers["x-directory-cache"] for r in missing] == ["miss", "miss"]
    own = get_all(ds, [("/-/versions.json", {})] * 2)
    assert "x-directory-cache" not in own[1].headers


def test_the_budget_keeps_the_most_recently_used_answers():
    answers = response_cache.Answers(budget=1000)
    for i in range(5):
        answers.put(i, 200, [], b"x" * 300)
    assert list(answers.kept) == [2, 3, 4] and answers.size <= 1000
    answers.get(2)
    answers.put(5, 200, [], b"x" * 300)
    assert list(answers.kept) == [4, 2, 5]
    answers.put(6, 200, [], b"x" * 2000)  # larger than the whole budget: not kept
    assert 6 not in answers.kept


def test_the_cache_is_off_with_a_budget_of_zero(builds, tmp_path, monkeypatch):
    monkeypatch.setenv(response_cache.CACHE_MB_ENV, "0")
    served = tmp_path / "programs.db"
    shutil.copy(builds[0], served)
    ds = Datasette(**datasette_options(served))
    answers = get_all(ds, [("/programs/programs.json", {})] * 2)
    assert all("x-directory-cache" not in r.headers for r in answers)


def test_a_table_page_whose_facets_may_have_timed_out_is_not_kept():
    timed_out = b'<p class="facets-timed-out">These facets timed out: city</p>'
    assert not response_cache.whole(timed_out, 0.01, 0.2)
    table_json = b'{"rows": [], "facet_results": {"care_levels": {}}}'
    assert response_cache.whole(table_json, 0.05, 0.2)
    assert not response_cache.whole(table_json, 0.25, 0.2)  # slow enough that a facet may have given up
    assert response_cache.whole(b'{"rows": []}', 5.0, 0.2)  # no facets: however slow, it is whole
    # The page's facet classes report whether any of them timed out: then the time says nothing.
    report = facet_report.FacetReport()
    report.facets_ran = 2
    assert response_cache.whole(table_json, 0.25, 0.2, report)  # slow, but every facet finished
    report.timed_out = True
    assert not response_cache.whole(table_json, 0.01, 0.2, report)
    assert not response_cache.whole(table_json, 0.25, 0.2, facet_report.FacetReport())  # none ran: the time decides


@pytest.mark.parametrize("times_out", [False, True])
def test_a_table_json_is_kept_unless_its_facets_report_a_timeout(builds, tmp_path, monkeypatch, times_out):
    """Through Datasette's own table view and facet classes, on a served build: with every facet
    finished the JSON is kept (the second request a hit), however long it took; when a facet times
    out (Datasette's ColumnFacet gives up: simulated, as a small build answers in microseconds)
    the JSON, which does not say so, is rendered again."""
    from datasette.facets import ColumnFacet

    if times_out:
        async def gave_up(self):
            return [], [c["config"].get("column") or c["config"]["simple"] for c in self.get_configs()]
        monkeypatch.setattr(ColumnFacet, "facet_results", gave_up)
    served = tmp_path / "programs.db"
    shutil.copy(builds[0], served)
    ds = Datasette(**datasette_options(served, facet_time_limit_ms=1000))
    path = "/programs/program_care_levels.json?_facet=source&_facet=care_level"
    first, second = get_all(ds, [(path, {}), (path, {})])
    assert first.status_code == second.status_code == 200
    assert bool(first.json()["facet_results"]) != times_out
    assert (first.headers["x-directory-cache"], second.headers["x-directory-cache"]) == (
        ("miss", "miss") if times_out else ("miss", "hit"))


def test_an_answer_with_a_timed_out_facet_is_rendered_again(builds, tmp_path):
    """The cache's wrapper around a page that says a facet timed out: each request renders it."""
    served = tmp_path / "programs.db"
    shutil.copy(builds[0], served)
    ds = Datasette(**datasette_options(served))
    rendered = []

    async def table_page(scope, receive, send):
        rendered.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": b'<p class="facets-timed-out">These facets timed out: city</p>'})

    app = response_cache.asgi_wrapper(ds)(table_page)

    async def get():
        sent = []

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": "/programs/programs", "raw_path": b"/programs/programs",
                 "query_string": b"_facet=city", "headers": [(b"host", b"x")], "scheme": "http"}
        await app(scope, None, send)
        return dict(sent[0]["headers"])[b"x-directory-cache"]

    assert [asyncio.run(get()) for _ in range(2)] == [b"miss", b"miss"] and len(rendered) == 2
