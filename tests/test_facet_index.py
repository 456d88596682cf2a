"""The national array-filter pages answered from the index (plugins/array_filter.py, plugins/value_sets.py,
plugins/facets.py) answer exactly what Datasette's own JSON filter and facets answer: the same rows in
the same order, the same count, the same facet values and counts, on the Houston/Dallas build.

"Datasette's own" is the same page with `_where=1` added: a filter that changes no row, so the page is
no longer one of array filters only and Datasette filters by json_each, as before this index."""
from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from urllib.parse import urlencode

import pytest
from datasette.app import Datasette

from common import serving
from common.vocab import FACET_ARRAYS
from plugins import value_sets

ROOT = Path(__file__).resolve().parent.parent
FILTER_SETS = [
    {"care_levels__arraycontains": "iop"},
    {"care_levels_any__arraycontains": "residential", "payment__arraycontains": "Medicaid"},
    {"languages__arraycontains": "Spanish"},
    {"facility_type__arraycontains": "MH", "ages__arraycontains": "Adults", "medications__arraycontains": "Naltrexone"},
    {"care_levels__arraycontains": "no-such-level"},
]


async def fresh(db_path: Path) -> Datasette:
    ds = Datasette(**serving.datasette_options(db_path))
    await ds.invoke_startup()
    assert (await ds.client.get("/-/versions.json")).status_code == 200  # plugins/live_swap.py pins the build
    return ds


async def bitmaps_read(ds) -> value_sets.ValueSets:
    db = ds.get_database("programs")
    for _ in range(200):
        sets = value_sets.ready(db)
        if sets is not None:
            return sets
        await asyncio.sleep(0.05)
    raise AssertionError("the facet bitmaps were not read within 10 s")


async def page(ds, filters: dict, **more) -> dict:
    response = await ds.client.get("/programs/programs.json?" + urlencode({**filters, "_size": "max", **more}))
    assert response.status_code == 200, response.text[:500]
    return response.json()


def facet_counts(data: dict) -> dict:
    return {name: ([(r["value"], r["count"]) for r in facet["results"]], facet["truncated"])
            for name, facet in data["facet_results"].items()}


async def assert_same_as_datasettes(ds, filters: dict) -> dict:
    indexed, own = await page(ds, filters), await page(ds, filters, _where="1")
    assert "json_each" not in indexed["query"]["sql"] and "program_facet_values" in indexed["query"]["sql"]
    assert "json_each" in own["query"]["sql"]
    assert indexed["rows"] == own["rows"]
    assert indexed["filtered_table_rows_count"] == own["filtered_table_rows_count"] == len(own["rows"])
    assert indexed["human_description_en"] == own["human_description_en"]
    assert facet_counts(indexed) == facet_counts(own)
    return indexed


@pytest.mark.parametrize("filters", FILTER_SETS)
async def test_national_array_filter_pages_answer_as_datasettes_own_filter(built_db, filters):
    ds = await fresh(built_db)
    await bitmaps_read(ds)
    data = await assert_same_as_datasettes(ds, filters)
    if "no-such-level" not in str(filters):
        assert data["rows"] and data["facet_results"]["care_levels"]["results"]


@pytest.mark.parametrize("filters", FILTER_SETS[:2])
async def test_before_the_bitmaps_are_read_the_facets_count_from_the_index_in_sql(built_db, filters, monkeypatch):
    ds = await fresh(built_db)
    key = value_sets.build_key(ds.get_database("programs"))
    monkeypatch.setitem(value_sets._builds, key, value_sets.FAILED)  # as if they could not be read
    assert value_sets.ready(ds.get_database("programs")) is None
    await assert_same_as_datasettes(ds, filters)


