"""The provider-website care-level classifier: the spider's reader (common.page_reading), the
build's judge (pipelines.site_levels, site_judging, site_labels) and its vocabulary
(data/site_level_phrases.csv, pipelines.site_vocabulary), the schema.org summary and services
(pipelines.structured_data), the rows it gives program_care_levels, the command that judges a
saved page, and the benchmark on the two labelled sets. Pages go the way a crawled page goes:
read, written to a feed line and read back, judged (bench.site_levels.feed_item)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from bench import site_levels as bench
from bench.site_levels import classify_page, feed_item
from common.page_reading import read_page
from pipelines import structured_data
from pipelines.site_judging import Finding, find_mentions
from pipelines.site_levels import SOURCE, judge_saved_page, page_of, program_care_level_rows
from pipelines.site_vocabulary import PHRASES, load_vocabulary, place_names

URL = "https://www.riversiderecovery.example/programs/"
LABELLED_2 = bench.LABELLED_2


def levels(text: str, url: str = URL) -> list[str]:
    return [f.level for f in classify_page(text, url)]


def extract_structured(page: str, url: str) -> dict:
    """The schema.org summary the build makes of a page the spider read."""
    return structured_data.extract_structured(feed_item(page, url))


def html(main: str, *, title: str = "Programs | Riverside Recovery", head: str = "", body_class: str = "page",
         nav: str = "", footer: str = "") -> str:
    return textwrap.dedent(f"""\
        <!DOCTYPE html><html><head><title>{title}</title>
        <meta property="og:site_name" content="Riverside Recovery">{head}</head>
        <body class="{body_class}">
        <header class="site-header"><nav class="main-navigation"><ul class="menu">{nav}</ul></nav></header>
        <main>{main}</main>
        <footer class="site-footer">{footer}</footer>
        </body></html>""")


# --- what counts ----------------------------------------------------------------------------


def test_a_sentence_where_the_program_says_it_offers_levels_counts_with_the_sentence_as_quote():
    page = html("<p>Welcome. We offer partial hospitalization and intensive outpatient programs for adults.</p>")
    findings = classify_page(page, URL)
    assert findings == [
        Finding("iop", "We offer partial hospitalization and intensive outpatient programs for adults.", URL),
        Finding("php", "We offer partial hospitalization and intensive outpatient programs for adults.", URL),
    ]


@pytest.mark.parametrize("sentence, expected", [
    ("Our IOP meets three evenings a week.", ["iop"]),
    ("Riverside Recovery provides medically supervised detox and residential treatment.", ["residential", "detox"]),
    ("Residential treatment at Riverside lasts 30 to 90 days.", ["residential"]),
    ("Riverside's partial hospitalization program runs weekdays from 9 to 3.", ["php"]),
    ("PHP and IOP are offered at our Katy clinic.", ["iop", "php"]),
    ("Patients can receive medically managed withdrawal on our inpatient unit.", ["inpatient", "detox"]),
    ("Our continuum of care includes detox, residential, PHP, IOP and outpatient services.",
     ["iop", "php", "outpatient", "residential", "detox"]),
    ("Today we offer a full continuum of care, from medical detox through outpatient therapy.", ["outpatient", "detox"]),
    ("We provide outpatient detox for alcohol and opioids.", ["detox"]),  # the setting of detox is not a level
    ("Now enrolling: Evening IOP for working professionals!", ["iop"]),
    ("The Sugar Land office offers outpatient therapy and psychiatry only.", ["outpatient"]),
    ("PHP and IOP clients start on Mondays and Thursdays.", ["iop", "php"]),
    ("Most patients start with outpatient detox at home.", ["detox"]),
    ("Most teens attend day treatment for three to four weeks.", ["php"]),
    ("Después del IOP, los participantes continúan con terapia ambulatoria semanal.", ["outpatient"]),
    ("Patients leaving our Day Hospital are referred to IOPs in the community.", ["php"]),
    ("Patients who need medical management of withdrawal are admitted as inpatients to 4 West.", ["inpatient"]),
    ("The Senior Behavioral Health unit is a 14-bed inpatient unit on the sixth floor.", ["inpatient"]),
    ("The Crisis Residential Unit is a 16-bed facility for adults in a mental health crisis.", ["residential"]),
    ("Clients live on our campus for 30 to 60 days.", ["residential"]),
    ("Many come to day treatment after completing residential care with us.", ["residential"]),
    ("Please call before coming so we can confirm a detox bed.", ["detox"]),
    ("For adults who need more than a weekly appointment, our Adult Day Program meets on weekdays.", ["php"]),
])
def test_ways_a_program_states_a_level_of_its_own(sentence, expected):
    assert levels(html(f"<p>{sentence}</p>")) == expected


def test_a_heading_that_is_only_a_level_counts_where_the_program_speaks_of_itself():
    page = html("""<h1>Programs</h1><p>We offer several levels of care.</p>
        <h2><a href="/iop/">Intensive Outpatient Program (IOP)</a></h2><p>Three-hour groups, three days a week.</p>
        <h2>Residential Treatment</h2><p>30 to 90 days on campus.</p>""")
    findings = {f.level: f.quote for f in classify_page(page, URL)}
    assert set(findings) == {"iop", "residential"}
    assert findings["iop"] == "Intensive Outpatient Program (IOP) — Three-hour groups, three days a week."


def test_list_items_under_an_own_offer_lead_in_count_and_quote_the_lead_in():
    page = html("<h2>Services we provide</h2><ul><li>Medical detox</li><li>Residential treatment</li>"
                "<li>Family program</li></ul>")
    findings = {f.level: f.quote for f in classify_page(page, URL)}
    assert findings == {"residential": "Services we provide … Residential treatment",
                        "detox": "Services we provide … Medical detox"}


def test_a_level_heading_on_a_page_that_only_explains_levels_does_not_count():
    page = html("""<h2>Types of treatment</h2><p>There are several levels of care.</p>
        <ul><li>Detox</li><li>Residential</li><li>Intensive outpatient</li></ul>
        <h2>Residential treatment</h2><p>Residential treatment means living at a facility around the clock.</p>""")
    assert levels(page) == []


# --- what must not count --------------------------------------------------------------------


@pytest.mark.parametrize("sentence", [
    "We do not offer residential care.",
    "Residential treatment is not available at this location.",
    "We don't provide detox; please contact a hospital.",
    "Inpatient and residential treatment are not offered.",
    "Our detox program is currently closed for renovation.",
])
def test_negations_do_not_count(sentence):
    assert levels(html(f"<p>{sentence}</p>")) == []


@pytest.mark.parametrize("sentence", [
    "We can refer you to an IOP.",
    "If you need detox, we'll refer you to a trusted partner.",
    "Detox services are provided by our partner, Bayview Hospital.",
    "If you need inpatient psychiatric care, we will help arrange a transfer to a local hospital.",
    "Our staff will help you find an inpatient program if needed.",
    "Before discharge, your case manager arranges aftercare with an intensive outpatient program near your home.",
    "Clients attend outpatient counseling with a provider of their choice.",
    "Patients leaving the hospital are referred to IOPs in the community.",
    "If you need to be admitted as an inpatient, we will arrange it.",
    "Patients who need residential care are admitted to a partner program.",
    "Our partner, Memorial Hospital, has a 20-bed inpatient unit.",
])
def test_referrals_do_not_count(sentence):
    assert levels(html(f"<p>{sentence}</p>")) == []


@pytest.mark.parametrize("sentence, expected", [
    ("Our PHP is a cost-effective alternative to inpatient care.", ["php"]),
    ("We offer IOP for people stepping down from residential treatment.", ["iop"]),
    ("Many of our IOP clients come to us after completing residential treatment.", ["iop"]),
    ("IOP is a good fit for women who have finished residential treatment or detox.", []),
    ("Insurance typically covers residential treatment for 30 days.", []),
    ("Many people begin with detox before entering a residential program.", []),
])
def test_where_clients_come_from_and_what_a_level_is_compared_with_do_not_count(sentence, expected):
    assert levels(html(f"<p>{sentence}</p>")) == expected


@pytest.mark.parametrize("sentence", [
    "Before joining us, Dr. Lopez directed the inpatient psychiatric unit at Ben Taub Hospital.",
    "He began his career as a counselor at the Menninger Clinic's residential program.",
    "Dr. Kim worked for ten years at Timberlawn Psychiatric Hospital's inpatient unit.",
    "We work closely with Memorial Hermann's inpatient psychiatric unit.",
    "Our clients often come from Greenhouse Residential Treatment Center of Texas.",
])
def test_other_organisations_names_do_not_count(sentence):
    assert levels(html(f"<p>{sentence}</p>")) == []


@pytest.mark.parametrize("sentence", [
    "Take our digital detox challenge this January.",
    "Our office is in a quiet residential neighborhood near downtown.",
    "Ask about our residential sober living homes.",
    "What is partial hospitalization? PHP is a structured day program.",
    "Memorial Hospital is a 300-bed hospital with an inpatient psychiatric unit.",
    "Our senior day program offers activities and meals.",
    "We run a day program for adults with intellectual disabilities.",
    "Residential treatment is a 30-day program.",
])
def test_look_alikes_and_questions_do_not_count(sentence):
    assert levels(html(f"<p>{sentence}</p>")) == []


def test_navigation_header_footer_sidebar_and_forms_are_not_read():
    nav = "<li><a href='/detox/'>Detox</a></li><li><a href='/iop/'>Our IOP</a></li>"
    footer = "<h3>Our Programs</h3><ul><li>Residential Treatment</li><li>Partial Hospitalization</li></ul>"
    page = html(f"""<p>Our family program meets on Saturdays.</p>
        <aside class="widget-area"><h3>Our programs</h3><ul><li>Residential</li></ul></aside>
        <div class="sidebar-main"><p>We offer inpatient care.</p></div>
        <div class="mobile-menu" aria-hidden="true"><p>We offer outpatient care.</p></div>
        <form><label>Program</label><select><option>Intensive Outpatient</option></select></form>""",
                nav=nav, footer=footer)
    assert levels(page) == []
    assert [b.text for b in read_page(page, URL).content] == ["Our family program meets on Saturdays."]
    # ...but kept in the reading, marked with where it sits, for the build to leave out.
    furniture = {b.text: b.furniture for b in read_page(page, URL).blocks if b.furniture}
    assert (furniture["Detox"], furniture["Residential"], furniture["Residential Treatment"]) == ("header", "aside", "footer")
    assert (furniture["We offer inpatient care."], furniture["We offer outpatient care."]) == ("class sidebar-main", "hidden")


def test_furniture_inside_a_paragraph_neither_splits_nor_joins_the_pages_own_text():
    page = html('<p>Our programs include detox<span class="sr-only"> (opens menu)</span> and residential care.'
                '<nav><a href="/">Home</a></nav> Call us today.</p>')
    reading = read_page(page, URL)
    assert [b.text for b in reading.content] == ["Our programs include detox and residential care. Call us today."]
    assert [(b.text, b.furniture) for b in reading.blocks if b.furniture] == [
        ("(opens menu)", "class sr-only"), ("Home", "nav")]
    assert levels(page) == ["residential", "detox"]


def test_a_layout_wrapper_named_like_furniture_is_still_read():
    page = html('<div class="site-content has-sidebar"><h1>Detox</h1><p>Our detox unit has 12 beds.</p></div>')
    assert levels(page) == ["detox"]


@pytest.mark.parametrize("url, page", [
    ("https://www.riversiderecovery.example/blog/what-is-iop/", html("<p>Our IOP meets three evenings a week.</p>")),
    ("https://www.riversiderecovery.example/2023/04/iop-guide/", html("<p>Our IOP meets three evenings a week.</p>")),
    ("https://www.riversiderecovery.example/careers.html", html("<p>We are hiring for our IOP.</p>")),
    (URL, html("<p>Our IOP meets three evenings a week.</p>", body_class="single-post post-template-default")),
    (URL, html("<p>Our IOP meets three evenings a week.</p>",
               head='<script type="application/ld+json">{"@type": "BlogPosting", "headline": "IOP"}</script>')),
    (URL, html("<p>Our IOP meets three evenings a week.</p>",
               head='<meta property="article:published_time" content="2023-04-11T09:00:00+00:00">')),
])
def test_blog_like_pages_state_what_the_program_says_it_offers_in_a_sentence(url, page):
    """A post, news item or job ad is read for the program's own sentences ("Our IOP meets three
    evenings a week", "We are hiring for our IOP"), as the blind batches 16-18 label them."""
    assert page_of(feed_item(page, url)).is_blog_like
    assert [f.level for f in classify_page(page, url)] == ["iop"]


