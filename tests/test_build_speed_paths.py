"""The build's fast paths give exactly what the general code gives: a listing packed for the
staging table comes back equal, and the JSON of a list of text is json.dumps's, character for
character (pipelines/records.py pack_listing, pipelines/rows.py _json)."""
from __future__ import annotations

import json

from pipelines.records import Listing, listing_from_item, pack_listing, unpack_listing
from pipelines.rows import _json
from pipelines.taxonomy import care_levels_from_codes, facet_values
from tests.support import item

KNOWN_CODES = 300


def test_a_packed_listing_comes_back_equal():
    listing = listing_from_item(item(
        phone="(713) 555-0100 x12", intake_phone="713-555-0101", extras={"intake2": "832-555-0102"},
        name2="Northside Clinic", street2="Suite 4", county="Harris", source_date="2023-11",
        unmapped_services=[{"category_code": "TC", "category_name": "Type of care", "text": "Équine therapy"}],
        service_codes=["OIT", "MD", "md", "bad code!"], latitude="29.7604", longitude="-95.3698",
    ), KNOWN_CODES)
    assert isinstance(listing, Listing)
    assert listing.phone and listing.phone.extension == "12" and len(listing.intake_phones) == 2
    assert listing.warnings and listing.unmapped_services
    assert unpack_listing(pack_listing(listing)) == listing


def test_a_packed_listing_without_phones_or_point_comes_back_equal():
    listing = listing_from_item(item(phone=None, website=None, latitude=None, longitude=None, zip=None), KNOWN_CODES)
    assert listing.phone is None and listing.latitude is None and listing.intake_phones == []
    assert unpack_listing(pack_listing(listing)) == listing


def test_the_json_of_a_list_of_text_is_json_dumps():
    for values in ([], ["a"], ["Medicaid", "Medicare"], ['quote " and \\ backslash', "tab\there", "new\nline"],
                   ["Español", "中文", "emoji 😀", "\u2028 separator", "\x00 nul", "\ufffd"],
                   [1, "mixed"], [["text", "TC", None]], {"title": "a popup"}, {},
                   {"title": 'Clinic "Uno" · Ñ', "description": "Intensive outpatient · (713) 555-0100", "link": "../p"},
                   {"n": 1}, {"t": None}):
        assert _json(values) == json.dumps(values, ensure_ascii=False)


def test_care_levels_and_facets_of_codes():
    codes = ["OIT", "zz", "DT", "RES", "MD", "HID", "MD", "SP"]
    assert care_levels_from_codes(codes) == {
        "iop": ["OIT"], "residential": ["RES"], "inpatient": ["HID"], "detox": ["DT", "HID"]}
    assert care_levels_from_codes([]) == {}
    facets = facet_values(codes)
    assert facets["payment"] == ["Medicaid"]
    assert facets["languages"] == ["Spanish"]
