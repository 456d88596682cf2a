"""plugins/table_rows.py writes table rows as Datasette's own _table.html loop does."""
from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import Environment
from markupsafe import Markup

from datasette.utils import to_css_class

from plugins.table_rows import rows_html

# The row loop of Datasette 0.65's templates/_table.html, verbatim.
DATASETTE_LOOP = """{% for row in display_rows %}
            <tr>
                {% for cell in row %}
                    <td class="col-{{ cell.column|to_css_class }} type-{{ cell.value_type }}">{{ cell.value }}</td>
                {% endfor %}
            </tr>
        {% endfor %}"""

text = st.lists(st.sampled_from(list("aZ 0<>&\"'/=;é\u00a0-_") + ["<script>", "</td>"]), max_size=8).map("".join)
value = st.one_of(text, text.map(lambda t: Markup(f'<a href="/p/{Markup.escape(t)}">{Markup.escape(t)}</a>')),
                  st.integers(), st.none(), st.floats(allow_nan=False))


@st.composite
def display_rows(draw):
    columns = draw(st.lists(st.one_of(st.sampled_from(["id", "name", "care_levels"]), text.filter(bool)),
                            min_size=1, max_size=4, unique=True))
    return [[{"column": c, "value": draw(value), "raw": None, "value_type": draw(st.sampled_from(["text", "integer", "none", "a<b"]))}
             for c in columns] for _ in range(draw(st.integers(0, 3)))]


def _squeeze(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


@settings(database=None, derandomize=True, deadline=None, max_examples=200)
@given(rows=display_rows())
def test_rows_html_is_the_datasette_loop(rows):
    env = Environment(autoescape=True)
    env.filters["to_css_class"] = to_css_class
    expected = env.from_string(DATASETTE_LOOP).render(display_rows=rows)
    assert _squeeze(rows_html(rows)) == _squeeze(expected)


def test_scraped_text_is_escaped_and_plugin_links_are_kept():
    rows = [[{"column": "name", "value": '<img src=x onerror="alert(1)">', "raw": None, "value_type": "text"},
             {"column": "id", "value": Markup('<a href="/programs/programs/p1">p1</a>'), "raw": None, "value_type": "text"}]]
    html = rows_html(rows)
    assert "<img" not in html and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert '<a href="/programs/programs/p1">p1</a>' in html