BLOG_URL = "https://www.riversiderecovery.example/blog/what-is-iop/"


@pytest.mark.parametrize("body", [
    # a post that explains levels in general
    "<h1>What is an IOP?</h1><p>IOPs typically meet three evenings a week for about ten weeks.</p>",
    # its headings and lists are no labels: level names in a post's outline are its topics
    "<h1>Levels of care</h1><h2>Intensive Outpatient</h2><ul><li>Partial hospitalization</li><li>Detox</li></ul>",
    # a level its title says has ended, though a sentence tells its history
    "<h1>Why we ended our evening IOP pilot</h1><p>In October 2022 we started an evening intensive outpatient "
    "program: three nights a week.</p>",
    # a level about to stop, or stopped, after its place
    "<p>The intensive outpatient program at our Sparta Clinic will pause on January 5, 2026.</p>",
    "<p>After four years, the intensive outpatient group at our Madison office held its last session.</p>",
    # a level still to come
    "<p>When it opens, expected in spring 2027, Casa Mesa will provide residential treatment.</p>",
    "<p>We have applied for a license to open a partial hospitalization program at our Altoona office.</p>",
])
def test_a_blog_post_states_no_level_it_explains_lists_or_says_has_ended(body):
    page = html(body)
    assert page_of(feed_item(page, BLOG_URL)).is_blog_like
    assert classify_page(page, BLOG_URL) == []


def test_a_page_marked_only_as_a_schema_org_article_is_not_a_blog_post():
    """Joomla marks every content page itemtype Article: without a date, a post class or a blog
    path it is the program's page."""
    body = ('<div class="item-page" itemscope itemtype="https://schema.org/Article"><div itemprop="articleBody">'
            '<h1>Welcome</h1><p>Riverside Recovery offers outpatient counseling and a teen IOP in Laredo.</p></div></div>')
    page = html(body, body_class="site com_content view-article")
    assert not page_of(feed_item(page, URL)).is_blog_like
    assert levels(page) == ["iop", "outpatient"]
    post = html(body, head='<meta property="article:published_time" content="2023-04-11T09:00:00+00:00">')
    assert page_of(feed_item(post, URL)).is_blog_like  # a dated post: read for its sentences only
    assert [f.level for f in classify_page(post, URL)] == ["iop", "outpatient"]
    on_blog = classify_page(page, "https://www.riversiderecovery.example/blog/welcome/")  # at a blog path: a post
    assert [(f.level, f.quote) for f in on_blog] == [(level, "Riverside Recovery offers outpatient counseling and a teen IOP in Laredo.") for level in ("iop", "outpatient")]


def test_a_page_that_says_it_does_not_offer_a_level_drops_a_looser_use_of_the_word():
    page = html("""<h1>Outpatient Services</h1><p>Riverside offers two outpatient programs at our campus.</p>
        <h2>Partial Hospitalization Program (PHP)</h2><p>Weekdays, 9 to 3.</p>
        <p>We do not offer traditional outpatient therapy, but we keep a list of local therapists.</p>""")
    assert levels(page) == ["php"]


def test_plain_text_is_read_line_by_line():
    text = "# Our programs\n- Intensive outpatient\n- Partial hospitalization\nWe do not offer detox.\n"
    assert levels(text) == ["iop", "php"]


def test_mentions_take_the_longest_phrase():
    found = [(m.level, "intensive outpatient programs and outpatient detox and PHP"[m.start:m.end])
             for m in find_mentions("intensive outpatient programs and outpatient detox and PHP")]
    assert found == [("iop", "intensive outpatient"), ("detox", "outpatient detox"), ("php", "PHP")]


# --- levels listed without a sentence: under a heading, in a list, a table, a question ----------


