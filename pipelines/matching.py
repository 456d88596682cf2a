"""Keys that decide whether two listings are the same program (rules in pipelines/merge.py).

Names and streets are folded so that spelling variants of one facility meet: "Toxicology
Associates, Inc." and "Toxicology Associates Inc"; "6910 Bellaire Blvd., Suite 13" and
"6910 Bellaire Boulevard". The word lists are data: data/name_words.csv, data/address_words.csv.
"""
from __future__ import annotations

import csv
import re
from functools import lru_cache

from rapidfuzz import fuzz

from common import paths
from common.normalize import match_key

# "d/b/a", "d.b.a.", "DBA": doing business as. Folded away with the name words (data/name_words.csv)
# so "DBA Hemphill Treatment Services" and "Hemphill Treatment Services" meet.
_DBA = re.compile(r"\bd\s*[/.]\s*b\s*[/.]\s*a\b\.?", re.IGNORECASE)

# A unit designator and what follows it: "Suite 13", "Ste. 410", "# 200", "Building K", "Floor 2".
# Only after a number and a street name, so "1 Suite Street" keeps its name.
_UNIT = re.compile(r"^(\S+ \S+.*?) (?:suite|ste|unit|apt|apartment|room|rm|bldg|building|floor|fl) \S.*$")


@lru_cache(maxsize=None)
def _words(name: str) -> dict[str, str]:
    with (paths.DATA / name).open(newline="", encoding="utf-8") as fh:
        return {row["word"]: row["full"] for row in csv.DictReader(fh)}


def _fold_words(text: str | None, table: str) -> str:
    words = _words(table)
    out = []
    # Dots go without a space, so "L.P." is "LP" and "Blvd." is "Blvd".
    for word in match_key(_DBA.sub(" dba ", text or "").replace("&", " and ").replace(".", "")).split():
        full = words.get(word, word)
        if full:
            out.append(full)
    return " ".join(out)


def name_key(name: str | None) -> str:
    """Name without case, punctuation, "the", corporate suffixes; abbreviations spelled out."""
    return _fold_words(name, "name_words.csv")


def street_key(street: str | None) -> str:
    """Street without the unit ("Suite 13"), with suffixes and directions spelled out.

    usaddress was tried for the unit (its Occupancy* labels): on the 815 distinct streets of the
    Houston/Dallas and Massachusetts exports it was 11 times slower and wrong on 3 that this
    gets right ("6237 Highyway 6 S." lost "6 south", "MEDVAMC 116SDTP" became empty, "VA Hospital,
    Rm. 6B-115" kept its room), so the unit stays a rule here."""
    text = match_key((street or "").lower().replace("#", " unit "))
    text = _UNIT.sub(r"\1", text).strip()
    return _fold_words(text, "address_words.csv")


def names_near_identical(a: str, b: str, threshold: float = 0.9) -> bool:
    """True for names that differ only by a few characters ("Heights Treatment" /
    "The Heights Treatment Center" is not: a whole word more is another name)."""
    if not a or not b:
        return False
    if a.replace(" ", "") == b.replace(" ", ""):
        return True
    # Indel similarity, as difflib's ratio but exact and in C: on every pair of the Texas export's
    # Houston and Dallas names (90,100 pairs) both say the same, 150 times faster.
    return fuzz.ratio(a, b, score_cutoff=threshold * 100) > 0
