"""Two served directories timed side by side: a before and an after, at the same moment.

    git archive <commit> settings.json metadata.yml plugins templates | tar -x -C /tmp/before-config
    python -m bench.side_by_side --before /tmp/before/programs.db /tmp/before-config \\
        --after /tmp/treatment-bench/programs.db . '/programs/programs.json?care_levels__arraycontains=iop' ...

Each side is `make serve DB=... SERVE_CONFIG=...` on its own free port (the before's plugins,
metadata and templates from another commit; the code they import, common/ and the plugins' helper
modules, is this checkout's). Every path is asked a few times on both first (both workers, the
facet bitmaps read), then in --rounds rounds of --per-round sequential keep-alive requests,
alternating sides, so that the machine's other load falls on both alike. Prints p50 and p95 of
each path on each side.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import httpx

from bench.run import free_port
from bench.serving import ROOT, Server
from bench.stats import percentile


def _serve(db: Path, config: Path, log: Path) -> Server:
    """`make serve DB=db SERVE_CONFIG=config` on a free port."""
    return Server(db, free_port(), log, SERVE_CONFIG=config.resolve())


def compare(before: httpx.Client, after: httpx.Client, paths: list[str], rounds: int, per_round: int,
            warmup: int = 4) -> dict[str, tuple[list[float], list[float]]]:
    for client in (before, after):
        for _ in range(warmup):
            for path in paths:
                client.get(path).raise_for_status()
    time.sleep(3)
    times: dict[str, tuple[list[float], list[float]]] = {p: ([], []) for p in paths}
    for _ in range(rounds):
        for path in paths:
            for side, client in enumerate((before, after)):
                for _ in range(per_round):
                    started = time.perf_counter()
                    client.get(path).raise_for_status()
                    times[path][side].append((time.perf_counter() - started) * 1000)
    return times


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--before", nargs=2, type=Path, metavar=("DB", "CONFIG"), required=True)
    p.add_argument("--after", nargs=2, type=Path, metavar=("DB", "CONFIG"), default=None)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--per-round", type=int, default=10)
    p.add_argument("paths", nargs="+")
    args = p.parse_args(argv)
    after = args.after or [args.before[0], ROOT]
    with _serve(*args.before, Path("/tmp/side_by_side_before.log")) as s_before, \
            _serve(*after, Path("/tmp/side_by_side_after.log")) as s_after, \
            httpx.Client(base_url=s_before.base, timeout=120) as c_before, \
            httpx.Client(base_url=s_after.base, timeout=120) as c_after:
        times = compare(c_before, c_after, args.paths, args.rounds, args.per_round)
    print("| page | before p50 / p95 ms | after p50 / p95 ms |\n| --- | ---: | ---: |")
    for path, (b, a) in times.items():
        print(f"| `{path}` | {percentile(b, 50):,.1f} / {percentile(b, 95):,.1f} | "
              f"{percentile(a, 50):,.1f} / {percentile(a, 95):,.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