async def test_the_bitmaps_are_read_once_per_build_from_the_servers_start(built_db, tmp_path):
    """Read at startup, before any request; the same file served again shares them; another file
    (a rebuild renamed into place is one) has its own."""
    ds = await fresh(built_db)
    first = await bitmaps_read(ds)
    assert await bitmaps_read(await fresh(built_db)) is first
    copy = tmp_path / "programs.db"
    copy.write_bytes(built_db.read_bytes())
    served_copy = await fresh(copy)
    # Begun by the startup hook: no page of the programs table has been asked for yet.
    assert value_sets.build_key(served_copy.get_database("programs")) in value_sets._builds
    other = await bitmaps_read(served_copy)
    assert other is not first and other.bits == first.bits


async def test_the_next_page_of_a_national_list_is_the_same_page_as_datasettes(built_db):
    ds = await fresh(built_db)
    first = await page(ds, {"care_levels__arraycontains": "iop"}, _size="5")
    assert first["next"]
    indexed = await page(ds, {"care_levels__arraycontains": "iop"}, _size="5", _next=first["next"])
    own = await page(ds, {"care_levels__arraycontains": "iop"}, _size="5", _next=first["next"], _where="1")
    assert "program_facet_values" in indexed["query"]["sql"] and "json_each" in own["query"]["sql"]
    assert indexed["rows"] == own["rows"] and indexed["rows"] != first["rows"]


async def test_beside_a_city_the_array_filter_stays_datasettes_json(built_db):
    """A city's index already narrows the rows to a few: listing every program of the value nationally
    would cost more than reading those rows' JSON."""
    ds = await fresh(built_db)
    data = await page(ds, {"city": "Houston", "care_levels__arraycontains": "iop"})
    assert "json_each" in data["query"]["sql"] and data["rows"]


def test_bitmaps_count_what_the_json_arrays_hold(built_db):
    """ValueSets.counts against json_each over the programs' own arrays, every value of every column."""
    conn = sqlite3.connect(f"file:{built_db}?immutable=1", uri=True)
    sets = value_sets.ValueSets.read(conn)
    for filters in ([], [("care_levels", "iop")], [("care_levels_any", "residential"), ("payment", "Medicaid")]):
        where = " and ".join(f"exists (select 1 from json_each(p.[{c}]) f where f.value = ?)"
                             for c, _ in filters) or "1"
        for column in FACET_ARRAYS:
            expected = conn.execute(
                f"select j.value, count(distinct p.id) as n from programs p, json_each(p.[{column}]) j "
                f"where j.type = 'text' and {where} group by j.value order by n desc, j.value",
                [v for _, v in filters]).fetchall()
            assert sets.counts(filters, column) == expected, (filters, column)
    assert sets.counts([("care_levels", "iop")], "payment") and not sets.counts([("care_levels", "nothing")], "payment")
    conn.close()


async def test_a_programs_table_without_the_index_is_filtered_by_its_json(tmp_path):
    path = tmp_path / "plain.db"
    conn = sqlite3.connect(path)
    conn.execute("create table programs (id text primary key, name text, care_levels text)")
    conn.executemany("insert into programs values (?, ?, ?)",
                     [("a", "A", '["iop", "php"]'), ("b", "B", '["php"]'), ("c", "C", '["iop"]')])
    conn.commit()
    conn.close()
    ds = Datasette([str(path)], plugins_dir=str(ROOT / "plugins"))
    await ds.invoke_startup()
    response = await ds.client.get("/plain/programs.json?care_levels__arraycontains=iop&_shape=array")
    assert response.status_code == 200, response.text[:500]
    assert [row["id"] for row in response.json()] == ["a", "c"]


