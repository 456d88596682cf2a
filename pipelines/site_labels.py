"""Levels a page states without a sentence: a heading, list item, table row or schema.org service
whose text is only a level's name ("Intensive Outpatient Program (IOP)", "Medical detox | ✓"), a
short list of such names ("Detox · Residential · PHP") or a name before its description
("Partial Hospitalization (PHP): six hours a day") or before a remark in brackets ("Residential
treatment (30–90 days)"), or a heading or the paragraph under one (a card's title and text) that
opens with level names as a tagline ("Residential and day treatment for teens struggling with
anxiety", "Outpatient medication management for patients discharged from our programs"), counted
where the page shows it is the program's own offer. Called by pipelines.site_judging
(state_levels) with its judge, which knows the page's own names and the phrase data.

A label counts when
- it is the page's title (h1) — a program's page about that level — or its subtitle (a heading
  just under the h1, not the first of a series of level headings that explain one each), or the
  line under the h1 of the site's home page (its hero: "Social-model detox and 28-day residential
  treatment for men");
- it sits under a heading or after a lead-in that introduces the program's offerings ("Levels of
  Care", "Programs for Teens", "Nuestros servicios", "Services at this location:"), that is the
  program's own name (the lede of its home page), or that names one of its places ("Downtown
  office", "Phoenix");
- or its section has the program speaking of itself ("we", "our"), as before;
and not when its section declines something ("We do not provide these levels of care"), a
sentence of the section rules the level out, or the label itself negates or refers.
A list item under a heading or lead-in of the program's offerings may also open with a level's
name and a comma ("Outpatient detox, with a physician checking on you daily") or describe the
offerings in words ("Substance use treatment – outpatient counseling and an adult IOP"). A series
of level headings on the site's home page (its cards or columns) is its offer. No label counts in
a section that explains levels in general (an explainer phrase: "This guide explains the levels
of care"), and a card's badge ("Opening 2026", "Paused") rules its level out.
A table row counts by its marks: a level in the first cells and ✓/Yes/Enrolling in a later one;
✗/No/Referral/Closed there says the program does not offer it, and no row under a header that
refers ("If you need | Where people often go") is the program's. In a table of the program's
locations, the levels listed in its "Services" column are offered there. A row whose first cell
is a level's name and whose later cells describe it in words is a label ("Outpatient | 1 | One or
two sessions a week"). A card of a series of level cards may describe its level rather than name
it ("Therapy" / "Weekly · 50 minutes": outpatient care, a described_level phrase of the data).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from pipelines.site_page import Block, Finding, Mention, Page, is_home, quote, split_sentences, title_index
from pipelines.site_schedule import is_timetable
from pipelines.site_vocabulary import place_names

LABEL_MAX_WORDS = 14
_WORD = re.compile(r"[\w’'.+-]+")
_LABEL_EXTRA = re.compile(r"(?:we|offer|offered|offering|provide|provided|available|here|now)\Z", re.I)
_PLACE_RUN = re.compile(r"\b[A-ZÁÉÍÓÚÑ][\w’'.-]*(?:\s+[A-ZÁÉÍÓÚÑ][\w’'.-]*){1,2}\b")
# A term and its description: "Residential Treatment: 30 to 90 days", "IOP – three evenings a week".
_TERM = re.compile(r"\s*(?P<term>[^:|–—]{2,80}?)\s*(?::|\s[–—-]\s)\s*(?P<rest>\S.*)\Z", re.S)
# A paragraph that opens with a level's name as a sentence of its own, then describes it:
# "Partial hospitalization program. Monday through Friday, 8:30 a.m. to 3:00 p.m. ..."
_TERM_SENTENCE = re.compile(r"\s*(?P<term>[^:|–—.!?]{2,60}?)\.\s+(?P<rest>[A-Z¿¡]\S.*)\Z", re.S)
# A list item's term, a comma, and its description: "Outpatient detox, with a physician ...".
_ITEM_TERM = re.compile(r"\s*(?P<term>[^,:|–—.]{2,80}?),\s+(?P<rest>\S.*)\Z", re.S)
# Level names, then who or where they are for: "Residential and day treatment for teens".
_TAGLINE = re.compile(r"\s*(?P<term>[^:|–—.]{2,80}?)\s+(?:for|in|at|on|near|across|throughout|serving|para|en)\s+"
                      r"(?P<rest>\S.*)\Z", re.S)
# A label and a remark in brackets: "Residential treatment (30–90 days)", "Crisis Residential Unit (stays
# of up to 14 days)".
_ASIDE = re.compile(r"\s*(?P<term>[^()]{2,80}?)\s*\((?P<aside>[^()]{1,80})\)\s*\.?\s*\Z", re.S)
_LIST_HEAD = re.compile(r"\s*(?P<head>[^:|]{2,60}?)\s*(?::|\s\|\s)\s*(?P<rest>\S.*)\Z", re.S)
_LIST_SEPARATORS = re.compile(r"\s*(?:[,;·•/]|\s\|\s|\b(?:and|or|y|e|o|u)\b)\s*", re.I)
ROW_CELL = " | "  # how common.page_reading joins a table row's cells
_ORG_NAME = re.compile(r"(?:[A-Z][\w’'&.-]*\s+){1,6}(?:Health|Healthcare|Center|Centre|Services|Hospital|Clinic|"
                       r"Recovery|Counseling|Lodge|Associates|Institute|Network|Alliance|Inc\.?|LLC)"
                       r"(?:\s*\([^()]*\))?(?:,\s*[A-Z][\w .’'-]*)?")
# A heading naming a broad level over a section about narrower ones names a category: "Outpatient
# Services" over "Intensive Outpatient Program (IOP)" says IOP, not weekly outpatient therapy.
NARROWER = {"outpatient": {"iop", "php"}}


# --- a label's words ----------------------------------------------------------------------------


def _without_places(text: str) -> str:
    """The text with multi-word place names ("Corpus Christi") and state codes ("VA") blanked."""
    def blank(m: re.Match) -> str:
        return " " * len(m.group()) if m.group().lower() in place_names() else m.group()
    text = _PLACE_RUN.sub(blank, text)
    return re.sub(r"\b[A-Z]{2}\b", lambda m: "  ", text)


def _only_label_words(judge, text: str, mentions: list[Mention], extra: str | None = None) -> bool:
    """Every word of text outside the mentions is a label word, a place (or a region's word), the
    site's own name, a number, or a word of the kind `extra` of the phrase data."""
    rest = list(text)
    for m in mentions:
        rest[m.start:m.end] = " " * (m.end - m.start)
    for word in re.findall(r"[\w’'&+-]+", _without_places("".join(rest))):
        low = word.lower().removesuffix("’s").removesuffix("'s").rstrip("’'")  # "Children’s Outpatient", "Moms' IOP"
        if judge.p["label_word"].match(low) or judge.p["label_word"].match(low.strip("-/")):
            continue
        if word.isdigit() or judge.is_own_word(word) or low in place_names() or _LABEL_EXTRA.match(low):
            continue
        if judge.p["region_word"].match(low) or (extra and judge.p[extra].match(low)):
            continue
        return False
    return True


# A negation in a clause about the clients ("for patients who want to come off opioids without
# long-term maintenance", "when an older adult is not safe at home") is no denial of the care.
_ABOUT_CLIENTS = re.compile(r"\b(?:who|when|whenever)\s+(?!we\b|our\b|it\b|the\s+program\b)[^,;:.]*\Z", re.I)

# So is one in a relative clause with "that" or "which", or in a verb joined to one: "young people
# that are not safe at home", "a program for adults that need more support but do not need a hospital".
_RELATIVE_END = re.compile(r"\b(?:that|which)\s+(?:[^,;:]*?\s(?:but|and|or)\s+)?"
                           r"(?:(?:are|is|were|was|do|does|can|could|have|has)\s+)?\Z", re.I)


def _about_clients(before: str) -> bool:
    """The text before a negation ends inside a clause about the clients."""
    return bool(_ABOUT_CLIENTS.search(before) or _RELATIVE_END.search(before))


def _negates_or_refers(judge, text: str) -> bool:
    masked = judge.mask(text)
    if any(not _about_clients(masked[:n.start()]) for n in judge.p["negation"].finditer(masked)):
        return True
    return bool(judge.p["referral"].search(masked))


def label_mentions(judge, text: str, described: bool = False) -> list[Mention]:
    """The level phrases of a text that is only a level's name (with words such as "program",
    "adult", "virtual", a place or the site's own name around it), that opens with one as a
    term before its description ("Partial Hospitalization (PHP): six hours a day"), or that is
    one with a remark in brackets naming no level ("Residential treatment (30–90 days)"); [] for
    any other text. A described level ("Weekly family therapy") is no level's name: it is a
    label only when `described` (a card of a series of level cards, _described_card)."""
    if text.rstrip().endswith("?"):
        return []
    # A table row is a label by its first cell only: "Southeast Iowa Behavioral Health | Intensive
    # outpatient program | (319) 555-0183" is another organisation's row, whatever its words are.
    if len(_WORD.findall(text)) <= LABEL_MAX_WORDS and ROW_CELL not in text:
        mentions = [m for m in judge.mentions(text) if described or not m.described]
        if mentions and _only_label_words(judge, text, mentions) and not _negates_or_refers(judge, text):
            return mentions
    listed = _listed_labels(judge, text, described) or _row_label(judge, text, described)
    if listed:
        return listed
    aside = _ASIDE.match(text)
    if aside and not _negates_or_refers(judge, aside.group("aside")):
        # A remark naming no other level than the term's: "Detoxification (ASAM 3.7-WM)".
        named = label_mentions(judge, aside.group("term"), described)
        if named and {m.level for m in judge.mentions(aside.group("aside"))} <= {m.level for m in named}:
            return named
    term = _TERM.match(text)
    if term and not _negates_or_refers(judge, term.group("rest")) and not judge.mentions(term.group("rest")):
        return label_mentions(judge, term.group("term"), described)
    return _term_sentence(judge, text, described)


def _term_sentence(judge, text: str, described: bool) -> list[Mention]:
    """A level's name as the paragraph's first sentence, the rest describing that level only
    (it may name it again, "Clients in PHP live in our sober apartments", or where its clients
    come from, "after residential"): the name's levels."""
    term = _TERM_SENTENCE.match(text)
    if not term or len(_WORD.findall(term.group("term"))) > LABEL_MAX_WORDS // 2:
        return []
    named = [m for m in judge.mentions(term.group("term")) if described or not m.described]
    if not named or not _only_label_words(judge, term.group("term"), named):
        return []
    rest, levels = term.group("rest"), {m.level for m in named}
    masked = judge.mask(rest)
    others = [m for m in judge.mentions(rest) if m.level not in levels and not judge.blocked(masked[:m.start])]
    return [] if others or _negates_or_refers(judge, rest) else named


def _row_label(judge, text: str, described: bool = False) -> list[Mention]:
    """A table row whose first cell is a level's name and whose later cells describe it in words
    ("Outpatient | 1 | One or two sessions a week | As long as needed"): the first cell's levels,
    unless a later cell names another level ("Withdrawal management | 3–7 days | Detox wing" names
    its own again), negates, refers or is a no_mark ("—", "Referral")."""
    first, cell, rest = text.partition(ROW_CELL)
    if not cell or _negates_or_refers(judge, rest):
        return []
    if any(judge.p["no_mark"].match(later) for later in rest.split(ROW_CELL)):
        return []
    named = label_mentions(judge, first, described)
    return [] if {m.level for m in judge.mentions(rest)} - {m.level for m in named} else named


def tagline_mentions(judge, text: str) -> list[Mention]:
    """The levels a tagline opens with: level names, then who or where they are for ("Residential
    and day treatment for teens struggling with anxiety", "Partial Hospitalization & IOP in
    Austin"). Not a sentence: nothing after the names may negate, refer, name another level or
    make a clause of it (a tagline_stop word: "Detox in a hospital may be needed")."""
    if text.rstrip().endswith("?") or len(split_sentences(text)) != 1:
        return []
    match = _TAGLINE.match(text)
    if not match or len(_WORD.findall(text)) > 2 * LABEL_MAX_WORDS:
        return []
    rest = match.group("rest")
    if judge.mentions(rest) or _negates_or_refers(judge, rest) or judge.p["tagline_stop"].search(rest):
        return []
    return label_mentions(judge, match.group("term"))


def _named_title(judge, blocks: list[Block], i: int) -> list[Mention]:
    """The page's title as a program's name and its level ("Crossing House Withdrawal Management"):
    on its own page a name is the program's, so its capitalized words are no other organisation's."""
    block = blocks[i]
    if block.kind != "heading" or i != title_index(blocks) or ROW_CELL in block.text:
        return []
    mentions = [m for m in judge.mentions(block.text) if not m.described]
    if not mentions or _negates_or_refers(judge, block.text) or len(_WORD.findall(block.text)) > LABEL_MAX_WORDS:
        return []
    name = block.text[:mentions[0].start]
    capitalized = re.fullmatch(r"\s*(?:(?-i:[A-Z][\w’'&-]*)\s+)+", name)
    rest = " " * len(name) + block.text[len(name):]  # offsets hold for the mentions
    return mentions if capitalized and _only_label_words(judge, rest, mentions) else []


def _label_in_words(judge, blocks: list[Block], i: int) -> list[Mention]:
    """A heading, lede or list item that names levels with more than their names: a tagline (a
    lede's is its first sentence: "Outpatient counseling and an evening IOP for adults, Tuesday to
    Thursday. Medicaid accepted."), a card that describes its level, or a list item that opens with
    a level's name or describes the program's offerings in words."""
    block = blocks[i]
    if not (block.kind in ("heading", "item") or _is_lede(blocks, i)):
        return []
    found = tagline_mentions(judge, split_sentences(block.text)[0]) or _described_card(judge, blocks, i)
    if found or block.kind != "item":
        return found
    return _item_term(judge, block.text) or _offer_list_item(judge, blocks, i)


def _item_term(judge, text: str) -> list[Mention]:
    """A list item that opens with a level's name, then a comma and what it is like, naming no
    other level ("Outpatient detox, with a physician checking on you daily", "Consejería
    ambulatoria individual y de grupo, una o dos veces por semana"): the name's levels."""
    match = _ITEM_TERM.match(text)
    if not match or judge.mentions(match.group("rest")) or _negates_or_refers(judge, match.group("rest")):
        return []
    return label_mentions(judge, match.group("term"))


def _offer_list_item(judge, blocks: list[Block], i: int) -> list[Mention]:
    """An item of a list that a heading or lead-in of the program's offerings, or a lead-in in its
    own voice, introduces ("Services we provide"), describing one of them in words: the levels it names ("Substance use treatment –
    outpatient counseling and an adult intensive outpatient program (IOP)"), unless the item
    negates or refers, or a level is where clients come from or part of another's name."""
    block = blocks[i]
    intro = split_sentences(block.lead_in)[-1] if block.lead_in else next((h for h, _ in _ancestors(blocks, i)), None)
    # A lead-in where the program speaks of itself introduces its own list too ("Jackpine Recovery
    # Center is a 32-bed treatment center ...": "Medically monitored detox with nurses on site 24/7").
    own_intro = bool(block.lead_in) and own_voice(judge, intro)
    if not intro or not (is_offer_heading(judge, intro) or own_intro) or _negates_or_refers(judge, block.text):
        return []
    masked, mentions = judge.mask(block.text), judge.mentions(block.text)
    if not is_offer_heading(judge, intro) and not (mentions and _only_label_words(
            judge, block.text[:mentions[0].start], [])):
        return []  # under its own voice only an item that opens with the level's name, not a bio or a link
    return [m for m in mentions if not m.described and not judge.blocked(masked[:m.start])
            and not judge.in_other_name(block.text, m)]


def _names_an_organisation(judge, cell: str) -> bool:
    """A table cell that is another organisation's name: capitalized words ending as such names
    end ("Southeast Iowa Behavioral Health"), not a place ("Katy") nor one of the program's own
    sites ("Prairie Lincoln Hospital" on Prairie's page)."""
    cell = cell.strip()
    named = re.sub(r"\s*\([^()]*\)", "", cell)  # "Pinewood Counseling (Alder City)": its town is no part of its name
    if any(judge.is_own_word(w) for w in re.findall(r"[\w’'-]+", named)) or judge.mentions(cell):
        return False
    if _ORG_NAME.fullmatch(cell):
        return True
    named = len(re.findall(r"\b[A-Z][a-z’']{2,}", cell)) >= 2  # a name of words, not "III.7-WM"
    return named and not _only_label_words(judge, cell, [], "location_word")


def _listed_labels(judge, text: str, described: bool = False) -> list[Mention]:
    """Levels of a short list of labels ("Detox · Residential · PHP", "Outpatient counseling, DWI
    classes", "Outpatient counseling. Closed Fridays."): every piece naming a level is a label,
    the others are short and neither negate nor refer."""
    if ROW_CELL in text and _names_an_organisation(judge, text.split(ROW_CELL)[0]):
        return []  # "Southeast Iowa Behavioral Health | Intensive outpatient program | (319) ...": its row
    pieces = [(m.start(), m.group()) for m in re.finditer(r"[^,;·•|]+?(?=\s*[,;·•|]|(?<=[.!])\s|\s*\Z)", text)]
    pieces = [(at + len(piece) - len(piece.lstrip()), piece.strip(" .")) for at, piece in pieces if piece.strip(" .")]
    if len(pieces) < 2:
        return []
    found: list[Mention] = []
    for at, piece in pieces:
        if not judge.mentions(piece):
            if len(_WORD.findall(piece)) > 5 or _negates_or_refers(judge, piece):
                return []
            continue
        labels = label_mentions(judge, piece, described)
        if not labels:
            return []
        found += [Mention(m.level, at + m.start, at + m.end, m.described) for m in labels]
    return found


def _addressed(name: str, intro: list[str]) -> bool:
    """The name is the town of a postal address under it ("Aliquippa" over "2201 Sheffield Road,
    Aliquippa, PA 15001"): a place, whether or not the place list knows it."""
    town = re.compile(rf"\d[^|]*\b{re.escape(name)},?\s+[A-Z]{{2}}\b(?:\s+\d{{5}})?")
    return any(town.search(text) for text in intro)


def is_location_heading(judge, text: str, intro: list[str] | tuple = ()) -> bool:
    """A heading naming one of the program's places ("Downtown office", "San Antonio Campus",
    "Phoenix", or the town of the address under it, intro being the text under the heading): on
    a page of locations, what is listed under it is offered there."""
    text = text.strip().rstrip(":").strip()
    words = re.findall(r"[\w’'&+-]+", text)
    if not words or len(words) > 5 or judge.mentions(text) or _negates_or_refers(judge, text):
        return False
    if judge.p["location_word"].match(words[-1].lower()) or _addressed(text, list(intro)):
        return True
    return all(w.lower() in place_names() or judge.p["region_word"].match(w.lower())
               for w in re.findall(r"[\w’'&+-]+", _without_places(text)))


def _place_under_locations(judge, outline: list[tuple[str, list[str]]]) -> bool:
    """A short name heading ("Opelousas", "Ville Platte") under a heading of the program's places
    ("Our locations", "Offices": its last word a location_word): one of its places, whether or not
    the place list knows the town."""
    name = outline[0][0].strip()
    words = re.findall(r"[\w’'&.-]+", name)
    if not words or len(words) > 4 or judge.mentions(name) or not all(w[:1].isupper() for w in words):
        return False
    return any((words := re.findall(r"[\w’'-]+", heading)) and judge.p["location_word"].match(words[-1].lower())
               for heading, _ in outline[1:])


def is_offer_heading(judge, text: str) -> bool:
    """A heading or lead-in that introduces the program's offerings: a program_heading phrase
    ("Programs", "Levels of Care", "Servicios") with only label words around it ("Programs for
    Teens", "Services at this location:"), not negated or a question."""
    text = text.strip().rstrip(":").strip()
    if not text or text.endswith("?") or len(_WORD.findall(text)) > LABEL_MAX_WORDS:
        return False
    heading = judge.p["program_heading"].search(text)
    if not heading or _negates_or_refers(judge, text):
        return False
    blanked = text[:heading.start()] + " " * (heading.end() - heading.start()) + text[heading.end():]
    return _only_label_words(judge, blanked, judge.mentions(blanked), extra="heading_word")


def is_own_heading(judge, text: str) -> bool:
    """A heading that is the site's own name ("Safe Harbor Counseling"): what follows is the
    program describing itself."""
    folded = re.sub(r"\W+", " ", text).strip().lower()
    if folded and folded in {re.sub(r"\W+", " ", n).strip().lower() for n in judge.page.own_names}:
        return True
    words = re.findall(r"[\w’'&+-]+", text)
    return (bool(words) and any(judge.is_own_word(w) for w in words)
            and not judge.mentions(text) and _only_label_words(judge, text, []))


def offer_list(judge, sentence: str) -> tuple[int, list[str]] | None:
    """The items of "Services: therapy, psychiatry, intensive outpatient program" (an offer heading
    naming no level, a colon, a list) and where they start; None for any other text."""
    match = _LIST_HEAD.match(sentence)
    if not match or not is_offer_heading(judge, match.group("head")) or judge.mentions(match.group("head")):
        return None
    return match.start("rest"), _LIST_SEPARATORS.split(match.group("rest").rstrip(" ."))


def listed_after_heading(judge, sentence: str) -> list[Mention]:
    """Levels in "Levels of Care: Partial Hospitalization, Intensive Outpatient" or a table row
    "Programs | Adult inpatient, Partial hospitalization (PHP)": an offer heading, then a list
    whose items are labels. Offsets are the sentence's."""
    listed = offer_list(judge, sentence)
    if listed is None:
        return []
    offset, pieces = listed
    found: list[Mention] = []
    for piece in pieces:
        at = sentence.find(piece, offset) if piece else -1
        if at < 0:
            continue
        offset = at + len(piece)
        if judge.mentions(piece) and not label_mentions(judge, piece):
            return []  # a listed level said with more than its name ("detox by referral")
        found += [Mention(m.level, at + m.start, at + m.end) for m in label_mentions(judge, piece)]
    return found


# --- where a label sits ---------------------------------------------------------------------


def own_voice(judge, text: str) -> bool:
    """A sentence where the program speaks of itself, and not to send people elsewhere."""
    for sentence in split_sentences(text):
        masked = judge.mask(sentence)
        if judge.p["referral"].search(masked) or judge.p["negation"].search(masked):
            continue
        if judge.speaks(masked):
            return True
    return False


def declines(judge, text: str) -> bool:
    """A sentence where the program (or "this program") says it does not offer, or sends
    elsewhere, care it does not name ("We do not provide these levels of care"; not "we do not
    offer weekly therapy", nor "Levels of care we provide and arrange", which offers first)."""
    denied_before = False
    for sentence in split_sentences(text):
        masked = judge.mask(sentence)
        # After a sentence denying named levels ("We do not offer partial hospitalization or
        # detox."), "If you need either, we will help you find a program" sends elsewhere for those.
        follows_denial = denied_before
        denied_before = bool(judge.mentions(sentence)) and bool(judge.p["negation"].search(masked))
        if judge.mentions(sentence) or follows_denial or not (judge.speaks(masked) or judge.p["subject"].search(masked)):
            continue
        if not judge.p["program_heading"].search(masked):
            continue
        if any(not _about_clients(masked[:n.start()]) for n in judge.p["negation"].finditer(masked)):
            return True
        # "Levels of care we provide and arrange": what it gives and what it refers, said together.
        referral = judge.p["referral"].search(masked)
        if referral and not judge.p["offer_verb"].search(masked[:referral.start()]):
            return True
    return False


def sections(blocks: list[Block]) -> list[tuple[int, int]]:
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
    than the last, nearest first: the outline the block sits in."""
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


def _label_confirmed(judge, blocks: list[Block], i: int, context: list[Block]) -> bool:
    """A label counts on the page's title or the line just under it, under an offer heading or
    lead-in or the program's own name, or where its section has the program speaking of itself;
    never in a section that declines something."""
    if any(declines(judge, b.text) for b in context if b.kind != "heading"):
        return False
    block, outline = blocks[i], _ancestors(blocks, i)
    if block.kind == "heading" and (block.heading == 1 or _is_subtitle(judge, blocks, i)):
        return True
    # A card whose text is the level's timetable or counts its beds: "Intensive outpatient program" /
    # "Monday, Tuesday and Thursday evenings, 5:00–8:00 pm"; "Medical Detox" / "Eight beds for ...".
    card = _card_text(blocks, i)
    if card and (is_timetable(card) or judge.p["bed_count"].search(card)):
        return True
    if _is_hero_line(judge, blocks, i):
        return True
    if block.lead_in and is_offer_heading(judge, block.lead_in):
        return True
    if outline and (any(test(judge, outline[0][0]) for test in (is_offer_heading, is_own_heading))
                    or is_location_heading(judge, *outline[0]) or _place_under_locations(judge, outline)):
        return True
    if any(own_voice(judge, b.text) for b in context if b.kind != "item") or own_voice(judge, block.text):
        return True
    return any(
        judge.p["program_heading"].search(" ".join([heading, *intro]))
        and (own_voice(judge, heading) or any(own_voice(judge, text) for text in intro))
        for heading, intro in outline)


def _is_subtitle(judge, blocks: list[Block], i: int) -> bool:
    """A heading just under the h1, nothing between, and no later heading of its rank a label:
    the page's subtitle ("Helping teens find their footing" / "Partial Hospitalization & IOP
    for Teens"), not the first of a series of sections that explain one level each."""
    block = blocks[i]
    if block.kind != "heading" or i == 0 or blocks[i - 1].kind != "heading" or blocks[i - 1].heading != 1:
        return False
    return not any(b.kind == "heading" and b.heading == block.heading and label_mentions(judge, b.text)
                   for b in blocks[i + 1:])


def _is_hero_line(judge, blocks: list[Block], i: int) -> bool:
    """The line just under the h1 of the site's home page, its hero: what the program is ("Recovery
    starts here" / "Social-model detox and 28-day residential treatment for men"), whatever the h1
    says, unless it asks a question; not a table row."""
    if not _is_lede(blocks, i) or ROW_CELL in blocks[i].text or not is_home(judge.page.url):
        return False
    return blocks[i - 1].heading == 1 and not blocks[i - 1].text.rstrip().endswith("?")


def _is_lede(blocks: list[Block], i: int) -> bool:
    """The paragraph just under a heading: where a page (or a card under its title) says in one
    line what it is about."""
    return blocks[i].kind == "para" and i > 0 and blocks[i - 1].kind == "heading"


def _card_text(blocks: list[Block], i: int) -> str | None:
    """A heading and the first sentence of the paragraph under it, joined by a dash, as the card
    reads ("Therapy — Weekly · 50 minutes"); None when no paragraph follows the heading."""
    if blocks[i].kind != "heading" or i + 1 >= len(blocks) or blocks[i + 1].kind != "para":
        return None
    return f"{blocks[i].text} — {split_sentences(blocks[i + 1].text)[0]}"


def _described_card(judge, blocks: list[Block], i: int) -> list[Mention]:
    """The level a card names by describing it, in a series of level cards: a heading naming no
    level ("Therapy") whose first line completes a level phrase ("Weekly · 50 minutes" makes
    "Therapy — Weekly", outpatient care), when another heading of its rank in the same section is
    a level's name ("Day Treatment", "IOP"), or whose first line opens with a described level.
    Offsets are the card text's."""
    card = _card_text(blocks, i)
    if card is None or judge.mentions(blocks[i].text):
        return []
    rank, siblings = blocks[i].heading, []
    for direction in (-1, 1):
        j = i + direction
        while 0 <= j < len(blocks) and not (blocks[j].kind == "heading" and blocks[j].heading < rank):
            if blocks[j].kind == "heading" and blocks[j].heading == rank:
                siblings.append(blocks[j].text)
            j += direction
    if not any(label_mentions(judge, text) for text in siblings):
        return []
    found = [m for m in label_mentions(judge, card, described=True) if m.described]
    if found:
        return found
    # A line that opens with its described level: "Addiction Medicine Clinic" / "Weekly visits with
    # an addiction psychiatrist, office-based buprenorphine and counseling."
    first = split_sentences(blocks[i + 1].text)[0]
    offset = len(card) - len(first)
    # Not a card of a program beside the treatment ("Family program" / "Weekly family therapy").
    if _negates_or_refers(judge, first) or judge.p["adjunct_word"].search(blocks[i].text):
        return []
    return [replace(m, start=m.start + offset, end=m.end + offset) for m in judge.mentions(first)
            if m.described and m.start == 0]


def label_quote(blocks: list[Block], i: int) -> str:
    """A list item with its lead-in; a heading with the sentence that opens its section; another
    block with the heading above it."""
    block = blocks[i]
    if block.lead_in:
        return f"{block.lead_in} … {block.text}"
    if block.kind == "heading":
        first = blocks[i + 1] if i + 1 < len(blocks) and blocks[i + 1].kind != "heading" else None
        return f"{block.text} — {split_sentences(first.text)[0]}" if first else block.text
    above = _ancestors(blocks, i)
    return f"{above[0][0]} … {block.text}" if above else block.text


def _own_lede(judge, blocks: list[Block]) -> bool:
    """The paragraph just under the page's title is the program speaking of itself ("Caney Fork's
    behavioral health team cares for adults ...")."""
    title = title_index(blocks)
    return (title is not None and title + 1 < len(blocks) and blocks[title + 1].kind == "para"
            and own_voice(judge, blocks[title + 1].text))


def _series_key(blocks: list[Block], i: int) -> tuple:
    """What a label shares with the other cards, tabs or items of its series: a heading's rank
    and the heading above it of a higher rank; a list item's lead-in."""
    block = blocks[i]
    if block.kind != "heading":
        return ("item", block.lead_in) if block.lead_in else ("alone", i)
    parent = next((j for j in range(i - 1, -1, -1) if blocks[j].kind == "heading" and blocks[j].heading < block.heading), -1)
    return ("heading", block.heading, parent)


def is_service_card(judge, blocks: list[Block], i: int) -> bool:
    """Block i is a heading that is only an outpatient service's name ("Counseling", "Medication
    management"), with a paragraph under it: a card of the program's services."""
    block = blocks[i]
    return (block.kind == "heading" and bool(judge.p["outpatient_service"].fullmatch(block.text.strip().rstrip(":")))
            and i + 1 < len(blocks) and blocks[i + 1].kind == "para")


def _defines_levels(judge, blocks: list[Block], key: tuple) -> bool:
    """A card of the series opens its text with a level's name: a guide defining the levels
    ("Detox" / "Detox helps people withdraw safely ..."), not a program describing its own."""
    for i, block in enumerate(blocks):
        if block.kind != "heading" or _series_key(blocks, i) != key or i + 1 >= len(blocks):
            continue
        opening = judge.mentions(blocks[i + 1].text)
        if opening and opening[0].start == 0 and not opening[0].described:
            return True
    return False


def judge_labels(judge, page: Page, ruled_out_in: dict[int, set[str]]) -> dict[str, Finding]:
    """Headings, list items and short paragraphs that are only a level's name, confirmed by
    where they sit; a level ruled out in the label's section does not count. A label of a series
    (level headings of one rank under one heading, items of one list) is confirmed with the
    series when another of it is: tabs and cards "Detox / Residential / PHP" whose first pane
    says "at our campus" and the others only describe."""
    found: dict[str, Finding] = {}
    blocks = page.blocks
    ranges = sections(blocks)
    menu = menu_items(judge, blocks)
    labels: list[tuple[int, list[Mention], bool]] = []
    for i, block in enumerate(blocks):
        mentions = [] if i in menu else (label_mentions(judge, block.text) or _label_in_words(judge, blocks, i)
                                         or _named_title(judge, blocks, i))
        if not mentions or not offer_place(judge, blocks, i, menu):
            continue
        context = section_context(blocks, ranges, i)
        if any(declines(judge, b.text) for b in context if b.kind != "heading"):
            continue  # "We do not provide these levels of care": no series confirms it either
        if explains(judge, context):
            continue  # "This guide explains the levels of care in Massachusetts": definitions
        labels.append((i, mentions, _label_confirmed(judge, blocks, i, context)))
    series: dict[tuple, list[bool]] = {}
    own_page = is_home(page.url) or _own_lede(judge, blocks)
    for i, _, confirmed in labels:
        series.setdefault(_series_key(blocks, i), []).append(confirmed)
    for i in (j for j in range(len(blocks)) if is_service_card(judge, blocks, j)):
        # A card titled by an outpatient service ("Counseling", "Medication management") beside a
        # level's card is of the same series: the program's services.
        if _series_key(blocks, i) in series:
            series[_series_key(blocks, i)].append(False)
    for i, mentions, confirmed in labels:
        key = _series_key(blocks, i)
        together = series[key]
        # A series of level headings on the site's home page, or under a title whose lede is the
        # program speaking of itself, is its offer, as its cards or columns; so is a grid of four
        # or more level cards on any of its pages (a hospital's "Inpatient Psychiatry / Partial
        # Hospitalization / Intensive Outpatient / Outpatient Clinics").
        grid = key[0] == "heading" and (own_page or (len(together) >= 4 and not _defines_levels(judge, blocks, key)))
        if not (confirmed or (len(together) >= 2 and (any(together) or grid))):
            continue
        start, stop = ranges[i]
        if blocks[i].kind == "heading":
            context = section_context(blocks, ranges, i)
            # Narrower levels said as where clients come from ("Continuing care after IOP") are no sub-programs.
            inside = {m.level for b in context for m in judge.mentions(b.text)
                      if not judge.blocked(judge.mask(b.text)[:m.start])}
            # A heading naming both ("Outpatient and Intensive Outpatient") names two.
            named = {m.level for m in mentions}
            mentions = [m for m in mentions if not NARROWER.get(m.level, set()) & (inside - named)
                        or any(m.level == n.level for b in context for n in label_mentions(judge, b.text))]
        ruled_out = set().union(*(ruled_out_in.get(j, set()) for j in range(start, stop)))
        for m in mentions:
            if m.level not in ruled_out:
                found.setdefault(m.level, Finding(m.level, quote(label_quote(blocks, i)), page.url))
    return found


def offer_place(judge, blocks: list[Block], i: int, menu: set[int]) -> bool:
    """Block i sits where a page shows what the program offers: not in a menu (menu: the indexes
    of menu_items), the site's masthead, a footer line under its address or a table under a
    header that refers or asks an insurance question, nor after a lead-in that negates or refers."""
    lead_in = blocks[i].lead_in
    return not (i in menu or (lead_in and _negates_or_refers(judge, lead_in)) or _under_referring_header(judge, blocks, i)
                or _under_coverage_header(judge, blocks, i) or _after_contact_line(blocks, i)
                or _masthead(judge, blocks, i))


def explains(judge, context: list[Block]) -> bool:
    """The section explains levels in general (an explainer phrase)."""
    return any(judge.p["explainer"].search(b.text) for b in context)


# A site's address or phone line: "Kaskaskia Recovery · 410 W Gallatin St, Vandalia, IL 62471 · (618) 555-0175".
_CONTACT_LINE = re.compile(r"\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b|\(\d{3}\)\s*\d{3}-\d{4}|\b\d{3}[.-]\d{3}[.-]\d{4}\b")


def _after_contact_line(blocks: list[Block], i: int) -> bool:
    """A line of level names just under the site's address or phone line, not a heading: the
    footer of a page builder that marks no footer ("… Vandalia, IL 62471 · (618) 555-0175" /
    "Detox · Residential · Outpatient · IOP"), which repeats the menu. Not a location's card,
    whose address sits under the location's heading ("Lubbock" / "9 Quaker Ave, …" / "Residential
    treatment · Medical detox")."""
    def contact(block: Block) -> bool:
        return block.kind != "heading" and len(_WORD.findall(block.text)) <= 25 and bool(_CONTACT_LINE.search(block.text))

    if blocks[i].kind == "heading" or i < 2 or not contact(blocks[i - 1]):
        return False
    j = i - 1
    while j >= 0 and contact(blocks[j]):  # the address, then the phone, …
        j -= 1
    return j >= 0 and blocks[j].kind != "heading"


def _masthead(judge, blocks: list[Block], i: int) -> bool:
    """The line under the site's name, a plain line, that opens every page of a site whose header no
    markup marks ("Grand Lake Counseling" / "Outpatient · Intensive Outpatient · DUI School · Grove, Oklahoma"):
    on the home page it is the hero line, which states the site's levels; on any other page it is
    the header's, said on every page whatever the page is about."""
    # The name as a plain line, not a heading: under its own name as the page's h1, a line is the
    # program's lede ("Riverside Recovery" / "Outpatient counseling for adults ...").
    if i != 1 or is_home(judge.page.url) or blocks[i].kind != "para" or blocks[0].kind == "heading":
        return False
    folded = re.sub(r"\W+", " ", blocks[0].text).strip().lower()
    return bool(folded) and folded in {re.sub(r"\W+", " ", n).strip().lower() for n in judge.page.own_names}


def menu_items(judge, blocks: list[Block]) -> set[int]:
    """The items of a site's menu that no markup marks as navigation: a list with "Home" or
    "Contact" among its items, and the items of its submenus (whose lead-in is one of them):
    "Home · Services (Intensive Outpatient, Counseling, Day Program) · Families · Contact"."""
    lists: dict[str, list[int]] = {}
    for i, block in enumerate(blocks):
        if block.kind == "item" and block.lead_in:
            lists.setdefault(block.lead_in, []).append(i)
    menus = {lead for lead, items in lists.items()
             if any(judge.p["menu_word"].match(blocks[i].text.strip().lower()) for i in items)}
    entries = {blocks[i].text for lead in menus for i in lists[lead]}
    return {i for lead, items in lists.items() if lead in menus or lead in entries for i in items}


def section_context(blocks: list[Block], ranges: list[tuple[int, int]], i: int) -> list[Block]:
    """The blocks of label i's section but itself, its list's lead-in first."""
    start, stop = ranges[i]
    context = [blocks[j] for j in range(start, stop) if j != i]
    lead_in = blocks[i].lead_in
    if lead_in and all(b.text != lead_in for b in context):
        context.insert(0, Block(lead_in, "para"))
    return context


# --- table rows and schema.org services ---------------------------------------------------


@dataclass
class RowVerdicts:
    """What a page's table rows say: levels offered (with the row as quote), and, by block,
    levels the rows say are not offered."""

    found: dict[str, Finding] = field(default_factory=dict)
    ruled_out_in: dict[int, set[str]] = field(default_factory=dict)


def _row_header(blocks: list[Block], i: int, width: int) -> str | None:
    """The first row of the table that row i is in, when it is as wide: its header."""
    j = i
    while j > 0 and ROW_CELL in blocks[j - 1].text:
        j -= 1
    return blocks[j].text if j < i and len(blocks[j].text.split(ROW_CELL)) == width else None


def badge_ruled_out(judge, blocks: list[Block]) -> dict[int, set[str]]:
    """A card's badge that says its level is not offered now ("Opening 2026", "Paused", "Closed"):
    a short block that is only a no_mark, naming no level. Its card's levels (from the heading
    above it down to the badge) are ruled out there, by block."""
    ruled: dict[int, set[str]] = {}
    for i, block in enumerate(blocks):
        opens = i > 0 and _opens_with_badge(judge, block.text)
        if opens and blocks[i - 1].kind != "heading" and (named := label_mentions(judge, blocks[i - 1].text)):
            # An accordion's label and its panel ("ASAM 2.1 · Intensive outpatient" / "Referral. We work
            # with two IOPs in Mobile"): the badge rules out the label's levels.
            for j in (i - 1, i):
                ruled.setdefault(j, set()).update(m.level for m in named)
            continue
        if not (_is_badge(judge, block.text) or (_is_lede(blocks, i) and opens)):
            continue
        heading = next((j for j in range(i - 1, -1, -1) if blocks[j].kind == "heading"), None)
        if heading is None:
            continue
        levels = {m.level for b in blocks[heading:i] for m in judge.mentions(b.text)}
        for j in range(heading, i + 1):
            ruled.setdefault(j, set()).update(levels)
    return ruled


_BADGE_TAIL = re.compile(r"(?:\s*(?:here|now|yet|currently|at\s+this\s+(?:location|site|time)|aqu[ií]|todav[ií]a|"
                         r"since\s+(?:\w+\s+)?(?:19|20)\d\d|until\s+further\s+notice|for\s+now|"
                         r"(?:on\s+|in\s+)?[a-z]+\.?\s+(?:\d{1,2},?\s+)?(?:19|20)\d\d))?[\s.!)]*\Z", re.I)  # Closed September 30, 2026


def _is_badge(judge, text: str) -> bool:
    """A short text that is only a no_mark, naming no level: "Opening 2026", "Paused", "Closed",
    "Not offered here"."""
    mark = judge.p["no_mark"].match(text)
    return bool(mark and len(_WORD.findall(text)) <= 4 and not judge.mentions(text)
                and _BADGE_TAIL.match(text, mark.end()))


def _opens_with_badge(judge, text: str) -> bool:
    """A card's line that opens with its badge, as a sentence or before a colon: "Not offered here.
    We work closely with …", "Próximamente: abriremos un programa de día …"."""
    first = split_sentences(text)[0] if text.strip() else ""
    return _is_badge(judge, first.split(":", 1)[0].strip())


def _header_of_row(blocks: list[Block], i: int) -> str | None:
    """The header of the table block i is a row of; None for a block that is no table row."""
    text = blocks[i].text
    return _row_header(blocks, i, len(text.split(ROW_CELL))) if ROW_CELL in text else None


def _under_referring_header(judge, blocks: list[Block], i: int) -> bool:
    """A table row under a header that sends people elsewhere ("If you need | Where people often
    go | Phone"): a row of where others give the level."""
    header = _header_of_row(blocks, i)
    return bool(header and _negates_or_refers(judge, header))


def _under_coverage_header(judge, blocks: list[Block], i: int) -> bool:
    """A table row under a header asking an insurance question ("Level of care | Prior
    authorization? | Typical review", "Benefit | Copay"): a row of a plan's rules, wherever the care
    is given; none of its cells marks the level offered."""
    header = _header_of_row(blocks, i)
    return bool(header and any(judge.p["coverage_column"].search(head) for head in header.split(ROW_CELL)))


def _services_column(judge, blocks: list[Block], i: int, cells: list[str]) -> list[Mention]:
    """In a table of the program's locations (its header's first cell "Location", "Office", …), the
    levels listed in the column headed "Services" or "Programs" of row i ("Court Street Clinic | 61
    Court St | Outpatient, intensive outpatient"). Offsets are the cell text's."""
    header = _row_header(blocks, i, len(cells))
    heads = header.split(ROW_CELL) if header else []
    if not heads or not judge.p["location_word"].match(heads[0].strip().lower()):
        return []
    for head, cell in zip(heads[1:], cells[1:]):
        if is_offer_heading(judge, head):
            return listed_after_heading(judge, f"{head.strip()}: {cell.strip()}")
    return []


def judge_rows(judge, page: Page) -> RowVerdicts:
    """Table rows whose first cells name a level and whose later cells mark it offered or not."""
    result = RowVerdicts()
    blocks = page.blocks
    for i, block in enumerate(blocks):
        cells = block.text.split(ROW_CELL)
        if len(cells) < 2 or _under_coverage_header(judge, blocks, i):
            continue  # a plan's table: its Yes and Weekly are the plan's rules
        for m in _services_column(judge, blocks, i, cells):
            text = f"{_row_header(blocks, i, len(cells))} … {block.text}"
            result.found.setdefault(m.level, Finding(m.level, quote(text), page.url))
        first = next((k for k, cell in enumerate(cells) if judge.mentions(cell)), None)
        # A level in the second cell is the row's only when the first is no name of its own
        # ("2.1 | IOP | ✓", not "Southeast Iowa Behavioral Health | IOP | (319) 555-0183").
        if first is None or first > 1 or (first == 1 and not _only_label_words(judge, cells[0], [])):
            continue
        mentions = label_mentions(judge, cells[first])
        later = cells[first + 1:]
        yes = any(judge.p["yes_mark"].match(cell) for cell in later)
        if not mentions and yes and not _negates_or_refers(judge, cells[first]):
            # A level named inside a description, marked offered: "Detox with nurses 24 hours a day | Yes".
            mentions = [m for m in judge.mentions(cells[first]) if not m.described]
        if not mentions or not later or _under_referring_header(judge, blocks, i):
            continue
        if yes:
            header = _row_header(blocks, i, len(cells))
            text = f"{header} … {block.text}" if header and not judge.mentions(header) else block.text
            for m in mentions:
                result.found.setdefault(m.level, Finding(m.level, quote(text), page.url))
        elif any(judge.p["no_mark"].match(cell) for cell in later):
            result.ruled_out_in.setdefault(i, set()).update(m.level for m in mentions)
    return result


def judge_services(judge, page: Page) -> dict[str, Finding]:
    """Levels named by the services the page's schema.org data says the organisation offers
    (availableService, hasOfferCatalog, makesOffer, a MedicalTherapy of the page), and levels its
    descriptions state in a sentence."""
    found: dict[str, Finding] = {}
    for where, name in page.services:
        for m in label_mentions(judge, name):
            found.setdefault(m.level, Finding(m.level, quote(f"{where}: {name}"), page.url))
    for where, text in page.descriptions:
        for sentence in split_sentences(text):
            for m in judge.judge_sentence(sentence).stated:
                found.setdefault(m.level, Finding(m.level, quote(f"{where}: {sentence}"), page.url))
    return found
