"""The crawl log's format: every crawl, good or failed, appends one JSON line to crawl_runs.jsonl
beside its feed (the crawler's SafeFeed extension writes it); the build reads it back
(pipelines/crawl_runs.py)."""
from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

LOG_NAME = "crawl_runs.jsonl"


def log_path(feed: Path) -> Path:
    return Path(feed).parent / LOG_NAME


def now() -> str:
    """The log's timestamps: ISO 8601 UTC to the second, e.g. 2026-11-26T12:00:00Z."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def new_run(*, spider: str, feed: Path, cities: str | None, source_url: str | None, started: str,
            error: str | None = None, stats: dict | None = None) -> dict:
    """One line of the log: a run that ended now, failed when there is an `error`."""
    stats = stats or {}
    run = {"run_id": uuid.uuid4().hex, "spider": spider, "cities": cities, "feed": str(feed),
           "source_url": source_url, "started": started, "finished": now(),
           "status": "failed" if error else "finished"}
    if error:
        run["error"] = error
    run.update(items=stats.get("item_scraped_count", 0), stats=stats)
    return run


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