@pytest.mark.parametrize("settings", [{}, {"base_url": "/dir/"}, {"force_https_urls": True}])
def test_the_values_facets_links_are_datasettes_own(settings):
    """AddedArgLinks gives the string Datasette's absolute_url(urls.path(path_with_added_args(...)))
    gives, for odd values, query strings and paths (a dot segment takes the long way)."""
    from datasette.utils import path_with_added_args
    from datasette.utils.asgi import Request

    from plugins.facets import AddedArgLinks

    ds = Datasette(settings=settings)
    values = ["iop", "Private health insurance", "a&b=c", "100%", "é ñ", "x+y", "/", "..", "", " ", "#?"]
    for path in ("/programs/programs.json", "/programs/programs", "/other/programs.csv", "/a/../programs/programs"):
        for query in ("", "care_levels__arraycontains=iop", "city=Houston&_facet=city&_size=0", "q=a%20b&x=&y=%2F..%2F"):
            request = Request.fake(f"{path}?{query}" if query else path)
            links = AddedArgLinks(ds, request)
            assert (links.origin is None) == (".." in path)  # the short way wherever it is the same
            for value in values:
                for key in ("payment__arraycontains", "languages__arraycontains"):
                    expected = ds.absolute_url(request, ds.urls.path(path_with_added_args(request, {key: value})))
                    assert links.added(key, value) == expected, (settings, path, query, value)


