"""What the tests share besides fixtures (tests/conftest.py): where the real SAMHSA files are,
the crawl and serve commands as a user runs them, small feed builders, and independent checks."""
from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
SHARED = Path(os.environ.get("SHARED_SAMHSA_DIR", ROOT.parent / "shared" / "data" / "samhsa"))
TX_XLSX = SHARED / "findtreatment_export_TX_2023.xlsx"
TX_CSV = SHARED / "findtreatment_export_TX_2023_houston_dallas.csv"
MA_CSV = SHARED / "findtreatment_export_MA_2025-08-19.csv"
CODE_REFERENCE = SHARED / "findtreatment_service_code_reference_2023.csv"
API_SAMPLE = SHARED / "findtreatment_api_v2_devguide_sample_response.json"
CA_API = SHARED / "findtreatment_api_derived_CA_residential.json"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-output" / "screenshots"
PHONE = {"width": 375, "height": 667}  # the phone the person's pages are checked on

# The care-level table of DESIGN.md, written out here on its own to check data/care_level_codes.csv.
DESIGN_EVIDENCE = {
    "detox": {"DT", "OD", "RD", "HID"},
    "inpatient": {"HI", "HIT", "HID"},
    "residential": {"RES", "RS", "RL", "RD"},
    "php": {"ODT", "PHDT"},
    "iop": {"OIT"},
    "outpatient": {"OP", "ORT", "OMB"},
}

def need_shared(*paths: Path) -> None:
    """Skip, saying why, only where the shared SAMHSA folder is missing (a checkout elsewhere)."""
    missing = [p for p in paths if not p.is_file()]
    if missing:
        pytest.skip(f"real SAMHSA data not found ({missing[0]}): ../shared is missing beside this checkout")


def crawl(tmp_dir: Path, spider: str, cities: str, *extra: str, expect_ok: bool = True):
    """Run the real crawl command, `scrapy safecrawl`, in a subprocess (Twisted's reactor starts
    once per process)."""
    output = tmp_dir / f"{spider}.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "safecrawl", spider, "--cities", cities, "--output", str(output), *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    if expect_ok:
        assert result.returncode == 0, f"crawl failed:\n{result.stdout}\n{result.stderr}"
    return output, result


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(db: Path, timeout: float = 60, **variables):
    """`make serve` on a free port for `db`, as a user starts it (with more make variables, e.g.
    SERVE_CONFIG=); yields the base URL."""
    port = free_port()
    # The server's output goes to a file: a pipe nobody reads fills with its access log (64 KiB,
    # a few hundred requests) and then blocks the server mid-answer.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(["make", "--no-print-directory", "serve", f"PORT={port}", f"DB={db}",
                                *(f"{name}={value}" for name, value in variables.items())], cwd=ROOT,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=5).close()
                break
            except OSError:
                if process.poll() is not None:
                    log.seek(0)
                    raise AssertionError(log.read().decode(errors="replace"))
                assert time.monotonic() < deadline, f"make serve did not answer within {timeout} s"
                time.sleep(0.2)
        yield base
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        log.close()


def write_feed(path, items):
    path.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    return path


def item(**fields):
    base = {
        "source": "findtreatment_export", "source_url": "file:///tmp/export.csv", "source_ref": "row 2",
        "fetched_at": "2026-11-26T12:00:00Z", "city_query": "Houston, TX", "name1": "Example Recovery",
        "name2": None, "street1": "1 Main Street", "street2": None, "city": "Houston", "state": "TX",
        "zip": "77002", "phone": "713-555-0100", "website": "example.org", "latitude": "29.75",
        "longitude": "-95.36", "facility_type": "SU", "service_codes": ["OIT", "MD"], "problems": [],
    }
    base.update(fields)
    return base


def haversine_miles(lat1, lon1, lat2, lon2):
    """Written here on its own, to check the plugin's distance_miles independently."""
    r = 3958.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def table_digests(db: Path, tables=("programs", "program_care_levels", "listings"), leave_out=()) -> dict[str, dict]:
    """Row count and SHA-256 of every row of each table, rows in a fixed order: equal digests mean
    the same content, whatever the file's pages look like. `leave_out`: columns not compared."""
    import hashlib
    import sqlite3

    digests = {}
    with contextlib.closing(sqlite3.connect(db)) as conn:
        for table in tables:
            columns = [r[1] for r in conn.execute(f"pragma table_info([{table}])") if r[1] not in leave_out]
            order = ", ".join(f"[{c}]" for c in columns)
            digest, count = hashlib.sha256(), 0
            digest.update(json.dumps(columns).encode())
            for row in conn.execute(f"select {order} from [{table}] order by {order}"):
                digest.update(json.dumps(row, ensure_ascii=False).encode() + b"\n")
                count += 1
            digests[table] = {"rows": count, "sha256": digest.hexdigest()}
    return digests


def saved_page_levels(tmp_path: Path, body: str, url: str = "https://www.juniperridge.example/programs/") -> list[str]:
    """The levels `python -m pipelines.site_levels` finds on a page of Juniper Ridge's site whose
    <body> is `body`, saved to a file (sorted slugs)."""
    from pipelines.site_levels import judge_saved_page

    path = tmp_path / "page.html"
    path.write_text(f"<html><head><title>Programs | Juniper Ridge</title></head><body>{body}</body></html>",
                    encoding="utf-8")
    return sorted(f.level for f in judge_saved_page(path, url))
