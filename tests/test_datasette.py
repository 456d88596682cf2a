"""The published site: metadata.yml, templates/ and the JSON API, asked through Datasette's own
test client (no network), configured as `make serve` runs it (common.serving: the project root as
Datasette's configuration directory), over the real Houston/Dallas build; and under a base_url,
and with the database file named otherwise."""
from __future__ import annotations

import json
import re
import shutil
import sqlite3
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import pytest

from tests.support import haversine_miles, served
import sqlite_utils
import yaml
from datasette.app import Datasette
from datasette.utils import PrefixedUrlString

from common import serving
from pipelines import schema

ROOT = Path(__file__).resolve().parent.parent
CRISIS_LINKS = ('href="tel:988"', 'href="tel:+1-800-662-4357"')
# A real program of the Houston/Dallas export whose name shares words with other programs:
# the table page lists the matches by name, the `search` canned query by relevance.
REAL_NAME = "Eating Recovery Center"
BASE_URL = "/dir/"


def load_metadata() -> dict:
    return yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))


def make_datasette(db_path: Path, **more_settings) -> Datasette:
    """Datasette as `make serve` starts it (immutable; settings.json, metadata.yml, plugins/,
    templates/ of the project root), with more settings if given."""
    return Datasette(**serving.datasette_options(db_path, **more_settings))


@pytest.fixture(scope="session")
async def ds(built_db):
    datasette = make_datasette(built_db)
    await datasette.invoke_startup()
    return datasette


@pytest.fixture(scope="session")
def sql(built_db):
    """Run a query straight against the built database, as a researcher would with sqlite3."""
    conn = sqlite3.connect(built_db)

    def run(query: str, params=()):
        return conn.execute(query, params).fetchall()

    yield run
    conn.close()


async def get_json(ds, path: str, **params):
    response = await ds.client.get(f"{path}?{urlencode(params)}" if params else path)
    assert response.status_code == 200, response.text[:500]
    return response.json()


async def get_html(ds, path: str) -> str:
    response = await ds.client.get(path)
    assert response.status_code == 200, response.text[:500]
    return response.text


class _Page(HTMLParser):
    """Links, forms and labels of a page, enough to check them without a browser."""

    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.forms: list[dict] = []
        self.labels: dict[str, str] = {}
        self._a = None
        self._label = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "href" in attrs:
            self._a = [attrs["href"], ""]
        elif tag == "form":
            self.forms.append({"action": attrs.get("action"), "method": attrs.get("method"), "inputs": []})
        elif tag in ("input", "select") and self.forms:
            self.forms[-1]["inputs"].append(attrs)
        elif tag == "label" and "for" in attrs:
            self._label = [attrs["for"], ""]

    def handle_data(self, data):
        if self._a:
            self._a[1] += data
        if self._label:
            self._label[1] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._a:
            self.links.append((self._a[0], " ".join(self._a[1].split())))
            self._a = None
        elif tag == "label" and self._label:
            self.labels[self._label[0]] = " ".join(self._label[1].split())
            self._label = None


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


# --- Filters and facets agree with the database --------------------------------------------

async def test_houston_iop_filter_matches_the_evidence_table_and_the_raw_oit_codes(ds, sql):
    rows = await get_json(
        ds, "/programs/programs.json",
        city="Houston", care_levels__arraycontains="iop", _shape="array", _size="max",
    )
    assert rows, "no Houston IOPs: the filter or the build is broken"
    assert all(row["city"] == "Houston" for row in rows)
    assert all("iop" in json.loads(row["care_levels"]) for row in rows)

    evidence = {pid for (pid,) in sql(
        "select distinct pcl.program_id from program_care_levels pcl"
        " join programs p on p.id = pcl.program_id"
        " where p.city = 'Houston' and pcl.care_level = 'iop'"
    )}
    assert {row["id"] for row in rows} == evidence

    # Back to what SAMHSA published: OIT among a listing's own service codes. Placeholder rows
    # (BUPREN/OTP with every flag set) list OIT too and must not count.
    raw_oit = "select distinct l.program_id from listings l join programs p on p.id = l.program_id," \
              " json_each(l.raw, '$.service_codes') code" \
              " where p.city = 'Houston' and code.value = 'OIT' {placeholders}"
    real = {pid for (pid,) in sql(raw_oit.format(placeholders="and l.placeholder = 0"))}
    with_placeholders = {pid for (pid,) in sql(raw_oit.format(placeholders=""))}
    assert len(rows) == len(real)
    assert {row["id"] for row in rows} == real
    assert len(with_placeholders) > len(real)


