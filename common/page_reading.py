"""What one page of a provider's website says, read from its markup once and judged later.

    read_page(html_or_text, url, tree=None) -> PageReading

The reading keeps the page's text as blocks (a heading, a list item, a paragraph, a table row)
with their place on the page, its <title>, a few <meta> values, the class names of <body> and
<article>, and its schema.org data as the page gives it (JSON-LD objects, microdata items). It
judges nothing: which levels of care the page states is decided by the build
(pipelines.site_levels), so a change to the phrase data needs a rebuild, never a recrawl.

It lives in common/ because two layers read pages the same way: the provider_sites spider
(crawler/) and the build's command that judges a saved page (`python -m pipelines.site_levels
PAGE.html`), which may import only pipelines/ and common/.

Where a block sits is reading, not judging: text inside navigation, header, footer, sidebar,
hidden or form markup is kept but marked `furniture` (with the reason), collected apart so that
the page's own text is cut into the same blocks as if that markup were not there.

One parse: the spider passes the tree Scrapy already parsed for its link extractor
(response.selector.root); without one the text is parsed the same way (parsel).
"""
from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import extruct
from extruct.jsonld import JsonLdExtractor
from parsel import Selector

logger = logging.getLogger(__name__)

# Markup whose text is never the page's words: not kept at all.
NEVER_TEXT = {
    "script", "style", "noscript", "template", "svg", "iframe", "object", "embed", "canvas", "video", "audio",
    "map", "head", "title", "meta", "link",
}
# Furniture is found by the markup rules below, not by a boilerplate library: on the 75 labelled
# pages (bench.site_levels) trafilatura 2.3.1 deciding instead gives precision 91.7% and recall
# 94.0% (rules: 100% and 95.7%), readability-lxml 0.9 91.6% and 83.8%, jusText 3.0.2 recall 23%
# (it drops short headings and list items, the labels); each also takes longer per page (4-14 ms)
# than this whole reader (2.4 ms).
# Markup that is page furniture whatever it holds: kept, marked with the tag.
FURNITURE_TAGS = {"nav", "aside", "footer", "form", "select", "option", "button", "input", "textarea", "dialog"}
# Tabs and accordions are the page's own text a click away: a tab list, a tab, a tab panel (shown
# or hidden), and a button that opens a part of the page (an accordion's question) are read.
DISCLOSURE_ROLES = {"tab", "tablist", "tabpanel"}
DISCLOSURE_TOGGLES = {"collapse", "tab", "pill", "accordion"}
FURNITURE_ROLES = {"navigation", "contentinfo", "complementary", "search", "dialog", "alertdialog", "menu", "menubar"}
# Class or id names of navigation and page furniture (matched whole, lower-cased).
FURNITURE_CLASSES = frozenset("""
nav navbar navigation menu menus megamenu mega-menu main-menu sub-menu submenu dropdown dropdown-menu menu-item
site-header masthead header-top header-bottom top-bar topbar utility-bar global-header main-header site-footer
footer footer-widgets colophon sidebar widget widgets widget-area breadcrumb breadcrumbs cookie cookies
cookie-banner consent gdpr social social-links share sharing share-buttons related related-posts
related-programs comments comment skip-link screen-reader-text sr-only visually-hidden modal popup offcanvas
off-canvas drawer mobile-menu testimonial testimonials reviews review newsletter subscribe copyright legal
disclaimer sitemap search search-form login pagination tag-cloud author-bio announcement-bar
topnav leftnav rightnav sidenav subnav mainnav navlinks quicklinks quick-links leftcol rightcol sidecol
""".split())
# Class-name parts that mark furniture even inside a longer name (elementor-nav-menu, site-footer-inner).
FURNITURE_PARTS = {
    "nav", "navbar", "navigation", "menu", "megamenu", "breadcrumb", "breadcrumbs", "sidebar", "footer",
    "cookie", "cookies", "gdpr", "consent", "offcanvas", "masthead", "colophon", "sharing",
}
# Short forms of furniture words in class and id names ("section-ftr01", "hdr-wrap").
SHORT_FORMS = {"ftr": "footer", "hdr": "header", "sdbr": "sidebar"}
# Page builders' module wrappers named like sidebar widgets; inside the entry they are content.
CONTENT_WIDGETS = {"widget", "widgets"}
# Class or id names of the wrapper of the page's own content: whatever else the wrapper's classes say
# of its layout, it is not furniture.
CONTENT_WRAPPERS = {"main", "main-content", "maincontent", "site-content", "page-content", "primary", "content-area"}
# A class name that says what an element is not ("wsite-not-footer") marks nothing.
NEGATING_PARTS = {"not", "non", "no", "none"}
# A header part is kept when the class is about the content's own title (or an accordion's question,
# or a page-builder module's title: Divi's et_pb_module_header).
CONTENT_HEADER_PARTS = {"entry", "page", "post", "article", "section", "card", "hero", "title", "content",
                        "accordion", "faq", "toggle", "panel", "pane", "collapse", "question", "tab", "module", "blurb",
                        "element", "frame", "block", "component"}  # TYPO3's frame-header, element-header
