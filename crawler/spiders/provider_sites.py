"""Programs' own websites: the home page and a few same-site pages about programs, services,
levels of care or admissions. Each page is read once (common.page_reading): its text blocks
with their place on the page, title and schema.org data go into the feed, and the build judges
which levels of care the site states (pipelines.site_levels), so a phrase change needs no recrawl.

    scrapy crawl provider_sites -a db=data/programs.db -O data/feed/provider_sites.jsonl
    scrapy crawl provider_sites -a urls="p123=https://example.org/,https://other.example/" -a max_pages=8

Manners: robots.txt obeyed, AutoThrottle, one request at a time per site, non-HTML responses
stopped at their headers, pages over DOWNLOAD_MAXSIZE dropped, and at most max_pages pages per site.

One request at a time per site is kept by the spider itself: each site's next page is requested
only when the last one has been answered (or failed). CONCURRENT_REQUESTS_PER_DOMAIN=1 alone does
not hold it in Scrapy 2.19 when DOWNLOAD_DELAY is 0: the downloader hands queued requests to
coroutines before it counts them as transferring, so a queue of same-host requests leaves at once.

A site's state (its queue of links, the pages seen and read) travels with its one pending
request (meta "site"), so that when several workers share the frontier (crawler/worker.py) the
worker that gets a site's answer carries on the site where another left it; across workers the
per-site slots in Redis (crawler/politeness.py) keep one request at a time per host.
"""
from __future__ import annotations

import csv
import heapq
import itertools
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest, StopDownload
from scrapy.http import HtmlResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.spidermiddlewares.httperror import HttpError
from w3lib.url import canonicalize_url

from common import paths
from common.normalize import normalize_website
from common.page_reading import read_page
from crawler.site_items import SitePageItem

DEFAULT_MAX_PAGES = 8
MAX_PAGES_LIMIT = 100
HTML_TYPES = re.compile(r"^\s*(?:text/html|application/xhtml\+xml)\b", re.I)
# Words in a link's URL path or text that point at programs, services, levels of care or admissions.
LINK_WORDS = (r"programs?|services?|treatment|levels?[-_ ]of[-_ ]care|care|admissions?|admit|intake|"
              r"getting[-_ ]started|what[-_ ]we[-_ ](?:do|offer|treat)|continuum|approach|iops?|php|"
              r"intensive|outpatient|out-patient|inpatient|in-patient|residential|detox|withdrawal|partial|"
              r"hospitali[sz]ation|day[-_ ]treatment|rehab|therapy|counseling|substance|addiction|"
              r"mental[-_ ]health|behavioral|recovery")
# The most telling links (a level's own page) go first when the budget is short.
LEVEL_LINK = re.compile(r"iop|php|intensive|outpatient|out-patient|inpatient|residential|detox|withdrawal|"
                        r"partial|day[-_ ]treatment|levels?[-_ ]of[-_ ]care", re.I)
LINK_DENY = (r"\.(?:php|aspx?)\?.*(?:replytocom|share|print)=", r"/(?:wp-admin|wp-login|wp-json|feed|cart|"
             r"checkout|account|login|search)(?:/|$)", r"[?&](?:s|search|query)=")
# Its blog_path rows name the path segments of blog-like pages, whose links are not followed.
PHRASES = paths.DATA / "site_level_phrases.csv"


@dataclass
class Site:
    """One website to read, and the programs whose website it is."""

    start_url: str
    program_ids: list[str] = field(default_factory=list)
    hosts: set[str] = field(default_factory=set)  # host[:port] without www., redirects included
    requested: int = 0
    seen: set[str] = field(default_factory=set)  # canonical URLs requested or reached by redirect
    pending: list[tuple[int, int, str]] = field(default_factory=list)  # heap of (rank, order, url)
    pages_read: int = 0
    over_budget: bool = False  # links were left unfollowed for want of budget


def site_host(url: str) -> str:
    """host[:port] without a leading www.: the unit of "same site"."""
    parts = urlsplit(url)
    host = re.sub(r"^www\d?\.", "", (parts.hostname or "").lower())
    return f"{host}:{parts.port}" if parts.port else host


@lru_cache(maxsize=1)
def _blog_segment() -> re.Pattern:
    with PHRASES.open(newline="", encoding="utf-8") as fh:
        patterns = [row["pattern"] for row in csv.DictReader(fh) if (row["kind"] or "").strip() == "blog_path"]
    if not patterns:
        raise ValueError(f"{PHRASES}: no rows of kind blog_path")
    return re.compile("(?:%s)\\Z" % "|".join(f"(?:{p})" for p in patterns), re.I)


