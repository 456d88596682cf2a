"""Judging a crawl that several workers shared (crawler/worker.py), once they have all stopped:
their stats combined, the items they kept in Redis written out as the crawl feed, the same judge
and monitors as a one-process crawl (crawler/extensions.py, crawler/monitors.py), the feed
published or kept, the run logged in crawl_runs.jsonl. A crawl that ran to its end, good or
refused, has its keys cleared so that the next one starts afresh; a stopped one (requests left
in the frontier) keeps them, and the same command resumes it."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from common.run_log import append_run, new_run
from crawler.extensions import judge
from crawler.frontier import crawl_keys
from crawler.monitors import feed_profile, previous_good_run, run_monitors, run_record, verdict
from crawler.worker import worker_stats

BATCH = 1000


def combined_stats(per_worker: dict[str, dict], spidercls) -> dict:
    """One crawl's stats from its workers': counts added up (those every worker counts alike,
    the spider's `crawl_wide_stats`, taken once), lists joined, anything else from the first."""
    once = {f"{spidercls.name}/{name}" for name in getattr(spidercls, "crawl_wide_stats", ())}
    stats: dict = {}
    for worker, values in sorted(per_worker.items()):
        for key, value in values.items():
            if key == "worker/finish_reason":
                stats.setdefault("workers/finish_reasons", {})[worker] = value
            elif isinstance(value, bool) or stats.get(key) is None:
                # A worker that stopped before counting leaves None: the next one's value stands.
                stats[key] = value if stats.get(key) is None else stats[key]
            elif isinstance(value, (int, float)):
                stats[key] = max(stats[key], value) if key in once else stats[key] + value
            elif isinstance(value, list) and isinstance(stats[key], list):
                stats[key] = stats[key] + value
    stats["workers/count"] = len(per_worker)
    return stats


def write_items(server, crawl_id: str, path: Path) -> int:
    """Write the crawl's items from Redis to `path` as JSON Lines; return how many."""
    key, written = crawl_keys(crawl_id)["items"], 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        while True:
            batch = server.lrange(key, written, written + BATCH - 1)
            if not batch:
                break
            fh.writelines(item + b"\n" for item in batch)
            written += len(batch)
    return written


def finish_reason(stats: dict, queued: int, leased: int) -> str:
    """`finished` when the frontier is empty and a worker finished; else why not."""
    reasons = list((stats.get("workers/finish_reasons") or {}).values())
    unreachable = [r for r in reasons if str(r).startswith("source_unreachable")]
    if unreachable:
        return unreachable[0]
    if not queued and not leased and "finished" in reasons:
        return "finished"
    if queued or leased:
        return (f"no worker left with {queued + leased} request(s) still in the frontier "
                "(run the same command again to resume)")
    return next((r for r in reasons if r != "finished"), "no worker finished")


@dataclass
class SharedOutcome:
    failure: str | None
    stats: dict
    checks: list = field(default_factory=list)


def settle(server, crawl_id: str, spider, published: Path, started: str, settings) -> SharedOutcome:
    """Judge the crawl, publish its feed or keep the last good one, log the run."""
    stats = combined_stats(worker_stats(server, crawl_id), type(spider))
    keys = crawl_keys(crawl_id)
    queued, leased = server.zcard(keys["requests"]), server.hlen(keys["leases"])
    crawl_feed = published.with_name(f".{published.name}.crawling-{os.getpid()}")
    stats["item_scraped_count"] = write_items(server, crawl_id, crawl_feed)
    failure, watched, checks = judge(spider, finish_reason(stats, queued, leased), stats), {}, []
    if failure is None:
        profile = feed_profile(crawl_feed, getattr(spider, "field_coverage", {}))
        previous = previous_good_run(published, spider.name, getattr(spider, "requested_cities", None))
        checks = run_monitors(type(spider), stats, profile, previous, settings)
        failure, watched = verdict(checks, settings), run_record(checks, profile, settings)
    if failure is None:
        os.replace(crawl_feed, published)
    else:
        crawl_feed.unlink(missing_ok=True)
    if not queued and not leased:
        # Over, good or bad: the next crawl of this id starts afresh (its duplicate filter would
        # otherwise skip every request, a failed one included). A stopped crawl keeps its keys,
        # frontier and items, for the same command to resume it.
        for key in server.scan_iter(match=f"{crawl_id}:*", count=1000):
            server.delete(key)
    run = new_run(spider=spider.name, feed=published, cities=getattr(spider, "requested_cities", None),
                  source_url=getattr(spider, "source_url", None), started=started, error=failure, stats=stats)
    append_run(published, {**run, **watched, "crawl_id": crawl_id})
    return SharedOutcome(failure, stats, checks)
