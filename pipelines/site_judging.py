"""Judging a page of a provider's website: which levels of care it states the program offers,
each with the sentence that states it. The page comes from the provider_sites feed as read by
the spider (pipelines.site_levels turns a feed item into a Page); the words are data
(pipelines.site_vocabulary), in English and Spanish.

    state_levels(page) -> [Finding(level, quote, url)]

Precision first. A level counts only where the page speaks of the program itself: "we offer ...",
"our IOP ...", "Ofrecemos un programa intensivo ambulatorio", "... is available on site", its
clients taking part ("Most teens attend day treatment", "PHP clients start on Mondays", "Most
teens step down to the Adolescent Partial Hospitalization Program", "for parents and siblings of
residential clients") or admitted ("are admitted as inpatients"), others sending patients to it
("Clinicians can refer patients for inpatient admission"), a unit counted in beds ("is a 14-bed
inpatient unit"), its own place after the level or after a list of levels ("residential care with
us", which outweighs an "after" before it; "Day treatment (PHP), intensive outpatient and weekly
counseling at our San Marcos office"), the lede under its own name as a heading ("A 96-bed hospital providing inpatient care"), the answer
"Yes" to "Do you offer detox?" or any answer but "No" to a question about its own level ("How long
is the day program?", "How long is I.O.P.?"), or a heading, list item, table row or schema.org service
that is only the name of a level where the page shows it is the program's offer
(pipelines.site_labels: "Levels of Care: Detox, Residential", "Medical detox | ✓").
It does not count when the clause negates it ("we do not offer residential care"), closes it or
puts it in the past ("Our residential program closed in 2022", "From 2008 to 2021 we operated a
detox unit"), sends people elsewhere ("we can refer you to an IOP"), names where clients come from
or what the level is compared with ("an alternative to inpatient care", "after residential
treatment", "When IOP isn't enough" is neither an offer nor a denial), is part of another organisation's name ("Ben Taub Hospital's inpatient unit"), sits
in page furniture (the spider marks navigation, header, footer and sidebar text). On a blog-like
page (a post, news item or job ad) only its sentences and table rows marked offered count.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from common import vocab
from pipelines.site_labels import (badge_ruled_out, is_location_heading, is_own_heading, judge_labels, judge_rows,
                                     judge_services, label_mentions, listed_after_heading, sections)
from pipelines.site_page import Block, Finding, Mention, Page, quote, split_sentences, title_index
from pipelines.site_schedule import schedule_spans
from pipelines.site_services import OUTPATIENT, service_outpatient
from pipelines.site_vocabulary import Vocabulary, load_vocabulary, place_names

__all__ = ["Block", "Finding", "Mention", "Page", "find_mentions", "split_sentences", "state_levels"]

BLOCKER_WINDOW = 5  # words before a level phrase in which a blocker counts
# Words that end a run of capitalized words before a level phrase without being part of a name.
NOT_NAME_WORDS = frozenset("""
a about all also an and any are as at be both by call choose contact day each every find for from get
here home how in into is its learn more new now of on or our start that the their these this those to
today us we what when where which who why with you your offer offers offered offering provide provides
providing include includes including feature features featuring welcome explore discover begin visit
vs versus about top best leading trusted affordable confidential compassionate expert quality
most many some several few nearly almost it there
el la los las un una en de del y con para por nuestro nuestra nuestros nuestras ofrecemos ofrece
""".split())
_TOKEN = re.compile(r"[\w’'&+/-]+|[^\w\s]")
_WORD = re.compile(r"[\w’'.+-]+")
# "from detox through outpatient" with the level phrases replaced by §: a continuum, not an origin.
_RANGE = re.compile(r"\bfrom\s+(?:[\w’'-]+\s+){0,2}?§+(?:[\s,]+(?:(?:to|through|into|and|or|all\s+the\s+way\s+to|on\s+to)"
                    r"\s+)?(?:[\w’'-]+\s+){0,2}?§+)+", re.I)
# "Q: Do you offer detox?" "A: Yes.": the markers of a question and its answer.
_QA_MARKER = re.compile(r"\s*(?:q|a|p|r|question|answer|pregunta|respuesta)\s*[:.]\s+", re.I)
# Before a level phrase (up to two words between): this program's own ("the day program",
# "your IOP", "el programa intensivo"), in a question that presumes the program runs it.
_DEFINITE_BEFORE = re.compile(r"\b(?:the|this|your|our|el|la|los|las|este|esta|su|sus|nuestr[oa]s?)\s+"
                              r"(?:[\w’'-]+\s+){0,2}$", re.I)
_OWN_PROGRAM = re.compile(r"\b(?:the|this|your|our|el|la|este|esta|su|nuestr[oa])\s+(?:[\w’'-]+\s+){0,2}?"
                          r"(?:program|programme|programa)\b", re.I)
# A word that makes the number after it approximate ("about 20 hours a week"), at the end of a text.
_APPROXIMATELY = re.compile(r"\b(?:about|around|approximately|roughly|nearly|almost|up\s+to|at\s+least)\s*$", re.I)
# A sentence whose subject is the one of the sentence before it.
_CONTINUES_SUBJECT = re.compile(r"(?:it|the\s+(?:center|centre|clinic|program|programme|agency|practice|hospital))\s", re.I)
# Just before a level phrase, some place that is not the program's: "Many people come to us after withdrawal
# care at a hospital or a detox center".
_SOME_OTHER_PLACE = re.compile(r"\b(?:at|to|from|in)\s+(?:a|an|another|other)\s+(?:[\w-]+\s+){0,2}(?:or\s+(?:a|an)\s+)?$", re.I)
# Words that continue the reach of a possessive ("our detox, residential and IOP programs").
_POSSESSIVE_JOINERS = {",", "&", "/", "(", ")", "and", "or", "+", "’", "'", "-", "y", "e", "o", "u"}
# In a list of levels, what belongs to one item's name and place, not a word between items: the
# end of its name and its acronym ("the Intensive Outpatient Program (SAIOP)"), and its town ("in
# Waycross").
_ITEM_NAME_AND_PLACE = re.compile(r"^\s*(?:programs?|programmes?)\b|\((?-i:[A-Z][A-Z0-9-]{1,9})\)"
                                  r"|\b(?:in|at)\s+(?-i:[A-Z][a-z’'-]+)(?:\s+(?-i:[A-Z][a-z’'-]+)){0,2}(?=\s*,)", re.I)


@dataclass
class Clause:
    """One clause of a sentence: its span in the sentence, with neutral phrases masked."""

    sentence: str
    masked: str
    mentions: list[Mention]
    start: int
    end: int
    lead: str = ""  # text before the sentence whose subject it may share


@dataclass
class Verdict:
    """A sentence's mentions: stated as offered, ruled out, and said by the program not offered."""

    stated: list[Mention] = field(default_factory=list)
    ruled_out: list[Mention] = field(default_factory=list)
    denied: list[Mention] = field(default_factory=list)


