"""The item the provider_sites spider yields: one page of a program's own website as it was read
(common.page_reading), not as it was judged. The build decides which levels of care the page
states and summarises its schema.org data (pipelines.site_levels), so a change to the phrase data
needs a rebuild, not a recrawl. Kept apart from ListingItem: a page of a provider's site is not
a listing, and the build treats it as extra evidence only."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SitePageItem:
    program_id: str | None  # programs.id the website belongs to; None for a bare URL given with -a urls
    url: str  # the page read, after redirects
    site: str  # the website the crawl of this page started from (programs.website)
    fetched_at: str  # ISO 8601 UTC time the response was received
    title: str = ""  # the page's <title>
    # The page's text in document order: {"text", "kind": "heading" | "item" | "para", "heading": 1-6,
    # "lead_in": the text before a list, "furniture": why it is navigation, footer, sidebar...}
    # (common.page_reading.Block; fields at their default are left out).
    blocks: list[dict] = field(default_factory=list)
    json_ld: list = field(default_factory=list)  # the page's JSON-LD objects, as written
    microdata: list = field(default_factory=list)  # its microdata items, in JSON-LD's shape
    meta: dict = field(default_factory=dict)  # og:site_name, application-name, article:published_time...
    classes: dict = field(default_factory=dict)  # class names of <body> and <article>: {"body": [...]}
    # Every program sharing this website; a shared site may speak for only some of them.
    site_programs: list[str] = field(default_factory=list)