@pytest.mark.parametrize("main, expected", [
    ("<h2>Levels of Care</h2><ul><li>Medical Detox</li><li>Residential Treatment</li><li>Partial Hospitalization (PHP)</li></ul>",
     ["php", "residential", "detox"]),
    ("<p>Levels of Care: Partial Hospitalization, Intensive Outpatient, Outpatient Therapy</p>", ["iop", "php", "outpatient"]),
    ("<h2>Programs for Teens</h2><div class='card'><h3>Residential</h3><p>45 to 60 days.</p></div>"
     "<div class='card'><h3>Day Treatment</h3><p>Weekdays with school.</p></div>", ["php", "residential"]),
    ("<table><tr><th>Programs</th><td>Adult inpatient, Senior inpatient, Partial hospitalization (PHP)</td></tr></table>",
     ["php", "inpatient"]),
    ("<h1>Intensive Outpatient Program (IOP)</h1><p>The IOP meets three evenings a week.</p>", ["iop"]),
    ("<h2>Levels of Care</h2><ul><li><strong>Partial Hospitalization (PHP):</strong> six hours a day.</li>"
     "<li><strong>Detox:</strong> not offered; we refer to partners.</li></ul>", ["php"]),
    ("<h1>Locations</h1><h2>Downtown office</h2><p>Outpatient counseling, DWI classes</p>"
     "<h2>Northside office</h2><p>Outpatient counseling. Closed Fridays.</p>", ["outpatient"]),
    ("<h1>Locations</h1><h2>Phoenix</h2><p>Detox · Residential · PHP</p><h2>Tucson</h2><p>Coming 2025</p>",
     ["php", "residential", "detox"]),
    ("<p>Outpatient counseling for adults and couples in Corpus Christi and Greater Houston.</p>", []),
    ("<h1>Riverside Recovery</h1><p>Outpatient counseling for adults and couples in Corpus Christi and Greater Houston.</p>",
     ["outpatient"]),
    ("<h1>Riverside Recovery</h1><p>Residential and day treatment for teens struggling with anxiety and depression.</p>",
     ["php", "residential"]),
    ("<h1>Riverside Recovery</h1><p>A 40-bed hospital in Katy providing inpatient and outpatient psychiatric care.</p>",
     ["outpatient", "inpatient"]),
    ("<h2>What we offer</h2><ul><li>Medically monitored detox</li><li>Residential treatment (30–90 days)</li>"
     "<li>Day treatment with sober housing</li></ul>", ["php", "residential", "detox"]),
    ("<p>PROGRAMS:</p><ul><li>Intensive Outpatient Program (ASAM Level 2.1) - 9 hours per week for 10 weeks</li>"
     "<li>Supportive Outpatient - 1 group and 1 individual session weekly</li></ul>", ["iop", "outpatient"]),
    ("<h1>Crisis Services</h1><h2>Crisis Residential Unit</h2><p>Stays last up to 14 days.</p>", ["residential"]),
    ("<h1>Behavioral Health</h1><h3>Psychiatry Clinic</h3>"
     "<p>Outpatient medication management for patients discharged from our programs.</p>", ["outpatient"]),
    ("<h1>Helping teens find their footing</h1><h2>Partial Hospitalization &amp; Intensive Outpatient Programs for "
     "Teens 12–17</h2><p>Care close to home.</p><h2>Why families choose us</h2><p>Family therapy every week.</p>",
     ["iop", "php"]),
])
def test_levels_listed_where_the_page_introduces_its_offerings_count_without_we_or_our(main, expected):
    assert levels(html(main)) == expected


@pytest.mark.parametrize("main", [
    "<h2>Understanding levels of care</h2><ul><li>Detox</li><li>Residential</li><li>IOP</li></ul>",
    "<h2>Levels of care explained</h2><ul><li>Detox: the first step for people in withdrawal.</li></ul>",
    "<h2>What we don't offer</h2><ul><li>Medical detox</li><li>Inpatient hospitalization</li></ul>",
    "<h2>Treatment Options</h2><ul><li>Detox - referral only</li></ul>",
    "<h1>Intensive Outpatient Program - Coming Soon</h1><p>Opening spring 2025.</p>",
    "<h1>Riverside Recovery</h1><p>Residential treatment for teens may be needed after a hospital stay.</p>",
    "<h1>Riverside Recovery</h1><p>Detox in a hospital is safest for severe withdrawal.</p>",
    "<h2>News</h2><p>A new hospital in Katy providing inpatient psychiatric care opened this week.</p>",
    "<h1>Understanding levels of care</h1><h2>Detox</h2><p>The first step.</p><h2>Residential</h2><p>Living in.</p>",
    "<h1>Levels of care</h1><h3>What is PHP?</h3><p>Partial hospitalization for adults is a step down.</p>",
    "<h2>What we offer</h2><ul><li>Residential treatment (by referral only)</li></ul>",
])
def test_headings_that_explain_decline_or_announce_do_not_make_labels_offers(main):
    assert levels(html(main)) == []


def test_a_broad_level_heading_over_narrower_programs_names_a_category():
    page = html("""<h1>Outpatient Services</h1><dl><dt>Intensive Outpatient Program (IOP)</dt>
        <dd>Three hours a day, three days a week.</dd></dl>
        <p>Riverside does not offer traditional weekly therapy; we refer to therapists in the community.</p>""")
    assert levels(page) == ["iop"]


def test_table_rows_count_by_their_marks_and_quote_the_header():
    page = html("""<h1>Levels of Care</h1><table>
        <tr><th>Level of care</th><th>Hours per week</th><th>At Riverside</th></tr>
        <tr><td>Intensive outpatient (IOP)</td><td>9–12</td><td>✓</td></tr>
        <tr><td>Partial hospitalization</td><td>25–30</td><td>Yes</td></tr>
        <tr><td>Residential treatment</td><td>24/7</td><td>No – referral</td></tr>
        <tr><td>Detox</td><td>24/7</td><td>Referral</td></tr></table>""")
    findings = {f.level: f.quote for f in classify_page(page, URL)}
    assert findings == {
        "iop": "Level of care | Hours per week | At Riverside … Intensive outpatient (IOP) | 9–12 | ✓",
        "php": "Level of care | Hours per week | At Riverside … Partial hospitalization | 25–30 | Yes"}


def test_an_faq_answer_says_yes_or_no_to_the_question_it_answers():
    page = html("""<h1>FAQ</h1>
        <details><summary>Do you offer medical detox?</summary><p>Yes. Our unit is staffed around the clock.</p></details>
        <details><summary>Do you offer outpatient counseling once a week?</summary><p>No. After IOP we connect
        clients with a therapist near home.</p></details>
        <details><summary>Do you accept insurance?</summary><p>Yes, most plans cover residential treatment.</p></details>""")
    findings = {f.level: f.quote for f in classify_page(page, URL)}
    assert findings == {"detox": "Do you offer medical detox? — Yes. Our unit is staffed around the clock."}


def test_an_faq_question_about_the_programs_own_level_is_answered_by_what_follows():
    page = html("""<h1>Questions parents ask</h1>
        <h3>How long is the partial hospitalization program?</h3><p>Most teens stay three to four weeks before moving to IOP.</p>
        <h3>How long does detox take?</h3><p>Detox usually lasts three to seven days.</p>
        <h3>¿Cuánto dura el programa intensivo?</h3><p>El IOP dura de seis a ocho semanas.</p>
        <h3>When does the residential program start?</h3><p>No, we refer families to residential programs.</p>""")
    assert {f.level: f.quote for f in classify_page(page, URL)} == {
        "php": "How long is the partial hospitalization program? — Most teens stay three to four weeks before moving to IOP.",
        "iop": "Most teens stay three to four weeks before moving to IOP."}
    assert levels(html("<h1>FAQ</h1><h3>How long does detox take?</h3><p>Usually three to seven days.</p>")) == []
    # The level's name alone as the subject ("How long is I.O.P.?") is the program's own level too.
    assert levels(html("<h1>FAQ</h1><p>Q. How long is I.O.P.?</p><p>A. Ten weeks.</p>")) == ["iop"]


def test_questions_and_answers_marked_q_and_a_are_read_the_same():
    page = html("<h1>FAQ</h1><p><strong>Q: Can my teen do IOP online?</strong></p><p>A: Yes, two groups a week.</p>"
                "<p><strong>Q: Do you offer residential treatment?</strong></p><p>A: No. We refer families.</p>")
    assert {f.level: f.quote for f in classify_page(page, URL)} == {
        "iop": "Can my teen do IOP online? — A: Yes, two groups a week."}


def test_tabs_and_accordions_are_read_hidden_panels_and_question_buttons_included():
    page = html("""<h1>Programs</h1>
        <ul class="nav nav-tabs" role="tablist"><li class="nav-item" role="presentation">
        <button class="nav-link active" data-bs-toggle="tab" data-bs-target="#a" role="tab" aria-controls="a">Inpatient</button></li></ul>
        <div class="tab-content"><div class="tab-pane" id="a" role="tabpanel" hidden><p>Seven days on average.</p></div></div>
        <div class="accordion"><h2 class="accordion-header"><button class="accordion-button" data-bs-toggle="collapse"
        aria-controls="c1">Do you have a detox program?</button></h2><div id="c1" class="accordion-collapse collapse">
        <div class="accordion-body">Yes, on our inpatient unit.</div></div></div>
        <form><button type="submit">Send</button></form>""",
                nav='<li><button class="navbar-toggler" data-bs-toggle="collapse" aria-controls="menu">Menu</button></li>')
    reading = read_page(page, URL)
    assert [b.text for b in reading.content] == [
        "Programs", "Inpatient", "Seven days on average.", "Do you have a detox program?", "Yes, on our inpatient unit."]
    assert {b.text: b.furniture for b in reading.blocks if b.furniture} == {"Menu": "header", "Send": "form"}
    assert levels(page) == ["inpatient", "detox"]


def test_tabs_in_a_wrapper_named_nav_inside_the_content_are_read_a_site_menu_is_not():
    tabs = ('<div class="nav"><ul class="nav-tabs"><li class="active"><a class="tab-link" data-toggle="tab" href="#t1" '
            'role="tab"><h4>Adult Inpatient</h4></a></li><li><a class="tab-link" data-toggle="tab" href="#t2" role="tab">'
            '<h4>PHP</h4></a></li></ul></div><div class="tab-content"><div class="tab-pane" id="t1"><p>Six days on average.'
            '</p></div><div class="tab-pane" id="t2"><p>Weekdays 8:30 to 2:30.</p></div></div>')
    page = html(f"<h1>Programs</h1>{tabs}", nav='<li><a href="#top" data-toggle="tab" role="tab">Residential</a></li>')
    reading = read_page(page, URL)
    assert [b.text for b in reading.content] == ["Programs", "Adult Inpatient", "PHP", "Six days on average.",
                                                 "Weekdays 8:30 to 2:30."]
    assert levels(page) == ["php", "inpatient"]