BLOCK_TAGS = {
    "address", "article", "blockquote", "body", "dd", "details", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "html", "li", "main",
    "ol", "p", "pre", "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "ul", "caption",
}
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
LISTS = {"ul", "ol", "dl"}
ITEMS = {"li", "dt", "dd"}
CELLS = {"td", "th"}
# <meta> names and properties kept: the site's own name, an article's publication date, the page's
# own address (og:url; <link rel="canonical"> is kept under "canonical"), for a page saved to a file.
META_KEYS = ("og:site_name", "application-name", "apple-mobile-web-app-title", "article:published_time", "og:url")
_HTML_START = re.compile(r"<\s*(?:html|body|head|p|div|h[1-6]|ul|ol|li|span|a|section|article|main|br|table)\b", re.I)


@dataclass
class Block:
    """A run of text the page shows as one unit: a heading, a list item, a paragraph, a table row."""

    text: str
    kind: str  # "heading", "item" or "para"
    heading: int = 0  # 1-6 for headings
    lead_in: str | None = None  # for list items: the text just before the list
    furniture: str | None = None  # why it is page furniture ("nav", "class site-footer", "hidden"), or None

    def as_feed(self) -> dict:
        """The block as the feed holds it: fields at their default are left out."""
        return {k: v for k, v in asdict(self).items() if v or k in ("text", "kind")}


@dataclass
class PageReading:
    """Everything the build needs to judge a page, and nothing judged."""

    url: str
    title: str = ""
    blocks: list[Block] = field(default_factory=list)
    json_ld: list = field(default_factory=list)  # JSON-LD objects, block by block (a broken block left out)
    microdata: list = field(default_factory=list)  # microdata items, in JSON-LD's shape (extruct, uniform)
    meta: dict[str, list[str]] = field(default_factory=dict)  # META_KEYS found: their contents
    classes: dict[str, list[str]] = field(default_factory=dict)  # "body", "article": their class names

    @property
    def content(self) -> list[Block]:
        """The blocks that are the page's own text (not furniture)."""
        return [b for b in self.blocks if not b.furniture]

    def as_feed(self) -> dict:
        """The fields of a provider_sites feed item that hold this reading (all but url)."""
        return {"title": self.title, "blocks": [b.as_feed() for b in self.blocks], "json_ld": self.json_ld,
                "microdata": self.microdata, "meta": self.meta, "classes": self.classes}


# Where an inline element starts or ends. Card builders set a title and its text apart by CSS alone
# (<strong>Inpatient Rehab</strong><span>28 to 90 days</span>): a word that ends at an element and
# a number or a capital that starts the next are two words, as the page shows them.
INLINE_EDGE = "\x00"
_EDGE_BETWEEN_WORDS = re.compile(r"(?<=[a-z])\x00+(?=[A-Z])|(?<=[A-Za-z])\x00+(?=\d)|(?<=[a-z.:])\x00+(?=[A-Z][a-z])")


def _edges_spaced(text: str) -> str:
    if INLINE_EDGE not in text:
        return text
    return _EDGE_BETWEEN_WORDS.sub(" ", text).replace(INLINE_EDGE, "")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _classes(el) -> list[str]:
    return (el.get("class") or "").split() + ([el.get("id")] if el.get("id") else [])


def _inside_content(el) -> bool:
    return any(a.tag in ("main", "article") or (a.get("role") or "") == "main" for a in el.iterancestors()
               if isinstance(a.tag, str))


def _holds_content(el) -> bool:
    return bool(el.xpath(".//h1 | .//main | .//article"))


def _inside_entry(el) -> bool:
    """Inside the article or the entry's own content (WordPress entry-content), where page
    builders call every module a widget."""
    for a in el.iterancestors():
        if not isinstance(a.tag, str):
            continue
        if a.tag == "article" or {"entry-content", "page-content", "post-content"} & set((a.get("class") or "").split()):
            return True
    return False


def _in_tablist(el) -> bool:
    return any((a.get("role") or "").lower() == "tablist" for a in el.iterancestors() if isinstance(a.tag, str))


