"""Wall time and memory of a command the bench runs (the build, its baselines, a crawl).

Memory is read with psutil every 50 ms: the resident set of the command's own process, and the
sum over the command and all its descendants (the build's worker processes) at the same moment.
Pages that workers share with their parent after `fork` count in each, so the sum is an upper
bound; a spike shorter than the sampling interval can be missed, which the build (whose memory
grows and shrinks over seconds) does not show.
"""
from __future__ import annotations

import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_SECONDS = 0.05


@dataclass
class Measured:
    seconds: float
    peak_rss: int  # bytes: the most the command's own process held
    tree_peak_rss: int  # bytes: the most the command and its descendants held at once
    returncode: int
    stdout: str
    stderr: str


class PeakSampler:
    """Samples a process and its descendants until stopped; keeps the peaks."""

    def __init__(self, pid: int):
        self.process = psutil.Process(pid)
        self.peak_rss = self.tree_peak_rss = 0
        self._running = True
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "PeakSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._running = False
        self._thread.join()

    def sample(self) -> None:
        try:
            own = self.process.memory_info().rss
            children = self.process.children(recursive=True)
        except psutil.Error:  # the command has ended
            return
        tree = own
        for child in children:
            try:
                tree += child.memory_info().rss
            except psutil.Error:  # a worker ended between the listing and the reading
                pass
        self.peak_rss = max(self.peak_rss, own)
        self.tree_peak_rss = max(self.tree_peak_rss, tree)

    def _run(self) -> None:
        while self._running:
            self.sample()
            time.sleep(SAMPLE_SECONDS)


def run_measured(cmd: list[str], *, timeout: float | None = None) -> Measured:
    """Run a command from the project's folder; its wall time and peak memory. With `timeout`,
    the command is killed after that many s; its peaks so far are still known."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=err)
        with PeakSampler(process.pid) as sampler:
            try:
                process.wait(timeout=timeout or None)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return Measured(seconds, sampler.peak_rss, max(sampler.tree_peak_rss, sampler.peak_rss),
                        process.returncode, out.read(), err.read())