def is_blog_link(url: str) -> bool:
    """A link to a blog-like page (/blog/, /2023/05/, /careers.html): the build would judge the
    page blog-like and read no level from it, so it is not worth a page of the site's budget."""
    for segment in urlsplit(url).path.lower().split("/"):
        segment = re.sub(r"\.(?:html?|php|aspx?|jsp)$", "", segment)
        if segment and _blog_segment().match(segment):
            return True
    return False


def parse_urls(spec: str) -> list[tuple[str | None, str]]:
    """'p1=https://a.org/,https://b.org/' -> [("p1", "https://a.org/"), (None, "https://b.org/")]."""
    pairs: list[tuple[str | None, str]] = []
    for part in (spec or "").split(","):
        part = part.strip()
        if not part:
            continue
        program_id, sep, url = part.partition("=")
        if not sep or "/" in program_id or ":" in program_id or "." in program_id:
            program_id, url = None, part  # a bare URL (its query may hold '=')
        website = normalize_website(url)
        if not website:
            raise ValueError(f"urls: {part!r} is not a website URL (write program_id=https://... or https://...)")
        pairs.append((program_id.strip() if program_id else None, website))
    if not pairs:
        raise ValueError("urls: no website given (e.g. -a urls=p1=https://example.org/)")
    return pairs


def programs_from_db(path: str) -> list[tuple[str | None, str]]:
    """(programs.id, website) for every program with a website, read-only."""
    if not Path(path).is_file():
        raise ValueError(f"db {path!r}: no such file (build it first: make data)")
    try:
        with sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True) as db:
            rows = db.execute(
                "select id, website from programs where website is not null and trim(website) != '' order by id"
            ).fetchall()
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"db {path!r}: cannot read programs.id and programs.website ({exc})") from None
    pairs = []
    for program_id, website in rows:
        url = normalize_website(website)
        if url:
            pairs.append((program_id, url))
    return pairs


