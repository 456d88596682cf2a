"""A program's intensity read from its schedule, for pages that describe a level without naming
it: "nine hours a week of group work", "meets three evenings a week for three hours", "Monday,
Tuesday and Thursday, 6:00 to 9:00 p.m.", "six hours a day, five days a week".

    schedule_spans(text) -> [(start, end, level)]

The hours a week decide the level by ASAM's criteria: 9 to 19 hours of structured treatment a
week is intensive outpatient (level 2.1), 20 or more is partial hospitalization (level 2.5).
Fewer hours say nothing here (weekly sessions are outpatient by the phrase data's
described_level rows). Office, visiting and walk-in hours are times the door is open, not a
program's schedule, and are left out, as are school and testing hours; a sentence must say what
meets (groups, sessions, the program) or for how many weeks (a program runs for weeks; a door
opens every week).
"""
from __future__ import annotations

import re

IOP_HOURS = 9  # ASAM 2.1: 9 or more hours a week for adults
PHP_HOURS = 20  # ASAM 2.5: 20 or more hours a week
# A day of treatment is at most about seven hours (PHP: "8:30 to 3:30"); a longer span is a door's
# hours ("Counseling | Mon–Fri 6:00 am–2:30 pm" at a methadone clinic).
MAX_PROGRAM_DAY = 7.5

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30,
    "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8,
    "nueve": 9, "diez": 10, "once": 11, "doce": 12, "quince": 15, "veinte": 20,
}
_NUM = r"(\d{1,2}(?:\.\d)?|" + "|".join(NUMBER_WORDS) + r")"
_RANGE = _NUM + r"(?:\s*(?:to|-|–|or|a)\s*" + _NUM + r")?"
_WEEK = r"(?:a|per|each|every|a\s+la|por|por\s+la|cada)\s+(?:week|semana)"
# "nine hours a week", "Nine hours of group a week", "nueve horas de grupo por semana"
WEEKLY_HOURS = re.compile(rf"\b{_RANGE}[\s-]*(?:hours?|hrs?|horas)\s+(?:(?:of|de)\s+(?:[a-záéíóúñ]+\s+){{1,2}})?"
                          rf"(?:{_WEEK}|weekly|semanales)\b", re.I)
# The week's hours told as a total beside its days: "Three evenings a week, nine hours in all".
TOTAL_HOURS = re.compile(rf"\b{_RANGE}[\s-]*(?:hours?|hrs?|horas)\s+(?:in\s+all|in\s+total|total|en\s+total)\b", re.I)
DAILY_HOURS = re.compile(rf"\b(?:for\s+|de\s+)?{_RANGE}[\s-]*(?:hours?|hrs?|horas)\b"
                         rf"(?:\s+(?:a|per|each|al|por|diarias)\s*(?:day|evening|night|session|morning|afternoon|d[ií]a)?)?",
                         re.I)
DAYS_A_WEEK = re.compile(rf"\b{_NUM}\s+(?:(?:week)?days?|evenings?|nights?|mornings?|afternoons?|times|d[ií]as|"
                         rf"noches|tardes|mañanas|veces)\s+(?:{_WEEK}|weekly)\b", re.I)
DAY_NAMES = ("monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thurs|fri|sat|sun|"
             "lunes|martes|miércoles|miercoles|jueves|viernes|sábado|sabado|domingo")
DAY_NAME = re.compile(rf"\b({DAY_NAMES})s?\b\.?", re.I)
DAY_SPAN = re.compile(rf"\b({DAY_NAMES})s?\.?\s*(?:through|thru|to|-|–|a)\s*({DAY_NAMES})s?\b", re.I)
WEEKDAYS = re.compile(r"\b(?:weekdays|every\s+weekday|de\s+lunes\s+a\s+viernes)\b", re.I)
_HALF = r"(a\.?\s?m\.?|p\.?\s?m\.?|in\s+the\s+(?:morning|afternoon|evening)|de\s+la\s+(?:mañana|tarde|noche))"
_CLOCK = rf"(\d{{1,2}})(?::(\d{{2}}))?\s*{_HALF}?"
NOON = re.compile(r"noon|mediod[ií]a", re.I)
TIME_SPAN = re.compile(rf"\b{_CLOCK}\s*(?:to|-|–|until|a)\s*(?:{_CLOCK}(?!\d)|(noon|mediod[ií]a))", re.I)
AFTERNOON = re.compile(r"p|.*(?:afternoon|evening|tarde|noche)", re.I)
NOT_A_PROGRAM = re.compile(r"\b(?:office\s+hours|hours\s*:|open|opens|walk-?ins?|assessments?|visiting|visitation|"
                           r"phones?|call|horario\s+de\s+atenci[oó]n|abierto|hours?\s+of\s+school|school\s+hours|class(?:es)?|testing|tests?|"
                           r"dosing|pharmacy|lab|escuela|clases)\b", re.I)