def find_mentions(text: str, voc: Vocabulary | None = None) -> list[Mention]:
    """Level phrases in text, longest first where they overlap; not_level phrases hide what they
    cover. A described level ("weekly family therapy") counts only where the text names no other
    level: beside one it is part of that level's care."""
    voc = voc or load_vocabulary()
    spans: list[tuple[int, int, str | None, bool, bool]] = []
    for rows, described, self_stating in ((voc.levels, False, False), (voc.described, True, False),
                                          (voc.self_described, True, True)):
        for level, pattern in rows:
            spans += [(m.start(), m.end(), level, described, self_stating) for m in pattern.finditer(text)]
    spans += [(start, end, level, True, True) for start, end, level in schedule_spans(text)]
    for pattern in voc.not_levels:
        spans += [(m.start(), m.end(), None, False, False) for m in pattern.finditer(text)]
    kept: list[tuple[int, int, str | None, bool, bool]] = []
    for span in sorted(spans, key=lambda s: (-(s[1] - s[0]), s[0])):
        if all(span[1] <= k[0] or span[0] >= k[1] for k in kept):
            kept.append(span)
    mentions = [Mention(level, s, e, described, own) for s, e, level, described, own in sorted(kept) if level]
    # Weekly sessions beside another level described ("Residents live at the house for 30 days ...
    # and meet with a counselor every week") are that level's care, not outpatient care. A program
    # that describes itself ("our 28-day program") is beside only what its own part of the sentence
    # names, up to a semicolon.
    def beside(m: Mention) -> set[str]:
        near = [n for n in mentions if not m.self_stating or ";" not in _between(text, m, n)]
        return {n.level for n in near if m.level == OUTPATIENT or not n.described}

    return [m for m in mentions if not m.described or _offered_alone(voc, text, m, mentions)
            or not beside(m) - {m.level}]