# --- schema.org services and descriptions ------------------------------------------------


def _ld(data: dict) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


@pytest.mark.parametrize("head, expected", [
    (_ld({"@type": "MedicalClinic", "name": "Riverside Recovery", "availableService": [
        {"@type": "MedicalTherapy", "name": "Medical Detox"}, {"@type": "MedicalTherapy", "name": "Residential Treatment"},
        {"@type": "MedicalTherapy", "name": "Detox referral"}]}),
     {"residential": "schema.org availableService (JSON-LD): Residential Treatment",
      "detox": "schema.org availableService (JSON-LD): Medical Detox"}),
    (_ld({"@type": "MedicalBusiness", "name": "Riverside", "hasOfferCatalog": {"@type": "OfferCatalog", "itemListElement": [
        {"@type": "Offer", "itemOffered": {"@type": "Service", "name": "Intensive Outpatient Program"}}]}}),
     {"iop": "schema.org hasOfferCatalog (JSON-LD): Intensive Outpatient Program"}),
    (_ld({"@context": "https://schema.org", "@graph": [{"@type": "WebPage", "mainEntity": {
        "@type": "MedicalTherapy", "name": "Partial Hospitalization Program"}}]}),
     {"php": "schema.org MedicalTherapy (JSON-LD): Partial Hospitalization Program"}),
    (_ld({"@type": "MedicalClinic", "name": "Riverside Recovery",
          "description": "Riverside Recovery offers medical detox in Houston."}),
     {"detox": "schema.org MedicalClinic description (JSON-LD): Riverside Recovery offers medical detox in Houston."}),
    (_ld({"@type": "Organization", "name": "Riverside", "knowsAbout": ["Residential treatment", "Detox"]}), {}),
])
def test_schema_org_services_and_descriptions_state_levels_but_topics_do_not(head, expected):
    assert {f.level: f.quote for f in classify_page(html("<p>Welcome.</p>", head=head), URL)} == expected


def test_microdata_services_state_levels():
    page = html("""<div itemscope itemtype="https://schema.org/MedicalClinic"><meta itemprop="name" content="Riverside">
        <div itemprop="availableService" itemscope itemtype="https://schema.org/MedicalTherapy">
        <meta itemprop="name" content="Intensive Outpatient Program (IOP)"></div></div>""")
    assert [(f.level, f.quote) for f in classify_page(page, URL)] == [
        ("iop", "schema.org availableService (microdata): Intensive Outpatient Program (IOP)")]
    assert structured_data.offered_services(feed_item(page, URL)) == [
        ("schema.org availableService (microdata)", "Intensive Outpatient Program (IOP)")]


def test_a_level_the_page_text_denies_does_not_count_from_its_schema_org_data():
    head = _ld({"@type": "MedicalClinic", "name": "Riverside", "availableService": ["Residential Treatment", "IOP"]})
    assert levels(html("<p>Our residential program closed in 2022.</p>", head=head)) == ["iop"]


# --- Spanish pages ----------------------------------------------------------------------------


@pytest.mark.parametrize("sentence, expected", [
    ("Ofrecemos un programa intensivo ambulatorio (IOP) para adultos.", ["iop"]),
    ("Contamos con hospitalización parcial y tratamiento residencial para adultos.", ["php", "residential"]),
    ("Nuestro centro ofrece desintoxicación médica ambulatoria.", ["detox"]),
    ("Se ofrece tratamiento ambulatorio intensivo en nuestra clínica.", ["iop"]),
    ("No ofrecemos desintoxicación; le referimos a un hospital.", []),
    ("No ofrecemos tratamiento residencial ni hospitalización psiquiátrica.", []),
    ("Nuestro programa residencial cerró en 2021.", []),
    ("Hasta 2021 ofrecíamos desintoxicación.", []),
    ("Estamos en una zona tranquila; no necesita referencia médica para el IOP.", []),
])
def test_spanish_pages_state_and_deny_levels_in_spanish(sentence, expected):
    assert levels(html(f"<p>{sentence}</p>")) == expected


def test_a_spanish_faq_and_a_list_under_niveles_de_atencion():
    page = html("""<h2>Niveles de atención</h2><ul><li>Hospitalización parcial</li><li>Programa intensivo ambulatorio</li></ul>
        <details><summary>¿Ofrecen desintoxicación?</summary><p>No. Le ayudamos a encontrar un centro cercano.</p></details>""")
    assert levels(page) == ["iop", "php"]


# --- closures and the past ---------------------------------------------------------------


@pytest.mark.parametrize("sentence, expected", [
    ("Our residential program closed in 2022.", []),
    ("Our residential program closed in 2022. Today we offer IOP.", ["iop"]),
    ("From 2008 to 2021 we operated a 16-bed detox unit.", []),
    ("We ran a residential program until 2022.", []),
    ("We stopped offering detox in 2019.", []),
    ("Residential treatment was previously offered at our Katy campus.", []),
    ("Our former detox unit now houses our outpatient clinic.", ["outpatient"]),
    ("We previously offered residential treatment, but now focus on outpatient care.", ["outpatient"]),
    ("We have offered IOP since 2005.", ["iop"]),
    ("In 2015 we added medical detox.", ["detox"]),
    ("IOP coming spring 2025.", []),
])
def test_closures_and_the_past_tense_are_negations(sentence, expected):
    assert levels(html(f"<p>{sentence}</p>")) == expected


def test_a_closure_drops_a_looser_use_of_the_level_on_the_page_but_a_local_one_does_not():
    closed = html("<h2>Our programs</h2><ul><li>Detox</li><li>IOP</li></ul><p>Our detox unit closed in 2021.</p>")
    assert levels(closed) == ["iop"]
    local = html("<h1>Locations</h1><h2>Katy</h2><p>Levels of care: detox, residential</p>"
                 "<h2>Laredo</h2><p>Levels of care: IOP. Detox is not offered at this location.</p>")
    assert levels(local) == ["iop", "residential", "detox"]


# --- shapes the seventh batch taught (each with look-alikes that must still not count) --------


@pytest.mark.parametrize("sentence, expected", [
    # An offer cue after a list of levels reaches every level of the list, not only the last.
    ("Day treatment (PHP), intensive outpatient and weekly counseling at our San Marcos office.", ["iop", "php"]),
    ("Detox, residential treatment and IOP are available at our Katy campus.", ["iop", "residential", "detox"]),
    ("After detox and residential care, IOP is available at our clinic.", ["iop"]),  # the list's place: not a blocker's
    ("Detox, residential and IOP are not offered at Riverside.", []),
    # Outpatient care described by its rhythm, where no other level is named.
    ("We see clients for weekly individual, couples and family therapy in our office.", ["outpatient"]),
    ("Our residential program includes weekly individual and family therapy.", ["residential"]),
    ("Many people do well in weekly therapy.", []),
    # Others sending patients in (an offer), not the program sending them out.
    ("Clinicians, emergency departments and crisis teams can refer patients for inpatient admission 24/7.", ["inpatient"]),
    ("We can refer patients for inpatient admission at Memorial Hospital.", []),
    ("Physicians can refer patients to a residential program in the community.", []),
    ("Los médicos y las escuelas pueden referir pacientes para hospitalización psiquiátrica las 24 horas.", ["inpatient"]),
    ("Podemos referir pacientes a un programa residencial.", []),
    # Its own clients: going on to its next level, on its unit, the families of its clients.
    ("Most teens step down to the Adolescent Partial Hospitalization Program.", ["php"]),
    ("Most teens step down to a partial hospitalization program near home.", []),
    ("Patients receive medically managed withdrawal on the unit.", ["detox"]),
    ("Patients receive detox on the unit of Memorial Hospital.", []),
    ("Family Weekend is held for parents and siblings of residential clients.", ["residential"]),
    ("Dr. Lee has worked with residential clients for 20 years.", []),
    ("For 14 years, residential clients lived in the Cross Lake house.", []),
    ("Unlike residential clients, our IOP clients live at home.", ["iop"]),
    # A level that is not enough is compared, not denied.
    ("IOP isn’t enough for everyone; our IOP meets three evenings a week.", ["iop"]),
    ("When weekly therapy isn't enough, day treatment at our clinic adds structure.", ["php"]),
])
def test_seventh_batch_sentence_shapes_and_their_look_alikes(sentence, expected):
    assert levels(html(f"<p>{sentence}</p>")) == expected


def test_a_level_clients_come_back_to_is_not_sent_away_by_the_referral_in_its_sentence():
    services = ("<h1>Drug &amp; Alcohol Services</h1><p>At our Aliquippa office.</p><ul>"
                "<li>Level 1 Outpatient – individual and group counseling</li>"
                "<li>Level 2.1 Intensive Outpatient (IOP) – three evenings a week</li></ul>")
    back = ("<p>Need detox or inpatient rehab? Our case managers arrange admission to licensed facilities and keep in "
            "touch until you are ready to come back to outpatient.</p>")
    assert levels(html(services + back)) == ["iop", "outpatient"]
    away = "<p>Our case managers refer clients who need outpatient therapy to community providers.</p>"
    assert levels(html(services + away)) == ["iop"]


