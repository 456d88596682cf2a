"""Outpatient care named as a service: a clinic's list of what it offers often names no level at
all ("How we can help: Counseling for adults, children and families · Psychiatric evaluation and
medication management · An Intensive Outpatient Program ..."), a fee table lists "Individual
therapy session (53 min) | $140", a card reads "Consejería individual y familiar". A careful
reader takes such counseling and medication visits, for people who live at home, as outpatient
care. Called by pipelines.site_judging (state_levels) with its judge, on pages that are not posts.

    service_outpatient(judge, page, ruled_out_in) -> {"outpatient": Finding} or {}

A line counts when it opens with an outpatient_service phrase of the data (or lists one after an
offer heading beside nothing but IOP: "Services: therapy, psychiatry, intensive outpatient program",
or is a card titled only by one, "Counseling", among three or more cards) and
- it sits where the page shows its offer (site_labels.offer_place: not a menu, masthead, footer
  line or a table of other places), below the page's title unless it is a table row;
- it names no other level, no program's own therapy (a program_therapy phrase: group therapy
  alone) and nothing of more intensive care (a more_than_weekly phrase: therapy twice a week or
  daily, a school, beds), nor do the other items of its list hold the latter, since the therapy
  of a residential or day program is part of that program;
- the page's title and the line's section heading name no other level (a residential program's
  page lists its therapies; on a page describing a stay clients live in, site_judging drops such
  counseling too);
- its section explains no levels in general, the line neither negates nor refers nor rules
  outpatient care out, and the page does not deny it (site_judging).
"""
from __future__ import annotations

from pipelines.site_labels import (ROW_CELL, explains, is_service_card, label_quote, menu_items, offer_list, offer_place,
                                   section_context, sections)
from pipelines.site_page import Block, Finding, Page, quote, split_sentences, title_index

OUTPATIENT = "outpatient"
# Levels beside which counseling listed as an item is a service of its own, not that level's therapy.
OUTPATIENT_FAMILY = {"outpatient", "iop"}


def _title_names_another_level(judge, blocks: list[Block]) -> tuple[int, bool]:
    """(index of the page's title, -1 without one; whether it names a level other than outpatient care)."""
    title = title_index(blocks)
    if title is None:
        return -1, False
    return title, any(m.level != OUTPATIENT for m in judge.mentions(blocks[title].text))


def _names_service(judge, text: str) -> bool:
    """The line opens with an outpatient service and speaks of nothing more intensive."""
    if not judge.p["outpatient_service"].match(text) or _more_intensive(judge, text):
        return False
    return all(m.level == OUTPATIENT for m in judge.mentions(text))


def _service_card(judge, blocks: list[Block], i: int) -> bool:
    """A card whose title is only an outpatient service ("Counseling" / "Individual, couples and
    family sessions, days and evenings.") beside other cards: the title names the service, the
    text under it no level but outpatient care."""
    block = blocks[i]
    if not is_service_card(judge, blocks, i) or len(block.text.split()) > 4 or not _names_service(judge, block.text):
        return False
    cards = [b for b in blocks if b.kind == "heading" and b.heading == block.heading]
    # Its text may describe outpatient care itself ("Teen Counseling" / "Weekly sessions, in person or by video").
    return all(m.level == OUTPATIENT for m in judge.mentions(blocks[i + 1].text)) and len(cards) >= 3


def _more_intensive(judge, text: str) -> bool:
    """The line speaks of a program's own therapy or of care more often than weekly visits."""
    return bool(judge.p["program_therapy"].search(text) or judge.p["more_than_weekly"].search(text))


def _lists_service(judge, text: str) -> bool:
    """A line listing the program's services after an offer heading, one item an outpatient service,
    beside no level but outpatient care and IOP ("Services: therapy, psychiatry, substance use
    counseling, intensive outpatient program (adults)"): each item is a service of its own."""
    listed = offer_list(judge, text)
    if listed is None or _more_intensive(judge, text):
        return False
    if any(m.level not in OUTPATIENT_FAMILY for m in judge.mentions(text)):
        return False
    return any(_names_service(judge, piece.strip()) for piece in listed[1])


