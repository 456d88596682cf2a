"""A live crawl says who runs it: it does not start until CRAWLER_CONTACT names an email or URL,
which goes into the User-Agent of every request (crawler/settings.py), so a site that sees the
crawl can reach whoever runs it (issue 15: a live crawl with CRAWLER_CONTACT unset ran without a
word, under a placeholder). A crawl that reads only this machine (a file, a `file://` URL, a
server on 127.0.0.1 or localhost: the offline demo and the tests) needs none.

Checked before anything starts by the crawl commands (`scrapy safecrawl`, `scrapy workers`:
crawler/commands/), and for a plain `scrapy crawl` by the ContactRequired extension, which closes
the spider before its first request.
"""
from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import CloseSpider

logger = logging.getLogger(__name__)

PLACEHOLDER = "set CRAWLER_CONTACT to an email or URL"  # crawler/settings.py's default
EXAMPLE = "you@example.org"
# RFC 2606's example domains: the example of the message, copied as it is, is no contact.
EXAMPLE_DOMAINS = ("example.org", "example.com", "example.net")
LOCAL_SCHEMES = frozenset({"", "file", "data"})


def missing_message(contact: str | None) -> str:
    """The one line that says what is wrong with `contact` and how to set it."""
    what = "is not set" if not (contact or "").strip() or contact == PLACEHOLDER else f"is {contact!r}, an example"
    return (f"CRAWLER_CONTACT {what}: run `make crawl-live CRAWLER_CONTACT={EXAMPLE}` (or any live target, or "
            "export CRAWLER_CONTACT=...) with your own email or URL in place of the example; a live crawl names it "
            "in its User-Agent so the sites it reads can reach you. Offline, `make demo` needs none.")


def contact_given(contact: str | None) -> bool:
    """True when `contact` names someone: set, not the placeholder, not at an example domain."""
    contact = (contact or "").strip()
    if not contact or contact == PLACEHOLDER:
        return False
    domain = contact.rsplit("@", 1)[-1] if "@" in contact else (urlsplit(contact).hostname or "")
    return not any(domain == d or domain.endswith("." + d) for d in EXAMPLE_DOMAINS)


def is_local(url: str | None) -> bool:
    """True for a URL this machine answers itself: a path, a file: or data: URL, or a server on a
    loopback address (127.0.0.0/8, ::1, localhost and its subdomains, RFC 6761)."""
    parts = urlsplit(url or "")
    if parts.scheme.lower() in LOCAL_SCHEMES:
        return True
    host = (parts.hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def target_urls(spider) -> list[str]:
    """Where a spider will read: its `source_url` (the listing spiders) and the start URL of each
    website it reads (provider_sites' `sites`)."""
    urls = [getattr(spider, "source_url", None)]
    urls += list(getattr(spider, "sites", None) or {})
    return [u for u in urls if u]


def contact_problem(spider, contact: str | None) -> str | None:
    """The one-line refusal when `spider` would read beyond this machine with no contact, else None."""
    if contact_given(contact) or all(is_local(url) for url in target_urls(spider)):
        return None
    return missing_message(contact)


def refusal_before_start(spidercls, spargs: dict, contact: str | None) -> str | None:
    """contact_problem for the spider these arguments make, asked before a crawl starts (the crawl
    commands). Arguments the spider refuses give None here: the crawl itself reports them."""
    if contact_given(contact):
        return None
    try:
        spider = spidercls(**spargs)
    except (TypeError, ValueError):
        return None
    return contact_problem(spider, contact)


class ContactRequired:
    """For any crawl (`scrapy crawl` included): a spider that would read a live source with no
    CRAWLER_CONTACT is closed when it opens, before its first request, saying how to set it."""

    def __init__(self, crawler):
        self.contact = crawler.settings.get("CRAWLER_CONTACT")
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_opened(self, spider):
        why = contact_problem(spider, self.contact)
        if why:
            logger.error(why)
            raise CloseSpider(f"contact_missing: {why}")