def _holds_tabs(el) -> bool:
    """A tab list inside the page's content, whatever its wrapper is called: Bootstrap and Avada
    put the tabs in a `div.nav` or a <nav> ("nav nav-tabs"), the tabs being links with role=tab
    or data-(bs-)toggle=tab/pill."""
    return _inside_content(el) and bool(el.xpath(
        './/*[@role="tab" or @data-toggle="tab" or @data-bs-toggle="tab" or @data-toggle="pill" '
        'or @data-bs-toggle="pill"]'))


@lru_cache(maxsize=8192)  # a site's class names repeat on every element and page
def _name_bits(name: str) -> frozenset[str]:
    """The words of a class or id name, lower-cased, a numbered copy's number and a short form
    read as the word ("section-ftr01": section, footer)."""
    bits = {re.sub(r"\d+$", "", bit.lower()) for bit in re.split(r"[-_]+|(?<=[a-z])(?=[A-Z])", name) if bit}
    return frozenset(SHORT_FORMS.get(bit, bit) for bit in bits if bit)


def _says_content(el) -> bool:
    """Another class of the element names it content: GoDaddy's builder wraps each section of the
    page in "widget widget-content" (its header "widget widget-header", its footer "widget
    widget-footer")."""
    return any("content" in _name_bits(name) and not _name_bits(name) & FURNITURE_PARTS for name in _classes(el))


def _furniture_class(el) -> str | None:
    """The class or id name that marks the element as furniture, unless it is a layout wrapper
    ("has-sidebar") around the page's own content or a tab of a tab list ("nav-item")."""
    if any(name.lower() in CONTENT_WRAPPERS for name in _classes(el)):
        return None  # The7's <div id="main" class="sidebar-none sidebar-divider-vertical">
    for name in _classes(el):
        # Duda and other builders write camelCase names: dmFooterContainer is a footer's container.
        bits = _name_bits(name)
        name = name.lower()
        if bits & NEGATING_PARTS:  # Weebly's content wrapper is "wsite-not-footer"
            continue
        # SiteOrigin's "so-panel widget" modules in the entry; Granicus's "widget editor" in <main>
        if name in CONTENT_WIDGETS and (_inside_entry(el) or _inside_content(el) or _says_content(el)):
            continue
        if name in FURNITURE_CLASSES or bits & FURNITURE_PARTS or ("header" in bits and not bits & CONTENT_HEADER_PARTS):
            # A class the title's own section wears too says nothing of furniture (an id may).
            twin = name in (el.get("class") or "").lower().split() and _twin_of_content(el)
            content = _holds_content(el) or _in_tablist(el) or _holds_tabs(el) or twin
            return None if content else f"class {name}"
    return None


def _twin_of_content(el) -> bool:
    """A sibling with the very classes of the section that holds the page's title is a section
    of the same page: Landingi wraps each section, the title's too, in "widget widget-text"."""
    parent, classes = el.getparent(), el.get("class")
    return parent is not None and bool(classes) and any(
        sibling is not el and isinstance(sibling.tag, str) and sibling.get("class") == classes and _holds_content(sibling)
        for sibling in parent)


def _discloses(el) -> bool:
    """A control that opens part of the page (a tab, an accordion's question), not a form's button."""
    toggle = (el.get("data-bs-toggle") or el.get("data-toggle") or "").lower()
    # aria-expanded alone: an accordion whose script finds its panel by itself (Phoenix LiveView's
    # phx-click buttons); a menu's toggle sits in its navigation or header, furniture anyway.
    return el.get("aria-controls") is not None or el.get("aria-expanded") is not None or toggle in DISCLOSURE_TOGGLES


def furniture(el, disclosed: frozenset = frozenset()) -> str | None:
    """Why the element is navigation, header, footer, sidebar, hidden or a form; None if it is not.
    disclosed: the parts a control on the page opens (an accordion's answer hidden by display:none
    until its question is clicked; see _disclosed): the page's own text, hidden or not."""
    tag = el.tag
    if el in disclosed:
        return None
    if (el.get("role") or "").lower() in DISCLOSURE_ROLES:
        return None
    opens_part = (tag == "button" and _discloses(el)) or (tag == "nav" and _holds_tabs(el))
    # ASP.NET WebForms sites (Sitefinity, Kentico) wrap the whole page in one <form>: not a form.
    page_form = tag == "form" and _holds_content(el)
    if tag in FURNITURE_TAGS and not opens_part and not page_form:
        return tag
    if opens_part and tag == "button":
        return None  # an accordion's question, whatever its class says (Cornerstone's x-acc-header)
    role = (el.get("role") or "").lower()
    if role in FURNITURE_ROLES or (role == "banner" and not _inside_content(el)):
        return f"role {role}"
    if tag in ("html", "body", "main", "article"):
        return None
    if tag == "header" and not _inside_content(el) and not _holds_content(el):
        return "header"
    if _hidden(el):
        return "hidden"
    return _furniture_class(el)


