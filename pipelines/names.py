"""A program's name whole: SAMHSA cuts long names across two fields ("Center for Recovery and" /
"Wellness Resources"), and also uses the second field for a site or program of an organisation
("Cenikor Foundation" / "Odyssey House Texas"). The rule that tells the two apart is data
(data/name_joins.csv); this module only applies it. The source's two fields stay as they were in
each listing (its merge key and raw row), so ids and provenance do not move when the rule does.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache

from common import paths

RULES = ("name1_ends", "name2_is", "name2_starts", "second_starts", "site_separator")
# "MH/MR", "SU/MH": a slash between two short abbreviations is part of a name, not a site after it.
_ABBREVIATION = re.compile(r"[A-Z]{1,3}")


class NameJoinsError(ValueError):
    pass


@dataclass(frozen=True)
class WholeName:
    """The name a person reads, the second name that stays apart (None when there is none left),
    and whether the two source fields were joined."""
    name: str
    second: str | None
    joined: bool


@lru_cache(maxsize=1)
def rules() -> dict[str, tuple[str, ...]]:
    """rule -> its words (lower case), read from data/name_joins.csv and checked."""
    table: dict[str, list[str]] = {rule: [] for rule in RULES}
    with (paths.DATA / "name_joins.csv").open(newline="", encoding="utf-8") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        for number, row in enumerate(rows, start=2):
            rule, text = (row.get("rule") or "").strip(), (row.get("text") or "").strip().lower()
            if rule not in table or not text:
                raise NameJoinsError(f"data/name_joins.csv row {number} (after comments): {row!r}: "
                                     f"give a rule ({', '.join(RULES)}) and a text")
            table[rule].append(text)
    return {rule: tuple(words) for rule, words in table.items()}


def _starts_with(text: str, prefix: str) -> bool:
    """`text` starts with `prefix` as a word: "DBA Soba" with "dba", not "Dbase"."""
    if not text.startswith(prefix):
        return False
    rest = text[len(prefix):]
    return not rest or not prefix[-1].isalnum() or not rest[0].isalnum()


def continues(name1: str, name2: str, city: str | None = None) -> bool:
    """True when name2 is the rest of name1 rather than a name of its own. A name2 that is the
    listing's own city is its site ("MedMark Treatment Centers" / "Center", in Center, Texas)."""
    table, lower = rules(), name2.lower()
    if any(_starts_with(lower, p) for p in table["second_starts"]) or lower == (city or "").strip().lower():
        return False
    words1, words2 = name1.lower().split(), lower.split()
    return bool(
        (words1 and words1[-1] in table["name1_ends"])
        or lower in table["name2_is"]
        or (words2 and words2[0] in table["name2_starts"])
        or name2[:1].islower()
    )


def _split_site(name2: str) -> tuple[str, str | None]:
    """(the rest of the name, the site or unit after it) of a name2 that continues name1, cut at
    the first separator that does not stand between two short abbreviations."""
    for separator in rules()["site_separator"]:
        for match in re.finditer(re.escape(separator), name2):
            before = re.split(r"[\s/]", name2[:match.start()])[-1]
            after = re.split(r"[\s/]", name2[match.end():])[0]
            if not (_ABBREVIATION.fullmatch(before) and _ABBREVIATION.fullmatch(after)):
                return name2[:match.start()].strip(), name2[match.end():].strip() or None
    return name2.strip(), None


def whole_name(name1: str, name2: str | None, city: str | None = None) -> WholeName:
    """name1 and name2 as a person should read them (the rule: data/name_joins.csv); `city` is
    the listing's city, which a name2 that is only a site often names."""
    if not name2 or not continues(name1, name2, city):
        return WholeName(name1, name2 or None, False)
    rest, site = _split_site(name2)
    return WholeName(" ".join(filter(None, (name1, rest))), site, True)
