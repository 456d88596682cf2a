"""Normalizers: the pure functions that clean one value."""
import pytest

from common import normalize as n


def test_phone_keeps_extension_and_gives_a_dialable_uri():
    phone = n.normalize_phone("713-926-9491 x3101")
    assert phone.display == "(713) 926-9491 ext. 3101"
    assert phone.e164 == "+17139269491"
    assert phone.extension == "3101"
    assert phone.tel_uri == "tel:+1-713-926-9491;ext=3101"


@pytest.mark.parametrize("text", ["(214) 339-3181", "214-339-3181", "214.339.3181", "+1 214 339 3181"])
def test_phone_formats_agree(text):
    assert n.normalize_phone(text).e164 == "+12143393181"


@pytest.mark.parametrize("text", ["", None, "123", "call us", "000-000-0000"])
def test_phone_rejects_what_is_not_a_number(text):
    assert n.normalize_phone(text) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("http://www.AAMA.org", "http://www.aama.org/"),
        ("www.garretthealth.org", "http://www.garretthealth.org/"),
        ("https://example.org/iop?x=1", "https://example.org/iop?x=1"),
        ("HTTP://Example.org/Path", "http://example.org/Path"),
        ("javascript:alert(1)", None),
        ("mailto:intake@example.org", None),
        ("http://not a host/", None),
        ("ftp://example.org/", None),
        ("", None),
    ],
)
def test_website_only_http_and_https(text, expected):
    assert n.normalize_website(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("77002", "77002"), ("77002-1234", "77002"), ("770021234", "77002"), ("02150", "02150"),
     ("2150", "02150"), (2150, "02150"), ("abc", None), ("", None)],
)
def test_zip5(text, expected):
    assert n.zip5(text) == expected


def test_coordinates_out_of_range_or_zero_are_unknown():
    assert n.coordinate("29.7604", 90) == 29.7604
    assert n.coordinate("-95.3698", 180) == -95.3698
    assert n.coordinate("91", 90) is None
    assert n.coordinate("0", 90) is None
    assert n.coordinate("nan", 90) is None
    assert n.coordinate("north", 90) is None


def test_clean_text_strips_stray_commas_spaces_and_control_characters():
    assert n.clean_text(" Dianne Ndila Mbai, ") == "Dianne Ndila Mbai"
    assert n.clean_text("A\x00B\tC  D") == "A B C D"
    assert n.clean_text("  ") is None


def test_city_name_takes_the_requested_spelling():
    assert n.city_name("HOUSTON", "Houston, TX") == "Houston"
    assert n.city_name("dallas", "Dallas, TX") == "Dallas"
    assert n.city_name("EL PASO", None) == "El Paso"
    assert n.city_name("McAllen", None) == "McAllen"


# --- the fast paths give exactly what the general paths give ------------------------------

import csv  # noqa: E402

import phonenumbers  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.support import MA_CSV, TX_CSV, need_shared  # noqa: E402

SAME_AS_LIBRARY = settings(database=None, derandomize=True, deadline=None, max_examples=300)


@st.composite
def plain_phones(draw) -> str:
    """The shapes normalize_phone reads without phonenumbers.parse, valid numbers or not."""
    area, exchange, line = draw(st.integers(200, 999)), draw(st.integers(0, 999)), draw(st.integers(0, 9999))
    sep = draw(st.sampled_from(["-", ".", " ", ""]))
    head = f"({area}) " if draw(st.booleans()) else f"{area}{sep}"
    ext = draw(st.one_of(st.none(), st.integers(0, 9999999).map(str)))
    tail = "" if ext is None else draw(st.sampled_from([" x", "x", " ext. ", " ext ", "ext.", " ext."])) + ext
    return f"{head}{exchange:03d}{sep}{line:04d}{tail}"


@SAME_AS_LIBRARY
@given(text=plain_phones())
def test_plain_phone_fast_path_matches_phonenumbers(text):
    assert n._PLAIN_US_PHONE.fullmatch(text), text  # the generator makes only fast-path shapes
    assert n.normalize_phone(text) == n.phone_from_library(text)


@SAME_AS_LIBRARY
@given(number=st.one_of(st.integers(2_000_000_000, 9_999_999_999),
                        st.sampled_from([416, 876, 787, 671, 340, 242]).flatmap(
                            lambda area: st.integers(area * 10**7, area * 10**7 + 9_999_999))))
def test_remembered_validity_is_phonenumbers_validity(number):
    """The US-first shortcut of _valid_nanp_number answers as phonenumbers.is_valid_number, for
    any ten digits and for the numbers of other +1 regions (Canada, Jamaica, Puerto Rico...)."""
    expected = phonenumbers.is_valid_number(phonenumbers.PhoneNumber(country_code=1, national_number=number))
    assert n._valid_nanp_number.__wrapped__(number) == expected


def test_remembered_validity_in_every_area_code():
    for area in range(200, 1000):
        for number in (area * 10**7 + 2_345_678, area * 10**7 + 9_876_543, area * 10**7 + 5_550_100):
            expected = phonenumbers.is_valid_number(phonenumbers.PhoneNumber(country_code=1, national_number=number))
            assert n._valid_nanp_number.__wrapped__(number) == expected, number


@SAME_AS_LIBRARY
@given(text=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30))
def test_ascii_fast_path_of_clean_text_matches_the_general_path(text):
    assert n.clean_text(text) == n.clean_any(text)


def test_every_real_phone_normalizes_as_phonenumbers_does():
    need_shared(TX_CSV, MA_CSV)
    phones = set()
    for path in (TX_CSV, MA_CSV):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                phones.update(v for k, v in row.items() if k and "phone" in k.lower() and v)
    assert len(phones) > 500
    fast = [p for p in phones if n._PLAIN_US_PHONE.fullmatch(n.clean_text(p) or "")]
    assert len(fast) > 0.9 * len(phones)  # the fast path is the common case
    assert [n.normalize_phone(p) for p in sorted(phones)] == [n.phone_from_library(n.clean_text(p)) for p in sorted(phones)]


@pytest.mark.parametrize("text", ["(713) 529-0037 x0", "713-529-0037 ext. 000", "+1 713 529 0037 ext 0"])
def test_an_extension_of_zero_is_no_extension(text):
    # SAMHSA writes "x0" where a program has no extension; "Call … ext. 0" would mislead a caller.
    phone = n.normalize_phone(text)
    assert (phone.display, phone.extension, phone.tel_uri) == ("(713) 529-0037", None, "tel:+1-713-529-0037")
    assert n.normalize_phone("713-529-0037 x10").extension == "10"