class _Collector:
    """Walks the tree in document order and cuts its text into blocks. Furniture is walked by a
    collector of its own, so it neither splits nor joins the blocks of the page's own text."""

    def __init__(self, out: list[Block], where: str | None = None, disclosed: frozenset = frozenset()):
        self.out = out  # every block, in the order made
        self.disclosed = disclosed  # the parts the page's controls open (see furniture)
        self.where = where  # the furniture reason of everything this collector reads
        self.blocks: list[Block] = []  # this collector's own blocks (for list lead-ins)
        self.buf: list[str] = []
        self.stack: list[tuple[str, str | None]] = []  # (tag, lead-in of a list)

    def add(self, text: str | None) -> None:
        if text:
            self.buf.append(text)

    def flush(self) -> None:
        if not self.buf:
            return
        text = re.sub(r"(?:\s*\|\s*)+", " | ", _norm(_edges_spaced("".join(self.buf)))).strip(" |")
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
        block = Block(text, kind, heading, lead_in, self.where)
        self.blocks.append(block)
        self.out.append(block)

    def walk(self, el) -> None:
        if not isinstance(el.tag, str):  # comments, processing instructions
            self.add(el.tail)
            return
        tag = el.tag.lower()
        if tag in NEVER_TEXT:
            self.add(el.tail)
            return
        if self.where and (tag == "main" or (el.get("role") or "").lower() == "main"):
            # The main landmark is the page's own text even inside furniture: a header whose divs
            # are not all closed keeps the rest of the page inside it for lxml (a browser closes them).
            _Collector(self.out, None, self.disclosed).read(el)
            self.add(el.tail)
            return
        where = None if self.where else furniture(el, self.disclosed)
        if where:
            _Collector(self.out, where).read(el)
            self.add(el.tail)
            return
        if tag == "br":
            self.flush()
            self.add(el.tail)
            return
        self.walk_inside(el, tag)
        self.add(el.tail)

    def walk_inside(self, el, tag: str) -> None:
        if (el.get("role") or "").lower() == "tab":
            tag = "li"  # a tab's title is an item of its tab list, even as an inline <button> or <a>
        block = tag in BLOCK_TAGS or tag in ITEMS
        if block:
            self.flush()
            self.stack.append((tag, self.list_lead(tag)))
        elif tag in CELLS:
            self.add(" | ")
        else:
            self.add(INLINE_EDGE)
        self.add(el.text)
        for child in el:
            self.walk(child)
        if block:
            self.flush()
            self.stack.pop()
        elif tag in CELLS:
            self.add(" | ")
        else:
            self.add(INLINE_EDGE)

    def list_lead(self, tag: str) -> str | None:
        """The text that leads into a list: a nested list's parent item, else the last block
        that is not a list item."""
        if tag in LISTS and any(t == "li" for t, _ in self.stack) and self.blocks:
            return self.blocks[-1].text
        if tag in LISTS:
            return next((b.text for b in reversed(self.blocks) if b.kind != "item"), None)
        return None

    def read(self, el) -> None:
        """Read a furniture element's own text and children (its tail is its parent's)."""
        self.walk_inside(el, el.tag.lower())
        self.flush()


def looks_like_html(text: str) -> bool:
    return bool(_HTML_START.search(text[:5000]))


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


def _json_ld(tree, url: str) -> list:
    """The JSON-LD objects of every <script type="application/ld+json">; a broken block is left
    out and the others still count."""
    found: list = []
    extractor = JsonLdExtractor()
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            found += extractor.extract_items(script, base_url=url)
        except ValueError as exc:
            logger.debug("%s: a JSON-LD block is not valid JSON (%s)", url, exc)
    return found


def _microdata(tree, url: str) -> list:
    try:
        data = extruct.extract(tree, base_url=url, syntaxes=["microdata"], uniform=True, errors="log")
    except Exception as exc:  # extruct's microdata walker on odd markup; the rest still counts
        logger.debug("%s: microdata not readable (%s)", url, exc)
        return []
    return data.get("microdata", [])