async def test_care_level_facet_counts_programs_as_sqlite_does(ds, sql):
    data = await get_json(ds, "/programs/programs.json", _size="0")
    facet = data["facet_results"]["care_levels"]
    assert facet["type"] == "values"  # counted from program_facet_values, not JSON
    served = {r["value"]: r["count"] for r in facet["results"]}
    # A program merged from two listings has two evidence rows per level: count programs.
    expected = dict(sql(
        "select care_level, count(distinct program_id) from program_care_levels group by care_level"
    ))
    assert served == expected
    assert set(served) <= {"iop", "php", "outpatient", "residential", "inpatient", "detox"}
    assert served["iop"] > 0


async def test_care_level_facet_within_a_city_matches_sqlite(ds, sql):
    data = await get_json(ds, "/programs/programs.json", city="Dallas", _facet_array="care_levels", _size="0")
    served = {r["value"]: r["count"] for r in data["facet_results"]["care_levels"]["results"]}
    expected = dict(sql(
        "select j.value, count(*) from programs, json_each(programs.care_levels) j"
        " where city = 'Dallas' group by j.value"
    ))
    assert served == expected


@pytest.mark.parametrize("facet_param", ["_facet_array", "_facet_values"])
async def test_asking_for_the_array_facet_of_an_indexed_column_counts_from_the_index(ds, sql, facet_param):
    """Datasette's own `_facet_array=` URL still works on the programs table, and is answered
    from program_facet_values: the same counts as json_each, once, without scanning JSON."""
    data = await get_json(ds, "/programs/programs.json", _size="0", **{facet_param: "payment"})
    results = data["facet_results"]
    assert not any(name.endswith("_2") for name in results)  # metadata's facet and the URL's are one
    assert results["payment"]["type"] == "values"
    expected = dict(sql("select j.value, count(*) from programs, json_each(programs.payment) j group by j.value"))
    served = {r["value"]: r["count"] for r in results["payment"]["results"]}
    assert served == {v: expected[v] for v in served} and len(served) == min(len(expected), len(served)) > 3


@pytest.mark.parametrize("filters", [
    {"care_levels__arraycontains": "iop"},
    {"care_levels__arraycontains": "iop", "_search": "Houston"},
    {"care_levels__arraycontains": "iop", "payment__arraycontains": "Medicaid"},
    {"care_levels__arraycontains": "residential", "city": "Dallas"},
    {"care_levels__arraycontains": "no-such-level"},
])
async def test_array_filters_give_exactly_the_json_matches(ds, sql, filters):
    """The index prefilter plugins/facets.py adds to national array filters changes no result."""
    data = await get_json(ds, "/programs/programs.json", _size="max", _col="id", **filters)
    where = " and ".join(
        f"exists (select 1 from json_each(programs.[{k.split('__')[0]}]) j where j.value = ?)" if "__" in k
        else "programs.rowid in (select rowid from programs_fts where programs_fts match ?)" if k == "_search"
        else f"[{k}] = ?"
        for k in filters)
    expected = sorted(r[0] for r in sql(f"select id from programs where {where}", tuple(filters.values())))
    assert data["filtered_table_rows_count"] == len(expected)
    assert sorted(r[0] if isinstance(r, list) else r["id"] for r in data["rows"]) == expected
    if "no-such" not in str(filters):
        assert expected
    # Its facets too (with array filters only, counted from program_facet_values alone).
    for facet in ("payment", "care_levels", "languages"):
        served = {r["value"]: r["count"] for r in data["facet_results"][facet]["results"]}
        counted = dict(sql(f"select j.value, count(*) from programs, json_each(programs.[{facet}]) j where {where} "
                           "group by j.value", tuple(filters.values())))
        assert served == {v: counted[v] for v in served} and len(served) == min(len(counted), 30)