def _between(text: str, m: Mention, n: Mention) -> str:
    return text[min(m.end, n.end):max(m.start, n.start)]


def _offered_alone(voc: Vocabulary, text: str, m: Mention, mentions: list[Mention]) -> bool:
    """A described level the program offers by itself beside a named one: in a clause of its own
    ("... an evening IOP and offer weekly individual counseling"), or first, just after the offer
    verb ("Lamoille Counseling offers weekly counseling ... and our evening IOP"; not "Our IOP offers
    weekly family therapy", where the named level is the subject)."""
    before = text[:m.start]
    if voc.patterns["and_offer"].search(before):
        return True
    return (bool(voc.patterns["offer_verb_end"].search(before))
            and not any(n.start < m.start and not n.described for n in mentions))


# Said of clients who have gone home: "When a man goes home, he can keep coming to our Tuesday group".
_AFTER_THE_STAY = re.compile(r"\b(?:after|aftercare|(?:goes|go|went|gone|return|returns|back)\s+home|leaves?|leaving|"
                             r"discharge[ds]?|graduat\w*|finish\w*|complet\w*)\b", re.I)
_OWN_LIST = re.compile(r"\bour\s+(?:programs|services|levels\s+of\s+care)\s*\Z", re.I)


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
        self._mentions: dict[str, list[Mention]] = {}

    def mentions(self, text: str) -> list[Mention]:
        """find_mentions, remembered for the page (labels are looked at from several sections)."""
        if text not in self._mentions:
            self._mentions[text] = find_mentions(text, self.voc)
        return self._mentions[text]

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
        """The text with neutral phrases and inbound referrals ("Clinicians can refer patients
        for ...") blanked out (same length, so offsets hold)."""
        for kind in ("neutral", "referral_in"):
            text = self.p[kind].sub(lambda m: " " * len(m.group()), text)
        return text

    def referred_in(self, sentence: str, start: int, m: Mention) -> bool:
        """Others are told to send clients to the program for this level, named just after:
        "Clinicians ... can refer patients for inpatient admission"."""
        return any(re.fullmatch(r"(?:[\w’'-]+\s+){0,2}", sentence[r.end():m.start])
                   for r in self.p["referral_in"].finditer(sentence, start, m.start))

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
            # "Christ-centered residential": a compound adjective, lowercase after its hyphen, is no name.
            if low in NOT_NAME_WORDS or re.fullmatch(r"[A-Z][\w’']*-[a-z][\w-]*", token):
                break
            if self.p["label_word"].match(low) or (token.isupper() and len(token) <= 6):
                if name:
                    name.insert(0, token)
                continue
            name.insert(0, token)
        distinctive = [t for t in name if not self.p["label_word"].match(t.lower().removesuffix("’s")
                                                                          .removesuffix("'s"))]
        # "Ongoing weekly therapy ...": a sentence's first word, capitalized because it is first, alone.
        opening = (len(name) == 1 and re.fullmatch(r"\W*", text[:text.find(name[0])])
                   and not re.search(r"[’']s$", name[0]))
        if distinctive and not opening:
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
        """Indexes of the mentions that a possessive reaches: "our detox, residential and IOP programs"."""
        reached: set[int] = set()
        owners = [m.end() for m in self.p["possessive"].finditer(masked[start:end])]
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
                if word in _POSSESSIVE_JOINERS:
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

    def offered(self, pre: str, post: str, lead: str = "", tail: str | None = None) -> bool:
        """An offer cue before (subject then verb, or offer_alone) or just after the level phrase
        or the list it is the first of (tail: the clause after the list's last level phrase).
        lead: the sentence before the clause, whose subject a clause may share ("We previously
        offered residential care, but now focus on outpatient therapy")."""
        if self.p["offer_alone"].search(pre) or self.said_after(("offer_after", "own_place_after"), post, tail):
            return True
        if self.p["own_clients"].search(f"{pre[-60:]}§{post}"):  # "for parents ... of residential clients"
            return True
        if lead and self.p["offer_verb"].search(pre) and (self.p["subject"].search(lead) or self.speaks(lead)):
            return True
        if self.at_own_name(post):  # "Residential treatment at Riverside lasts 30 to 90 days"
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

    def is_not_another(self, masked: str, mentions: list[Mention], i: int, end: int) -> bool:
        """"SACOT is not residential treatment or detox": the denial after mention i is of the level
        named right after it, which mention i is said not to be."""
        after = self.p["negation_after"].match(masked, mentions[i].end, end)
        following = self.next_start(mentions, i, end)
        return bool(after and following < end and re.fullmatch(r"\W*(?:(?:a|an|the)\s+)?", masked[after.end():following]))

    @staticmethod
    def next_start(mentions: list[Mention], i: int, end: int) -> int:
        """Where the level phrase after mention i starts, or the clause's end."""
        return min([n.start for n in mentions[i + 1:] if n.start < end] + [end])

    def sent_inside(self, masked: str, referral: re.Match | None, m: Mention) -> bool:
        """The referral sends clients to the program's own level: "you may transfer to our inpatient
        psychiatric unit" (to our, then only words of the level's name), not "we refer you to our
        partners for detox"."""
        if referral is None or referral.end() > m.start:
            return False
        between = re.fullmatch(r"\W*(?:[\w’'-]+\W+){0,3}?to\s+our\s+((?:[\w’'-]+\s+)*)",
                               masked[referral.end():m.start])
        return bool(between) and all(self.p["label_word"].fullmatch(w.lower()) for w in between.group(1).split())

    def placed_here(self, post: str) -> bool:
        """The program's own place right after a level phrase, up to two words of its name between
        ("residential stay with us", "detox unit down the hall")."""
        rest = post
        for _ in range(3):
            if self.p["own_place_after"].match(rest):
                return True
            word = re.match(r"\s*([\w’'-]+)", rest)
            if not word or not self.p["label_word"].fullmatch(word.group(1).lower()):
                return False
            rest = rest[word.end():]
        return False

    def at_own_name(self, post: str) -> bool:
        """The words after a level phrase place it at the program, by name: "residential treatment
        at Tall Pines"."""
        if not self.own_re:
            return False
        after = re.match(rf"\W*(?:[\w’'-]+\W+){{0,3}}?(?:at|with)\s+(?:the\s+)?({self.own_re.pattern})", post, re.I)
        return bool(after and after.group(1)[:1].isupper())

    def said_after(self, kinds: tuple[str, ...], post: str, tail: str | None = None) -> bool:
        """A cue of one of these "just after" kinds after the level phrase, or after the last of
        the levels listed with it ("Day treatment (PHP), intensive outpatient and weekly counseling
        at our San Marcos office": the place is said of all three)."""
        return any(self.p[kind].match(text) for kind in kinds for text in (post, tail) if text is not None)

    def list_tail(self, masked: str, mentions: list[Mention], i: int, end: int) -> str | None:
        """The clause after the last level phrase listed with mention i ("detox, residential and
        IOP", "Day treatment (PHP)"); None when no other level phrase follows it in a list. Between
        two listed phrases only commas, brackets, slashes, and/or and up to two label words."""
        last = i
        for j in range(i + 1, len(mentions)):
            gap = _ITEM_NAME_AND_PLACE.sub(" ", masked[mentions[last].end:mentions[j].start])
            if mentions[j].start >= end or len(gap) > 30 or re.search(r"[.:!?;]", gap):
                break
            words = [w.lower() for w in re.findall(r"[\w’'-]+", gap)]
            joiners = [w for w in words if w not in _POSSESSIVE_JOINERS]
            if len(joiners) > 2 or not all(self.p["label_word"].match(w) for w in joiners):
                break
            last = j
        return masked[mentions[last].end:end] if last != i else None

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

    def judge_sentence(self, sentence: str, lead: str = "") -> Verdict:
        """For one sentence: the mentions it states as offered, those it rules out, and of those
        the ones the program itself says it does not offer ("we do not offer residential care").
        lead: text before the sentence whose subject it may share (the program's own name as the
        heading over a lede: "Cypress Ridge" / "A 96-bed hospital providing inpatient care")."""
        verdict = Verdict()
        mentions = self.mentions(sentence)
        if not mentions or sentence.rstrip(" )”\"'").endswith("?"):
            return verdict
        masked = self.mask(sentence)
        for start, end in self.clauses(masked):
            if any(start <= m.start < end for m in mentions):
                self.judge_clause(Clause(sentence, masked, mentions, start, end, lead), verdict)
        return verdict

    def judge_clause(self, clause: Clause, verdict: Verdict) -> None:
        masked, mentions, start, end = clause.masked, clause.mentions, clause.start, clause.end
        ours = self.possessed(masked, mentions, start, end)
        ranged = self.in_range(masked, mentions, start, end)
        referral = self.p["referral"].search(masked, start, end)
        past = self.in_the_past(masked, start, end)
        for i, m in enumerate(mentions):
            if not start <= m.start < end:
                continue
            pre, post = masked[start:m.start], masked[m.end:end]
            tail = self.list_tail(masked, mentions, i, end)
            negated_after = (self.said_after(("negation_after",), post, tail)
                             and not self.is_not_another(masked, mentions, i, end))
            negation = self.p["negation"].search(self.negation_scope(pre, masked[m.start:end], mentions))
            # "Patients leaving our Day Hospital are referred to IOPs": the program's own level
            # named before the referral is where clients come from, not where they are sent; the
            # level they come back to ("until you are ready to come back to outpatient") is its own.
            # Its own place said right after it outweighs any referral of the clause ("Most patients
            # transfer directly to the Residential House down the hall").
            placed = self.placed_here(post) or (i in ours and self.sent_inside(masked, referral, m))
            sent = ((referral and not placed and not ((i in ours) and m.end <= referral.start())
                     and not self.p["return_to"].search(pre))
                    or self.said_after(("referral_after",), masked[m.end:self.next_start(mentions, i, end)]))
            if sent or negation or negated_after or past:
                verdict.ruled_out.append(m)
                if (not referral and (negated_after or past or self.says_not_offered(pre))
                        and not self.local(masked[start:end]) and not self.p["narrowing"].search(pre)):
                    verdict.denied.append(m)
            elif (i in ours or self.referred_in(clause.sentence, start, m)
                  or self.stated_here(clause, m, i in ranged, (pre, post, tail))
                  or self.self_stated(clause, m, pre)):
                verdict.stated.append(m)

    def stated_here(self, clause: Clause, m: Mention, ranged: bool, around: tuple[str, str, str | None]) -> bool:
        """A level phrase not ruled out is stated when it is not part of another's name, not
        blocked (unless in a continuum, "from detox to IOP", or at the program's own place, "after
        residential care with us") and offered. around: the clause before it, after it, and after
        the list it opens (Judge.list_tail)."""
        pre, post, tail = around
        if self.in_other_name(clause.sentence, m):
            return False
        # Only its own place outweighs a blocker, not the list's: "After detox and residential care, IOP is
        # available at our clinic" says where IOP is, and where its clients come from.
        if not (ranged or self.p["own_place_after"].match(post) or self.at_own_name(post) or not self.blocked(pre)):
            return False
        return self.offered(pre, post, f"{clause.lead} {clause.masked[:clause.start]}".strip(), tail)

    def self_stated(self, clause: Clause, m: Mention, pre: str) -> bool:
        """A self-describing mention ("Men live on the ranch for 60 days", a schedule of nine hours
        a week) states its level unless the sentence speaks in general ("IOPs typically meet ...",
        not in the program's own voice),
        it is part of another's name, or a blocker stands before it after the last colon ("For
        adults who need more than a weekly session: nine hours a week ..." is the program's own)."""
        # "I see clients ..., usually every week": a generic word in the program's own voice is its habit.
        own = self.speaks(clause.masked) or self.p["subject"].search(clause.masked)
        # The phrase's own words are the program's habit ("Sessions are 50 minutes, usually weekly").
        around = clause.sentence[:m.start] + " " * (m.end - m.start) + clause.sentence[m.end:]
        if not m.self_stating or (self.p["generic"].search(around) and not own):
            return False
        # "about 20 hours a week" is a schedule told roughly, not a text about it
        pre = _APPROXIMATELY.sub("", pre.rsplit(":", 1)[-1])
        return not self.in_other_name(clause.sentence, m) and not self.blocked(pre)

    def local(self, clause: str) -> bool:
        """The clause limits what it says to one place ("at this location", "in Frisco"): a
        denial there is not the whole program's."""
        if self.p["local_scope"].search(clause):
            return True
        return any(m.group(1).lower() in place_names()
                   for m in re.finditer(r"\b(?:in|at|en)\s+([A-ZÁÉÍÓÚÑ][\w’'-]+(?:\s+[A-ZÁÉÍÓÚÑ][\w’'-]+)?)", clause))

    def in_the_past(self, masked: str, start: int, end: int) -> bool:
        """The clause says what the program did once: a past offer verb and a past time ("From
        2008 to 2021 we operated a detox unit", "We offered residential care for ten years")."""
        return bool(self.p["past_offer"].search(masked, start, end) and self.p["past_time"].search(masked, start, end))

    def blocked(self, pre: str) -> bool:
        """A blocker in the last words before the level phrase: where clients come from, what the
        level is compared with, who needs it ("after residential treatment")."""
        window = " ".join(_WORD.findall(pre)[-BLOCKER_WINDOW:])
        # "covers all of our programs: residential, IOP ...": the program's own list after the blocker.
        return any(not _OWN_LIST.search(window, b.end()) for b in self.p["blocker"].finditer(window))