def test_a_table_row_whose_later_cells_describe_the_level_in_words():
    rows = ("<tr><td>Intensive outpatient</td><td>Three evenings a week for ten weeks</td></tr>"
            "<tr><td>Outpatient</td><td>One or two sessions a week for as long as needed</td></tr>"
            "<tr><td>Detox</td><td>—</td></tr><tr><td>Residential</td><td>Through our partners only</td></tr>")
    assert levels(html(f"<h1>Levels of Care</h1><table>{rows}</table>")) == ["iop", "outpatient"]
    assert levels(html(f"<h1>Levels of care explained</h1><table>{rows}</table>")) == []


def test_a_card_that_describes_a_level_counts_in_a_series_of_level_cards():
    cards = "<h2>Levels of care</h2><h3>Day Treatment</h3><p>Weekdays.</p><h3>IOP</h3><p>Evenings.</p>"
    page = html(cards + "<h3>Therapy</h3><p>Weekly · 50 minutes</p>")
    assert {f.level: f.quote for f in classify_page(page, URL)}["outpatient"] == "Therapy — Weekly · 50 minutes"
    assert levels(html(cards.replace("Levels of care", "Niveles de atención") + "<h3>Terapia individual</h3>"
                       "<p>Semanal · 50 minutos</p>")) == ["iop", "php", "outpatient"]
    # Not as a part of another level, nor in a list of what a stay includes.
    assert levels(html(cards + "<h3>Family therapy</h3><p>Weekly, as part of IOP.</p>")) == ["iop", "php"]
    assert levels(html("<h2>Residential Treatment</h2><h3>Therapy</h3><p>Weekly · 50 minutes</p>"
                       "<h3>Groups</h3><p>Daily</p>")) == []
    assert levels(html("<h2>What to expect</h2><ul><li>Weekly individual therapy</li><li>Daily groups</li></ul>"
                       "<p>Our residents stay 30 days.</p>")) == []


@pytest.mark.parametrize("main, expected", [
    ("<ul><li>24/7 Medical Detox</li></ul><h2>Our programs</h2><ul><li>Residential Inpatient Treatment</li></ul>",
     ["residential"]),  # a rehab's "residential inpatient" is residential care, not a hospital
    ("<h1>Servicios</h1><p>Hospitalización aguda</p><p>Unidad de 40 camas.</p><p>Hospital parcial</p>"
     "<p>Clínicas ambulatorias (consulta externa)</p>", ["php", "outpatient", "inpatient"]),
    ("<h1>Nuestro programa</h1><h3>Fase 1 · Internamiento</h3><p>De 30 a 45 días en la casa.</p>"
     "<h3>Fase 3 · Seguimiento ambulatorio</h3><p>Una sesión por semana.</p>", ["outpatient", "residential"]),
    ("<h1>Nuestro programa</h1><h3>Internamiento psiquiátrico</h3><p>De 7 a 10 días.</p>", ["inpatient"]),
    ("<h2>Services</h2><ul><li>Adult Inpatient Unit</li><li>Partial Hospital</li>"
     "<li>Outpatient Clinics in Caguas and Humacao</li></ul>", ["php", "outpatient", "inpatient"]),
    ("<h1>Adolescent Services</h1><h2>Adolescent Acute Unit (ages 12–17)</h2><p>Short-term stabilization.</p>",
     ["inpatient"]),
    ("<h1>Co-occurring Disorders Unit</h1><p>A 20-bed adult inpatient unit for people living with both illnesses.</p>",
     ["inpatient"]),
    ("<h2>News</h2><p>A 20-bed adult inpatient unit for people in crisis opened at Memorial.</p>", []),
    ("<h2>Riverside Recovery</h2><p>Outpatient Opioid Treatment since 1996</p>", ["outpatient"]),
    ("<h1>Locations</h1><h3>Aliquippa</h3><p>2201 Sheffield Road, Aliquippa, PA 15001</p>"
     "<p>Children’s Outpatient · School-Based Therapy</p>", ["outpatient"]),
    ("<h1>Our partners</h1><h3>Memorial Hospital</h3><p>2201 Sheffield Road, Aliquippa, PA 15001</p>"
     "<p>Inpatient psychiatry · Detox</p>", []),
    ("<h1>Teen IOP</h1><p>Nine hours a week.</p><h3>When IOP isn’t enough</h3>"
     "<p>We help families find a residential program.</p>", ["iop"]),
])
def test_seventh_batch_label_shapes_and_their_look_alikes(main, expected):
    assert levels(html(main)) == expected


def test_the_line_under_the_home_pages_title_says_what_the_program_is():
    home = "https://www.riversiderecovery.example/"
    hero = "<h1>Recovery starts here</h1><p>Social-model detox and 28-day residential treatment for men in Tulsa.</p>"
    assert levels(html(hero), home) == ["residential", "detox"]
    assert levels(html(hero), URL) == []  # on another page the h1 must be the name or an offer
    assert levels(html("<h1>What is residential treatment?</h1><p>Residential treatment for teens: an overview</p>"),
                  home) == []
    assert levels(html("<h1>Recovery starts here</h1><p>Residential treatment for teens may be needed after a "
                       "hospital stay.</p>"), home) == []


def test_a_cms_front_page_listing_its_articles_as_blog_posts_is_the_programs_page():
    """Joomla's featured view marks each article of the home page a BlogPosting in a Blog: on the
    site's home page a schema.org type does not make a blog post; anywhere else it still does."""
    body = ('<div class="blog-featured" itemscope itemtype="https://schema.org/Blog"><div itemprop="blogPost" '
            'itemscope itemtype="https://schema.org/BlogPosting"><h2 itemprop="headline">Welcome</h2>'
            '<p>Riverside Recovery provides outpatient and intensive outpatient treatment for adults.</p></div></div>')
    page = html(body, body_class="site com_content view-featured")
    for home in ("https://www.riversiderecovery.example/", "https://www.riversiderecovery.example/index.php"):
        assert not page_of(feed_item(page, home)).is_blog_like
        assert levels(page, home) == ["iop", "outpatient"]
    assert page_of(feed_item(page, URL)).blog_reason == "microdata type Blog"
    blog_home = html(body, body_class="home blog")  # WordPress's posts page as the home page: a blog
    assert page_of(feed_item(blog_home, "https://www.riversiderecovery.example/")).is_blog_like
    assert [f.quote for f in classify_page(blog_home, "https://www.riversiderecovery.example/")] == [
        "Riverside Recovery provides outpatient and intensive outpatient treatment for adults."] * 2


def test_a_described_level_counts_only_where_no_other_level_is_named():
    assert [(m.level, m.described) for m in find_mentions("weekly individual and family therapy")] == [
        ("outpatient", True)]
    assert [m.level for m in find_mentions("Our IOP adds weekly family therapy")] == ["iop"]
    assert place_names() >= {"caguas", "humacao"}  # Puerto Rico's towns are US places


# --- the command on a saved page ------------------------------------------------------------


def run_command(*args: str) -> list[dict]:
    done = subprocess.run([sys.executable, "-m", "pipelines.site_levels", *map(str, args)],
                          capture_output=True, text=True, check=True)
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.parametrize("page, url, expected", [
    ("esperanza_es_home.html", "https://esperanzacounseling.example/es/", [
        {"level": "iop", "quote": "Ofrecemos un programa intensivo ambulatorio (IOP) para adultos, tres noches por semana, "
                                  "y terapia ambulatoria individual y familiar."},
        {"level": "outpatient", "quote": "Ofrecemos un programa intensivo ambulatorio (IOP) para adultos, tres noches por "
                                         "semana, y terapia ambulatoria individual y familiar."}]),
    ("redriver_home.html", "https://redriverrecovery.example/", [
        {"level": "iop", "quote": "Red River now offers intensive outpatient and outpatient care at our Youree Drive clinic."},
        {"level": "outpatient", "quote": "Red River now offers intensive outpatient and outpatient care at our Youree Drive "
                                         "clinic."}]),
    ("willowcreek_home.html", "https://www.willowcreektx.example/", [
        {"level": "residential", "quote": "schema.org availableService (JSON-LD): Residential Treatment"},
        {"level": "detox", "quote": "schema.org availableService (JSON-LD): Medical Detox"}]),
    ("pinecrest_home.html", "https://www.pinecrestrecovery.example/", [
        {"level": "iop", "quote": "Levels of Care … Intensive Outpatient (IOP)"},
        {"level": "php", "quote": "Levels of Care … Partial Hospitalization (PHP)"},
        {"level": "residential", "quote": "Levels of Care … Residential Treatment"},
        {"level": "detox", "quote": "Levels of Care … Medical Detox"}]),
    # A Spanish post about IOP in general, whose one sentence in the program's voice offers its own.
    ("esperanza_es_blog.html", "https://esperanzacounseling.example/es/blog/que-es-un-programa-intensivo-ambulatorio/",
     [{"level": "iop", "quote": "En Esperanza ofrecemos IOP en español tres noches por semana."}]),
])
def test_the_command_prints_the_levels_of_a_saved_page_as_json_lines(page, url, expected):
    assert run_command(LABELLED_2 / page, "--url", url) == expected


