"""A program's schedule read as hours a week (pipelines.site_schedule) and the descriptions that
state a level by themselves (self_described_level rows), as the classifier uses them."""
import pytest

from pipelines.site_schedule import schedule_spans
from tests.support import saved_page_levels


@pytest.mark.parametrize("text, level", [
    ("Our Evening Recovery Program meets three evenings a week for three hours.", "iop"),  # 9 h
    ("Nine hours a week of group and individual work, for 8 to 12 weeks.", "iop"),
    ("Groups meet Monday, Tuesday and Thursday, 9:00 a.m.–noon, for twelve weeks.", "iop"),  # 3 x 3 h
    ("Three-hour group sessions, four days a week, from home.", "iop"),  # 12 h
    ("Treatment groups run Monday through Friday, 8:30 a.m. to 2:30 p.m.", "php"),  # 5 x 6 h
    ("The program runs six hours a day, five days a week.", "php"),
    ("El programa se reúne martes, miércoles y jueves de 6 a 9 de la noche, durante 12 semanas.", "iop"),
])
def test_a_programs_schedule_gives_its_level_by_hours_a_week(text, level):
    assert [found for _, _, found in schedule_spans(text)] == [level]


@pytest.mark.parametrize("text", [
    "Walk-in assessments Monday – Thursday, 8:30 am – 2:00 pm.",  # the door, not a program
    "Office hours: Monday through Friday, 8 a.m. to 5 p.m.",
    "Two hours of school with our certified teacher on weekdays.",
    "Drug testing for courts, Monday through Friday 7:30 am – 4:00 pm.",
    "Mon–Fri 5:30–11:00 a.m.",  # a clinic's hours: nothing says what meets
    "Family group meets Tuesdays 6-8 pm.",  # one evening: 2 hours a week
    "Outpatient groups meet one to eight hours a week.",  # under the IOP threshold
])
def test_hours_that_are_not_a_programs_schedule_or_too_few_give_no_level(text):
    assert schedule_spans(text) == []


def page(tmp_path, body: str):
    return saved_page_levels(tmp_path, f"<main>{body}</main>")


def test_a_described_schedule_or_stay_states_its_level_on_the_programs_page(tmp_path):
    assert page(tmp_path, "<h1>Evening Program</h1><p>Groups meet three evenings a week for three hours, "
                          "for 10 weeks.</p>") == ["iop"]
    assert page(tmp_path, "<h1>The Ranch</h1><p>Men live on the ranch for 60 to 120 days.</p>") == ["residential"]
    assert page(tmp_path, "<h1>Casa</h1><p>Los hombres viven en nuestra casa durante 90 días.</p>") == ["residential"]


def test_a_schedule_said_in_general_or_ruled_out_states_nothing(tmp_path):
    assert page(tmp_path, "<h1>Levels explained</h1><p>An IOP typically meets three hours a day, three days "
                          "a week.</p>") == []
    assert page(tmp_path, "<h1>Ranch</h1><p>Clients no longer live on the ranch since it closed in 2019.</p>") == []


def test_tabs_of_levels_are_confirmed_together_when_one_pane_is_the_programs_own(tmp_path):
    tabs = ("<h4>Detox</h4><p>Medically monitored withdrawal at our Indianapolis campus.</p>"
            "<h4>Residential</h4><p>28 to 45 days in Indianapolis.</p><h4>IOP</h4><p>Evenings in Fort Wayne.</p>")
    assert page(tmp_path, tabs) == ["detox", "iop", "residential"]
    declined = ("<h4>Detox</h4><p>Medically monitored withdrawal at our campus.</p><h4>Residential</h4>"
                "<p>We do not provide this level of care, but our team can refer you.</p>")
    assert page(tmp_path, declined) == ["detox"]


def test_a_level_named_as_a_paragraphs_first_sentence_then_described(tmp_path):
    body = ("<h2>Our levels of care</h2><p>Partial hospitalization program. Monday through Friday, days at our "
            "campus. Most people stay in PHP three weeks after residential.</p>")
    assert page(tmp_path, body) == ["php"]