# --- a page: sentences (answers to the page's own questions among them), then labels ---------


@dataclass
class _SentencePass:
    """What the page's sentences say: levels stated (first quote each), levels ruled out per
    block, and levels the program says it does not offer."""

    found: dict[str, Finding] = field(default_factory=dict)
    # Levels only a description states (a schedule, a stay): a label naming the level quotes better.
    described: dict[str, Finding] = field(default_factory=dict)
    ruled_out_in: dict[int, set[str]] = field(default_factory=dict)
    denied: set[str] = field(default_factory=set)

    def state(self, level: str, text: str, url: str, m: Mention | None = None) -> None:
        into = self.described if m is not None and m.self_stating else self.found
        into.setdefault(level, Finding(level, quote(text, m), url))

    def rule_out(self, block: int, levels, denied: bool = False) -> None:
        self.ruled_out_in.setdefault(block, set()).update(levels)
        if denied:
            self.denied.update(levels)


def _unmarked(sentence: str) -> str:
    """The sentence without a leading "Q:" or "A:"."""
    marker = _QA_MARKER.match(sentence)
    return sentence[marker.end():] if marker else sentence


def _offer_question(judge: _Judge, sentence: str) -> bool:
    """'Do you offer detox?', '¿Tienen servicio de desintoxicación?': the page asks itself."""
    sentence = _unmarked(sentence)
    return sentence.rstrip(" )”\"'").endswith("?") and bool(judge.p["offer_question"].match(sentence))