def test_the_command_takes_the_pages_own_address_when_no_url_is_given(tmp_path):
    page = tmp_path / "posts" / "page.html"
    page.parent.mkdir()
    body = ("<html><head>{}</head><body><main><h1>Intensive Outpatient Program</h1><p>Call us today.</p>"
            "</main></body></html>")  # a label: the title of a program's page, no topic of a post
    page.write_text(body.format(""), encoding="utf-8")
    assert [f["level"] for f in run_command(page)] == ["iop"]  # the folder "posts" says nothing of the page
    page.write_text(body.format('<link rel="canonical" href="https://a.example/blog/what-is-iop/">'), encoding="utf-8")
    assert run_command(page) == []  # its own address is a blog post's
    assert [f.level for f in judge_saved_page(page, "https://a.example/programs/")] == ["iop"]


# --- the vocabulary file --------------------------------------------------------------------


def test_the_vocabulary_has_phrases_for_every_care_level():
    voc = load_vocabulary()
    assert {level for level, _ in voc.levels} == {"iop", "php", "outpatient", "residential", "inpatient", "detox"}


def test_the_build_reads_the_phrase_file_it_is_pointed_at_and_a_changed_file_again(tmp_path, monkeypatch):
    copy = tmp_path / "phrases.csv"
    text = PHRASES.read_text(encoding="utf-8")
    copy.write_text(text, encoding="utf-8")
    monkeypatch.setenv("TREATMENT_SITE_PHRASES", str(copy))
    page = html("<p>We offer day treatment for adults.</p>")
    assert levels(page) == ["php"]
    copy.write_text(text.replace("level,php,\"\\bday[\\s-]+treatment\"", "level,outpatient,\"\\bday[\\s-]+treatment\""),
                    encoding="utf-8")
    os.utime(copy, ns=(copy.stat().st_atime_ns, copy.stat().st_mtime_ns + 1_000_000))  # a coarse clock
    assert levels(page) == ["outpatient"]
    monkeypatch.delenv("TREATMENT_SITE_PHRASES")
    assert levels(page) == ["php"]


@pytest.mark.parametrize("row, message", [
    ('levle,iop,"IOP",', "row 2: unknown kind 'levle'"),
    ('level,day,"day program",', "row 2: unknown care level 'day'"),
    ('described_level,weekly,"weekly therapy",', "row 2: unknown care level 'weekly'"),
    ('negation,iop,"not",', "row 2: kind 'negation' takes no level"),
    ('level,iop,"(IOP",', "row 2: pattern '(IOP' is not a valid regular expression"),
])
def test_a_bad_vocabulary_row_fails_naming_the_file_and_row(tmp_path, row, message):
    path = tmp_path / "phrases.csv"
    path.write_text("kind,level,pattern,note\n" + row + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=message.replace("(", r"\(")) as error:
        load_vocabulary(path)
    assert str(path) in str(error.value)


# --- schema.org data ------------------------------------------------------------------------


def test_structured_data_prefers_the_medical_node_and_fills_gaps_from_the_organization():
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "WebPage", "name": "Home"},
        {"@type": "Organization", "name": "Riverside", "sameAs": ["https://www.facebook.com/riverside"]},
        {"@type": "MedicalClinic", "name": "Riverside Recovery", "telephone": "(713) 555-0100",
         "description": "Addiction treatment.",
         "address": {"@type": "PostalAddress", "streetAddress": "1200 Riverside Dr", "addressLocality": "Houston",
                     "addressRegion": "TX", "postalCode": "77004"},
         "openingHoursSpecification": [{"@type": "OpeningHoursSpecification", "dayOfWeek": ["Monday", "https://schema.org/Friday"],
                                        "opens": "08:00", "closes": "17:00"}]}]}
    page = (f'<html><head><script type="application/ld+json">{json.dumps(graph)}</script>'
            '<script type="application/ld+json">{"broken": </script></head><body></body></html>')
    assert extract_structured(page, URL) == {
        "type": "MedicalClinic", "types": ["MedicalClinic", "Organization"], "syntax": "json-ld",
        "name": "Riverside Recovery", "telephone": "(713) 555-0100", "description": "Addiction treatment.",
        "address": {"street": "1200 Riverside Dr", "locality": "Houston", "region": "TX", "postal_code": "77004"},
        "opening_hours": ["Monday, Friday 08:00-17:00"], "same_as": ["https://www.facebook.com/riverside"], "url": None,
    }


def test_structured_data_reads_microdata():
    page = """<html><body><footer><div itemscope itemtype="https://schema.org/MedicalClinic">
        <span itemprop="name">Harbor Light</span> <span itemprop="telephone">(504) 555-0199</span>
        <span itemprop="address" itemscope itemtype="https://schema.org/PostalAddress">
        <span itemprop="addressLocality">New Orleans</span> <span itemprop="addressRegion">LA</span></span>
        <meta itemprop="openingHours" content="Mo-Su 00:00-23:59"></div></footer></body></html>"""
    data = extract_structured(page, URL)
    assert (data["type"], data["syntax"], data["name"], data["telephone"]) == \
        ("MedicalClinic", "microdata", "Harbor Light", "(504) 555-0199")
    assert data["address"] == {"locality": "New Orleans", "region": "LA"}
    assert data["opening_hours"] == ["Mo-Su 00:00-23:59"]


def test_a_page_without_organisation_markup_has_no_structured_data():
    assert extract_structured(html("<p>Hello</p>"), URL) == {}
    assert extract_structured("", URL) == {}


# --- rows for program_care_levels -----------------------------------------------------------


def test_findings_become_one_program_care_levels_row_per_program_and_level():
    items = [
        {"program_id": "p1", "url": "https://a.example/", "fetched_at": "2024-05-01T10:00:00Z",
         "findings": [{"level": "iop", "quote": "Our IOP meets weekly.", "url": "https://a.example/"}]},
        {"program_id": "p1", "url": "https://a.example/iop/", "fetched_at": "2024-05-01T10:00:05Z",
         "findings": [{"level": "iop", "quote": "IOP again.", "url": "https://a.example/iop/"},
                      {"level": "php", "quote": "Our PHP runs weekdays.", "url": "https://a.example/iop/"}]},
        {"program_id": None, "url": "https://b.example/", "fetched_at": "2024-05-01T10:00:09Z",
         "findings": [{"level": "detox", "quote": "We offer detox.", "url": "https://b.example/"}]},
    ]
    assert program_care_level_rows(items) == [
        {"program_id": "p1", "care_level": "iop", "source": SOURCE, "evidence": "Our IOP meets weekly.",
         "source_url": "https://a.example/", "source_ref": "https://a.example/", "seen": "2024-05-01T10:00:00Z"},
        {"program_id": "p1", "care_level": "php", "source": SOURCE, "evidence": "Our PHP runs weekdays.",
         "source_url": "https://a.example/iop/", "source_ref": "https://a.example/iop/", "seen": "2024-05-01T10:00:05Z"},
    ]
    assert SOURCE == "provider website"


# --- the benchmark --------------------------------------------------------------------------


def test_the_labelled_set_has_at_least_40_pages_with_every_level_and_pages_that_state_none():
    pages = bench.load_labels()
    assert len(pages) >= 40
    assert sum(1 for p in pages if not p.levels) >= 10
    for level in ("iop", "php", "outpatient", "residential", "inpatient", "detox"):
        assert sum(1 for p in pages if level in p.levels) >= 5, level


def test_the_classifier_meets_its_targets_on_the_labelled_set():
    scores, errors = bench.evaluate(bench.load_labels())
    for level, score in scores.items():
        assert score.precision is None or score.precision >= bench.TARGET_PRECISION, (level, errors)
        assert score.recall >= bench.TARGET_RECALL, (level, errors)


