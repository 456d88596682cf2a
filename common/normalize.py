"""Pure functions that turn a source's text into clean values. None means "nothing usable"."""
from __future__ import annotations

import math
import re
import string
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

import phonenumbers

# C0 and C1 controls, and the invisible format characters that reorder or hide text: bidi
# embeddings, overrides and isolates (U+202A-202E, U+2066-2069), marks (U+200E/F, U+061C),
# zero-width spaces and joiners' cousins (U+200B, U+2060, U+FEFF). A name must read as written.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e"
                      r"\u2060-\u2064\u2066-\u2069\ufeff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # lone surrogates: no UTF-8 file or SQLite text can hold them
# The patterns below run for every listing, several times: compiled once here rather than looked
# up in re's cache on each call (which cost about a tenth of normalizing a listing).
_SPACES = re.compile(r"\s+")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
_HOST_PORT = re.compile(r"^[\w.-]+:\d+")
_HOST = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)+")
_ZIP = re.compile(r"([0-9]{3,5})(?:-?[0-9]{4})?")
_STATE = re.compile(r"[A-Z]{2}")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def scrub(text: str) -> str:
    """Text that UTF-8 can encode: each lone surrogate (an undecodable byte) becomes U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def clean_text(value) -> str | None:
    """Strip, drop control characters, single-space; also the stray commas and spaces around
    practitioners' names (" Dianne Ndila Mbai, "). Text and numbers only (a spreadsheet's 77002.0
    is "77002"): a list, a dict, a boolean or a NaN is no text, None."""
    if type(value) is not str:  # nearly every value is text: no type tests for it
        value = _text_of(value)
        if value is None:
            return None
    if value.isascii() and value.isprintable() and "  " not in value:
        # Most source text: nothing to scrub, fold or collapse (clean_any's result, much cheaper).
        return value.strip(" ,;") or None
    return clean_any(value)


def _text_of(value) -> str | None:
    """A value that is not plain text as text: numbers written out, anything else None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else str(value)
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # more digits than Python converts
            return None
    return value if isinstance(value, str) else None


def clean_any(value: str) -> str | None:
    """clean_text's general path, for any text."""
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", scrub(value)))
    text = _SPACES.sub(" ", text).strip(" ,;")
    return text or None


@dataclass(frozen=True)
class Phone:
    display: str  # "(713) 926-9491 ext. 3101"
    e164: str  # "+17139269491"
    extension: str | None  # "3101"
    tel_uri: str  # "tel:+1-713-926-9491;ext=3101", for a link a phone can dial


# The shapes nearly every US listing writes: "713-926-9491", "(713) 926-9491", "713.926.9491 x12".
# For these the digits are plain; phonenumbers still decides validity (see normalize_phone).
_PLAIN_US_PHONE = re.compile(
    r"(?:\(([2-9][0-9]{2})\) ?|([2-9][0-9]{2})[ .-]?)([0-9]{3})[ .-]?([0-9]{4})(?: ?(?:x|ext\.?) ?([0-9]{1,7}))?")


def real_extension(extension: str | None) -> str | None:
    """An extension that dials somewhere: SAMHSA writes "x0" (and "x000") where there is none,
    which a person would read as "Call (713) 529-0037 ext. 0"."""
    return extension if extension and extension.strip("0") else None


def normalize_phone(value, region: str = "US") -> Phone | None:
    """Parse a US phone number with phonenumbers, keeping the extension. None if not a valid number."""
    text = clean_text(value)
    if not text:
        return None
    plain = _PLAIN_US_PHONE.fullmatch(text) if region == "US" else None
    if not plain:
        return phone_from_library(text, region)
    # The number phonenumbers.parse makes of these shapes, without its general-purpose parsing.
    in_brackets, area, exchange, line, extension = plain.groups()
    area = in_brackets or area
    extension = real_extension(extension)
    if not _valid_nanp_number(int(area + exchange + line)):
        return None
    # All NANP numbers format as (AAA) EEE-NNNN; format_number costs more than the parse.
    national = f"({area}) {exchange}-{line}"
    return Phone(
        display=f"{national} ext. {extension}" if extension else national,
        e164=f"+1{area}{exchange}{line}",
        extension=extension,
        tel_uri=f"tel:+1-{area}-{exchange}-{line}" + (f";ext={extension}" if extension else ""),
    )


# phonenumbers.is_valid_number finds a +1 number's region by trying each region's patterns, the
# US first, then checks the number against that region's patterns again. When the US comes
# first and has no leading digits (so the US is the region of any number it accepts), a number
# valid for the US is valid: one check instead of two for nearly every listing's number.
_US_DECIDES_FIRST = (phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1][0] == "US"
                     and phonenumbers.PhoneMetadata.metadata_for_region("US").leading_digits is None)


