"""The `crawl_runs` table and the crawl scope, from the crawl log beside the feeds (common/run_log.py)."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from common.run_log import read_runs


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