def test_the_benchmark_command_prints_a_table_and_exits_zero(capsys):
    """The rules alone (--rules-only), batch by batch: the figures each round of tuning left. The
    page model (pipelines.site_model) learned from these pages, so with it they say nothing of new
    pages; its figures on pages it never saw are pinned in test_the_held_out_sets_scored_once_by_rules_and_model."""
    assert bench.main(["--rules-only"]) == 0
    out = capsys.readouterr().out
    assert "precision" in out and "recall" in out and "support" in out
    assert out.count("ok") >= 6
    assert "First set" in out and "Second set: tests/fixtures/sites/labelled_2 (247 pages)" in out
    for batch, pages in ((1, 66), (2, 23), (3, 20), (4, 20), (5, 20), (6, 49), (7, 49)):
        assert f"batch {batch} ({pages} pages, tuned on): precision 100.0%, recall 100.0%" in out
    assert out.count("ok") >= 12  # every level of both sets checked against its targets
    assert "batch 8 (58 pages, tuned on): precision 100.0%, recall 89.0%" in out
    assert "batch 9 (71 pages, tuned on): precision 100.0%, recall 84.2%" in out
    assert "batch 10 (62 pages, tuned on): precision 100.0%, recall 95.2%" in out
    assert "batch 11 (73 pages, tuned on): precision 100.0%, recall 94.7%" in out
    assert "batch 12 (67 pages, tuned on): precision 99.0%, recall 98.0%" in out
    assert "batch 13 (67 pages, tuned on): precision 100.0%, recall 84.2%" in out
    assert "batch 14 (70 pages, tuned on): precision 99.0%, recall 93.2%" in out
    assert "batch 15 (68 pages, tuned on): precision 99.1%, recall 95.5%" in out
    assert "batch 16 (66 pages, tuned on): precision 96.7%, recall 89.7%" in out
    assert "batch 17 (66 pages, tuned on): precision 99.0%, recall 98.0%" in out
    assert "batch 18 (66 pages, tuned on): precision 98.8%, recall 80.2%" in out
    assert "batch 19 (65 pages, tuned on): precision 100.0%, recall 90.7%" in out
    assert "batch 20 (66 pages, tuned on): precision 97.6%, recall 81.6%" in out
    assert "batch 21 (66 pages, tuned on): precision 97.6%, recall 86.2%" in out
    assert "batch 22 (66 pages, tuned on): precision 97.8%, recall 85.8%" in out
    assert "batch 23 (68 pages, tuned on): precision 100.0%, recall 87.1%" in out
    assert "batch 24 (70 pages, tuned on): precision 100.0%, recall 87.7%" in out
    assert "batch 25 (73 pages, tuned on): precision 99.1%, recall 91.2%" in out
    assert "batch 26 (73 pages, tuned on): precision 96.9%, recall 74.8%" in out
    assert "batch 27 (79 pages, tuned on): precision 97.4%, recall 67.0%" in out
    assert "batch 28 (77 pages, tuned on): precision 100.0%, recall 82.9%" in out
    assert "batch 29 (72 pages, tuned on): precision 100.0%, recall 88.3%" in out
    assert "batch 30 (71 pages, tuned on): precision 99.0%, recall 84.9%" in out
    assert "batch 31 (73 pages, tuned on): precision 96.6%, recall 81.9%" in out
    assert "batch 32 (73 pages, tuned on): precision 96.9%, recall 78.8%" in out
    assert "batch 33 (74 pages, tuned on): precision 97.5%, recall 74.5%" in out
    assert "batch 34 (77 pages, tuned on): precision 96.8%, recall 83.6%" in out
    assert "batch 35 (74 pages, tuned on): precision 99.0%, recall 87.2%" in out
    assert "batch 36 (72 pages, tuned on): precision 98.8%, recall 81.2%" in out
    assert "batch 37 (72 pages, tuned on): precision 96.9%, recall 87.0%" in out
    assert "batch 38 (73 pages, tuned on): precision 99.0%, recall 90.4%" in out
    assert "batch 39 (73 pages, tuned on): precision 100.0%, recall 83.6%" in out
    assert "batch 40 (76 pages, tuned on): precision 100.0%, recall 78.7%" in out
    assert "batch 41 (74 pages, tuned on): precision 100.0%, recall 74.2%" in out
    assert "batch 42 (74 pages, tuned on): precision 97.6%, recall 76.9%" in out
    assert "batch 43 (72 pages, tuned on): precision 94.4%, recall 74.6%" in out
    assert "batch 44 (74 pages, tuned on): precision 100.0%, recall 78.7%" in out
    # The only pages held out are the fortieth to forty-fifth sets' (batches 45 to 50, written
    # blind), reported apart.
    assert "batch 45 (73 pages, held out): precision 98.5%, recall 69.8%" in out
    assert "batch 46 (77 pages, held out): precision 98.6%, recall 69.6%" in out
    assert "batch 47 (72 pages, held out): precision 97.4%, recall 71.8%" in out
    assert "batch 48 (74 pages, held out): precision 94.4%, recall 77.8%" in out
    assert "batch 49 (72 pages, held out): precision 93.3%, recall 75.7%" in out
    assert "batch 50 (76 pages, held out): precision 94.9%, recall 75.0%" in out
    assert out.count(", held out)") == 6


# The sets written blind, each scored once untouched after tuning on the batches before it, then
# tuned on with the next one written blind beside it (each folder's README tells the story):
# (folder, batch, pages, pages that state no level, levels, false positives now, found now at least).
# When scored held out: batch 8 found 64 of 100, none wrongly; batch 9 72 of 113, 4 wrongly;
# batch 10 60 of 83, 6 wrongly; batch 11 71 of 94, 3 wrongly; batch 12 71 of 102, 3 wrongly;
# batch 13 74 of 114, 9 wrongly; batch 14 82 of 103, 6 wrongly; batch 15 83 of 110, 2 wrongly;
# batch 16 75 of 97, 6 wrongly (3 of its false positives remain: a location named "Durant
# Outpatient Center", and level names in menus that no markup marks as menus); batch 17 75 of 100,
# 1 wrongly; batch 18 64 of 101, 10 wrongly; batch 19 73 of 97, 5 wrongly; batch 20 74 of 98, 6 wrongly;
# batch 21 70 of 94, 2 wrongly; batch 22 80 of 106, 6 wrongly
# (2 remain: a masthead line under the site's name set as an h1, read as its lede); batch 23 88 of
# 116, 2 wrongly; batch 24 86 of 114, 9 wrongly; batch 25 96 of 125, 5 wrongly; batch 26 80 of 127,
# 4 wrongly; batch 27 69 of 112, 4 wrongly; batch 28 82 of 123, 8 wrongly; batch 29 93 of 111, 4 wrongly;
# batch 30 93 of 119, 3 wrongly; batch 31 76 of 105, 3 wrongly; batch 32 90 of 118, 3 wrongly; batch 33
# 73 of 106, 3 wrongly; batch 34 88 of 110, 4 wrongly; batch 35 94 of 117, 2 wrongly; batch 36 78 of 101,
# 2 wrongly; batch 37 85 of 108, 3 wrongly; batch 38 89 of 114, 1 wrongly; batch 39 74 of 110, none
# wrongly; batch 40 61 of 94, none wrongly; batch 41 65 of 93, none wrongly; batch 42 78 of 104, 11 wrongly;
# batch 43 85 of 114, 9 wrongly; batch 44 85 of 108, 2 wrongly.
# Batch 9 holds 114 levels since one post's "Our IOP meets in the evening" was relabelled stated
# (2026-12-01: posts, news and job ads are read for the program's own sentences; its note says so).
# Batch 11 found 88 when tuned on and 87 since batch 13's tuning made a table-layout site's left
# column furniture, where one level had been read from its menu. Batch 12's one false positive is a
# licence line in a Tilda footer that no markup marks as one.
TUNED_BLIND_SETS = [
    (bench.LABELLED_3, 8, 58, 17, 100, 0, 89),
    (bench.LABELLED_4, 9, 71, 17, 114, 0, 96),
    (bench.LABELLED_5, 10, 62, 18, 83, 0, 79),
    (bench.LABELLED_6, 11, 73, 21, 94, 0, 89),
    (bench.LABELLED_7, 12, 67, 15, 102, 1, 100),
    (bench.LABELLED_8, 13, 67, 15, 114, 0, 96),
    (bench.LABELLED_9, 14, 70, 15, 103, 1, 96),
    (bench.LABELLED_10, 15, 68, 18, 110, 1, 105),
    (bench.LABELLED_11, 16, 66, 16, 97, 3, 87),
    (bench.LABELLED_12, 17, 66, 11, 100, 1, 98),
    (bench.LABELLED_13, 18, 66, 12, 101, 1, 81),
    (bench.LABELLED_14, 19, 65, 12, 97, 0, 88),
    (bench.LABELLED_15, 20, 66, 13, 98, 2, 80),
    (bench.LABELLED_16, 21, 66, 13, 94, 2, 81),
    (bench.LABELLED_17, 22, 66, 12, 106, 2, 91),
    (bench.LABELLED_18, 23, 68, 11, 116, 0, 101),
    (bench.LABELLED_19, 24, 70, 10, 114, 0, 100),
    (bench.LABELLED_20, 25, 73, 10, 125, 1, 114),
    (bench.LABELLED_21, 26, 73, 10, 127, 3, 95),
    (bench.LABELLED_22, 27, 79, 8, 112, 2, 75),
    (bench.LABELLED_23, 28, 77, 8, 123, 0, 102),
    (bench.LABELLED_24, 29, 72, 10, 111, 0, 98),
    (bench.LABELLED_25, 30, 71, 9, 119, 1, 101),
    (bench.LABELLED_26, 31, 73, 11, 105, 3, 86),
    (bench.LABELLED_27, 32, 73, 10, 118, 3, 93),
    (bench.LABELLED_28, 33, 74, 9, 106, 2, 79),
    (bench.LABELLED_29, 34, 77, 12, 110, 3, 92),
    (bench.LABELLED_30, 35, 74, 8, 117, 1, 102),
    (bench.LABELLED_31, 36, 72, 10, 101, 1, 82),
    (bench.LABELLED_32, 37, 72, 10, 108, 3, 94),
    (bench.LABELLED_33, 38, 73, 9, 114, 1, 103),
    (bench.LABELLED_34, 39, 73, 9, 110, 0, 92),
    (bench.LABELLED_35, 40, 76, 13, 94, 0, 74),
    (bench.LABELLED_36, 41, 74, 11, 93, 0, 69),
    (bench.LABELLED_37, 42, 74, 9, 104, 2, 80),
    (bench.LABELLED_38, 43, 72, 7, 114, 5, 85),
    (bench.LABELLED_39, 44, 74, 8, 108, 0, 85),
]


