"""Shared fixtures: the real SAMHSA files from ../shared, crawled by the real spider and built."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SHARED_SAMHSA_DIR", ROOT.parent / "shared" / "data" / "samhsa"))
TX_XLSX = SHARED / "findtreatment_export_TX_2023.xlsx"
TX_CSV = SHARED / "findtreatment_export_TX_2023_houston_dallas.csv"
MA_CSV = SHARED / "findtreatment_export_MA_2025-08-19.csv"
CODE_REFERENCE = SHARED / "findtreatment_service_code_reference_2023.csv"
API_SAMPLE = SHARED / "findtreatment_api_v2_devguide_sample_response.json"
CA_API = SHARED / "findtreatment_api_derived_CA_residential.json"


def need_shared(*paths: Path) -> None:
    """Skip, saying why, only where the shared SAMHSA folder is missing (a checkout elsewhere)."""
    missing = [p for p in paths if not p.is_file()]
    if missing:
        pytest.skip(f"real SAMHSA data not found ({missing[0]}): ../shared is missing beside this checkout")


def crawl(tmp_dir: Path, spider: str, cities: str, *extra: str, expect_ok: bool = True):
    """Run the real crawl command in a subprocess (Twisted's reactor starts once per process)."""
    output = tmp_dir / f"{spider}.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "crawler.crawl", spider, "--cities", cities, "--output", str(output), *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    if expect_ok:
        assert result.returncode == 0, f"crawl failed:\n{result.stdout}\n{result.stderr}"
    return output, result


@pytest.fixture(scope="session")
def houston_dallas_feed(tmp_path_factory) -> Path:
    """Houston and Dallas rows of the real Texas export (the csv generation, fast to read)."""
    need_shared(TX_CSV, CODE_REFERENCE)
    output, _ = crawl(tmp_path_factory.mktemp("feed"), "findtreatment_export", "Houston, TX;Dallas, TX",
                      "--source", str(TX_CSV))
    return output


@pytest.fixture(scope="session")
def built_db(houston_dallas_feed, tmp_path_factory) -> Path:
    """data/programs.db as `make data` builds it, from the Houston and Dallas feed."""
    from pipelines.build import build

    db_path = tmp_path_factory.mktemp("db") / "programs.db"
    build([houston_dallas_feed], db_path, quiet=True)
    return db_path


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(db: Path, timeout: float = 60):
    """`make serve` on a free port for `db`, as a user starts it; yields the base URL."""
    port = free_port()
    process = subprocess.Popen(["make", "--no-print-directory", "serve", f"PORT={port}", f"DB={db}"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=5).close()
                break
            except OSError:
                assert process.poll() is None, process.stdout.read().decode()
                assert time.monotonic() < deadline, f"make serve did not answer within {timeout} s"
                time.sleep(0.2)
        yield base
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