def _program_day_lists(judge, blocks: list[Block]) -> set[str]:
    """The lead-ins of lists that hold more intensive care and name no level ("Every student's week
    includes: Individual therapy (weekly) · Daily groups · ..."): the week of a program one lives in
    or spends days at, whose therapy is no outpatient service; so is a list under "Each day". A list
    item naming a level is an entry of a services menu ("IOP, three evenings a week")."""
    return {b.lead_in for b in blocks if b.kind == "item" and b.lead_in
            and (judge.p["more_than_weekly"].search(b.text) or judge.p["more_than_weekly"].search(b.lead_in))
            and not judge.mentions(b.text)}


def service_outpatient(judge, page: Page, ruled_out_in: dict[int, set[str]]) -> dict[str, Finding]:
    """Outpatient care where the page lists counseling or medication visits as its own service."""
    blocks = page.blocks
    title, other_page = _title_names_another_level(judge, blocks)
    if other_page:
        return {}
    menu, ranges, day_lists = menu_items(judge, blocks), sections(blocks), _program_day_lists(judge, blocks)
    for i, block in enumerate(blocks):
        # Above the title, or on a page without one, a line may be the site's tagline, said on every
        # page; a table row is none.
        tagline_place = (title < 0 or i <= title) and ROW_CELL not in block.text
        if tagline_place or block.lead_in in day_lists:
            continue
        if block.kind == "heading":
            if not _service_card(judge, blocks, i):
                continue
        elif not (_names_service(judge, block.text) or _lists_service(judge, block.text)):
            continue
        if _under_another_level(judge, blocks, ranges, i):
            continue  # a residential card's "Individual and group counseling, education and 12-step work"
        masked = judge.mask(block.text)
        if not offer_place(judge, blocks, i, menu) or any(judge.p[k].search(masked) for k in ("negation", "referral")):
            continue
        # Ruled out in the line itself; the page's denials (we do not offer outpatient care) are the
        # caller's. A comparison beside it ("if you need more than weekly sessions, I'll help you
        # find ...") is no denial of it.
        if explains(judge, section_context(blocks, ranges, i)) or OUTPATIENT in ruled_out_in.get(i, set()):
            continue
        return {OUTPATIENT: Finding(OUTPATIENT, quote(label_quote(blocks, i)), page.url)}
    return _said_in_a_sentence(judge, page, title, ranges, day_lists)


def _said_in_a_sentence(judge, page: Page, title: int, ranges: list[tuple[int, int]],
                        day_lists: set[str]) -> dict[str, Finding]:
    """"We keep you in the practice for medication management, with follow-up visits every four to
    eight weeks", "Aquí usted puede recibir consejería individual y familiar ... con nuestra
    enfermera": the program's own voice (we, our, its name) giving counseling or medication visits,
    in a paragraph that names no level, under a heading that names no other."""
    blocks = page.blocks
    for i, block in enumerate(blocks):
        if i <= title or block.kind == "heading":
            continue
        if block.lead_in in day_lists or judge.mentions(block.text) or _under_another_level(judge, blocks, ranges, i):
            continue  # beside a level, or under its heading, its sessions are that level's care
        for sentence in split_sentences(block.text):
            if _gives_visits(judge, sentence):
                return {OUTPATIENT: Finding(OUTPATIENT, quote(sentence), page.url)}
    return {}


def _under_another_level(judge, blocks: list[Block], ranges: list[tuple[int, int]], i: int) -> bool:
    """Block i's section heading names a level other than outpatient care: its sessions are that
    level's care."""
    start = ranges[i][0]
    heading = blocks[start].text if blocks[start].kind == "heading" else ""
    return any(m.level != OUTPATIENT for m in judge.mentions(heading))


def _gives_visits(judge, sentence: str) -> bool:
    """The sentence speaks in the program's voice of visits it gives, not in general, nor denied,
    referred or asked about."""
    visit = judge.p["outpatient_visit"].search(sentence)
    if not visit or not judge.speaks(sentence) or _more_intensive(judge, sentence):
        return False
    masked = judge.mask(sentence)
    before = masked[:visit.start()]  # "..., sin salir del condado" negates no visit before it
    if judge.p["negation"].search(before) or any(judge.p[kind].search(masked) for kind in ("referral", "generic")):
        return False
    return not judge.blocked(before) and not sentence.rstrip().endswith("?")
