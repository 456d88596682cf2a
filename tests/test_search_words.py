"""Everyday words read as what the data knows (data/search_words.csv, common/search_words.py)."""
from __future__ import annotations

import csv

import pytest

from common import paths, vocab
from common.search_words import ANY, FACETS, parse_search, phrases


@pytest.mark.parametrize("typed, filters, words", [
    ("IOP near me that takes Medicaid", {"care_level": ("iop",), "payment": ("Medicaid",)}, ""),
    ("intensive outpatient program for veterans", {"care_level": ("iop",), "populations": ("Veterans",)}, ""),
    ("suboxone", {"medications": ("Buprenorphine",)}, ""),
    ("Vivitrol or methadone", {"medications": ("Naltrexone", "Methadone")}, ""),
    ("detox en español", {"care_level": ("detox",), "languages": ("Spanish",)}, ""),
    ("teen rehab", {"care_level": ("residential",), "ages": ("Children and adolescents",)}, ""),
    ("day program, sliding scale", {"care_level": ("php",), "payment": ("Sliding fee scale",)}, ""),
    ("free mental health counseling", {"focus": ("MH",), "payment": ("No payment accepted",)}, ""),
    ("ASL", {"languages": ("Sign language",)}, ""),
    ("pregnant", {"populations": ("Pregnant or postpartum women",)}, ""),
    ("MAT", {"medications": (ANY,)}, ""),
    ("Menninger Clinic", {}, "menninger"),
    ("telehealth alcohol", {"telehealth": ("1",), "focus": ("SU",)}, ""),
])
def test_everyday_words(typed, filters, words):
    terms = parse_search(typed)
    assert terms.filters == filters
    assert terms.words == words


def test_the_longest_phrase_wins_and_is_reported_as_typed():
    terms = parse_search("Withdrawal Management and intensive outpatient")
    assert terms.understood == (("withdrawal management", "care_level", "detox"),
                                ("intensive outpatient", "care_level", "iop"))


def test_every_value_is_one_the_data_knows():
    """A phrase pointing at a value no program can have would find nothing, silently."""
    known = {"care_level": set(vocab.care_levels()), "focus": {"SU", "MH"}, "telehealth": {"1"}}
    with (paths.DATA / "derived_facets.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            known.setdefault(row["facet"], set()).add(row["value"])
    for tokens, (facet, value) in phrases().items():
        assert facet in FACETS
        assert value == ANY or value in known[facet], (tokens, facet, value)


def test_nothing_typed_asks_for_nothing():
    assert parse_search("") == parse_search(None) == parse_search("near me")
    assert parse_search("").filters == {} and parse_search("").words == ""
