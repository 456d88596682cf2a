"""The item the provider_sites spider yields: one page of a program's own website, what it states
about levels of care (with quotes) and its schema.org description. Kept apart from ListingItem:
a page of a provider's site is not a listing, and the build treats it as extra evidence only."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SitePageItem:
    program_id: str | None  # programs.id the website belongs to; None for a bare URL given with -a urls
    url: str  # the page read, after redirects
    site: str  # the website the crawl of this page started from (programs.website)
    fetched_at: str  # ISO 8601 UTC time the response was received
    # Levels of care the page states: {"level", "quote", "url"} (pipelines.site_levels.Finding).
    findings: list[dict] = field(default_factory=list)
    # The provider's schema.org description on this page (pipelines.structured_data), {} when none.
    structured: dict = field(default_factory=dict)
    page_kind: str = "page"  # "page", or "blog" for a blog-like page (which states no levels)
    # Every program sharing this website; findings of a shared site may speak for only some of them.
    site_programs: list[str] = field(default_factory=list)