async def test_array_facet_of_other_columns_is_still_datasettes(ds):
    data = await get_json(ds, "/programs/programs.json", _size="0", _facet_array="sources")
    assert data["facet_results"]["sources"]["type"] == "array"


async def test_configured_facets_are_served(ds, sql):
    data = await get_json(ds, "/programs/programs.json", _size="0")
    results = data["facet_results"]
    assert {"city", "care_levels", "payment", "facility_type"} <= set(results)
    assert {r["value"]: r["count"] for r in results["city"]["results"]} == dict(
        sql("select city, count(*) from programs group by city")
    )
    facility = {r["value"]: r["count"] for r in results["facility_type"]["results"]}
    assert facility["BUPREN"] == sql(
        "select count(*) from programs, json_each(facility_type) j where j.value = 'BUPREN'"
    )[0][0]
    payment = {r["value"]: r["count"] for r in results["payment"]["results"]}
    assert payment["Medicaid"] == sql(
        "select count(*) from programs, json_each(payment) j where j.value = 'Medicaid'"
    )[0][0]


# --- Full-text search ------------------------------------------------------------------------

async def test_table_search_finds_a_program_by_name(ds, sql):
    (program_id,) = sql("select id from programs where name = ?", [REAL_NAME])[0]
    rows = await get_json(ds, "/programs/programs.json", _search=REAL_NAME, _shape="array", _size="max")
    assert program_id in [row["id"] for row in rows]


async def test_search_query_ranks_the_named_program_first(ds, sql):
    (program_id,) = sql("select id from programs where name = ?", [REAL_NAME])[0]
    ranked = await get_json(ds, "/programs/search.json", q=REAL_NAME, _shape="array")
    assert len(ranked) > 1, "pick a name that shares words with other programs"
    assert ranked[0]["id"] == program_id
    # The table page orders the same matches by name, so the ranking is the canned query's doing.
    by_name = await get_json(ds, "/programs/programs.json", _search=REAL_NAME, _shape="array", _size="max")
    assert {r["id"] for r in by_name} == {r["id"] for r in ranked}
    assert by_name[0]["id"] != program_id


@pytest.mark.parametrize("q", ["", "   ", '"', "*"])
async def test_search_query_survives_blank_and_odd_input(ds, q):
    rows = await get_json(ds, "/programs/search.json", q=q, _shape="array")
    assert rows == []


async def test_search_query_escapes_fts_syntax(ds, sql):
    # "OR" and a stray quote would be FTS5 syntax errors unescaped; escape_fts makes them words.
    rows = await get_json(ds, "/programs/search.json", q='recovery "center', _shape="array")
    assert any(r["name"] == REAL_NAME for r in rows)


async def test_city_and_level_query_matches_the_evidence_table(ds, sql):
    for level in ("iop", "residential"):
        rows = await get_json(ds, "/programs/iop_in_city.json", city="houston", level=level, _shape="array")
        expected = {pid for (pid,) in sql(
            "select distinct program_id from program_care_levels pcl join programs p on p.id = pcl.program_id"
            " where p.city = 'Houston' and care_level = ?", [level]
        )}
        assert expected and {r["id"] for r in rows} == expected
    blank_level = await get_json(ds, "/programs/iop_in_city.json", city="Houston", level="", _shape="array")
    iop = await get_json(ds, "/programs/iop_in_city.json", city="Houston", level="iop", _shape="array")
    assert blank_level == iop


# --- Metadata --------------------------------------------------------------------------------

def _documented_tables(db_path: Path) -> dict[str, list[str]]:
    """Every table of the built database and its columns; FTS5 shadow tables and SQLite's own
    (sqlite_stat1, written by ANALYZE) aside."""
    db = sqlite_utils.Database(db_path)
    shadow = {f"programs_fts_{suffix}" for suffix in ("data", "idx", "docsize", "config")}
    return {name: db[name].columns_dict.keys() for name in db.table_names() if name not in shadow and not name.startswith("sqlite_")}


