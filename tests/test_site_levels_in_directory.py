"""Levels of care a program's own website states, in the directory: stored beside SAMHSA's
(never over), found by an IOP search, quoted with a link on the program's page, and judged by
the build from what the crawl read, so a change to the phrase data needs a build, not a crawl."""
import json
import os
import shutil
import sqlite3
import subprocess
import urllib.parse
import urllib.request

import pytest

from common import vocab
from pipelines.build import build
from tests.support import ROOT, crawl, served
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
    return db, program, feed


def test_site_stated_levels_sit_beside_samhsas_never_over(directory):
    db, program, _ = directory
    [after] = one(db, "select * from programs where id = ?", program["id"])
    assert after["care_levels"] == program["care_levels"]  # SAMHSA's levels untouched
    assert "iop" in json.loads(after["website_care_levels"])
    assert "iop" in json.loads(after["care_levels_any"]) and "iop" not in json.loads(after["care_levels"])
    [evidence] = one(db, "select * from program_care_levels where program_id = ? and care_level = 'iop'", program["id"])
    assert evidence["source"] == "provider website"
    assert "intensive outpatient" in evidence["evidence"].lower()
    assert evidence["source_url"].startswith("http://127.0.0.1:")


def test_an_iop_search_finds_it_and_its_page_quotes_the_site(directory):
    db, program, _ = directory
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


def make_build(feed, db, sites_feed, phrases=None, rules_only=False) -> str:
    """`make build` as a user runs it, with TREATMENT_SITE_PHRASES pointing at `phrases` if given,
    and TREATMENT_SITE_MODEL=none for the rules alone if asked."""
    env = {k: v for k, v in os.environ.items() if k not in ("TREATMENT_SITE_PHRASES", "TREATMENT_SITE_MODEL")}
    if phrases:
        env["TREATMENT_SITE_PHRASES"] = str(phrases)
    if rules_only:
        env["TREATMENT_SITE_MODEL"] = "none"
    result = subprocess.run(["make", "--no-print-directory", "build", f"FEED={feed}", f"DB={db}",
                             f"SITES_FEED={sites_feed}"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, f"make build failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_a_phrase_change_changes_the_levels_at_the_next_build_without_a_crawl(directory, houston_dallas_feed,
                                                                             tmp_path):
    """The sites feed was crawled once (the fixture). A copy of the phrase data in which the IOP
    phrases name outpatient care instead, given to `make build`, turns the site's IOP into
    outpatient; the next build with the project's own phrases turns it back. The feed is never
    touched."""
    db, program, sites_feed = directory
    feed_as_crawled = sites_feed.read_bytes()
    copy = tmp_path / "programs.db"
    shutil.copy(db, copy)
    # The phrases drive the rules; the page model (TREATMENT_SITE_MODEL) would still read the IOP
    # that the copy's phrases no longer name, and it adds outpatient on this site's home page, a
    # page about PHP and IOP (a false positive of the model). So every build here is the rules'.
    make_build(houston_dallas_feed, copy, sites_feed, rules_only=True)
    [before] = one(copy, "select website_care_levels from programs where id = ?", program["id"])
    stated = json.loads(before["website_care_levels"])
    assert "iop" in stated and "php" in stated and "outpatient" not in stated
    phrases = tmp_path / "site_level_phrases.csv"
    lines = (ROOT / "data" / "site_level_phrases.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    phrases.write_text("".join(line.replace("level,iop,", "level,outpatient,", 1) if line.startswith("level,iop,")
                               else line for line in lines), encoding="utf-8")

    out = make_build(houston_dallas_feed, copy, sites_feed, phrases, rules_only=True)
    assert "1 changes" in out  # that program's website_care_levels, nothing else
    [after] = one(copy, "select website_care_levels from programs where id = ?", program["id"])
    expected = [level for level in vocab.care_levels() if level in set(stated) - {"iop"} | {"outpatient"}]
    assert json.loads(after["website_care_levels"]) == expected
    [outpatient] = one(copy, "select evidence from program_care_levels where program_id = ? "
                             "and source = 'provider website' and care_level = 'outpatient'", program["id"])
    assert "intensive outpatient" in outpatient["evidence"].lower()

    out = make_build(houston_dallas_feed, copy, sites_feed, rules_only=True)
    [again] = one(copy, "select website_care_levels from programs where id = ?", program["id"])
    assert json.loads(again["website_care_levels"]) == stated and "1 changes" in out
    assert sites_feed.read_bytes() == feed_as_crawled