def _bare_level_question(judge: _Judge, sentence: str) -> bool:
    """'How long is I.O.P.?', 'How long is residential treatment?': a presuming question whose
    subject is only a level's name, asked on the program's own page."""
    sentence = _unmarked(sentence)
    start = judge.p["presuming_question"].match(sentence)
    return bool(start and label_mentions(judge, sentence[start.end():].strip(" ?¿)”\"'")))


def _presuming_question(judge: _Judge, sentence: str) -> bool:
    """'How long is the day program?', '¿Cuánto dura el programa intensivo?': a question about the
    program's own level (the, your, el ... before it or before "program", or the level's name
    alone as its subject) as something it runs."""
    sentence = _unmarked(sentence)
    if not sentence.rstrip(" )”\"'").endswith("?") or not judge.p["presuming_question"].match(sentence):
        return False
    return bool(_OWN_PROGRAM.search(sentence)) or _bare_level_question(judge, sentence) or any(
        _DEFINITE_BEFORE.search(sentence[:m.start]) for m in judge.mentions(sentence))


def _answer(judge: _Judge, question: str, answer: str, verdict: Verdict, result: _SentencePass,
            where: tuple[int, Block, str], presumed: bool = False) -> None:
    """The answer to an offer question: "Yes" states the levels the question names and those the
    answer names itself (not where clients come from); "No" says the program does not offer the
    question's levels. The question's levels are quoted with the answer's block. The answer to a
    presuming question ("How long is the day program?") states them unless it says no."""
    block, answer_block, url = where
    question, answer = _unmarked(question), _unmarked(answer)
    bare = presumed and _bare_level_question(judge, question)
    asked = [m for m in judge.mentions(question)
             if not judge.in_other_name(question, m) and not judge.blocked(question[:m.start])
             and (not presumed or bare or _DEFINITE_BEFORE.search(question[:m.start]))]
    ruled_out = {m.level for m in verdict.ruled_out}
    if judge.p["answer_no"].match(answer):
        result.rule_out(block, {m.level for m in asked}, denied=True)
    elif ((presumed or judge.p["answer_yes"].match(answer))
          and not judge.p["referral"].search(judge.mask(answer))):
        for m in asked:
            if m.level not in ruled_out:
                result.state(m.level, f"{question} — {answer_block.text}", url)
        masked = judge.mask(answer)
        for m in judge.mentions(answer):
            if (m.level not in ruled_out and not judge.in_other_name(answer, m)
                    and not judge.blocked(masked[:m.start]) and not _SOME_OTHER_PLACE.search(masked[:m.start])):
                result.state(m.level, answer, url, m)