async def test_every_table_and_column_is_described(ds, built_db):
    served = await get_json(ds, "/-/metadata.json")
    tables = served["databases"]["programs"]["tables"]
    expected = _documented_tables(built_db)
    assert set(expected) >= {
        "programs", "program_care_levels", "program_services", "care_levels", "care_level_codes",
        "service_codes", "facility_types", "listings", "rejects", "programs_fts",
    }
    for table, columns in expected.items():
        assert table in tables, f"table {table} has no metadata"
        assert str(tables[table].get("description", "")).strip(), f"table {table} has no description"
        described = tables[table].get("columns") or {}
        missing = [c for c in columns if not str(described.get(c, "")).strip()]
        assert not missing, f"{table}: no description for {missing}"
        extra = set(described) - set(columns)
        assert not extra, f"{table}: descriptions of columns that do not exist: {extra}"
    assert set(tables["programs"]["columns"]) == set(schema.PROGRAMS)


async def test_site_metadata_names_license_source_and_crisis_lines(ds):
    served = await get_json(ds, "/-/metadata.json")
    assert served["title"]
    assert served["license"] == "Public domain (U.S. government work)" and served["license_url"]
    assert served["source"] == "SAMHSA FindTreatment.gov"
    assert served["source_url"] == "https://findtreatment.gov/"
    for link in CRISIS_LINKS:
        assert link in served["description_html"]


async def test_programs_table_configuration_is_usable(ds, built_db):
    programs = load_metadata()["databases"]["programs"]["tables"]["programs"]
    columns = set(_documented_tables(built_db)["programs"])
    assert programs["label_column"] == "name"
    assert set(programs["sortable_columns"]) <= columns
    assert programs["sort"] in programs["sortable_columns"]
    for facet in programs["facets"]:
        column = facet if isinstance(facet, str) else next(iter(facet.values()))
        assert column in columns
    assert {"values": "care_levels"} in programs["facets"]
    # Sorting by a configured column works; by another one is refused.
    rows = await get_json(ds, "/programs/programs.json", _sort_desc="service_count", _shape="array", _size="3")
    assert rows[0]["service_count"] >= rows[-1]["service_count"]
    response = await ds.client.get("/programs/programs.json?_sort=phone")
    # Datasette 0.65 answers 500, not 400; the page links only the sortable columns.
    assert response.status_code != 200 and "Cannot sort table by phone" in response.json()["error"]
    care_levels = load_metadata()["databases"]["programs"]["tables"]["care_levels"]
    assert care_levels["label_column"] == "label"


async def test_foreign_keys_are_labelled(ds, sql):
    data = await get_json(ds, "/programs/program_care_levels.json", _labels="on", _shape="array", _size="1")
    row = data[0]
    (name,) = sql("select name from programs where id = ?", [row["program_id"]["value"]])[0]
    assert row["program_id"]["label"] == name
    (label,) = sql("select label from care_levels where slug = ?", [row["care_level"]["value"]])[0]
    assert row["care_level"]["label"] == label


async def test_fts_table_is_hidden_from_the_database_page(ds):
    data = await get_json(ds, "/programs.json")
    visible = {t["name"] for t in data["tables"] if not t["hidden"]}
    assert "programs" in visible and "programs_fts" not in visible


# --- Pages -----------------------------------------------------------------------------------

