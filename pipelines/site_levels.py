"""The levels of care a provider's own website states in its own words, judged at build time
from what the provider_sites spider read (common.page_reading), each with the sentence that
says it and the page URL as evidence:

    judge_item(feed item) -> {**item, "findings": [...], "structured": {...}, "page_kind": "page" | "blog"}
    program_care_level_rows(judged items) -> rows of program_care_levels

A saved page is judged the same way, read by the spider's own reader, one JSON line a level:

    python -m pipelines.site_levels PAGE.html [--url URL]
    {"level": "iop", "quote": "We offer an intensive outpatient program ..."}

Without --url the page's own address is taken from its og:url or canonical link, else it is
file:///NAME (the folders a file was saved in say nothing of the page, and a folder named "posts"
must not make it read as a blog post).

The spider stores each page's text blocks, title, a few <meta> values, body and article class
names and its schema.org data; nothing in the feed is judged, so a change to the phrase data
(data/site_level_phrases.csv, pipelines.site_vocabulary) takes effect at the next `make build`.
Here a feed item becomes the judge's Page (its own text, whether it reads as a blog post, the
site's own names); pipelines.site_judging decides what the text states by its rules, and the page
model of pipelines.site_model (data/site_level_model.json) adds the levels it is confident of and
rules out those it is sure the page does not state.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import asdict, is_dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from common import vocab
from common.page_reading import read_page

from pipelines.site_judging import Block, Finding, Page, state_levels
from pipelines.site_model import combine
from pipelines.site_page import is_home
from pipelines.site_vocabulary import Vocabulary, load_vocabulary
from pipelines.structured_data import descriptions, extract_structured, json_objects, offered_services

__all__ = ["SOURCE", "Finding", "blog_reason", "judge_item", "judge_saved_page", "page_of", "program_care_level_rows"]

SOURCE = "provider website"  # program_care_levels.source for these findings
ORG_TYPE = re.compile(r"organi[sz]ation|business|clinic|hospital|medical|physician|ngo|website|place|center|"
                      r"healthcare|psychiatric|practice", re.I)
NOT_ORG_TYPE = re.compile(r"page|article|posting|breadcrumb|list|image|offer|review|faq|question|answer|event|"
                          r"person|therapy|procedure|condition|service", re.I)
TITLE_SEPARATORS = re.compile(r"\s+[|–—·:»-]\s+")
SITE_NAME_META = ("og:site_name", "application-name", "apple-mobile-web-app-title")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _types(node: dict) -> list[str]:
    value = node.get("@type") or []
    return [t for t in ([value] if isinstance(value, str) else value) if isinstance(t, str)]


def _host_label(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    host = re.sub(r"^www\d?\.", "", host)
    labels = host.split(".")
    return labels[0] if len(labels) > 1 and not host.replace(".", "").isdigit() else ""


def _blog_path(url: str, voc: Vocabulary) -> str | None:
    path = urlsplit(url).path.lower()
    if voc.patterns["help_path"].search(path):
        return None  # a help center's /articles/ are its answers about the program
    for segment in path.split("/"):
        segment = re.sub(r"\.(?:html?|php|aspx?|jsp)$", "", segment)
        if segment and voc.patterns["blog_path"].match(segment):
            return f"path segment /{segment}/"
    return None


def _blog_type(item: dict, voc: Vocabulary) -> str | None:
    for syntax, data in (("schema.org", item.get("json_ld")), ("microdata", item.get("microdata"))):
        for node in json_objects(data or []):
            for t in _types(node):
                if voc.patterns["blog_type"].match(t.rsplit("/", 1)[-1]):
                    return f"{syntax} type {t}"
    return None


def blog_reason(item: dict, voc: Vocabulary | None = None) -> str | None:
    """Why a page (a provider_sites feed item) reads as a post about treatment in general rather
    than a page about the program: its path, its schema.org type, its publication date, or the
    class its CMS gives posts. On the site's home page a schema.org type is no reason: a CMS's
    front page lists its own articles so (Joomla's featured view marks each a BlogPosting in a Blog)."""
    voc = voc or load_vocabulary()
    url = item.get("url") or ""
    reason = _blog_path(url, voc) or (None if is_home(url) else _blog_type(item, voc))
    if reason:
        return reason
    if "article:published_time" in (item.get("meta") or {}):
        return "article:published_time"
    for tag, names in (item.get("classes") or {}).items():
        if any(voc.patterns["page_class"].match(name.lower()) for name in names):
            continue
        for name in names:
            if voc.patterns["blog_class"].match(name.lower()):
                return f"<{tag} class={name}>"
    return None


def _own_names(item: dict) -> list[str]:
    """The site's own name as its markup gives it: schema.org organisation names, og:site_name,
    the part of the <title> after the last separator."""
    names: list[str] = []
    for node in json_objects(item.get("json_ld") or []):
        name = node.get("name")
        if isinstance(name, str) and any(ORG_TYPE.search(t) and not NOT_ORG_TYPE.search(t) for t in _types(node)):
            names.append(name)
    meta = item.get("meta") or {}
    names += [content for key in SITE_NAME_META for content in meta.get(key, [])]
    pieces = TITLE_SEPARATORS.split(_norm(item.get("title") or ""))
    if len(pieces) > 1:
        names.append(pieces[-1])
    return [n for n in dict.fromkeys(_norm(n) for n in names) if n]


def page_of(item: dict, voc: Vocabulary | None = None) -> Page:
    """The judge's view of a provider_sites feed item: the page's own text (furniture left out),
    why it reads as a blog post if it does, the site's own names, and the services and
    descriptions of its schema.org data."""
    blocks = [Block(b["text"], b["kind"], b.get("heading", 0), b.get("lead_in"))
              for b in item.get("blocks") or [] if not b.get("furniture")]
    url = item.get("url") or ""
    return Page(url, blocks, blog_reason(item, voc), _own_names(item), _host_label(url), offered_services(item),
                descriptions(item))


def judge_item(item, model: bool = True) -> dict:
    """A provider_sites feed item (a dict or SitePageItem) with what the build makes of it:
    `findings` ({"level", "quote", "url"}), `structured` (its schema.org description) and
    `page_kind` ("page", or "blog" for a blog-like page, which states no levels).
    An item from a feed written before the build judged pages has findings and no blocks: it
    is kept as it was judged then (crawl again to judge it with today's phrases)."""
    data = asdict(item) if is_dataclass(item) else dict(item)
    if "blocks" not in data and "findings" in data:
        return data
    page = page_of(data)
    stated = state_levels(page)
    if model:
        stated = combine(page, data.get("title"), stated, vocab.care_levels())
    findings = [asdict(f) for f in stated]
    return {**data, "findings": findings, "structured": extract_structured(data),
            "page_kind": "blog" if page.is_blog_like else "page"}


def program_care_level_rows(items: Iterable) -> list[dict]:
    """program_care_levels rows from judged provider_sites feed items (judge_item): one per
    program and level, from the first page in feed order that states it. source is
    "provider website", evidence the quote, source_url and source_ref the page URL, seen the
    time the page was fetched. Items without a program_id (crawled from a bare URL) give none."""
    rows: dict[tuple[str, str], dict] = {}
    for item in items:
        data = asdict(item) if is_dataclass(item) else dict(item)
        program_id = data.get("program_id")
        if not program_id:
            continue
        for finding in data.get("findings") or []:
            key = (program_id, finding["level"])
            if key not in rows:
                rows[key] = {
                    "program_id": program_id,
                    "care_level": finding["level"],
                    "source": SOURCE,
                    "evidence": finding["quote"],
                    "source_url": finding["url"],
                    "source_ref": finding["url"],
                    "seen": data.get("fetched_at"),
                }
    return list(rows.values())


def judge_saved_page(path: Path | str, url: str | None = None) -> list[Finding]:
    """The levels a page saved to a file states, read as the spider reads a page and judged as
    the build judges its feed line. url: the page's address (its path tells a blog post, its
    host the site's name); by default the page's og:url or canonical link, else file:///NAME."""
    path = Path(path)
    reading = read_page(path.read_bytes(), url or "file:///" + quote(path.name))
    if not url:
        url = next((u for key in ("og:url", "canonical") for u in reading.meta.get(key, [])
                    if u.startswith(("http://", "https://"))), reading.url)
    item = {"program_id": None, "url": url, "site": url, "fetched_at": None, **reading.as_feed()}
    return [Finding(**f) for f in judge_item(item)["findings"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.site_levels",
                                     description="Print the levels of care a saved page of a provider's website "
                                                 "states, one JSON line each: {\"level\": ..., \"quote\": ...}.")
    parser.add_argument("page", type=Path, help="the saved page (HTML, or plain text)")
    parser.add_argument("--url", help="the page's address (default: its og:url or canonical link, else file:///PAGE)")
    args = parser.parse_args(argv)
    if not args.page.is_file():
        parser.error(f"{args.page}: no such file")
    for finding in judge_saved_page(args.page, args.url):
        print(json.dumps({"level": finding.level, "quote": finding.quote}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
