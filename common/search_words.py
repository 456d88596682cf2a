"""Everyday words of a search, read as what the data knows (data/search_words.csv): "suboxone"
is the Buprenorphine medication, "teen" the Children and adolescents ages, "rehab" the
residential level. What no phrase names (other than the stop words of data/search_stopwords.csv)
is left for a full-text search on the programs' names."""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache

from common import paths

# The facets a phrase may name, in the order a page lists what it understood.
FACETS = ("care_level", "focus", "medications", "payment", "languages", "ages", "populations", "telehealth")
ANY = "*"  # a phrase that asks for any value of its facet ("MAT": any medication)
_TOKEN = re.compile(r"[\w+'-]+")


class SearchWordsError(ValueError):
    pass


@dataclass(frozen=True)
class SearchTerms:
    """What a search asks for: facet -> values (each facet: any of its values; all facets at once),
    the words left for full-text search, and each phrase understood with what it meant."""
    filters: dict[str, tuple[str, ...]]
    words: str
    understood: tuple[tuple[str, str, str], ...]  # (phrase as typed, facet, value)


def _rows(name: str) -> list[dict[str, str]]:
    with (paths.DATA / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


@lru_cache(maxsize=1)
def phrases() -> dict[tuple[str, ...], tuple[str, str]]:
    """Tokens of a phrase -> (facet, value), checked when read: an unknown facet is an error."""
    table: dict[tuple[str, ...], tuple[str, str]] = {}
    for number, row in enumerate(_rows("search_words.csv"), start=2):
        facet, value, tokens = row["facet"].strip(), row["value"].strip(), tuple(tokenize(row["phrase"]))
        if facet not in FACETS or not value or not tokens:
            raise SearchWordsError(f"data/search_words.csv row {number}: {row!r}: give a phrase, a facet "
                                   f"({', '.join(FACETS)}) and a value")
        table[tokens] = (facet, value)
    return table


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    return frozenset(row["word"].strip().lower() for row in _rows("search_stopwords.csv"))


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall((text or "").lower())


def parse_search(text: str | None) -> SearchTerms:
    """Read a person's search: the longest known phrase at each place wins."""
    tokens = tokenize(text or "")
    table, longest = phrases(), max(map(len, phrases()))
    found: dict[str, list[str]] = {}
    understood, rest = [], []
    i = 0
    while i < len(tokens):
        for size in range(min(longest, len(tokens) - i), 0, -1):
            meaning = table.get(tuple(tokens[i:i + size]))
            if meaning:
                facet, value = meaning
                if value not in found.setdefault(facet, []):
                    found[facet].append(value)
                understood.append((" ".join(tokens[i:i + size]), facet, value))
                i += size
                break
        else:
            if tokens[i] not in stopwords():
                rest.append(tokens[i])
            i += 1
    filters = {facet: tuple(found[facet]) for facet in FACETS if facet in found}
    return SearchTerms(filters, " ".join(rest), tuple(understood))
