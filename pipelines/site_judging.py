"""Judging a page of a provider's website: which levels of care it states the program offers,
each with the sentence that states it. The page comes from the provider_sites feed as read by
the spider (pipelines.site_levels turns a feed item into a Page); the words are data
(pipelines.site_vocabulary).

    state_levels(page) -> [Finding(level, quote, url)]

Precision first. A level counts only where the page speaks of the program itself: "we offer ...",
"our IOP ...", "... is available on site", or a heading or list item that is only the name of a
level in a section where the program speaks of itself ("Our programs: Detox, Residential").
It does not count when the clause negates it ("we do not offer residential care"), sends people
elsewhere ("we can refer you to an IOP"), names where clients come from or what the level is
compared with ("an alternative to inpatient care", "after residential treatment"), is part of
another organisation's name ("Ben Taub Hospital's inpatient unit"), sits in page furniture
(the spider marks navigation, header, footer and sidebar text), or is on a blog-like page.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from common import vocab
from pipelines.site_vocabulary import Vocabulary, load_vocabulary, place_names

MAX_QUOTE = 300
LABEL_MAX_WORDS = 14
BLOCKER_WINDOW = 5  # words before a level phrase in which a blocker counts
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

    @property
    def is_blog_like(self) -> bool:
        return self.blog_reason is not None


@dataclass
class Mention:
    level: str
    start: int
    end: int


@dataclass
class Clause:
    """One clause of a sentence: its span in the sentence, with neutral phrases masked."""

    sentence: str
    masked: str
    mentions: list[Mention]
    start: int
    end: int


@dataclass
class Verdict:
    """A sentence's mentions: stated as offered, ruled out, and said by the program not offered."""

    stated: list[Mention] = field(default_factory=list)
    ruled_out: list[Mention] = field(default_factory=list)
    denied: list[Mention] = field(default_factory=list)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


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
            if joined not in place_names() and not all(self.is_own_word(t) for t in distinctive):
                return True
        phrase = text[m.start:m.end]
        if phrase[:1].isupper():
            after = re.match(r"(?:\s+[A-Z][\w’'&-]*){0,3}\s+of\s+([A-Z][\w’'&-]*)", text[m.end:])
            if after and not self.is_own_word(after.group(1)) and after.group(1).lower() not in place_names():
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

    def judge_sentence(self, sentence: str) -> Verdict:
        """For one sentence: the mentions it states as offered, those it rules out, and of those
        the ones the program itself says it does not offer ("we do not offer residential care")."""
        verdict = Verdict()
        mentions = find_mentions(sentence, self.voc)
        if not mentions or sentence.rstrip(" )”\"'").endswith("?"):
            return verdict
        masked = self.mask(sentence)
        for start, end in self.clauses(masked):
            if any(start <= m.start < end for m in mentions):
                self.judge_clause(Clause(sentence, masked, mentions, start, end), verdict)
        return verdict

    def judge_clause(self, clause: Clause, verdict: Verdict) -> None:
        masked, mentions, start, end = clause.masked, clause.mentions, clause.start, clause.end
        ours = self.possessed(masked, mentions, start, end)
        ranged = self.in_range(masked, mentions, start, end)
        referral = bool(self.p["referral"].search(masked, start, end))
        for i, m in enumerate(mentions):
            if not start <= m.start < end:
                continue
            pre, post = masked[start:m.start], masked[m.end:end]
            negated_after = self.p["negation_after"].match(post)
            negation = self.p["negation"].search(self.negation_scope(pre, masked[m.start:end], mentions))
            if referral or negation or negated_after:
                verdict.ruled_out.append(m)
                if not referral and (negated_after or self.says_not_offered(pre)):
                    verdict.denied.append(m)
            elif i in ours or (not self.in_other_name(clause.sentence, m)
                               and (i in ranged or not self.blocked(pre)) and self.offered(pre, post)):
                verdict.stated.append(m)

    def blocked(self, pre: str) -> bool:
        """A blocker in the last words before the level phrase: where clients come from, what the
        level is compared with, who needs it ("after residential treatment")."""
        window = " ".join(_WORD.findall(pre)[-BLOCKER_WINDOW:])
        return bool(self.p["blocker"].search(window))

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
            if word.isdigit() or self.is_own_word(word) or low in place_names():
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


