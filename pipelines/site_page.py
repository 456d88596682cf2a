"""A page of a provider's website as the judge sees it, and the small records the judging passes
share (pipelines.site_judging for sentences, pipelines.site_labels for headings, list items, table
rows and schema.org service names): a block of text, a level phrase found in it, a finding with
its quote; how a block is cut into sentences and how a quote is shortened.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

MAX_QUOTE = 300
_ABBREVIATIONS = re.compile(r"(?:\b(?:Dr|Dra|Mr|Mrs|Ms|St|Sr|Sra|Jr|Inc|Ltd|Co|vs|approx|Ave|Blvd|Rd|Ste|Mt|Ft)"
                            r"|\b[a-zA-Z]\.[a-zA-Z]|\b[A-Z])\.$")
_NUMBER_ABBREVIATION = re.compile(r"\b(?:No|Nos|no|Vol|p|pp)\.$")  # "No. 1": an abbreviation only before a number
# "6 to 9 p.m. If you were referred ...": a clock time ends a sentence when a clause opens after it
# (not "9 a.m. Monday through Friday", nor "6 to 9 p.m. A process group ...", a schedule's
# fragment whose next line says what meets).
_CLOCK = re.compile(r"\b[ap]\.m\.$", re.I)
_CLAUSE_OPENER = re.compile(r"[¿¡\"“‘(]*(?:if|when|we|our|you|your|please|call|they|it|this|there|after|before|"
                            r"si|cuando|nosotros|nuestr[oa]s?|usted|llame)\b", re.I)


@dataclass(frozen=True)
class Finding:
    """A level of care the page states, the words that state it, and the page."""

    level: str
    quote: str
    url: str


@dataclass
class Block:
    """A run of the page's own text: a heading, a list item, a paragraph, a table row."""

    text: str
    kind: str  # "heading", "item" or "para"
    heading: int = 0  # 1-6 for headings
    lead_in: str | None = None  # for list items: the text just before the list


@dataclass
class Page:
    """A page as the judge sees it: its own text, and what tells whose page it is."""

    url: str
    blocks: list[Block]
    blog_reason: str | None = None  # why the page reads as a blog post, or None
    own_names: list[str] = field(default_factory=list)  # the site's own name(s), from its markup
    host_label: str = ""  # "riversiderecovery" for https://www.riversiderecovery.com/
    # Services the page's schema.org data says the organisation offers: (where, name), e.g.
    # ("availableService (JSON-LD)", "Medical Detox"); pipelines.structured_data.offered_services.
    services: list[tuple[str, str]] = field(default_factory=list)
    # What the schema.org data says of the organisation and its services: (where, description).
    descriptions: list[tuple[str, str]] = field(default_factory=list)

    @property
    def is_blog_like(self) -> bool:
        return self.blog_reason is not None


@dataclass
class Mention:
    level: str
    start: int
    end: int
    described: bool = False  # a described_level phrase ("weekly individual therapy"), not the level's name
    # A description that says by itself the program provides the level ("Men live on the ranch for
    # 60 days", "meets three evenings a week for three hours"): stated unless ruled out or general.
    self_stating: bool = False


def title_index(blocks: list[Block]) -> int | None:
    """Where the page's title is: its h1, else its first heading; None without a heading."""
    headings = [i for i, b in enumerate(blocks) if b.kind == "heading"]
    return next((i for i in headings if blocks[i].heading == 1), headings[0] if headings else None)


def is_home(url: str) -> bool:
    """The site's home page: its root, or the root's index file."""
    return bool(re.fullmatch(r"/?(?:index\.\w+)?", urlsplit(url).path))


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# Hand-written, measured against libraries on the 75 labelled pages (bench.site_levels): pySBD
# 0.3.4 and syntok 1.4.4 give the same precision and recall but make judging 5.7x and 1.7x
# slower (18.5 and 5.7 ms a page against 3.3); NLTK's punkt has no model without a separate
# download, and untrained it splits "Dr." and "a.m." (16 blocks cut wrongly).
def split_sentences(text: str) -> list[str]:
    """Sentences of a block; abbreviations (Dr., a.m., St.) do not end one. A Spanish sentence may
    open with ¿ or ¡."""
    pieces = re.split(r"(?<=[.!?])[\"”’)]*\s+(?=[¿¡\"“‘(]*[A-ZÁÉÍÓÚÑ0-9])", text)
    sentences: list[str] = []
    for piece in pieces:
        clock = sentences and _CLOCK.search(sentences[-1]) and _CLAUSE_OPENER.match(piece)
        if sentences and not clock and (_ABBREVIATIONS.search(sentences[-1])
                                        or (_NUMBER_ABBREVIATION.search(sentences[-1]) and piece[:1].isdigit())):
            sentences[-1] += " " + piece
        else:
            sentences.append(piece)
    return [s.strip() for s in sentences if s.strip()]


def quote(sentence: str, m: Mention | None = None) -> str:
    """The sentence, or a window of it around the level phrase when it is long."""
    sentence = norm(sentence)
    if len(sentence) <= MAX_QUOTE or m is None:
        return sentence[:MAX_QUOTE]
    half = (MAX_QUOTE - len(sentence[m.start:m.end])) // 2
    start, end = max(0, m.start - half), min(len(sentence), m.end + half)
    start = sentence.rfind(" ", 0, start) + 1 if start else 0
    end = sentence.find(" ", end) if end < len(sentence) and sentence.find(" ", end) != -1 else len(sentence)
    return ("…" if start else "") + sentence[start:end].strip() + ("…" if end < len(sentence) else "")
