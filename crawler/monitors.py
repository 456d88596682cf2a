"""Crawl monitors: whether a crawl that finished cleanly may still replace the last good feed.

A crawl can finish without an error and still be wrong: the source returns half of last week's
listings, a layout change empties a field, a site starts answering 429. After SafeFeed's judge
(crawler/extensions.py: finish reason, errors, failed requests, an empty crawl) the monitors read
the crawl's feed and stats:

- items against the last good run of the same scope (spider, feed and areas, from
  crawl_runs.jsonl beside the feed): a drop over MONITOR_MAX_DROP (30%) fails;
- the same per area (city or state) that held at least MONITOR_MIN_AREA_ITEMS items;
- field coverage: the share of items with each of the spider's `field_coverage` fields (name,
  address, state, coordinates, phone for listings) at least its threshold, once there are
  MONITOR_MIN_ITEMS items;
- retries and unwanted HTTP statuses (401, 403, 407, 429, 5xx) as a share of requests, once
  there are MONITOR_MIN_REQUESTS of them.

Built on Scrapy's stats and the feed rather than spidermon: a crawl shared by several workers is
judged once, by whoever runs it, over every worker's stats and the combined feed
(crawler/workers.py), outside any one Scrapy process where spidermon's suites run; the rules are
few and each is a function here. Every result goes into the run's line of crawl_runs.jsonl
(`monitors`, and `areas` for the next run to compare with); the first failure is the one-line
reason the feed was kept.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from common.run_log import log_path

UNWANTED_STATUSES = {401, 403, 407, 429}  # and every 5xx
# The defaults (crawler/settings.py sets the same), for crawlers built with other settings.
DEFAULTS = {"MONITOR_MAX_DROP": 0.30, "MONITOR_MIN_AREA_ITEMS": 20, "MONITOR_MIN_REQUESTS": 50, "MONITOR_MIN_ITEMS": 20,
            "MONITOR_MAX_RETRY_SHARE": 0.25, "MONITOR_MAX_UNWANTED_STATUS_SHARE": 0.10}


def _number(settings, name: str) -> float:
    return settings.getfloat(name, DEFAULTS[name])


@dataclass
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"


@dataclass
class FeedProfile:
    """What the monitors read from a feed: its items, per area, and how many carry each field."""

    items: int = 0
    areas: Counter = field(default_factory=Counter)
    present: Counter = field(default_factory=Counter)


def feed_profile(feed: Path, fields) -> FeedProfile:
    profile = FeedProfile()
    if not feed.is_file():
        return profile
    with feed.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue
            profile.items += 1
            if item.get("city_query"):
                profile.areas[item["city_query"]] += 1
            profile.present.update(f for f in fields if str(item.get(f) or "").strip())
    return profile


def previous_good_run(published: Path, spider: str, scope: str | None) -> dict | None:
    """The latest finished run of this spider into this feed for the same areas, or None."""
    path, best = log_path(published), None
    if not path.is_file():
        return None
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            run = json.loads(line)
        except json.JSONDecodeError:
            continue
        if (isinstance(run, dict) and run.get("status") == "finished" and run.get("spider") == spider
                and run.get("feed") == str(published) and run.get("cities") == scope):
            if best is None or (run.get("started") or "") >= (best.get("started") or ""):
                best = run
    return best


def _drop(before: int, now: int) -> float:
    return 1 - now / before if before else 0.0


def count_checks(profile: FeedProfile, previous: dict | None, settings) -> list[Check]:
    max_drop = _number(settings, "MONITOR_MAX_DROP")
    if previous is None:
        return [Check("items", True, f"{profile.items:,} (no earlier good run of this scope to compare with)")]
    before = int(previous.get("items") or 0)
    drop = _drop(before, profile.items)
    checks = [Check("items", drop <= max_drop,
                    f"{profile.items:,} against {before:,} in the last good run ({-drop:+.0%}; at most -{max_drop:.0%})")]
    floor = _number(settings, "MONITOR_MIN_AREA_ITEMS")
    shrunk = [f"{area} {profile.areas.get(area, 0):,} (was {n:,})" for area, n in sorted((previous.get("areas") or {}).items())
              if n >= floor and _drop(n, profile.areas.get(area, 0)) > max_drop]
    compared = sum(1 for n in (previous.get("areas") or {}).values() if n >= floor)
    if compared:
        detail = (f"{len(shrunk)} of {compared} areas lost over {max_drop:.0%}: " + "; ".join(shrunk[:3])
                  + ("..." if len(shrunk) > 3 else "")) if shrunk else f"{compared} areas compared, none lost over {max_drop:.0%}"
        checks.append(Check("items per area", not shrunk, detail))
    return checks


def coverage_checks(profile: FeedProfile, coverage: dict[str, float], settings) -> list[Check]:
    if not coverage:
        return []
    if profile.items < max(1, _number(settings, "MONITOR_MIN_ITEMS")):
        return [Check("field coverage", True, f"{profile.items} items: too few to judge shares")]
    checks = []
    for name, least in coverage.items():
        share = profile.present[name] / profile.items
        checks.append(Check(f"field {name}", share >= least, f"{share:.1%} of items (at least {least:.0%})"))
    return checks


def request_checks(stats: dict, settings) -> list[Check]:
    requests = int(stats.get("downloader/request_count") or 0)
    if requests < max(1, _number(settings, "MONITOR_MIN_REQUESTS")):
        return [Check("retries and statuses", True, f"{requests} requests: too few to judge shares")]
    retries = int(stats.get("retry/count") or 0)
    prefix = "downloader/response_status_count/"
    unwanted = sum(int(v or 0) for k, v in stats.items() if k.startswith(prefix)
                   and k[len(prefix):].isdigit() and (int(k[len(prefix):]) in UNWANTED_STATUSES or k[len(prefix)] == "5"))
    most_retries, most_unwanted = _number(settings, "MONITOR_MAX_RETRY_SHARE"), _number(settings, "MONITOR_MAX_UNWANTED_STATUS_SHARE")
    return [Check("retries", retries / requests <= most_retries,
                  f"{retries} of {requests} requests ({retries / requests:.0%}; at most {most_retries:.0%})"),
            Check("unwanted HTTP statuses", unwanted / requests <= most_unwanted,
                  f"{unwanted} of {requests} responses were 401/403/407/429/5xx ({unwanted / requests:.0%}; "
                  f"at most {most_unwanted:.0%})")]


def run_monitors(spidercls, stats: dict, profile: FeedProfile, previous: dict | None, settings) -> list[Check]:
    """Every monitor's result for a crawl whose feed is `profile`."""
    return (count_checks(profile, previous, settings) + coverage_checks(profile, getattr(spidercls, "field_coverage", {}), settings)
            + request_checks(stats, settings))


def verdict(checks: list[Check], settings) -> str | None:
    """The one-line reason to keep the last good feed, or None (also None when overridden)."""
    failed = [c for c in checks if not c.ok]
    if not failed or settings.getbool("CRAWL_MONITORS_OVERRIDE"):
        return None
    more = f" (and {len(failed) - 1} more monitor(s) failed)" if len(failed) > 1 else ""
    return f"monitor failed: {failed[0].name}: {failed[0].detail}{more}; CRAWL_MONITORS_OVERRIDE=1 (make ALLOW_SHRINK=1) accepts it"


def run_record(checks: list[Check], profile: FeedProfile, settings) -> dict:
    """What the run's line of crawl_runs.jsonl keeps of the monitors."""
    return {"monitors": [asdict(c) for c in checks], "areas": dict(sorted(profile.areas.items())),
            "monitors_overridden": bool(settings.getbool("CRAWL_MONITORS_OVERRIDE") and any(not c.ok for c in checks))}