# Hand-written, measured against libraries on the 75 labelled pages (bench.site_levels): pySBD
# 0.3.4 and syntok 1.4.4 give the same precision and recall but make judging 5.7x and 1.7x
# slower (18.5 and 5.7 ms a page against 3.3); NLTK's punkt has no model without a separate
# download, and untrained it splits "Dr." and "a.m." (16 blocks cut wrongly).
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




# --- a page: sentences first, then labels ---------------------------------------------------


@dataclass
class _SentencePass:
    """What the page's sentences say: levels stated (first quote each), levels ruled out per
    block, and levels the program says it does not offer."""

    found: dict[str, Finding] = field(default_factory=dict)
    ruled_out_in: dict[int, set[str]] = field(default_factory=dict)
    denied: set[str] = field(default_factory=set)


def _judge_sentences(judge: _Judge, page: Page) -> _SentencePass:
    result = _SentencePass()
    for i, block in enumerate(page.blocks):
        for sentence in split_sentences(block.text):
            verdict = judge.judge_sentence(sentence)
            result.ruled_out_in.setdefault(i, set()).update(m.level for m in verdict.ruled_out)
            result.denied.update(m.level for m in verdict.denied)
            for m in verdict.stated:
                result.found.setdefault(m.level, Finding(m.level, _quote(sentence, m), page.url))
    return result


def _label_confirmed(judge: _Judge, blocks: list[Block], i: int, context: list[Block]) -> bool:
    """A label counts where its section has the program speaking of itself and declining
    nothing, or an outline above introduces the program's own offerings."""
    if any(judge.declines(b.text) for b in context if b.kind != "heading"):
        return False
    if any(judge.own_voice(b.text) for b in context if b.kind != "item") or judge.own_voice(blocks[i].text):
        return True
    return any(
        judge.p["program_heading"].search(" ".join([heading, *intro]))
        and (judge.own_voice(heading) or any(judge.own_voice(text) for text in intro))
        for heading, intro in _ancestors(blocks, i))


def _label_quote(blocks: list[Block], i: int) -> str:
    """A list item with its lead-in; a heading with the sentence that opens its section."""
    block = blocks[i]
    if block.lead_in:
        return f"{block.lead_in} … {block.text}"
    if block.kind == "heading":
        first = blocks[i + 1] if i + 1 < len(blocks) and blocks[i + 1].kind != "heading" else None
        return f"{block.text} — {split_sentences(first.text)[0]}" if first else block.text
    return block.text


def _judge_labels(judge: _Judge, page: Page, ruled_out_in: dict[int, set[str]]) -> dict[str, Finding]:
    """Headings and list items that are only a level's name, confirmed by their section."""
    found: dict[str, Finding] = {}
    blocks = page.blocks
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
        if not _label_confirmed(judge, blocks, i, context):
            continue
        ruled_out = set().union(*(ruled_out_in.get(j, set()) for j in range(start, stop)))
        quote = _quote(_label_quote(blocks, i))
        for m in mentions:
            if m.level not in ruled_out:
                found.setdefault(m.level, Finding(m.level, quote, page.url))
    return found


def state_levels(page: Page, voc: Vocabulary | None = None) -> list[Finding]:
    """The levels of care a page of a provider's own website states, each once, with the sentence
    (or heading or list item) that states it and the page URL. A blog-like page states none."""
    if page.is_blog_like:
        return []
    judge = _Judge(page, voc or load_vocabulary())
    sentences = _judge_sentences(judge, page)
    found = {**_judge_labels(judge, page, sentences.ruled_out_in), **sentences.found}
    # Where the page itself says it does not offer a level, a looser use of the same word on the
    # page ("two outpatient programs", meaning PHP and IOP) does not count.
    return [found[level] for level in vocab.care_levels() if level in found and level not in sentences.denied]