def without_where(value):
    """A page's facet entries with the `_where=1` of Datasette's own page taken out of their links."""
    if isinstance(value, dict):
        return {key: without_where(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_where(item) for item in value]
    return value.replace("&_where=1", "").replace("_where=1&", "") if isinstance(value, str) else value


@pytest.mark.parametrize("filters, size", [
    ({"care_levels__arraycontains": "outpatient"}, "50"),  # 37% of the programs: read in name order
    ({"care_levels__arraycontains": "iop"}, "5"),
    ({"care_levels_any__arraycontains": "residential", "payment__arraycontains": "Medicaid"}, "3"),
    ({"languages__arraycontains": "Spanish"}, "50"),
])
async def test_column_facets_from_memory_and_rows_in_name_order_are_datasettes_own(built_db, filters, size,
                                                                                   monkeypatch):
    """plugins/column_facets.py: `city` and `telehealth` counted from the bitmaps (their values, counts,
    order, labels and links as Datasette's ColumnFacet gives them), and the rows read by walking the
    name index where that reads fewer rows: the same rows in the same order as Datasette's own page."""
    ds = await fresh(built_db)
    sets = await bitmaps_read(ds)
    counted = []
    real = value_sets.ValueSets.column_counts
    monkeypatch.setattr(value_sets.ValueSets, "column_counts",
                        lambda self, *args: counted.append(args[1]) or real(self, *args))
    indexed = await assert_same_as_datasettes_sized(ds, filters, size)
    assert sorted(counted) == ["city", "telehealth"]
    share = sets.count([(key.split("__")[0], value) for key, value in filters.items()]) / sets.programs
    assert share > 0
    assert ("likelihood(" in indexed["query"]["sql"]) == (share >= ((int(size) + 1) / sets.programs) ** 0.5)


async def assert_same_as_datasettes_sized(ds, filters: dict, size: str) -> dict:
    indexed, own = await page(ds, filters, _size=size), await page(ds, filters, _size=size, _where="1")
    assert "json_each" in own["query"]["sql"] and "program_facet_values" in indexed["query"]["sql"]
    assert indexed["rows"] == own["rows"] and indexed["filtered_table_rows_count"] == own["filtered_table_rows_count"]
    assert indexed["facet_results"] == without_where(own["facet_results"])
    assert indexed["next"] == own["next"]
    return indexed


async def test_a_common_level_is_read_in_name_order_and_a_rare_value_is_not(built_db):
    """The walk reads about size / share rows; the other plan sorts share x programs."""
    ds = await fresh(built_db)
    sets = await bitmaps_read(ds)
    (common, many), *_, (rare, few) = sets.counts([], "care_levels")
    assert many / sets.programs >= (11 / sets.programs) ** 0.5 > few / sets.programs > 0, (many, few)
    listed = await page(ds, {"care_levels__arraycontains": common}, _size="10")
    assert "likelihood(" in listed["query"]["sql"] and len(listed["rows"]) == 10
    seldom = await page(ds, {"care_levels__arraycontains": rare}, _size="10")
    assert "likelihood(" not in seldom["query"]["sql"] and len(seldom["rows"]) == min(10, few)


@pytest.mark.parametrize("more", [
    {"_sort": "city"}, {"_sort_desc": "service_count"},  # another order: the name index does not help
    {"_facet": "state"},  # a column facet the bitmaps did not read: Datasette's SQL facet runs
    {"_facet_date": "first_seen"},
])
async def test_a_page_with_an_sql_facet_or_another_order_keeps_sqlites_own_plan(built_db, more):
    """likelihood() makes the `is not null` plans of SQL facets go wrong (a city index range scan):
    it is written only where no such facet runs and rows are in name order."""
    ds = await fresh(built_db)
    await bitmaps_read(ds)
    data = await page(ds, {"care_levels__arraycontains": "outpatient"}, _size="50", **more)
    assert "likelihood(" not in data["query"]["sql"] and data["rows"]
    own = await page(ds, {"care_levels__arraycontains": "outpatient"}, _size="50", _where="1", **more)
    assert data["rows"] == own["rows"]
    assert data["facet_results"] == without_where(own["facet_results"])


def test_column_counts_are_sqls_group_by_at_any_limit(built_db):
    """ValueSets.column_counts against Datasette's column facet SQL (nulls left out, most first, then by
    value), whole and cut at small limits where counts tie."""
    conn = sqlite3.connect(f"file:{built_db}?immutable=1", uri=True)
    sets = value_sets.ValueSets.read(conn, ("city", "telehealth", "no_such_column"))
    assert set(sets.columns) == {"city", "telehealth"}
    for filters in ([("care_levels", "iop")], [("care_levels_any", "residential"), ("payment", "Medicaid")]):
        where = " and ".join(f"exists (select 1 from json_each(p.[{c}]) f where f.value = ?)" for c, _ in filters)
        for column in ("city", "telehealth"):
            for limit in (1, 3, 7, 31, 10_000):
                expected = conn.execute(
                    f"select [{column}] as value, count(*) as n from programs p where {where} and [{column}] is not null "
                    f"group by [{column}] order by n desc, value limit {limit}", [v for _, v in filters]).fetchall()
                assert sets.column_counts(filters, column, limit) == expected, (filters, column, limit)
    assert sets.column_counts([("care_levels", "iop")], "state", 5) is None
    # The whole table's counts are kept once per build: a small limit first does not cut a larger one.
    for limit in (2, 31, 10_000):
        expected = conn.execute("select city, count(*) as n from programs where city is not null group by city "
                                f"order by n desc, city limit {limit}").fetchall()
        assert sets.column_counts([], "city", limit) == expected, limit
    conn.close()


@pytest.mark.parametrize("more", [{"_size": "0"}, {"_size": "5"}, {"_size": "5", "_facet": "telehealth"}])
async def test_the_whole_tables_column_facets_from_memory_are_datasettes_own(built_db, more, monkeypatch):
    """The national facets page (no filter): `city` and `telehealth` counted once from the bitmaps'
    columns, as Datasette's SQL counts them on the same page with `_where=1`."""
    ds = await fresh(built_db)
    await bitmaps_read(ds)
    counted = []
    real = value_sets.ValueSets.column_counts
    monkeypatch.setattr(value_sets.ValueSets, "column_counts",
                        lambda self, *args: counted.append(args[:2]) or real(self, *args))
    whole, own = await page(ds, {}, **more), await page(ds, {}, _where="1", **more)
    assert {(tuple(filters), column) for filters, column in counted} == {((), "city"), ((), "telehealth")}
    assert whole["rows"] == own["rows"] and whole["filtered_table_rows_count"] == own["filtered_table_rows_count"]
    assert whole["facet_results"] == without_where(own["facet_results"])
    assert whole["facet_results"]["city"]["results"][0]["count"] > 1
