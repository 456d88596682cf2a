"""The words people type in Spanish (issue 13, item 4), read as what the data knows
(data/search_words.csv, data/search_stopwords.csv, common/search_words.py); accents and case
do not matter."""
from __future__ import annotations

import pytest

from common import paths, search_words
from common.search_words import ANY, SearchWordsError, fold, parse_search

SU, MH = {"focus": ("SU",)}, {"focus": ("MH",)}
KIDS = {"ages": ("Children and adolescents",)}


@pytest.mark.parametrize("typed, filters", [
    ("desintoxicación", {"care_level": ("detox",)}),
    ("desintoxicacion", {"care_level": ("detox",)}),
    ("desintox", {"care_level": ("detox",)}),
    ("ambulatorio intensivo", {"care_level": ("iop",)}),
    ("programa ambulatorio intensivo", {"care_level": ("iop",)}),
    ("hospitalización parcial", {"care_level": ("php",)}),
    ("ambulatorio", {"care_level": ("outpatient",)}),
    ("tratamiento residencial", {"care_level": ("residential",)}),
    ("centro de rehabilitación", {"care_level": ("residential",)}),  # as "rehab" is
    ("internado", {"care_level": ("inpatient",)}),
    ("hospitalización", {"care_level": ("inpatient",)}),
    ("Medicaid", {"payment": ("Medicaid",)}),
    ("que acepte Medicare", {"payment": ("Medicare",)}),
    ("seguro médico", {"payment": ("Private health insurance",)}),
    ("aseguranza", {"payment": ("Private health insurance",)}),
    ("gratis", {"payment": ("No payment accepted",)}),
    ("sin costo", {"payment": ("No payment accepted",)}),
    ("sin seguro", {"payment": ("Sliding fee scale",)}),  # not "seguro": without insurance
    ("español", {"languages": ("Spanish",)}),
    ("servicios en español", {"languages": ("Spanish",)}),
    ("salud mental", MH),
    ("abuso de sustancias", SU),
    ("adicción", SU),
    ("drogas", SU),
    ("alcohol", SU),
    ("adolescentes", KIDS),
    ("jóvenes", KIDS),
    ("adultos jóvenes", {"ages": ("Young adults",)}),
    ("veteranos", {"populations": ("Veterans",)}),
    ("embarazadas", {"populations": ("Pregnant or postpartum women",)}),
    ("suboxona", {"medications": ("Buprenorphine",)}),
    ("buprenorfina", {"medications": ("Buprenorphine",)}),
    ("metadona", {"medications": ("Methadone",)}),
    ("tratamiento asistido con medicamentos", {"medications": (ANY,)}),
    ("telesalud", {"telehealth": ("1",)}),
    ("lengua de señas", {"languages": ("Sign language",)}),
])
def test_spanish_words(typed, filters):
    terms = parse_search(typed)
    assert terms.filters == filters
    assert terms.words == ""


def test_a_whole_spanish_search():
    terms = parse_search("Necesito un programa de desintoxicación de alcohol, gratis y en español, para mi hijo "
                         "adolescente que acepte Medicaid")
    assert terms.filters == {"care_level": ("detox",), "focus": ("SU",),
                             "payment": ("No payment accepted", "Medicaid"), "languages": ("Spanish",),
                             "ages": ("Children and adolescents",)}
    assert terms.words == ""


def test_a_word_no_phrase_knows_is_left_for_the_names():
    terms = parse_search("desintoxicación Cenikor")
    assert terms.filters == {"care_level": ("detox",)} and terms.words == "cenikor"


def test_what_was_understood_is_shown_as_typed_with_its_accents():
    terms = parse_search("Desintoxicación y Hospitalización Parcial")
    assert terms.understood == (("desintoxicación", "care_level", "detox"),
                                ("hospitalización parcial", "care_level", "php"))


@pytest.mark.parametrize("variants", [
    ("desintoxicación", "DESINTOXICACIÓN", "Desintoxicacion", "desintoxicacio\u0301n"),  # the last: a combining accent
    ("hospitalización parcial", "HOSPITALIZACION PARCIAL"),
    ("español", "espanol", "ESPAÑOL"),
    ("jóvenes", "jovenes"),
    ("adicción", "adiccion"),
    ("psiquiatría", "psiquiatria"),
])
def test_accents_and_case_do_not_matter(variants):
    first = parse_search(variants[0])
    assert first.filters
    for typed in variants[1:]:
        assert parse_search(typed).filters == first.filters, typed


def test_the_longest_phrase_wins_in_spanish():
    assert parse_search("hospitalización parcial").filters == {"care_level": ("php",)}
    assert parse_search("hospitalización").filters == {"care_level": ("inpatient",)}
    assert parse_search("ambulatorio intensivo").filters == {"care_level": ("iop",)}
    assert parse_search("ambulatorio").filters == {"care_level": ("outpatient",)}


@pytest.mark.parametrize("typed, filters, words", [
    ("tratamiento para la adicción cerca de Houston", SU, "houston"),
    ("clínica de salud mental para niños que hable español", {**MH, "languages": ("Spanish",), **KIDS}, ""),
    ("busco ayuda con las drogas cerca de mí", SU, ""),
    ("¿Dónde hay tratamiento ambulatorio intensivo en Dallas?", {"care_level": ("iop",)}, "dallas"),
])
def test_spanish_stop_words_leave_only_the_place(typed, filters, words):
    terms = parse_search(typed)
    assert terms.filters == filters
    assert terms.words == words


@pytest.mark.parametrize("typed, words", [
    ("desintox en El Paso", "el paso"),
    ("centro de rehabilitación en Del Rio", "del rio"),
    ("detox La Porte", "la porte"),
    ("ambulatorio en De Leon", "de leon"),
    ("iop the woodlands", "the woodlands"),  # English stop words too
])
def test_a_stop_word_that_begins_a_place_name_stays_with_it(typed, words):
    assert parse_search(typed).words == words


def test_fold():
    assert fold("Desintoxicación") == "desintoxicacion"
    assert fold("ESPAÑOL") == "espanol"
    assert fold("Jóvenes") == "jovenes"


def test_a_phrase_given_two_meanings_once_accents_go_is_an_error(tmp_path, monkeypatch):
    (tmp_path / "search_words.csv").write_text(
        "phrase,facet,value\nresidencial,care_level,residential\nResidencial,care_level,inpatient\n", encoding="utf-8")
    monkeypatch.setattr(paths, "DATA", tmp_path)
    search_words.phrases.cache_clear()
    try:
        with pytest.raises(SearchWordsError, match="row 3: 'Residencial' is already"):
            search_words.phrases()
    finally:
        search_words.phrases.cache_clear()
