"""The person's search, asked through Datasette's own test client over the real Houston/Dallas build
(issue 12): places as people type them, what the directory covers, everyday words, filters with
their numbers, every result page by page, dates the source vouches for, and the canned queries
`nearby` / `nearby_counts` that are one with the page. Every expected figure is counted here on
its own: with sqlite3 over the JSON columns of the built database (not the index the queries
use), with the haversine of tests/support, or from the raw SAMHSA export."""
from __future__ import annotations

import csv
import json
import random
import re
import sqlite3
from html import unescape
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from datasette.app import Datasette

from common import serving
from tests.support import TX_CSV, haversine_miles, need_shared

ZIP_77002 = (29.7594, -95.3594)  # the zipcodes package's centroid of 77002
EL_PASO = (31.75872, -106.48693)  # GeoNames' point of El Paso, TX
FILTERS = ("level", "focus", "ages", "languages", "medications", "populations", "payment", "telehealth")
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")  # SQLite's NOCASE
CARD = re.compile(r'<li class="card" data-program-id="([^"]+)"')


@pytest.fixture(scope="module")
async def ds(built_db):
    datasette = Datasette(**serving.datasette_options(built_db))
    await datasette.invoke_startup()
    return datasette


@pytest.fixture(scope="module")
def db(built_db):
    conn = sqlite3.connect(built_db)
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()


async def page(ds, path: str, **params) -> str:
    response = await ds.client.get(path + ("?" + urlencode(params, doseq=True) if params else ""))
    assert response.status_code == 200, response.text[:500]
    return response.text


def card_ids(html: str) -> list[str]:
    return CARD.findall(html)


def total_of(html: str) -> int:
    return int(re.search(r'<p id="result-summary"[^>]*><strong>(\d+) program', html).group(1))


