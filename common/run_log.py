"""The crawl log's format: every crawl, good or failed, appends one JSON line to crawl_runs.jsonl
beside its feed (the crawler writes it); the build reads it back (pipelines/crawl_runs.py)."""
from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

LOG_NAME = "crawl_runs.jsonl"


def log_path(feed: Path) -> Path:
    return Path(feed).parent / LOG_NAME


def append_run(feed: Path, run: dict) -> None:
    """Append one run to the log beside `feed` (stats' datetimes written as ISO 8601)."""
    path = log_path(feed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(run, default=_iso, ensure_ascii=False) + "\n")


def _iso(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def read_runs(feeds: list[Path]) -> dict[str, dict]:
    """Every run logged beside the feeds, by run id."""
    runs: dict[str, dict] = {}
    for log in dict.fromkeys(log_path(f) for f in feeds):
        if not log.is_file():
            continue
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                run = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a killed crawl: the others still count
            if isinstance(run, dict) and run.get("run_id"):
                runs[run["run_id"]] = run
    return runs
