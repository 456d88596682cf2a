"""Progress on a terminal for long steps: a counter redrawn in place, silent when not a tty."""
from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, label: str, *, quiet: bool = False, stream=None, every: float = 0.5):
        self.label, self.count, self.every = label, 0, every
        self.stream = stream or sys.stderr
        self.enabled = not quiet and self.stream.isatty()
        self._last = 0.0

    def tick(self, n: int = 1, extra: str = "") -> None:
        self.count += n
        now = time.monotonic()
        if self.enabled and now - self._last >= self.every:
            self._last = now
            self.stream.write(f"\r  {self.label}: {self.count:,}{extra}   ")
            self.stream.flush()

    def done(self) -> None:
        if self.enabled and self._last:
            self.stream.write("\r" + " " * 70 + "\r")
            self.stream.flush()


class Stopwatch:
    """Seconds spent in each named stage of a long job, in order: where a slow build spends."""

    def __init__(self):
        self.stages: dict[str, float] = {}
        self._last = time.monotonic()

    def lap(self, stage: str) -> None:
        now = time.monotonic()
        self.stages[stage] = round(self.stages.get(stage, 0.0) + now - self._last, 2)
        self._last = now
