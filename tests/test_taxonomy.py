"""The care-level vocabulary and the code reference, both kept as data."""
from common import vocab
from common.code_reference import load_code_reference
from pipelines.taxonomy import care_levels_from_codes, facet_values, is_placeholder
from tests.support import CODE_REFERENCE, DESIGN_EVIDENCE, need_shared

# DESIGN.md's table, written out here independently of data/care_level_codes.csv.
def test_care_level_data_matches_the_design():
    mapping = vocab.care_level_codes()
    for level, codes in DESIGN_EVIDENCE.items():
        assert {c for c, levels in mapping.items() if level in levels} == codes
    assert list(vocab.care_levels())[0] == "iop"
    assert vocab.care_levels()["iop"].asam_level == "2.1"


def test_every_mapped_code_is_in_samhsas_reference():
    need_shared(CODE_REFERENCE)
    reference = load_code_reference()
    assert len(reference.codes) == 314
    for code in vocab.care_level_codes():
        assert code in reference.codes
    for facet, by_code in vocab.derived_facets().items():
        assert set(by_code) <= set(reference.codes), facet
    assert reference.get("oit").name == "Intensive outpatient treatment"
    assert reference.get("DT").name == "Detoxification"  # the reference's trailing spaces are gone


def test_one_code_can_say_two_levels_and_evidence_is_kept():
    assert care_levels_from_codes(["HID", "OIT", "MD"]) == {"iop": ["OIT"], "inpatient": ["HID"], "detox": ["HID"]}
    assert care_levels_from_codes(["RS", "RES", "RL"]) == {"residential": ["RES", "RL", "RS"]}
    assert care_levels_from_codes(["MD", "SP"]) == {}


def test_facets_from_codes():
    values = facet_values(["MD", "SS", "SP", "F70", "BWN", "VTRL", "TELE", "ADLT"])
    assert values["payment"] == ["Medicaid", "Sliding fee scale"]
    assert values["languages"] == ["Spanish", "Russian"]
    assert values["medications"] == ["Buprenorphine", "Naltrexone"]
    assert values["telehealth"] == ["Telehealth"]
    assert values["ages"] == ["Adults"]


def test_placeholder_rule():
    everything = [f"C{i}" for i in range(200)]
    assert is_placeholder("BUPREN", everything, 314)
    assert is_placeholder("otp", everything, 314)
    assert not is_placeholder("SU", everything, 314)
    assert not is_placeholder("OTP", ["MM", "OTP", "MD"], 314)  # an OTP with real detail counts