def _in_place_sections(judge: _Judge, blocks: list[Block]) -> set[int]:
    """The blocks under a heading naming one of the program's places ("Great Bend" over its address
    and "Services: therapy. IOP coming spring 2027."): what they deny is that place's, not the whole
    program's."""
    ranges, inside = sections(blocks), set()
    for i, block in enumerate(blocks):
        stop = ranges[i][1]  # a heading's range is its own section
        if block.kind == "heading" and is_location_heading(
                judge, block.text, [b.text for b in blocks[i + 1:stop] if b.kind != "heading"]):
            inside.update(range(i + 1, stop))
    return inside


def _judge_sentences(judge: _Judge, page: Page) -> _SentencePass:
    result = _SentencePass()
    previous, own_heading = "", ""
    in_a_place = _in_place_sections(judge, page.blocks)
    for i, block in enumerate(page.blocks):
        sentences = split_sentences(block.text)
        if block.kind == "heading":
            own_heading = block.text if is_own_heading(judge, block.text) else ""
        for k, sentence in enumerate(sentences):
            # The lede under the program's own name as a heading shares it as its subject, and
            # a sentence opening with "It" or "The center" the subject of the sentence before it
            # ("Ashdown Recovery Center is run by the Board. It offers outpatient ...").
            lede = own_heading if block.kind != "heading" and k == 0 else ""
            if k > 0 and _CONTINUES_SUBJECT.match(sentence):
                lede = sentences[k - 1]
            verdict = judge.judge_sentence(sentence, lede)
            result.rule_out(i, {m.level for m in verdict.ruled_out})
            if i in in_a_place:
                result.rule_out(i, {m.level for m in verdict.denied})
            else:
                result.denied.update(m.level for m in verdict.denied)
            for m in verdict.stated:
                result.state(m.level, sentence, page.url, m)
            for m in listed_after_heading(judge, sentence):
                result.state(m.level, sentence, page.url, m)
            presumed = bool(previous) and _presuming_question(judge, previous)
            if previous and (presumed or _offer_question(judge, previous)):
                # A bare "Yes." is answered by the sentence after it.
                bare = len(_WORD.findall(sentence)) <= 2 and k + 1 < len(sentences)
                answer = f"{sentence} {sentences[k + 1]}" if bare else sentence
                _answer(judge, previous, answer, judge.judge_sentence(answer), result, (i, block, page.url),
                        presumed)
            previous = sentence
        if block.kind != "heading":
            own_heading = ""
    return result