@pytest.mark.parametrize("folder, batch, count, stating_none, levels, false_positives, found", TUNED_BLIND_SETS,
                         ids=[f"batch {row[1]}" for row in TUNED_BLIND_SETS])
def test_each_set_written_blind_was_scored_once_then_tuned_on(folder, batch, count, stating_none, levels,
                                                               false_positives, found):
    pages = bench.load_labels(folder)
    assert len(pages) == count and all(p.batch == batch and not p.held_out for p in pages)
    assert all(p.note.startswith(f"tuned on after one held-out scoring (batch {batch}") for p in pages)
    assert sum(1 for p in pages if not p.levels) == stating_none  # pages that name levels without offering them
    total = bench.total(bench.evaluate(pages, folder, model=False)[0])  # the rules alone
    assert (total.tp + total.fn, total.fp) == (levels, false_positives)
    assert total.tp >= found


# The two sets written blind last, each scored once untouched (git 0ff9c00, after the rules were
# tuned on batches 28 to 44) and never tuned on: a rule that makes them better without a new held-out
# batch beside it would hide how the rules generalize; one that makes them worse shows here.
# (folder, batch, pages, pages that state no level, levels, found, false positives), and when the
# same pages were scored with older rules: batch 45 with the rules of before batches 43 and 44 were
# tuned on (git 9b4318c) 98.6% / 70.8% (one level more), of this session's start (git ffc054c) 98.5% /
# 69.8%, of before batches 11 to 22 were tuned on (git e88be7d) 96.3% / 54.2%; batch 46 the same,
# 98.6% / 68.6% and 96.0% / 47.1%.
# Batches 47 and 48 were scored once by the same rules at ec8a6ff, 49 and 50 at 3f5fab4 (the rules'
# last change was 0ff9c00).
HELD_OUT_SETS = [
    (bench.LABELLED_40, 45, 73, 9, 96, 67, 1),
    (bench.LABELLED_41, 46, 77, 14, 102, 71, 1),
    (bench.LABELLED_42, 47, 72, 10, 103, 74, 2),
    (bench.LABELLED_43, 48, 74, 11, 108, 84, 5),
    (bench.LABELLED_44, 49, 72, 11, 111, 84, 6),
    (bench.LABELLED_45, 50, 76, 10, 100, 75, 4),
]


@pytest.mark.parametrize("folder, batch, count, stating_none, levels, found, false_positives", HELD_OUT_SETS,
                         ids=[f"batch {row[1]}" for row in HELD_OUT_SETS])
def test_the_last_sets_written_blind_are_held_out_and_scored_as_they_were_once(folder, batch, count, stating_none,
                                                                               levels, found, false_positives):
    pages = bench.load_labels(folder)
    assert len(pages) == count and all(p.held_out and p.batch == batch for p in pages)
    assert sum(1 for p in pages if not p.levels) == stating_none
    total = bench.total(bench.evaluate(pages, folder, model=False)[0])  # the rules alone, as scored then
    assert (total.tp + total.fn, total.tp, total.fp) == (levels, found, false_positives)


# The six sets written blind last, scored once untouched by the rules and the page model together
# (batches 45-48 at git ec8a6ff, 49 and 50 at 3f5fab4, the same model and rules), the model having
# learned from every labelled page not held out and from none of these: (folder, batch, levels,
# found, false positives). Together 542 of 620 levels found (87.4%), 23 of 565 wrongly (precision
# 95.9%): the targets for pages not tuned on are 95% and 85%; batch 49 alone falls short of both
# (94.9% / 84.7%). The rules alone on the same pages: HELD_OUT_SETS above (455 of 620, 73.4%; 19 of
# 474 wrongly, 96.0%).
MODEL_HELD_OUT_SETS = [
    (bench.LABELLED_40, 45, 96, 83, 2),
    (bench.LABELLED_41, 46, 102, 92, 3),
    (bench.LABELLED_42, 47, 103, 91, 4),
    (bench.LABELLED_43, 48, 108, 96, 5),
    (bench.LABELLED_44, 49, 111, 94, 5),
    (bench.LABELLED_45, 50, 100, 86, 4),
]


@pytest.mark.parametrize("folder, batch, levels, found, false_positives", MODEL_HELD_OUT_SETS,
                         ids=[f"batch {row[1]}" for row in MODEL_HELD_OUT_SETS])
def test_the_held_out_sets_scored_once_by_rules_and_model(folder, batch, levels, found, false_positives):
    pages = bench.load_labels(folder)
    assert all(p.held_out and p.batch == batch for p in pages)
    total = bench.total(bench.evaluate(pages, folder)[0])
    assert (total.tp + total.fn, total.tp, total.fp) == (levels, found, false_positives)


def test_the_second_labelled_set_has_60_pages_20_of_them_held_out_with_every_level_and_pages_that_state_none():
    """Held out when scored: the pages of batches 2-7 and 25 of batch 1 were scored once before any
    rule was tuned on them (their notes say so); since batch 7 was tuned on, none is held out now."""
    pages = bench.load_labels(LABELLED_2)
    held = [p for p in pages if p.note.startswith("tuned on after one held-out scoring")]
    assert not any(p.held_out for p in pages)
    assert len(pages) >= 60 and len(held) >= 20
    assert sum(1 for p in pages if not p.levels) >= 10 and sum(1 for p in held if not p.levels) >= 3
    for level in ("iop", "php", "outpatient", "residential", "inpatient", "detox"):
        assert sum(1 for p in pages if level in p.levels) >= 5, level
        assert any(level in p.levels for p in held), level
    assert {p.page for p in bench.load_labels()}.isdisjoint(p.page for p in pages)


def test_the_classifier_meets_its_per_level_targets_on_the_second_sets_pages_it_was_tuned_on():
    """The per-level targets guard the 247 pages tuned on (batches 1-7)."""
    tuned = [p for p in bench.load_labels(LABELLED_2) if not p.held_out]
    assert len(tuned) == 247
    scores, errors = bench.evaluate(tuned, LABELLED_2)
    for level, score in scores.items():
        assert score.meets_targets(), (level, errors)


def test_the_seventh_batch_tuned_on_after_its_held_out_scoring_is_found_whole():
    """The seventh batch (49 pages of 14 sites, 92 levels), written and labelled before the
    classifier ran on it, scored untouched (57 levels found, 2 wrongly, 35 missed: precision
    96.6%, recall 62.0%) and once more after tuning on batches 1-6: 64 found, 2 wrongly (inpatient
    for "Internamiento" and "Residential Inpatient Treatment"), 28 missed (precision 97.0%, recall
    69.6%; the targets are 95% and 85%). Then the rules were tuned on it with batches 1-6: every
    level found, none wrongly (the figures of its held-out scorings stay in its README)."""
    seventh = [p for p in bench.load_labels(LABELLED_2) if p.batch == 7]
    assert len(seventh) == 49 and all(p.note.startswith("tuned on after one held-out scoring (seventh batch)")
                                      for p in seventh)
    total = bench.total(bench.evaluate(seventh, LABELLED_2)[0])
    assert (total.tp, total.fp, total.fn) == (92, 0, 0)


def test_every_batch_of_the_second_set_was_scored_once_and_keeps_its_figures():
    """Batches 1-7 are the pages the rules were tuned on: every level found, none wrongly."""
    pages = bench.load_labels(LABELLED_2)
    assert {p.batch for p in pages} == {1, 2, 3, 4, 5, 6, 7}
    for batch in (1, 2, 3, 4, 5, 6, 7):
        total = bench.total(bench.evaluate([p for p in pages if p.batch == batch], LABELLED_2)[0])
        assert total.fp == 0 and total.fn == 0, (batch, total)


def test_the_benchmark_command_exits_non_zero_below_target(tmp_path, capsys):
    (tmp_path / "page.html").write_text("<html><body><p>Welcome to our clinic.</p></body></html>", encoding="utf-8")
    (tmp_path / "labels.csv").write_text("page,url,levels,note\npage.html,https://a.example/,iop,says nothing\n",
                                         encoding="utf-8")
    assert bench.main(["--labelled", str(tmp_path)]) == 1
    assert "missed          iop" in capsys.readouterr().out