# A schedule is a program's only where the sentence says what meets: groups, sessions, the program.
TREATMENT_WORDS = re.compile(r"\b(?:groups?|program(?:me)?s?|therapy|treatment|sessions?|counsel(?:l)?ing|meets?|"
                             r"meetings?\s+of\s+the\s+program|individual\s+and\s+group|tracks?|programas?|terapia|"
                             r"tratamiento|sesiones|grupos?|se\s+re[uú]ne|come\s+to\s+us|"
                             r"(?:for|durante)\s+(?:\d+|\w+)\s*(?:(?:to|-|–|a)\s*(?:\d+|\w+)\s+)?(?:weeks|semanas))\b", re.I)
WEEK_ORDER = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
SPANISH_DAYS = {"lun": "mon", "mar": "tue", "mié": "wed", "mie": "wed", "jue": "thu", "vie": "fri",
                "sáb": "sat", "sab": "sat", "dom": "sun"}


def _number(word: str | None) -> float | None:
    if word is None:
        return None
    word = word.lower()
    return NUMBER_WORDS.get(word) if word in NUMBER_WORDS else float(word)


def _day(name: str) -> str:
    key = name.lower()[:3]
    return SPANISH_DAYS.get(key, key)


def _level(hours: float) -> str | None:
    return "php" if hours >= PHP_HOURS else "iop" if hours >= IOP_HOURS else None


def _days(text: str) -> tuple[int, int, int] | None:
    """(days a week, start, end) the text names: "three evenings a week", "Monday through Friday",
    "weekdays", or a list of day names ("Monday, Tuesday and Thursday")."""
    said = DAYS_A_WEEK.search(text)
    if said:
        return int(_number(said.group(1))), said.start(), said.end()
    span = DAY_SPAN.search(text)
    if span:
        first, last = WEEK_ORDER.index(_day(span.group(1))), WEEK_ORDER.index(_day(span.group(2)))
        return (last - first) % 7 + 1, span.start(), span.end()
    weekdays = WEEKDAYS.search(text)
    if weekdays:
        return 5, weekdays.start(), weekdays.end()
    names = list(DAY_NAME.finditer(text))
    distinct = {_day(m.group(1)) for m in names}
    if len(distinct) >= 2:
        return len(distinct), names[0].start(), names[-1].end()
    return None


def _clock_hours(hour: str, minute: str | None, half: str | None) -> float:
    value = int(hour) % 12 + (int(minute) if minute else 0) / 60
    return value + 12 if half and AFTERNOON.match(half) else value


def _hours_a_day(text: str) -> tuple[float, int, int] | None:
    """(hours a day, start, end): "three hours", "6 hours a day", or a time span "6:00 to 9:00 p.m."."""
    said = DAILY_HOURS.search(text)
    if said:
        return _number(said.group(1)), said.start(), said.end()
    for span in TIME_SPAN.finditer(text):
        h1, m1, half1, h2, m2, half2, noon = span.groups()
        if noon:
            h2, m2, half2 = "12", None, "pm"
        if not (m1 or m2 or half1 or half2):
            continue  # "3-5" is no clock time
        end = _clock_hours(h2, m2, half2)
        start = _clock_hours(h1, m1, half1 or (half2 if int(h1) % 12 <= int(h2) % 12 else None))
        length = end - start if end > start else end + 12 - start
        if 0.5 <= length <= MAX_PROGRAM_DAY:
            return length, span.start(), span.end()
    return None


def schedule_spans(text: str) -> list[tuple[int, int, str]]:
    """The level a program's schedule in this text amounts to, with the span that says it."""
    if NOT_A_PROGRAM.search(text) or not TREATMENT_WORDS.search(text):
        return []
    weekly = WEEKLY_HOURS.search(text) or (_days(text) and TOTAL_HOURS.search(text))
    if weekly:
        level = _level(_number(weekly.group(1)))
        return [(weekly.start(), weekly.end(), level)] if level else []
    days, daily = _days(text), _hours_a_day(text)
    if not (days and daily):
        return []
    level = _level(days[0] * daily[0])
    if not level:
        return []
    return [(min(days[1], daily[1]), max(days[2], daily[2]), level)]


def is_timetable(text: str) -> bool:
    """Days of the week and a time of day, and no door's hours ("Monday, Tuesday and Thursday
    evenings, 5:00–8:00 pm"): under a heading naming a level, the level's own timetable."""
    return not NOT_A_PROGRAM.search(text) and bool(_days(text)) and bool(_hours_a_day(text))