async def test_index_page_leads_with_crisis_lines_and_search(ds):
    html = await get_html(ds, "/")
    for link in CRISIS_LINKS:
        assert link in html
    assert "988" in html and "1-800-662-4357" in html
    # The crisis lines come before anything else in the page's content.
    assert html.index('href="tel:988"') < html.index('<section class="content">')
    page = parse(html)
    # One search for a person (issue 12): everyday words and a place, to /find, never the raw table.
    (search,) = [f for f in page.forms if any(i.get("name") == "q" for i in f["inputs"])]
    assert search["action"] == "/find" and search["method"] == "get"
    for name in ("q", "near"):
        (field,) = [i for i in search["inputs"] if i.get("name") == name]
        assert page.labels.get(field["id"]), f"the {name} box has no label"
    assert not any(i.get("name") == "_search" for f in page.forms for i in f["inputs"])
    # A blank search is answered with a message for the person, not an error.
    blank = await ds.client.get("/find?q=&near=")
    assert blank.status_code == 200 and 'id="find-error"' in blank.text
    hrefs = dict(page.links)
    # Quick searches in each covered area (from the coverage table, not fixed to the demo's), on /find.
    assert hrefs["/find?near=Houston%2C+TX&miles=25&level=iop"] == "Intensive outpatient programs in Houston, TX"
    assert "/find?near=Dallas%2C+TX&miles=25&level=iop" in hrefs
    assert not any(h.startswith("/programs/programs?") for h in hrefs)
    # The search goes to /find with the place, the distance, the level and the payment.
    assert {i.get("name") for i in search["inputs"]} >= {"near", "miles", "level", "payment"}
    assert "/programs" in hrefs  # the database page, for researchers
    assert any(h.startswith("/programs/programs.json") for h in hrefs)


async def test_every_link_of_the_index_page_works(ds):
    page = parse(await get_html(ds, "/"))
    internal = [href for href, _ in page.links if href.startswith("/")]
    assert len(internal) > 10
    for href in internal:
        response = await ds.client.get(href)
        assert response.status_code == 200, href


async def test_index_quick_link_counts_match_sqlite(ds, sql):
    """The quick link searches the covered area on /find: the IOPs within its radius of its centre."""
    page = parse(await get_html(ds, "/"))
    (href,) = [h for h, text in page.links if text == "Intensive outpatient programs in Dallas, TX"]
    html = await get_html(ds, href)
    ((lat, lon, miles),) = sql("select latitude, longitude, miles from coverage where area = 'Dallas, TX'")
    iop = sql("select p.latitude, p.longitude from programs p where p.status = 'listed' and p.latitude is not null"
              " and p.id in (select program_id from program_care_levels where care_level = 'iop')")
    expected = sum(haversine_miles(lat, lon, a, b) <= miles for a, b in iop)
    shown = int(re.search(r'id="result-summary"[^>]*><strong>(\d+) programs?', html).group(1))
    assert shown == expected > 0


@pytest.mark.parametrize("path", [
    "/programs",
    "/programs/programs?city=Houston&care_levels__arraycontains=iop",
    "/programs/care_levels",
    "/programs/search?q=recovery",
    "/programs/iop_in_city?city=Dallas&level=iop",
    "/-/metadata",
])
async def test_crisis_lines_are_on_every_page(ds, path):
    html = await get_html(ds, path)
    for link in CRISIS_LINKS:
        assert link in html, path
    assert '<html lang="en">' in html


async def test_crisis_lines_are_on_a_program_page_and_an_error_page(ds, sql):
    (program_id,) = sql("select id from programs where name = ?", [REAL_NAME])[0]
    html = await get_html(ds, f"/programs/programs/{program_id}")
    assert REAL_NAME in html and all(link in html for link in CRISIS_LINKS)
    response = await ds.client.get("/programs/no_such_table")
    assert response.status_code == 404
    assert all(link in response.text for link in CRISIS_LINKS)


async def test_table_page_keeps_column_descriptions_folded_above_the_rows(ds):
    html = await get_html(ds, "/programs/programs?city=Houston")
    details = html.index('<details class="column-descriptions-details">')
    assert details < html.index('<table class="rows-and-columns">')
    assert html.count('<dl class="column-descriptions">') == 1
    assert "<dt>care_levels</dt>" in html and "iop (intensive outpatient" in html


async def test_canned_query_page_is_titled_by_its_title_not_its_sql(ds):
    html = await get_html(ds, "/programs/search?q=recovery")
    title = html[html.index("<title>") + 7:html.index("</title>")]
    assert "select" not in title.lower()
    assert "Search programs" in title