def _meta(tree) -> dict[str, list[str]]:
    meta: dict[str, list[str]] = {}
    for el in tree.xpath("//meta[@property or @name]"):
        key = el.get("property") if el.get("property") in META_KEYS else el.get("name")
        if key in META_KEYS:
            meta.setdefault(key, []).append(el.get("content") or "")
    for el in tree.xpath('//link[@rel="canonical"][@href]'):
        meta.setdefault("canonical", []).append(el.get("href"))
    return meta


def _page_classes(tree) -> dict[str, list[str]]:
    classes: dict[str, list[str]] = {}
    for el in tree.xpath("//body | //article"):
        names = (el.get("class") or "").split()
        if names:
            classes.setdefault(el.tag, []).extend(names)
    return classes


# Class-name parts of the panes a tab or an accordion opens (Foundation's tabs-panel, Salient's
# wpb_tab, Bootstrap's tab-pane): an in-page link to one is a tab's, not a skip link's.
PANE_PARTS = {"tab", "tabs", "tabpanel", "panel", "pane", "accordion", "collapse", "toggle", "faq", "answer"}  # faq: Spectra's uagb-faq-content
HIDING_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


def _hidden(el) -> bool:
    return (el.get("hidden") is not None or (el.get("aria-hidden") or "").lower() == "true"
            or bool(HIDING_STYLE.search(el.get("style") or "")))


def _class_bits(el) -> set[str]:
    return set().union(*(_name_bits(name) for name in _classes(el)))


def _toggled_sibling(control):
    """The hidden part an accordion's question opens when it carries no id to point at (Finalsite:
    <header><h2><a aria-expanded>Question</a></h2></header><div style="display:none">Answer</div>):
    the next element after the control or one of its three nearest ancestors, if hidden."""
    el = control
    for _ in range(4):
        sibling = el.getnext()
        while sibling is not None and not isinstance(sibling.tag, str):
            sibling = sibling.getnext()
        if sibling is not None:
            return sibling if _hidden(sibling) else None
        el = el.getparent()
        if el is None:
            return None
    return None


def _disclosed(tree) -> frozenset:
    """The parts (elements) of the page that a control of the page opens: the targets of
    aria-controls, of Bootstrap's collapse and tab toggles (data-(bs-)target, or href="#id"), of
    in-page links to a tab or accordion pane, the hidden part right after an accordion question
    (aria-expanded) in the page's content, and hidden panes of the content named as such."""
    ids: set[str] = set()
    for el in tree.xpath("//*[@aria-controls]"):
        ids.update(el.get("aria-controls").split())
    for el in tree.xpath("//*[@data-toggle or @data-bs-toggle]"):
        if (el.get("data-bs-toggle") or el.get("data-toggle") or "").lower() in DISCLOSURE_TOGGLES:
            target = el.get("data-bs-target") or el.get("data-target") or el.get("href") or ""
            if target.startswith("#") and len(target) > 1:
                ids.add(target[1:])
    linked = {a.get("href")[1:] for a in tree.xpath('//a[starts-with(@href, "#")]')}
    parts = [el for el in tree.xpath("//*[@id]")
             if el.get("id") in ids or (el.get("id") in linked and _class_bits(el) & PANE_PARTS)]
    for control in tree.xpath("//*[@aria-expanded]"):
        if _inside_content(control):
            part = _toggled_sibling(control)
            if part is not None:
                parts.append(part)
    # A hidden accordion or tab pane of the page's content, whatever opens it (Brizy's
    # brz-accordion__content after a data-collapsible title), unless also named as furniture.
    for el in tree.xpath("//*[@class][@hidden or @aria-hidden or @style]"):
        bits = _class_bits(el)
        if bits & PANE_PARTS and not bits & FURNITURE_PARTS and _hidden(el):
            parts.append(el)
    return frozenset(parts)


def read_tree(tree, url: str) -> PageReading:
    """Read a parsed page (an lxml.html tree)."""
    blocks: list[Block] = []
    body = tree.find(".//body")
    collector = _Collector(blocks, disclosed=_disclosed(tree))
    collector.walk(body if body is not None else tree)
    collector.flush()
    return PageReading(url, _norm(tree.findtext(".//title") or ""), blocks, _json_ld(tree, url),
                       _microdata(tree, url), _meta(tree), _page_classes(tree))


def read_page(html_or_text: str | bytes, url: str, tree=None) -> PageReading:
    """Read a page: its HTML (or the tree already parsed from it), or plain text line by line."""
    if isinstance(html_or_text, bytes):
        html_or_text = html_or_text.decode("utf-8", errors="replace")
    if not looks_like_html(html_or_text):
        return PageReading(url, blocks=_text_blocks(html_or_text))
    if tree is None:
        tree = Selector(text=html_or_text).root
    return read_tree(tree, url)
