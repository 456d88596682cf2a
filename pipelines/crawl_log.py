"""The crawl log: every crawl, good or failed, appends one JSON line to crawl_runs.jsonl beside
its feed (crawler/crawl.py); the build publishes the log as the `crawl_runs` table."""
from __future__ import annotations

import json
from collections import Counter
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


def crawl_runs(feeds: list[Path], rejects_per_feed: Counter) -> list[dict]:
    """Rows for `crawl_runs` from the logs beside the feeds. The latest good run of each feed is
    the one this build read: it gets the build's reject count for that feed."""
    runs = read_runs(feeds)
    latest: dict[str, dict] = {}
    for run in sorted(runs.values(), key=lambda r: r.get("started") or ""):
        if run.get("status") == "finished":
            latest[run.get("feed")] = run
    rows = []
    for run in runs.values():
        feed = run.get("feed")
        is_current = latest.get(feed) is run and feed in rejects_per_feed.keys() | {str(f) for f in feeds}
        rows.append({
            "run_id": run["run_id"],
            "spider": run.get("spider"),
            "source_url": run.get("source_url"),
            "cities": run.get("cities"),
            "started": run.get("started"),
            "finished": run.get("finished"),
            "status": run.get("status"),
            "error": run.get("error"),
            "items": run.get("items"),
            "rejects": rejects_per_feed.get(feed, 0) if is_current else None,
            "feed": feed,
            "stats": json.dumps(run.get("stats") or {}, ensure_ascii=False, sort_keys=True),
        })
    return rows


def requested_cities(feeds: list[Path]) -> set[tuple[str, str]]:
    """(spider, "City, ST") asked for by the latest good crawl of each feed: a city asked for
    that yielded nothing is in scope too, so the shrink guard and the history see it."""
    latest: dict[str, dict] = {}
    feeds_read = {str(f) for f in feeds}
    for run in read_runs(feeds).values():
        if run.get("status") == "finished" and run.get("feed") in feeds_read:
            if run.get("started", "") >= latest.get(run["feed"], {}).get("started", ""):
                latest[run["feed"]] = run
    scope = set()
    for run in latest.values():
        for part in str(run.get("cities") or "").split(";"):
            name, _, state = part.rpartition(",")
            if name.strip() and state.strip():
                scope.add((run.get("spider"), f"{' '.join(name.split())}, {state.strip().upper()}"))
    return scope
