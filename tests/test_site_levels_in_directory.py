"""Levels of care a program's own website states, in the directory: stored beside SAMHSA's
(never over), found by an IOP search, and quoted with a link on the program's page."""
import json
import sqlite3
import urllib.parse
import urllib.request

import pytest

from pipelines.build import build
from tests.support import crawl, served
from tests.support.sites_server import SiteServer


def one(db, sql, *params):
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


@pytest.fixture(scope="module")
def directory(houston_dallas_feed, tmp_path_factory):
    """The Houston/Dallas build, then the website of one program without SAMHSA's IOP code read
    by the real provider_sites crawl (a sample site on 127.0.0.1 that says it runs an IOP)."""
    tmp = tmp_path_factory.mktemp("sites")
    db = tmp / "programs.db"
    build([houston_dallas_feed], db, quiet=True)
    [program] = one(db, "select id, name, latitude, longitude, care_levels from programs where city = 'Houston' "
                        "and has_service_detail = 1 and latitude is not null and care_levels not like '%iop%' "
                        "order by id limit 1")
    with SiteServer("sunnyvale") as site:
        feed, result = crawl(tmp, "provider_sites", "Houston, TX", "-a", f"urls={program['id']}={site.url}",
                             "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False")
    assert "program websites with provider_sites" in result.stdout
    counts = build([houston_dallas_feed], db, quiet=True, sites=feed)
    assert counts["changes"] == 1  # website_care_levels of that one program, nothing else
    return db, program


def test_site_stated_levels_sit_beside_samhsas_never_over(directory):
    db, program = directory
    [after] = one(db, "select * from programs where id = ?", program["id"])
    assert after["care_levels"] == program["care_levels"]  # SAMHSA's levels untouched
    assert "iop" in json.loads(after["website_care_levels"])
    assert "iop" in json.loads(after["care_levels_any"]) and "iop" not in json.loads(after["care_levels"])
    [evidence] = one(db, "select * from program_care_levels where program_id = ? and care_level = 'iop'", program["id"])
    assert evidence["source"] == "provider website"
    assert "intensive outpatient" in evidence["evidence"].lower()
    assert evidence["source_url"].startswith("http://127.0.0.1:")


def test_an_iop_search_finds_it_and_its_page_quotes_the_site(directory):
    db, program = directory
    [evidence] = one(db, "select evidence, source_url from program_care_levels where program_id = ? "
                         "and source = 'provider website' and care_level = 'iop'", program["id"])
    with served(db) as base:
        query = urllib.parse.urlencode({"lat": program["latitude"], "lon": program["longitude"], "miles": 5,
                                        "level": "iop", "payment": "", "_shape": "array"})
        with urllib.request.urlopen(f"{base}/programs/nearby.json?{query}", timeout=30) as response:
            assert program["id"] in {r["id"] for r in json.load(response)}
        find = urllib.parse.urlencode({"near": "Houston, TX", "miles": 50, "level": "iop"})
        with urllib.request.urlopen(f"{base}/find?{find}", timeout=30) as response:
            page = response.read().decode()
        assert f'data-program-id="{program["id"]}"' in page and "(its website says)" in page
        with urllib.request.urlopen(f"{base}/program/{program['id']}", timeout=30) as response:
            page = response.read().decode()
    assert "The program&#39;s website says" in page or "The program's website says" in page
    assert evidence["evidence"].replace("&", "&amp;").replace("'", "&#39;").replace('"', "&#34;")[:40] in page
    assert f'href="{evidence["source_url"]}"' in page
