"""Resumable crawls: a long crawl run with a job folder (Scrapy's JOBDIR) and stopped midway
resumes where it stopped, and its feed holds every row exactly once."""
import json
import signal
import subprocess
import sys
import time

from tests.support import ROOT
from tests.support.fault_server import FaultServer

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_TIMEOUT=20"]


def command(server, output, jobdir):
    return [sys.executable, "-m", "scrapy", "safecrawl", "findtreatment_api", "--cities", "Houston, TX",
            "--output", str(output), "-a", f"api_url={server.url}", "-s", f"JOBDIR={jobdir}", *FAST]


def test_a_stopped_crawl_resumes_from_its_job_folder(tmp_path):
    output, jobdir = tmp_path / "findtreatment_api.jsonl", tmp_path / "job"
    # Page 2 answers slowly the first time: the crawl is stopped (Ctrl-C) while it waits.
    with FaultServer({2: ["sleep=3"]}) as server:
        first = subprocess.Popen(command(server, output, jobdir), cwd=ROOT, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not server.attempts(2):
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.1)
        first.send_signal(signal.SIGINT)
        _, stderr = first.communicate(timeout=60)
        assert first.returncode == 1 and "stopped early" in stderr
        assert not output.exists()  # a stopped crawl replaces nothing
        partial = jobdir / f"{output.name}.partial"
        kept = [json.loads(line)["source_ref"] for line in partial.read_text().splitlines()]
        assert kept and not any(ref.startswith("page 3") for ref in kept)

        second = subprocess.run(command(server, output, jobdir), cwd=ROOT, capture_output=True, text=True,
                                timeout=120)
        assert second.returncode == 0, second.stderr
        refs = [json.loads(line)["source_ref"] for line in output.read_text().splitlines()]
        assert len(refs) == len(set(refs)) == 8  # every row of the three pages, once
        # The resumed crawl asked only for what was left: page 1 was not fetched again.
        assert len(server.attempts(1)) == 1 and len(server.attempts(3)) == 1
    assert not jobdir.exists()  # a finished job folder is cleared
