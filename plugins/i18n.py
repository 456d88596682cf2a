"""The person's pages in English or Spanish (Houston and Dallas are more than 40% Hispanic).

The language is the page's `lang` parameter (`?lang=es`), carried by every link and form of the
person's pages so a search, its filters and its programs stay in the language chosen; the switch
link is the same URL in the other language. No cookie: a shared link shows what it says.

Translations are data: data/translations.csv, one row per English text with its Spanish. A text
with `{placeholders}` also translates the messages made from it ("We could not find ZIP code
{zip}…" reads any ZIP back), each filled-in value translated again when the catalogue has it
("Takes {label}" with "Medicaid"). A text missing from the catalogue stays English, never blank.
The researchers' pages (Datasette's own database, table and query pages) stay English.
"""
import csv
import re
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from datasette import hookimpl
from markupsafe import Markup, escape

from common.paths import DATA

CATALOGUE = DATA / "translations.csv"
LANGUAGES = {"en": "English", "es": "Español"}
DEFAULT = "en"
PERSON_TEMPLATES = frozenset({"index.html", "find.html", "program.html", "error.html"})
PLACEHOLDER = re.compile(r"\{(\w+)\}")


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """{language: {English text: translation}} from data/translations.csv."""
    with CATALOGUE.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {lang: {row["en"]: row[lang] for row in rows if row.get(lang)} for lang in LANGUAGES if lang != DEFAULT}


@lru_cache(maxsize=1)
def patterns() -> list[tuple[re.Pattern, str]]:
    """(regex of an English text with placeholders, its English text), longest first."""
    texts = {text for table in catalogue().values() for text in table if PLACEHOLDER.search(text)}
    compiled = []
    for text in sorted(texts, key=len, reverse=True):
        parts = PLACEHOLDER.split(text)
        regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
        compiled.append((re.compile(regex + r"\Z", re.S), text))
    return compiled


def translate(text: str, lang: str) -> str:
    """`text` in `lang`: from the catalogue, else read back through a text with placeholders,
    else as it is."""
    text = str(text)
    if lang == DEFAULT or not text:
        return text
    table = catalogue().get(lang, {})
    if text in table:
        return table[text]
    for regex, english in patterns():
        found = regex.match(text)
        if found and english in table:
            filled = {k: translate(v, lang) for k, v in found.groupdict().items()}
            return PLACEHOLDER.sub(lambda m: filled.get(m.group(1), m.group(0)), table[english])
    return text


class Translator:
    """`t("Text {n}", n=3)` in a template: the translated text, escaped, with the values escaped
    in it unless they are markup already (a link the template built). A text may carry what a
    person typed (an error message that quotes it), so no text is ever trusted as HTML."""

    def __init__(self, lang: str):
        self.lang = lang

    def __call__(self, text: str, **values) -> Markup:
        translated = escape(translate(text, self.lang))
        return translated.format(**values) if values else translated  # a typed "{x}" is no placeholder

    def plain(self, text: str, **values) -> str:
        """A translated text for Python (labels of filters), the values as they are."""
        return translate(text, self.lang).format(**values) if values else translate(text, self.lang)

    def plural(self, n: int, one: str, many: str, **values) -> Markup:
        return self(one if n == 1 else many, n=n, **values)


def language_of(request) -> str:
    chosen = (request.args.get("lang") or "").lower() if request is not None else ""
    return chosen if chosen in LANGUAGES else DEFAULT


def with_lang(url: str, lang: str) -> str:
    """`url` carrying the page's language (no parameter for English, the default)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"]
    if lang != DEFAULT:
        query.append(("lang", lang))
    return urlunsplit(parts._replace(query=urlencode(query)))


def switch_link(datasette, request, lang: str) -> dict:
    """The same page in the other language (under the base_url, which the request arrives without)."""
    other = "es" if lang == DEFAULT else DEFAULT
    here = datasette.urls.path(request.path) + ("?" + request.query_string if request.query_string else "")
    return {"lang": other, "label": LANGUAGES[other], "href": with_lang(here, other)}


@hookimpl
def prepare_jinja2_environment(env):
    """`labels|each(t)|join(", ")`: a list of labels, each translated; and English for a page
    rendered without the plugins' variables (Datasette's own 500 page)."""
    env.filters["each"] = lambda values, function: [function(v) for v in values]
    env.globals.update(t=Translator(DEFAULT), lang=DEFAULT, lang_url=lambda url: url)


@hookimpl
def extra_template_vars(template, request, datasette):
    """`t`, `lang`, `lang_url` and the switch on the person's pages; English elsewhere."""
    lang = language_of(request) if template in PERSON_TEMPLATES else DEFAULT  # error.html: plugins/error_page.py
    values = {"t": Translator(lang), "lang": lang, "lang_url": lambda url: with_lang(url, lang)}
    if template in PERSON_TEMPLATES and request is not None:
        values["lang_switch"] = switch_link(datasette, request, lang)
    return values
