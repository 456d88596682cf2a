"""Everyday words of a search, read as what the data knows (data/search_words.csv): "suboxone"
is the Buprenorphine medication, "teen" the Children and adolescents ages, "rehab" the
residential level; in English and in Spanish ("desintoxicación", "ambulatorio intensivo"), with
case and accents not mattering. What no phrase names (other than the stop words of
data/search_stopwords.csv) is left for a full-text search on the programs' names and for the place.
A stop word that begins a place's name ("El Paso", "La Porte", "The Woodlands") is kept with it."""
from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from common import paths
from common.typed_places import CityError, resolve_place

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
    """Folded tokens of a phrase -> (facet, value), checked when read: an unknown facet is an
    error, and so is a phrase that folds to one already given another meaning."""
    table: dict[tuple[str, ...], tuple[str, str]] = {}
    for number, row in enumerate(_rows("search_words.csv"), start=2):
        facet, value, tokens = row["facet"].strip(), row["value"].strip(), tuple(map(fold, tokenize(row["phrase"])))
        if facet not in FACETS or not value or not tokens:
            raise SearchWordsError(f"data/search_words.csv row {number}: {row!r}: give a phrase, a facet "
                                   f"({', '.join(FACETS)}) and a value")
        if table.get(tokens, (facet, value)) != (facet, value):
            raise SearchWordsError(f"data/search_words.csv row {number}: {row['phrase']!r} is already "
                                   f"{table[tokens]}, without case and accents")
        table[tokens] = (facet, value)
    return table


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    return frozenset(fold(row["word"].strip()) for row in _rows("search_stopwords.csv"))


def tokenize(text: str) -> list[str]:
    """The words of a text, lower case (accents kept: they are shown back as typed)."""
    return _TOKEN.findall(unicodedata.normalize("NFC", text or "").lower())


def fold(token: str) -> str:
    """A word without case or accents, as phrases are compared: "Desintoxicación" is "desintoxicacion",
    "español" is "espanol"."""
    decomposed = unicodedata.normalize("NFKD", token.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _place_at(tokens: list[str], i: int) -> int:
    """How many words from the stop word at `i` name a place ("el paso", "la porte", "the
    woodlands": it and one or two words more), or 0: then the stop word says nothing."""
    for size in (3, 2):
        if i + size <= len(tokens):
            try:
                resolve_place(" ".join(tokens[i:i + size]))
            except CityError:
                continue
            return size
    return 0


def parse_search(text: str | None) -> SearchTerms:
    """Read a person's search: the longest known phrase at each place wins."""
    tokens = tokenize(text or "")
    folded = [fold(t) for t in tokens]
    table, longest = phrases(), max(map(len, phrases()))
    found: dict[str, list[str]] = {}
    understood, rest = [], []
    i = 0
    while i < len(tokens):
        size = next((n for n in range(min(longest, len(tokens) - i), 0, -1) if tuple(folded[i:i + n]) in table), 0)
        if size:
            facet, value = table[tuple(folded[i:i + size])]
            if value not in found.setdefault(facet, []):
                found[facet].append(value)
            understood.append((" ".join(tokens[i:i + size]), facet, value))
        elif folded[i] in stopwords():
            size = _place_at(tokens, i)
            rest.extend(tokens[i:i + size])
        else:
            rest.append(tokens[i])
        i += size or 1
    filters = {facet: tuple(found[facet]) for facet in FACETS if facet in found}
    return SearchTerms(filters, " ".join(rest), tuple(understood))