async def test_scraped_text_is_escaped(tmp_path):
    """A listing is untrusted text: a name with markup must reach the page as text."""
    db_path = tmp_path / "programs.db"
    db = sqlite_utils.Database(db_path)
    schema.create(db)
    evil = '<script>alert("x")</script> Recovery <b>House</b>'
    db["programs"].insert({
        "id": "pevil", "name": evil, "address": '1 Main St <img src=x onerror=alert(1)>',
        "city": "Houston", "state": "TX", "facility_type": '["SU"]', "care_levels": '["iop"]',
        "payment": '["<i>Medicaid</i>"]', "services_text": "Intensive outpatient treatment",
        "sources": '["test"]', "first_seen": "2025-01-01T00:00:00Z", "last_seen": "2025-01-01T00:00:00Z",
        "status": "listed",
    })
    db["care_levels"].insert({"slug": "iop", "label": "Intensive outpatient", "asam_level": "2.1",
                              "sort_order": 1, "description": "x"})
    db["program_care_levels"].insert({"program_id": "pevil", "care_level": "iop", "source": "SAMHSA service codes",
                                      "evidence": "OIT", "source_url": "x", "source_ref": "x", "seen": "x"})
    schema.index(db)
    db.close()
    datasette = make_datasette(db_path)
    for path in [
        "/programs/programs",
        "/programs/programs?_search=recovery",
        "/programs/programs/pevil",
        "/programs/search?q=recovery",
        "/programs/iop_in_city?city=Houston&level=iop",
        "/programs/program_care_levels",
    ]:
        response = await datasette.client.get(path)
        assert response.status_code == 200, path
        html = response.text
        assert "<script>alert" not in html, path
        assert "<img src=x" not in html and "<i>Medicaid" not in html, path
        assert "&lt;script&gt;alert" in html, path


# --- The real server, as `make serve` starts it ----------------------------------------------