class ProviderSitesSpider(scrapy.Spider):
    name = "provider_sites"
    # For the crawl's guard and summary (crawler/extensions.py, crawler/commands/safecrawl.py):
    failures_spoil_crawl = False  # one program's site being down spoils no other's
    empty_crawl_message = "the crawl kept no pages of any program's website"
    crawl_summary = "{items} pages of {sites} program websites"
    # Stats every worker of a shared crawl counts alike (each reads the whole list of sites).
    crawl_wide_stats = ("sites",)
    custom_settings = {
        "ROBOTSTXT_OBEY": True,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "DOWNLOAD_MAXSIZE": 2 * 1024 * 1024,  # a page bigger than this is not a program page
        "DOWNLOAD_WARNSIZE": 1024 * 1024,
        "DOWNLOAD_TIMEOUT": 30,
        "REDIRECT_MAX_TIMES": 5,
        "METAREFRESH_ENABLED": True,
        # The listing quality checks are for ListingItem; these items have their own shape.
        "ITEM_PIPELINES": {"crawler.item_pipelines.ListingQualityPipeline": None},
    }

    def __init__(self, db: str | None = None, urls: str | None = None, max_pages: str = str(DEFAULT_MAX_PAGES),
                 *args, **kwargs):
        super().__init__(*args, **kwargs)
        if bool(db) == bool(urls):
            raise ValueError("give either -a db=data/programs.db or -a urls=program_id=https://...,... (not both)")
        try:
            self.max_pages = int(max_pages)
        except ValueError:
            raise ValueError(f"max_pages {max_pages!r}: give a whole number of pages per site, e.g. 8") from None
        if not 1 <= self.max_pages <= MAX_PAGES_LIMIT:
            raise ValueError(f"max_pages {max_pages!r}: give between 1 and {MAX_PAGES_LIMIT}")
        pairs = programs_from_db(db) if db else parse_urls(urls)
        self.sites: dict[str, Site] = {}
        for program_id, url in pairs:
            site = self.sites.setdefault(url, Site(url, hosts={site_host(url)}))
            if program_id and program_id not in site.program_ids:
                site.program_ids.append(program_id)
        self.order = itertools.count()
        common = {"deny": LINK_DENY, "unique": True}
        self.links_by_url = LinkExtractor(allow=rf"^https?://[^/]+/.*(?:{LINK_WORDS})", **common)
        self.links_by_text = LinkExtractor(restrict_text=rf"(?i)\b(?:{LINK_WORDS})", **common)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_headers, signal=signals.headers_received)
        crawler.signals.connect(spider.on_closed, signal=signals.spider_closed)
        return spider

    def count(self, key: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(f"{self.name}/{key}", n)

    async def start(self):
        self.count("sites", len(self.sites))
        if not self.sites:
            self.logger.error("no website to read: the database has no program with a website")
        for site in self.sites.values():
            heapq.heappush(site.pending, (0, next(self.order), site.start_url))
            request = self.next_request(site)
            if request is not None:
                yield request

    def next_request(self, site: Site) -> scrapy.Request | None:
        """The site's most telling pending page not yet requested, or None when there is none or
        the site's page budget is spent. Called once per answered page: one request in flight."""
        while site.pending:
            if site.requested >= self.max_pages:
                if not site.over_budget:
                    site.over_budget = True
                    self.count("sites_over_budget")
                return None
            _, _, url = heapq.heappop(site.pending)
            key = canonicalize_url(url, keep_fragments=False)
            if key in site.seen:
                continue
            site.seen.add(key)
            site.requested += 1
            # dont_filter: the spider dedupes per site; a request the dupefilter dropped silently
            # would end the site's chain.
            return scrapy.Request(url, callback=self.parse, errback=self.on_error, dont_filter=True,
                                  cb_kwargs={"site_url": site.start_url},
                                  meta={"provider_page": True, "site_url": site.start_url, "site": site})
        return None

    def on_headers(self, headers, body_length, request, spider):
        """Stop a non-HTML response (a PDF brochure, an image) at its headers."""
        if not request.meta.get("provider_page"):
            return  # robots.txt
        content_type = (headers.get(b"Content-Type") or b"").decode("latin-1")
        if content_type and not HTML_TYPES.match(content_type):
            raise StopDownload(fail=False)

    def on_error(self, failure):
        request = failure.request
        site = request.meta.get("site") or self.sites.get(request.meta.get("site_url"))
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            self.count("forbidden_by_robots")  # the robots.txt middleware's way of saying no
        elif failure.check(DownloadCancelledError):
            self.count("too_large")
            self.logger.info("%s: larger than DOWNLOAD_MAXSIZE, skipped", request.url)
        elif failure.check(HttpError):
            self.count(f"http_status/{failure.value.response.status}")
        else:
            self.count("failed_requests")
            self.logger.warning("%s: %s", request.url, failure.getErrorMessage())
        if site is not None:
            request = self.next_request(site)
            if request is not None:
                yield request

    def parse(self, response, site_url: str):
        site = response.meta.get("site") or self.sites[site_url]
        yield from self.read(site, response)
        request = self.next_request(site)
        if request is not None:
            yield request

    def read(self, site: Site, response):
        """Items for one answered page of the site, and its links added to the site's queue."""
        host = site_host(response.url)
        if host not in site.hosts:
            if site.pages_read or site.requested > 1:
                self.count("offsite_redirect")
                return
            site.hosts.add(host)  # the home page moved (http -> https://www., a new domain)
        site.seen.add(canonicalize_url(response.url, keep_fragments=False))
        if not isinstance(response, HtmlResponse):
            self.count("skipped_not_html")
            return
        site.pages_read += 1
        self.count("pages_read")
        # One parse: the tree Scrapy made for the link extractor below.
        reading = read_page(response.text, response.url, tree=response.selector.root)
        if reading.json_ld or reading.microdata:
            self.count("pages_with_structured_data")
        fetched_at = datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        for program_id in site.program_ids or [None]:
            yield SitePageItem(program_id=program_id, url=response.url, site=site.start_url, fetched_at=fetched_at,
                               site_programs=list(site.program_ids), **reading.as_feed())
        self.queue_links(site, response)

    def queue_links(self, site: Site, response) -> None:
        """Queue same-site links about programs, services, levels of care or admissions; a link
        that names a level (iop, residential, levels-of-care) ranks before the others."""
        links: dict[str, str] = {}
        for link in self.links_by_url.extract_links(response) + self.links_by_text.extract_links(response):
            url = link.url.split("#", 1)[0]
            if site_host(url) not in site.hosts or is_blog_link(url) or url in links:
                continue
            if canonicalize_url(url, keep_fragments=False) in site.seen:
                continue
            links[url] = link.text or ""
        for url, text in links.items():
            rank = 1 if LEVEL_LINK.search(f"{urlsplit(url).path} {text}") else 2
            heapq.heappush(site.pending, (rank, next(self.order), url))

    def on_closed(self, spider, reason):
        read = self.crawler.stats.get_value(f"{self.name}/pages_read", 0)
        if self.sites and not read:
            self.logger.error("no page of any of %d website(s) could be read (%s)", len(self.sites), reason)