def text(html: str) -> str:
    """The words of a page as a person reads them: no tags, styles or scripts."""
    html = re.sub(r"<(style|script)\b.*?</\1>", "", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", "", html)).split())


def link(html: str, id_: str) -> str:
    return unescape(re.search(rf'<a href="([^"]+)"[^>]*id="{id_}"', html).group(1))


def programs_near(db, lat, lon, miles, where="1", *args) -> list[str]:
    """Listed programs within `miles` (haversine of tests/support) that match `where`, nearest
    first, the way the page orders them."""
    rows = db.execute(f"select id, name, latitude, longitude from programs p where status = 'listed' "
                      f"and latitude is not null and ({where})", args).fetchall()
    near = [(haversine_miles(lat, lon, r["latitude"], r["longitude"]), r["name"], r["id"]) for r in rows]
    return [pid for d, _, pid in sorted(near) if d <= miles]


def has(column: str) -> str:
    """The SQL of "the program's JSON array `column` holds ?" (json_each, not the index)."""
    return f"exists (select 1 from json_each(p.{column}) j where j.value = ?)"


# --- 1. Places as people type them ------------------------------------------------------------

@pytest.mark.parametrize("typed, label", [
    ("Houston", "Houston, TX"), ("Dallas", "Dallas, TX"), ("Houston, Texas", "Houston, TX"),
    ("houston tx", "Houston, TX"), ("77002-1234", "ZIP 77002 (Houston, TX)"), ("Katy", "Katy, TX"),
    ("75024", "ZIP 75024 (Plano, TX)"), ("Plano", "Plano, TX"), ("Fort Worth", "Fort Worth, TX"),
    ("Arlington", "Arlington, TX"),
])
async def test_places_as_people_type_them(ds, typed, label):
    html = await page(ds, "/find", near=typed, miles=25)
    assert f"within 25 miles of {label}" in unescape(html)
    assert 'id="find-error"' not in html


async def test_a_city_alone_says_which_state_it_chose_with_links_to_the_others(ds, db):
    html = unescape(await page(ds, "/find", near="Houston", miles=10))
    chosen = re.search(r'<p class="message info" id="place-chosen">(.*?)</p>', html, re.S).group(1)
    assert "Showing Houston, TX — or" in " ".join(chosen.split())
    others = re.findall(r'<a href="([^"]+)">(Houston, [A-Z]{2})</a>', chosen)
    assert len(others) == 3 and all(label != "Houston, TX" for _, label in others)
    for href, label in others:
        assert dict(parse_qsl(urlsplit(href).query))["near"] == label
        assert f"of {label}" in unescape(await page(ds, href))
    # Houston alone is the covered Houston: the same programs as "Houston, TX".
    [(lat, lon)] = db.execute("select latitude, longitude from coverage where area = 'Houston, TX'").fetchall()
    assert card_ids(html) == programs_near(db, lat, lon, 10)[:50]
    assert total_of(html) == len(programs_near(db, lat, lon, 10))


@pytest.mark.parametrize("typed, message", [
    ("Xyzzyville", "could not find a place called"), ("00000", "could not find ZIP code 00000"),
    ("Houston, XX", "is not a US state"), ("1234", "is not a ZIP code"),
])
async def test_an_unknown_place_gets_a_helpful_page_not_a_404(ds, typed, message):
    response = await ds.client.get("/find?" + urlencode({"near": typed}))
    assert response.status_code == 200
    error = re.search(r'<p class="message" role="alert" id="find-error">(.*?)</p>', response.text, re.S).group(1)
    assert message in unescape(error)
    assert "FindTreatment.gov" in response.text and "1-800-662-4357" in response.text
    assert card_ids(response.text) == []


async def test_a_place_typed_among_the_words_is_the_place(ds, db):
    html = unescape(await page(ds, "/find", q="iop 77002"))
    assert "within 10 miles of ZIP 77002 (Houston, TX)" in html
    iop = "p.id in (select program_id from program_care_levels where care_level = 'iop')"
    assert card_ids(html) == programs_near(db, *ZIP_77002, 10, iop)
    no_place = await page(ds, "/find", q="iop")
    assert "Type a ZIP code or a city" in no_place and card_ids(no_place) == []


async def test_words_that_name_the_place_again_are_the_place_not_a_name(ds, db):
    iop = await page(ds, "/find", near="Houston", miles=10, q="iop")
    again = await page(ds, "/find", near="Houston", miles=10, q="iop in houston tx")
    assert card_ids(again) == card_ids(iop) and total_of(again) == total_of(iop) > 0
    assert "The place: Houston, TX" in text(again)
    # A place among the words with no place typed apart, the rest searched in names.
    named = await page(ds, "/find", q="menninger houston", miles=25)
    assert "within 25 miles of Houston, TX" in text(named)
    assert [db.execute("select name from programs where id = ?", [i]).fetchone()[0] for i in card_ids(named)] == [
        "Menninger Clinic"]
    # A name that is also some other place's stays a name near the place typed.
    montrose = await page(ds, "/find", near="Houston", miles=10, q="montrose")
    names = [db.execute("select name || ' / ' || coalesce(alternate_name, '') from programs where id = ?", [i]).fetchone()[0]
             for i in card_ids(montrose)]
    assert names and all("montrose" in n.lower() for n in names)  # in its name or its second name line


# --- 2. Coverage said plainly -------------------------------------------------------------------

async def test_the_home_page_says_what_the_directory_covers_from_the_coverage_table(ds, db):
    html = unescape(await page(ds, "/"))
    areas = db.execute("select area, programs, miles, sources, data_date from coverage").fetchall()
    assert {a["area"] for a in areas} == {"Houston, TX", "Dallas, TX"}
    for area in areas:
        line = re.search(rf"<li><strong>{re.escape(area['area'])}</strong>: (.*?)</li>", html, re.S).group(1)
        assert f"{area['programs']:,} programs within {int(area['miles'])} miles" in line
        for source in json.loads(area["sources"]):
            assert f"data of {source['data_date']}" in line
    listed = db.execute("select count(*) from programs where status = 'listed'").fetchone()[0]
    assert f"{listed:,} programs in 2 areas" in html
    assert "SAMHSA's FindTreatment.gov export (findtreatment_export_TX_2023_houston_dallas.csv, data of 2023)" in text(html)


async def test_a_search_outside_coverage_says_so_names_the_nearest_area_and_where_help_is(ds, db):
    html = unescape(await page(ds, "/find", near="El Paso, TX", miles=25))
    note = " ".join(re.search(r'<div class="message coverage" id="coverage-note"[^>]*>(.*?)</div>', html, re.S)
                    .group(1).split())
    [dallas] = db.execute("select latitude, longitude from coverage where area = 'Dallas, TX'").fetchall()
    miles = round(haversine_miles(*EL_PASO, dallas["latitude"], dallas["longitude"]))
    assert "does not cover El Paso, TX yet" in note
    assert re.search(rf">Dallas, TX</a>, about {miles:,} miles away", note), note
    assert 'href="https://findtreatment.gov/"' in note and 'href="tel:+1-800-662-4357"' in note
    assert "There is help near you" in note
    for denial in ("no help", "no treatment", "no programs exist", "nothing near"):
        assert denial not in html.lower()
    assert "Search a wider distance" not in html  # wider is still outside: the note says where to look


async def test_a_search_reaching_beyond_coverage_says_part_of_it_is_not_covered(ds):
    html = text(await page(ds, "/find", near="Katy", miles=10))  # 28 miles from Houston's centre
    assert "Part of this circle lies beyond this directory's areas" in html
    inside = unescape(await page(ds, "/find", near="77002", miles=10))
    assert 'id="coverage-note"' not in inside


async def test_no_results_inside_coverage_offer_wider_distances_with_their_counts(ds, db):
    near, miles = "Katy", 5
    [(lat, lon)] = db.execute("select latitude, longitude from coverage where area = 'Houston, TX'").fetchall()
    html = unescape(await page(ds, "/find", near=near, miles=miles))
    assert total_of(html) == 0 and "No programs found within 5 miles" in html
    from common.typed_places import resolve_place
    katy = resolve_place("Katy, TX")
    for m in (10, 25, 50):
        expected = len(programs_near(db, katy.latitude, katy.longitude, m))
        assert re.search(rf'miles={m}">Search a wider distance: within {m} miles</a> \({expected} programs?\)', html)


# --- 3. Words people use -----------------------------------------------------------------------

@pytest.mark.parametrize("q, where, args, said", [
    ("IOP", "p.id in (select program_id from program_care_levels where care_level = ?)", ["iop"],
     "Level of care: Intensive outpatient"),
    ("detox", "p.id in (select program_id from program_care_levels where care_level = ?)", ["detox"],
     "Level of care: Withdrawal management (detox)"),
    ("suboxone", has("medications"), ["Buprenorphine"], "Medication: Buprenorphine (Suboxone)"),
    ("takes medicaid", has("payment"), ["Medicaid"], "Takes Medicaid"),
    ("en español", has("languages"), ["Spanish"], "Treatment in Spanish (español)"),
    ("teen", has("ages"), ["Children and adolescents"], "Ages: Teens and children"),
    ("veterans", has("populations"), ["Veterans"], "Special programs: Veterans"),
    ("mental health", has("facility_type"), ["MH"], "Mental health treatment"),
    ("telehealth", "p.telehealth = ?", [1], "Offers telehealth"),
])
async def test_everyday_words_become_what_the_data_knows(ds, db, q, where, args, said):
    html = unescape(await page(ds, "/find", near="77002", miles=25, q=q))
    expected = programs_near(db, *ZIP_77002, 25, where, *args)
    assert expected, f"pick words that find something: {q}"
    assert total_of(html) == len(expected) and card_ids(html) == expected[:50]
    assert said in html and 'id="understood"' in html


async def test_words_no_phrase_names_are_searched_in_program_names(ds, db):
    html = unescape(await page(ds, "/find", near="77002", miles=25, q="menninger iop"))
    expected = programs_near(db, *ZIP_77002, 25, "lower(p.name) like '%menninger%' and p.id in "
                                                 "(select program_id from program_care_levels where care_level = 'iop')")
    assert card_ids(html) == expected and len(expected) == 1
    assert "<q>menninger</q> → Searched for in program names" in html
    assert 'value="menninger"' in html  # the box keeps the words left; the filters hold the rest


async def test_the_person_never_sees_the_raw_table_or_sql(ds):
    for path in ("/", "/find?near=77002&q=xyzzy", "/find?near=77002&q=IOP", "/find?q=detox"):
        words = text(await page(ds, path)).lower()
        assert "create table" not in words and "select " not in words and "sqlite" not in words
    home = await page(ds, "/")
    form = re.search(r'<form class="find-form" id="find-form" action="([^"]+)"(.*?)</form>', home, re.S)
    assert form.group(1) == "/find" and 'name="q"' in form.group(2) and 'name="near"' in form.group(2)
    assert "_search" not in home
    quick = re.findall(r'<a href="(/find\?[^"]+)">([^<]+ in (?:Houston|Dallas), TX)</a>', unescape(home))
    assert len(quick) == 8
    assert not re.search(r'href="/programs/programs\?[^"]*(care_levels|payment|languages)', home)


# --- 4. Filters, each with the programs it would leave ---------------------------------------------

def filter_counts(html: str) -> dict[tuple[str, str], int]:
    found = re.findall(r'name="([a-z]+)" value="([^"]*)"[^>]*>\s*<span>[^<]*<span class="count">\((\d+)\)</span>',
                       unescape(html))
    return {(name, value): int(n) for name, value, n in found}


@pytest.mark.parametrize("param, value, where, args", [
    ("focus", "SU", has("facility_type"), ["SU"]),
    ("focus", "MH", has("facility_type"), ["MH"]),
    ("ages", "Children and adolescents", has("ages"), ["Children and adolescents"]),
    ("languages", "Spanish", has("languages"), ["Spanish"]),
    ("telehealth", "1", "p.telehealth = ?", [1]),
    ("medications", "*", "json_array_length(p.medications) > 0", []),
    ("populations", "Veterans", has("populations"), ["Veterans"]),
    ("populations", "Pregnant or postpartum women", has("populations"), ["Pregnant or postpartum women"]),
    ("payment", "Medicaid", has("payment"), ["Medicaid"]),
])
async def test_each_filter_shows_how_many_programs_it_would_leave(ds, db, param, value, where, args):
    search = {"near": "77002", "miles": 25, "level": "outpatient"}
    level = "p.id in (select program_id from program_care_levels where care_level = 'outpatient')"
    counts = filter_counts(await page(ds, "/find", **search))
    expected = programs_near(db, *ZIP_77002, 25, f"{level} and {where}", *args)
    assert counts[(param, value)] == len(expected)
    chosen = await page(ds, "/find", **search, **{param: value})
    assert total_of(chosen) == len(expected) and card_ids(chosen) == expected[:50]


async def test_filters_combine_with_each_other_and_several_payments_mean_any(ds, db):
    html = await page(ds, "/find", near="Houston, TX", miles=25, payment=["Medicaid", "Medicare"], languages="Spanish")
    expected = programs_near(db, 29.76328, -95.36327, 25,
                             f"({has('payment')} or {has('payment')}) and {has('languages')}",
                             "Medicaid", "Medicare", "Spanish")
    assert expected and total_of(html) == len(expected) and card_ids(html) == expected[:50]
    counts = filter_counts(html)
    # The payment numbers count under the language filter only; the language ones under the payments.
    assert counts[("payment", "Medicare")] == len(programs_near(db, 29.76328, -95.36327, 25,
                                                                f"{has('payment')} and {has('languages')}",
                                                                "Medicare", "Spanish"))
    assert re.search(r'name="payment" value="Medicaid" checked', html)
    assert '<a href="/programs/programs" id="data-and-api">Data and API</a>' in html


# --- 5. All results, paged, nearest first or by name -------------------------------------------------

@pytest.mark.parametrize("sort", ["distance", "name"])
async def test_every_result_page_by_page_with_the_true_count(ds, db, sort):
    expected = programs_near(db, *ZIP_77002, 25)  # nearest first; then by name, nearest first among equals
    if sort == "name":
        names = {r["id"]: r["name"].translate(ASCII_LOWER) for r in db.execute("select id, name from programs")}
        expected = sorted(expected, key=names.get)
    assert len(expected) > 150, "a search of several pages"
    seen, path = [], "/find?" + urlencode({"near": "77002", "miles": 25, "sort": sort})
    while path:
        html = await page(ds, path)
        assert total_of(html) == len(expected)
        seen += card_ids(html)
        path = link(html, "next-page") if 'id="next-page"' in html else None
    assert seen == expected


async def test_a_page_past_the_last_says_so(ds):
    html = await page(ds, "/find", near="77002", miles=5, page=99)
    assert card_ids(html) == [] and "First page" in html and total_of(html) > 0


# --- 7. Dates the source vouches for -----------------------------------------------------------------

async def test_cards_and_program_pages_say_when_the_source_listed_the_program(ds, db):
    html = unescape(await page(ds, "/find", near="77002", miles=10, level="iop"))
    for pid in card_ids(html):
        [row] = db.execute("select first_seen, last_seen from programs where id = ?", [pid]).fetchall()
        card = html[html.index(f'data-program-id="{pid}"'):]
        assert f"Listed by SAMHSA: {row['last_seen'][:10]}</span>" in card[:card.index("</li>")]
    pid = card_ids(html)[0]
    program = unescape(await page(ds, f"/program/{pid}"))
    listings = db.execute("select source_date, fetched_at from listings where program_id = ?", [pid]).fetchall()
    assert all(l["source_date"] == "2023" for l in listings)  # the export's own date, not the build's
    assert "Listed by SAMHSA: 2023</p>" in program
    assert program.count("<td>2023</td>") == len(listings)
    assert listings[0]["fetched_at"][:10] not in program


# --- 8. The page and the JSON API are one ------------------------------------------------------------

SEARCHES = [
    {"near": "77002", "miles": 10, "level": "iop", "payment": "Medicaid"},
    {"near": "Houston", "miles": 25, "q": "suboxone"},
    {"near": "Dallas, TX", "miles": 50, "sort": "name", "page": 2},
    {"near": "77002", "miles": 25, "focus": "MH", "telehealth": "1", "q": "center"},
    {"near": "75201", "miles": 25, "populations": ["Veterans", "Pregnant or postpartum women"]},
]


@pytest.mark.parametrize("search", SEARCHES, ids=lambda s: urlencode(s, doseq=True))
async def test_the_as_json_link_gives_the_rows_of_the_page(ds, search):
    html = await page(ds, "/find", **search)
    json_url = unescape(re.search(r'<a href="([^"]+)">As JSON</a>', html).group(1))
    assert json_url.startswith("/programs/nearby.json?")
    rows = (await ds.client.get(json_url)).json()
    assert [r["id"] for r in rows] == card_ids(html) and rows
    assert all(r["total"] == total_of(html) for r in rows)
    counts = (await ds.client.get(json_url.replace("/nearby.json", "/nearby_counts.json"))).json()
    assert {(c["filter"], c["value"]): c["programs"] for c in counts}[("all", "")] == total_of(html)


def random_searches(count: int, seed: int = 12):
    rng = random.Random(seed)
    values = {"level": "iop|outpatient", "focus": "MH", "ages": "Adults", "languages": "Spanish",
              "medications": "*", "populations": "Veterans", "payment": "Medicaid|Sliding fee scale", "telehealth": "1"}
    for _ in range(count):
        chosen = rng.sample(FILTERS, rng.randint(0, 3))
        yield {"lat": ZIP_77002[0], "lon": ZIP_77002[1], "miles": rng.choice([5, 10, 25]), "words": "",
               "sort": "", "page": "", **{f: (values[f] if f in chosen else "") for f in FILTERS}}


async def test_each_count_is_the_total_the_search_would_have_with_that_value(ds):
    """nearby_counts agrees with nearby: the number beside a value of an unused filter is the
    total of the same search with that value chosen (and `all` is the search's own total)."""
    async def get(name, params):
        return (await ds.client.get(f"/programs/{name}.json?" + urlencode({**params, "_shape": "array"}))).json()
    checked = 0
    for params in random_searches(12):
        counts = {(c["filter"], c["value"]): c["programs"] for c in await get("nearby_counts", params)}
        rows = await get("nearby", params)
        assert counts[("all", "")] == (rows[0]["total"] if rows else 0)
        for (name, value), number in counts.items():
            if name in FILTERS and not params[name] and value:
                more = await get("nearby", {**params, name: value})
                assert number == (more[0]["total"] if more else 0), (params, name, value)
                checked += 1
    assert checked > 100


def raw_rows():
    """The rows of the raw export, each with its row number as the spider cites it ("row 2" is the
    first row under the header)."""
    need_shared(TX_CSV)
    with TX_CSV.open(encoding="utf-8-sig", newline="") as fh:
        return [{"ref": f"row {number}", **{k.strip(): (v or "").strip() for k, v in row.items()}}
                for number, row in enumerate(csv.DictReader(fh), start=2)]


@pytest.mark.parametrize("params, code", [
    ({"level": "iop"}, "oit"), ({"languages": "Spanish"}, "sp"), ({"populations": "Veterans"}, "vet"),
    ({"telehealth": "1"}, "tele"), ({"payment": "Medicaid"}, "md"), ({"q": "mental health"}, None),
])
async def test_answers_match_the_raw_export(ds, db, params, code):
    """The programs the page finds within 10 miles of ZIP 77002 are those of the export's own rows
    with that SAMHSA code (SU and MH rows: BUPREN and OTP rows set every code and carry no detail;
    `q=mental health`: the MH rows), within 10 miles by the row's own point. The listings table
    only says which program each row became."""
    def wanted(row, within):
        if row["type_facility"] not in ("SU", "MH") or not row["latitude"]:
            return False
        if haversine_miles(*ZIP_77002, float(row["latitude"]), float(row["longitude"])) > within:
            return False
        return row["type_facility"] == "MH" if code is None else row[code] == "1"
    program_of = {r["source_ref"]: r["program_id"] for r in db.execute("select source_ref, program_id from listings")}
    rows = raw_rows()
    html = await page(ds, "/find", near="77002", miles=10, **params)
    assert total_of(html) <= 50
    shown = set(card_ids(html))
    sure = {program_of[r["ref"]] for r in rows if wanted(r, 9.95)}
    possible = {program_of[r["ref"]] for r in rows if wanted(r, 10.05)}
    assert sure and sure <= shown <= possible, (sure - shown, shown - possible)


# --- The helpers on their own: coverage with many areas, the search in the URL ----------------------

def test_the_coverage_grid_finds_what_measuring_every_area_finds():
    """CoverageIndex looks only at the cells near a point; a national build has tens of thousands of
    areas. Its answers equal those of measuring the distance to every area."""
    from common.geo import miles_between
    from plugins.find_coverage import Area, CoverageIndex
    rng = random.Random(5)
    areas = tuple(Area(f"Town {i}, XX", "XX", rng.uniform(25, 49), rng.uniform(-124, -67), rng.choice([10.0, 25.0]),
                       rng.randint(1, 300), (), "2023") for i in range(3000))
    index = CoverageIndex(areas)
    for _ in range(300):
        lat, lon, miles = rng.uniform(20, 52), rng.uniform(-130, -60), rng.choice([5, 10, 25, 50])
        every = sorted((miles_between(lat, lon, a.latitude, a.longitude), a.label, a) for a in areas)
        judged = index.judge(lat, lon, miles)
        assert judged.nearest.label == every[0][1] and judged.nearest_miles == round(every[0][0])
        kind = ("inside" if any(d + miles <= a.miles for d, _, a in every)
                else "partial" if any(d < a.miles + miles for d, _, a in every) else "outside")
        assert judged.kind == kind


def test_a_city_alone_prefers_the_covered_one_among_many_areas():
    """Beyond FULL_COVERAGE_CHECK areas, a city typed alone is read against the areas around the
    places its name most likely means: the covered one still wins."""
    from common.typed_places import resolve_place
    from plugins.find import FULL_COVERAGE_CHECK, typed_place
    from plugins.find_coverage import Area, CoverageIndex
    rng = random.Random(8)
    filler = [Area(f"Nowhere {i}, ND", "ND", rng.uniform(46, 49), rng.uniform(-104, -97), 25.0, 1, (), None)
              for i in range(FULL_COVERAGE_CHECK + 50)]
    boston = Area("Boston, MA", "MA", 42.3584, -71.0598, 25.0, 100, (), None)
    assert typed_place("Arlington", CoverageIndex(tuple(filler) + (boston,))).label == "Arlington, MA"
    assert typed_place("Arlington", CoverageIndex(tuple(filler))).label == resolve_place("Arlington").label
    assert typed_place("77002", CoverageIndex(tuple(filler))).label == "ZIP 77002 (Houston, TX)"


def test_filters_are_read_once_per_value_or_joined_and_words_add_to_them():
    from datasette.utils import MultiParams

    from common.search_words import parse_search
    from plugins.find_search import combined_filters, find_query, read_search
    levels = {"iop": {}, "detox": {}}
    args = MultiParams([("near", " Katy "), ("payment", "Medicaid"), ("payment", "Medicare|Medicaid"),
                        ("level", "iop|nope"), ("telehealth", "yes"), ("miles", "7"), ("page", "-3"), ("sort", "x")])
    search = read_search(args, levels)
    assert (search.near, search.miles, search.page, search.sort) == ("Katy", 10, 1, "distance")
    assert search.chosen == {"payment": ("Medicaid", "Medicare"), "level": ("iop",)}
    filters, from_words = combined_filters(search.chosen, parse_search("detox that takes medicaid in spanish"))
    assert filters == {"payment": ("Medicaid", "Medicare"), "level": ("iop", "detox"), "languages": ("Spanish",)}
    assert from_words == {("level", "detox"), ("languages", "Spanish")}
    assert find_query("Katy", "", 10, filters) == (
        "near=Katy&miles=10&level=iop&level=detox&languages=Spanish&payment=Medicaid&payment=Medicare")