def _closed_page_levels(judge: _Judge, page: Page) -> set[str]:
    """The levels of a program page that says the program has closed ("This program has closed."
    above the old description of "Residential Treatment"): those its title names. Where the line
    names the program by the page's title ("Transition House closed on August 31, 2026."), also
    those its title's section states ("Transition House is a 10-bed residential program")."""
    blocks = page.blocks
    title = title_index(blocks)
    if title is None:
        return set()
    name = blocks[title].text.strip().rstrip(".!")
    lines = [b.text for b in blocks if b.kind != "heading"]
    # The program named by the title is "this program" of the page_closed phrases, at a line's start
    # or mid-line ("As of March 1, 2026, the Adolescent Residential Treatment Center has closed").
    closed_at = [at for text in lines for at in _occurrences(text.lower(), name.lower())
                 if judge.p["page_closed"].match(f"this program{text[at + len(name):]}")]
    if 0 in closed_at:  # the line opens with it: what its title's section says closed with it
        end = next((j for j in range(title + 1, len(blocks)) if blocks[j].kind == "heading"), len(blocks))
        return {m.level for b in blocks[title:end] for m in judge.mentions(b.text)}
    if not closed_at and not any(judge.p["page_closed"].search(text) for text in lines):
        return set()
    return {m.level for m in judge.mentions(blocks[title].text)}