def get_url(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_make_serve_starts_with_the_settings_of_settings_json(server, ds):
    status, body = get_url(f"{server}/-/versions.json")
    assert status == 200 and json.loads(body)["datasette"]["version"].startswith("0.65.")
    status, html = get_url(f"{server}/")
    assert status == 200 and all(link in html for link in CRISIS_LINKS) and 'name="q"' in html
    query = urlencode({"city": "Houston", "care_levels__arraycontains": "iop", "_shape": "array", "_size": "max"})
    status, body = get_url(f"{server}/programs/programs.json?{query}")
    rows = json.loads(body)
    assert rows and all(r["city"] == "Houston" for r in rows)
    # One place for the settings: what `make serve` applies and what the tests' Datasette applies
    # are both settings.json, read by Datasette's configuration-directory mode and common.serving.
    written = json.loads((ROOT / "settings.json").read_text())
    assert written["suggest_facets"] is False and written["sql_time_limit_ms"] == 1000
    applied = json.loads(get_url(f"{server}/-/settings.json")[1])
    assert {name: applied[name] for name in written} == written
    assert {name: ds.setting(name) for name in written} == written


def test_settings_added_for_one_use_keep_those_of_settings_json(built_db):
    """Datasette 0.65 drops a configuration directory's settings.json when given any setting:
    common.serving merges them instead."""
    options = serving.datasette_options(built_db, base_url=BASE_URL, sql_time_limit_ms=5000)
    written = json.loads((ROOT / "settings.json").read_text())
    assert options["settings"] == {**written, "base_url": BASE_URL, "sql_time_limit_ms": 5000}
    datasette = Datasette(**options)
    assert datasette.setting("suggest_facets") is False and datasette.setting("base_url") == BASE_URL
    assert datasette.plugins_dir == str(ROOT / "plugins") and datasette.template_dir == str(ROOT / "templates")


# --- Under a base_url ------------------------------------------------------------------------

class _Urls(HTMLParser):
    """Every href, src and action of a page."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("href", "src", "action") and value is not None]


def page_urls(html: str) -> list[str]:
    parser = _Urls()
    parser.feed(html)
    return parser.urls


def internal(url: str) -> bool:
    """A URL of the server itself (a path, or an absolute URL of the test client's host)."""
    parts = urlsplit(url)
    return not url.startswith("#") and parts.scheme in ("", "http") and parts.netloc in ("", "localhost")


@pytest.fixture(scope="session")
async def ds_under_dir(built_db):
    datasette = make_datasette(built_db, base_url=BASE_URL)
    await datasette.invoke_startup()
    return datasette


@pytest.mark.parametrize("page", ["/", "/find?near=77002&miles=10&level=iop", "/find?near=El+Paso%2C+TX&miles=5",
                                  "program"])
async def test_every_link_of_the_pages_for_a_person_starts_with_the_base_url(ds_under_dir, sql, page):
    if page == "program":
        (program_id,) = sql("select id from programs where name = ?", [REAL_NAME])[0]
        page = f"/program/{program_id}"
    html = await get_html(ds_under_dir, page)  # the client puts base_url before the path
    urls = [u for u in page_urls(html) if internal(u)]
    assert {f"{BASE_URL}-/static/app.css", BASE_URL, f"{BASE_URL}find"} <= {u.split("?")[0] for u in urls}, urls
    outside = [u for u in urls if not urlsplit(u).path.startswith(BASE_URL)]
    assert outside == [], page
    for url in dict.fromkeys(urls):
        path = urlsplit(url)._replace(scheme="", netloc="").geturl()
        response = await ds_under_dir.client.get(PrefixedUrlString(path))  # as it is, not prefixed again
        assert response.status_code == 200, (page, url)


@pytest.mark.parametrize("path", ["/programs/programs?city=Houston&_facet_values=languages", "/programs",
                                  "/programs/nearby?lat=29.76&lon=-95.37&miles=5&level=iop&payment=",
                                  "/programs?sql=select+id,+name+from+programs+limit+3", "program-row"])
async def test_datasettes_own_pages_link_under_the_base_url_once(ds_under_dir, sql, path):
    """Datasette 0.65 builds sort, facet, JSON and next-page links from the request's path; a
    request that arrives with base_url in it (no proxy in between) must not get it twice."""
    if path == "program-row":
        (program_id,) = sql("select id from programs where name = ?", [REAL_NAME])[0]
        path = f"/programs/programs/{program_id}"
    response = await ds_under_dir.client.get(path)
    assert response.status_code == 200
    here = f"http://localhost{BASE_URL}{path.lstrip('/')}"  # a relative link (metadata.yml's) from where it is
    urls = [urljoin(here, u) for u in page_urls(response.text) if internal(u)] + [response.headers["link"].split(";")[0]]
    assert len(urls) > 3
    assert [u for u in urls if not urlsplit(u).path.startswith(BASE_URL) or BASE_URL * 2 in u
            or urlsplit(u).path.startswith(BASE_URL + BASE_URL.strip("/") + "/")] == [], path


async def test_redirects_keep_the_base_url(ds_under_dir):
    response = await ds_under_dir.client.get("/programs/programs/")  # a trailing slash is taken off
    assert response.status_code == 302 and response.headers["location"] == f"{BASE_URL}programs/programs"


async def test_the_values_facet_links_keep_the_base_url(ds_under_dir):
    data = await get_json(ds_under_dir, "/programs/programs.json", _facet_values="populations", city="Houston")
    facet = data["facet_results"]["populations"]
    urls = [facet["toggle_url"]] + [r["toggle_url"] for r in facet["results"]]
    assert all(urlsplit(u).path == f"{BASE_URL}programs/programs.json" for u in urls), urls


# --- A database file of another name -----------------------------------------------------------

@pytest.fixture(scope="session")
def other_db(built_db, tmp_path_factory) -> Path:
    """The same build as a file Datasette names `other` (after the file's stem)."""
    path = tmp_path_factory.mktemp("other") / "other.db"
    shutil.copyfile(built_db, path)
    return path


@pytest.fixture(scope="session")
async def ds_other(other_db):
    datasette = make_datasette(other_db)
    await datasette.invoke_startup()
    return datasette


def card_ids(html: str) -> list[str]:
    return re.findall(r'<li class="card" data-program-id="([^"]+)"', html)


async def test_a_database_named_otherwise_has_the_same_pages(ds, ds_other, sql):
    home = parse(await get_html(ds_other, "/"))
    hrefs = dict(home.links)
    assert hrefs["/other/programs"] == "All programs"
    assert hrefs["/find?near=Houston%2C+TX&miles=25&level=iop"] == "Intensive outpatient programs in Houston, TX"
    assert "/other" in hrefs and not any(h.startswith("/programs") for h in hrefs)
    find = "/find?near=77002&miles=10&level=iop"
    ids = card_ids(await get_html(ds_other, find))
    assert ids and ids == card_ids(await get_html(ds, find))
    program = await get_html(ds_other, f"/program/{ids[0]}")
    assert f'href="/other/programs/{ids[0]}"' in program and f'href="/other/programs/{ids[0]}.json"' in program
    for href, _ in parse(program).links + home.links:
        if href.startswith("/"):
            assert (await ds_other.client.get(href)).status_code == 200, href


async def test_a_database_named_otherwise_keeps_the_metadata_of_programs(ds, ds_other):
    """metadata.yml's block for `programs` (canned queries, facets, descriptions, hidden tables)
    applies to the directory's database whatever its file is called."""
    params = {"lat": 29.7594, "lon": -95.3594, "miles": 10, "level": "iop", "payment": "", "_shape": "array"}
    rows = await get_json(ds_other, "/other/nearby.json", **params)
    assert rows and rows == await get_json(ds, "/programs/nearby.json", **params)
    assert await get_json(ds_other, "/other/search.json", q=REAL_NAME, _shape="array")
    data = await get_json(ds_other, "/other/programs.json", _size="0")
    assert data["facet_results"]["care_levels"]["type"] == "values"
    original = (await get_json(ds, "/programs/programs.json", _size="0"))["facet_results"]
    assert set(data["facet_results"]) == set(original)
    counts = {r["value"]: r["count"] for r in data["facet_results"]["care_levels"]["results"]}
    assert counts == {r["value"]: r["count"] for r in original["care_levels"]["results"]} and counts["iop"] > 0
    served_metadata = (await get_json(ds_other, "/-/metadata.json"))["databases"]["other"]
    written = load_metadata()["databases"]["programs"]
    # (Datasette writes inherited keys such as `source` into the blocks it has read: compare what was written.)
    for table, block in written["tables"].items():
        assert {key: served_metadata["tables"][table].get(key) for key in block} == block, table
    assert served_metadata["description"] == written["description"]
    assert {name: q["sql"] for name, q in served_metadata["queries"].items()} == {
        name: q["sql"] for name, q in written["queries"].items()}
    tables = {t["name"]: t["hidden"] for t in (await get_json(ds_other, "/other.json"))["tables"]}
    assert tables["programs"] is False and tables["programs_fts"] is True


def test_make_serve_serves_a_database_named_otherwise(other_db, sql):
    (program_id,) = sql("select id from programs where name = ?", [REAL_NAME])[0]
    with served(other_db) as base:
        for path in ("/", "/find?near=77002&miles=10&level=iop", f"/program/{program_id}",
                     "/other/nearby.json?lat=29.76&lon=-95.36&miles=10&level=iop&payment="):
            status, body = get_url(base + path)
            assert status == 200, (path, body[:500])
        assert "/other/programs.json?" in get_url(base + "/")[1]
        assert f"/other/programs/{program_id}" in get_url(f"{base}/program/{program_id}")[1]


def test_only_array_filters_take_the_index_path():
    from plugins.facets import array_filters_only

    assert array_filters_only("care_levels__arraycontains=iop&payment__arraycontains=Medicaid&_size=0&_facet=city") == [
        ("care_levels", "iop"), ("payment", "Medicaid")]
    for other in ("city=Houston", "_search=iop", "_where=1", "_next=p1", "sources__arraycontains=x",
                  "care_levels__arraynotcontains=iop", "_sort=name&state=TX"):
        assert array_filters_only(f"care_levels__arraycontains=iop&{other}") is None, other
    assert array_filters_only("_size=0") is None
