"""The command contract of DESIGN.md and the README, run as a user would run it."""
import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.request

import pytest

from tests.support import MA_CSV, ROOT, TX_XLSX, free_port, need_shared


def make(*args, timeout=300):
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def cities_in(db):
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("select city, count(*) from programs group by city").fetchall())


def areas_in(db):
    """Programs per area asked for (a city's centre and RADIUS miles around it)."""
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("select area, count(*) from programs group by area").fetchall())


@pytest.fixture(scope="module")
def austin_el_paso(tmp_path_factory):
    """make data CITIES="Austin, TX;El Paso, TX" DEMO_SOURCE=file:///.../export.xlsx"""
    need_shared(TX_XLSX)
    tmp = tmp_path_factory.mktemp("make")
    db = tmp / "programs.db"
    result = make("data", "CITIES=Austin, TX;El Paso, TX", f"DEMO_SOURCE={TX_XLSX.as_uri()}", f"DB={db}",
                  f"EXPORT_FEED={tmp / 'feed.jsonl'}")
    assert result.returncode == 0, result.stdout + result.stderr
    return db, result


def test_make_data_builds_the_cities_asked_for_from_the_file_given(austin_el_paso):
    db, result = austin_el_paso
    counts = areas_in(db)
    assert set(counts) == {"Austin, TX", "El Paso, TX"} and min(counts.values()) > 20
    assert {"Austin", "El Paso"} <= set(cities_in(db))
    last_line = result.stdout.strip().splitlines()[-1]
    assert last_line.startswith(f"Built {db}: {sum(counts.values())} programs (")


def test_make_data_takes_a_plain_csv_path_too(tmp_path):
    need_shared(MA_CSV)
    db = tmp_path / "programs.db"
    result = make("data", "CITIES=Boston, MA;Worcester, MA", f"DEMO_SOURCE={MA_CSV}", f"DB={db}",
                  f"EXPORT_FEED={tmp_path / 'feed.jsonl'}")
    assert result.returncode == 0, result.stderr
    assert set(areas_in(db)) == {"Boston, MA", "Worcester, MA"}
    assert {"Boston", "Worcester"} <= set(cities_in(db))


def test_make_serve_serves_the_built_database_on_the_port_given(austin_el_paso):
    db, _ = austin_el_paso
    port = free_port()
    server = subprocess.Popen(["make", "--no-print-directory", "serve", f"PORT={port}", f"DB={db}"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/programs/programs.json?city=El+Paso&_shape=array&_size=max"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    rows = json.load(response)
                break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline, "make serve did not answer within 60 s"
                time.sleep(0.5)
        assert len(rows) == cities_in(db)["El Paso"]
        assert {r["city"] for r in rows} == {"El Paso"}
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)


def test_make_run_offline_fails_fast_and_names_make_demo():
    try:
        socket.getaddrinfo("findtreatment.gov", 443)
        pytest.skip("this machine can reach findtreatment.gov, so `make run` would really crawl")
    except OSError:
        pass
    started = time.monotonic()
    result = make("run", "CITIES=Houston, TX", "DB=/nonexistent/never-written.db", timeout=120)
    assert result.returncode != 0
    assert "make demo" in result.stderr
    assert time.monotonic() - started < 60