@lru_cache(maxsize=1 << 16)
def _valid_nanp_number(national_number: int) -> bool:
    """phonenumbers' validity of a +1 number (an extension does not change it). Remembered: a
    number comes again and again (a program's twin listings, its intake line: a quarter to half
    of a state's numbers repeat), and each check runs some twenty regular expressions."""
    number = phonenumbers.PhoneNumber(country_code=1, national_number=national_number)
    if _US_DECIDES_FIRST and phonenumbers.is_valid_number_for_region(number, "US"):
        return True
    return phonenumbers.is_valid_number(number)


def phone_from_library(text: str, region: str = "US") -> Phone | None:
    """normalize_phone's general path: phonenumbers parses, validates and formats any shape."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    extension = real_extension(number.extension)
    national = phonenumbers.format_number(
        phonenumbers.PhoneNumber(country_code=number.country_code, national_number=number.national_number),
        phonenumbers.PhoneNumberFormat.NATIONAL,
    )
    whole = phonenumbers.PhoneNumber(country_code=number.country_code, national_number=number.national_number,
                                     extension=extension)
    return Phone(
        display=f"{national} ext. {extension}" if extension else national,
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        extension=extension,
        tel_uri=phonenumbers.format_number(whole, phonenumbers.PhoneNumberFormat.RFC3966),
    )


# What may follow the host of a URL (RFC 3986: unreserved, reserved and %-escapes).
_URL_REST = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
MAX_URL = 2000


def normalize_website(value) -> str | None:
    """An http(s) URL with a lower-case host, "http://" added when the source left it out.
    Anything else (javascript:, mailto:, no host, spaces in the host) gives None."""
    text = clean_text(value)
    if not text:
        return None
    if not _SCHEME.match(text):
        if ":" in text.split("/", 1)[0] and not _HOST_PORT.match(text):
            return None  # a scheme we do not link to, such as javascript: or mailto:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme.lower() not in ("http", "https") or not _HOST.fullmatch(host):
        return None
    if not _URL_REST.fullmatch(parts.path + ("?" + parts.query if parts.query else "")) or len(text) > MAX_URL:
        return None  # quotes, spaces, angle brackets: not a URL a source meant (RFC 3986 characters only)
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def zip5(value) -> str | None:
    """The five-digit ZIP of "77002", "77002-1234" or a spreadsheet's 2150 (leading zero lost)."""
    text = clean_text(value)
    if not text:
        return None
    match = _ZIP.fullmatch(text)
    if not match:
        return None
    return match.group(1).zfill(5)


def coordinate(value, limit: float) -> float | None:
    """A latitude (limit 90) or longitude (limit 180) as a float; None if not a number in range."""
    text = clean_text(value)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    if number != number or abs(number) > limit or number == 0.0:
        return None  # NaN, out of range, or the 0 that stands for "unknown"
    return round(number, 7)


def city_name(value, city_query: str | None = None) -> str | None:
    """The city as people write it: without trailing punctuation ("Corpus Christi,"), with the
    abbreviations of data/city_words.csv spelled out ("Ft Worth" is Fort Worth); the requested
    city's spelling when the row is that city ("HOUSTON" kept for "Houston, TX" becomes
    "Houston"), else title case for all-caps or all-lower text, else as given."""
    text = (clean_text(value) or "").rstrip(" ,.;:")
    if not text:
        return None
    if text.isupper() or text.islower():
        text = string.capwords(text)
    text = _spell_out_city_words(text)
    wanted = (clean_text(city_query) or "").rpartition(",")[0].strip()
    if wanted and match_key(wanted) == match_key(text):
        return wanted
    return text


@lru_cache(maxsize=1)
def _city_words() -> dict[str, str]:
    import csv

    from common import paths

    with (paths.DATA / "city_words.csv").open(newline="", encoding="utf-8") as fh:
        return {row["word"].lower(): row["full"] for row in csv.DictReader(fh)}


def _spell_out_city_words(text: str) -> str:
    *words, last = text.split(" ")  # every word but the last is spelled out
    full = _city_words()
    return " ".join([*(full.get(w.rstrip(".").lower(), w) for w in words), last])


def state_code(value) -> str | None:
    text = (clean_text(value) or "").upper()
    return text if _STATE.fullmatch(text) else None


def match_key(text: str | None) -> str:
    """Text folded for matching listings: lower case, letters and digits, single spaces."""
    return _NOT_ALNUM.sub(" ", (text or "").lower()).strip()
