"""The person's pages in Spanish (issue 13, item 4): every text of the templates and every label
the database shows has its Spanish in data/translations.csv; `?lang=es` gives Spanish pages whose
links, form and language switch keep the language and the search; messages built with values
(a place typed, a count) are read back in Spanish; what a person typed stays escaped."""
from __future__ import annotations

import ast
import csv
import re
import sqlite3
from html import unescape
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from datasette.app import Datasette

from common import serving
from common.paths import DATA, ROOT
from plugins import find_filters, i18n

CALL = re.compile(r'\bt(?:\.plural)?\((?:[^"\)]*?,\s*)?("(?:[^"\\]|\\.)*")(?:\s*,\s*("(?:[^"\\]|\\.)*"))?')
PERSON_PAGES = ["/", "/find?near=77002&miles=25&level=iop", "/find?near=Xyzzyville", "program"]


def catalogue() -> dict[str, str]:
    with (DATA / "translations.csv").open(encoding="utf-8", newline="") as fh:
        return {row["en"]: row["es"] for row in csv.DictReader(fh)}


def template_texts() -> set[str]:
    texts = set()
    for path in (ROOT / "templates").glob("*.html"):
        for match in CALL.finditer(path.read_text(encoding="utf-8")):
            texts.update(ast.literal_eval(g) for g in match.groups() if g)
    return texts


def vocabulary_labels() -> set[str]:
    labels = set()
    for name, column in (("care_levels.csv", "label"), ("facility_types.csv", "label"), ("derived_facets.csv", "value")):
        with (DATA / name).open(encoding="utf-8", newline="") as fh:
            labels |= {row[column] for row in csv.DictReader(fh)}
    for group in find_filters.GROUPS:
        labels |= {group.legend, group.chip, *group.labels.values(), *group.chips.values()} | ({group.more} if group.more else set())
    return labels


def test_every_text_of_the_templates_has_its_spanish():
    texts = template_texts()
    assert len(texts) > 150  # the reader of the templates found them
    missing = sorted(t for t in texts if not catalogue().get(t))
    assert missing == []


def test_every_label_a_person_sees_has_its_spanish():
    words = {label for label in vocabulary_labels() if re.sub(r"\{\w+\}", "", label).strip()}
    missing = sorted(label for label in words if not catalogue().get(label))
    assert missing == []


def test_placeholders_are_the_same_in_both_languages():
    for english, spanish in catalogue().items():
        assert sorted(re.findall(r"\{(\w+)\}", english)) == sorted(re.findall(r"\{(\w+)\}", spanish)), english


def test_a_message_with_values_is_read_back_in_spanish_with_its_values_translated():
    assert i18n.translate("Takes Medicaid", "es") == "Acepta Medicaid"
    assert i18n.translate("Treatment in Spanish", "es") == "Tratamiento en Español"
    assert i18n.translate("We could not find ZIP code 00000. Check the five digits, or type a city like Houston, TX.",
                          "es") == "No encontramos el código postal 00000. Revise los cinco dígitos, o escriba una ciudad como Houston, TX."
    assert i18n.translate("A text the catalogue does not have", "es") == "A text the catalogue does not have"
    assert i18n.translate("Takes Medicaid", "en") == "Takes Medicaid"


def test_a_typed_value_is_escaped_and_never_read_as_a_placeholder():
    t = i18n.Translator("es")
    assert str(t("Showing {place}.", place="<b>X</b>")) == "Mostrando &lt;b&gt;X&lt;/b&gt;."
    typed = 'We could not find a place called “{x}<script>”. Type a ZIP code, or a city with its state (like Houston, TX).'
    assert "&lt;script&gt;" in str(t(typed)) and "{x}" in str(t(typed))


# --- the pages ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
async def ds(built_db):
    datasette = Datasette(**serving.datasette_options(built_db))
    await datasette.invoke_startup()
    return datasette


@pytest.fixture(scope="module")
def program_id(built_db):
    with sqlite3.connect(built_db) as conn:
        return conn.execute("select id from programs where name = 'Menninger Clinic'").fetchone()[0]


async def get(ds, path: str, program_id: str, lang: str | None = None):
    path = f"/program/{program_id}" if path == "program" else path
    if lang:
        path += ("&" if "?" in path else "?") + f"lang={lang}"
    return await ds.client.get(path)


def links(html: str) -> list[str]:
    """The page's links, but its language switch (which leads to the other language)."""
    return [unescape(h) for h in re.findall(r'<a (?![^>]*id="lang-switch")[^>]*href="([^"]+)"', html)]


@pytest.mark.parametrize("path", PERSON_PAGES)
async def test_a_spanish_page_is_in_spanish_and_keeps_the_language_on_its_own_links(ds, program_id, path):
    response = await get(ds, path, program_id, "es")
    html = response.text
    assert response.status_code == 200 and '<html lang="es">' in html
    assert "Llame o envíe un mensaje de texto al" in html and "oprima 2 para español" in html
    internal = [u for u in links(html) if u.startswith("/") and not u.startswith(("/programs", "/-/"))]
    assert internal and all(dict(parse_qsl(urlsplit(u).query)).get("lang") == "es" for u in internal), internal
    english = (await get(ds, path, program_id)).text
    assert '<html lang="en">' in english and "Llame" not in english and "lang=es" in english  # the switch


async def test_the_switch_keeps_the_search(ds, program_id):
    html = (await get(ds, "/find?near=77002&miles=25&level=iop&q=medicaid", program_id)).text
    switch = unescape(re.search(r'<a href="([^"]+)"[^>]*id="lang-switch"', html).group(1))
    assert dict(parse_qsl(urlsplit(switch).query)) == {"near": "77002", "miles": "25", "level": "iop", "q": "medicaid",
                                                      "lang": "es"}
    spanish = (await ds.client.get(switch)).text
    assert "Ambulatorio intensivo a menos de 25 millas de ZIP 77002" in " ".join(unescape(spanish).split())
    assert '<input type="hidden" name="lang" value="es">' in spanish  # a new search stays in Spanish
    assert re.findall(r'id="result-summary"[^>]*><strong>(\d+)', spanish) == re.findall(r'id="result-summary"[^>]*><strong>(\d+)', html)


async def test_spanish_results_read_filters_payment_and_words_in_spanish(ds, program_id):
    html = unescape((await get(ds, "/find?near=77002&miles=25&q=medicaid", program_id, "es")).text)
    assert "Acepta Medicaid" in html  # what the words were read as
    assert "Tratamiento para" in html and "Uso de sustancias (adicción)" in html  # a filter group
    assert "Acepta: " in html and "Llamar al" in html  # cards


async def test_an_unknown_place_is_explained_in_spanish(ds, program_id):
    html = unescape((await get(ds, "/find?near=Xyzzyville", program_id, "es")).text)
    assert "No encontramos un lugar llamado “Xyzzyville”" in html


async def test_a_missing_page_answers_in_the_language_of_its_link(ds, program_id):
    response = await ds.client.get("/no-such-page?lang=es")
    assert response.status_code == 404 and '<html lang="es">' in response.text
    assert "Esta página no está aquí" in response.text and 'href="/?lang=es"' in response.text
    assert "No encontramos esa página" in response.text  # Datasette's own message, in Spanish too
    program = await ds.client.get("/program/zzz?lang=es")
    assert program.status_code == 404 and "Ningún programa tiene el identificador zzz" in program.text


async def test_the_researchers_pages_stay_english(ds, program_id):
    html = (await ds.client.get("/programs/programs?lang=es")).text
    assert '<html lang="en">' in html and "In crisis?" in html