def _occurrences(text: str, part: str) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(part), text)] if part else []


DAY_LEVELS = {"iop", "php"}  # beside a day program, weekly sessions are a level of their own (after the PAI)
LIVE_IN = {"residential", "inpatient"}


def _a_stays_therapy(judge: _Judge, page: Page, finding: Finding) -> bool:
    """Weekly therapy described without naming outpatient care, on the page of a program clients live
    in ("Individual, group and weekly family therapy" beside "Boys live at the ranch") and no day
    program: the stay's therapy (a counseling line or sentence alike), unless it names outpatient care
    or is said of clients gone home ("When a man goes home, he can keep coming ...")."""
    named = any(m.level == OUTPATIENT and not m.described for m in judge.mentions(finding.quote))
    if named or _AFTER_THE_STAY.search(finding.quote):
        return False
    # The page describes a program its clients live in ("Boys live at the ranch for four to six months").
    return any(m.self_stating and m.level in LIVE_IN for b in page.blocks for m in judge.mentions(b.text))


def state_levels(page: Page, voc: Vocabulary | None = None) -> list[Finding]:
    """The levels of care a page of a provider's own website states, each once, with the sentence
    (or heading, list item, table row or schema.org service) that states it and the page URL. A
    blog-like page states only what its sentences say in the program's own voice, and its table rows
    marked offered."""
    judge = _Judge(page, voc or load_vocabulary())
    sentences = _judge_sentences(judge, page)
    if page.is_blog_like:
        # A post, news item or job ad states what the program says in its own voice it offers now,
        # in a sentence, or in a table row marked offered (Yes, ✓); a level its headings say has
        # ended, paused or is still to come does not count ("Why we ended our evening IOP pilot").
        # Its headings and lists are not labels.
        ruled_out = sentences.denied.union(*(levels for i, levels in sentences.ruled_out_in.items()
                                             if page.blocks[i].kind == "heading"))
        stated = {**judge_rows(judge, page).found, **sentences.found}
        return [stated[level] for level in vocab.care_levels() if level in stated and level not in ruled_out]
    rows = judge_rows(judge, page)
    for i, levels in rows.ruled_out_in.items():
        # A row marked Referral denies its level unless another row of the level is marked offered
        # (3.5 residential ✓, 3.1 low-intensity residential: Referral).
        sentences.rule_out(i, levels - rows.found.keys(), denied=True)
    for i, levels in badge_ruled_out(judge, page.blocks).items():
        sentences.rule_out(i, levels)
    sentences.denied.update(_closed_page_levels(judge, page))
    labels = judge_labels(judge, page, sentences.ruled_out_in)
    found = {**service_outpatient(judge, page, sentences.ruled_out_in), **sentences.described,
             **judge_services(judge, page), **labels, **rows.found, **sentences.found}
    if OUTPATIENT in found and not found.keys() & DAY_LEVELS and _a_stays_therapy(judge, page, found[OUTPATIENT]):
        del found[OUTPATIENT]
    # Where the page itself says it does not offer a level, a looser use of the same word on the
    # page ("two outpatient programs", meaning PHP and IOP) does not count.
    return [found[level] for level in vocab.care_levels() if level in found and level not in sentences.denied]
