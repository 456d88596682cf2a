"""`make hsds`: the Open Referral HSDS 3.0 tabular package, checked against the real Houston/Dallas build."""
import contextlib
import csv
import io
import json
import shutil
import sqlite3
import subprocess
import uuid
from collections import Counter

import pytest

from exports import hsds
from tests.support import ROOT

# The file of each HSDS 3.0 table: the "path" of schema/<table>.json in openreferral/specification.
PATHS = {
    "organization": "organizations.csv",
    "service": "services.csv",
    "location": "locations.csv",
    "address": "addresses.csv",
    "phone": "phones.csv",
    "service_at_location": "service_at_location.csv",
    "taxonomy": "taxonomies.csv",
    "taxonomy_term": "taxonomy_terms.csv",
    "attribute": "attributes.csv",
}
# HSDS 3.0's required fields, from openreferral/specification: each schema/<table>.json's
# "required" list plus, for the tabular form, its "tabular_required" list (the same lists as in
# schema/compiled/tabular.json).
REQUIRED = {
    "organization": ["id", "name", "description"],  # schema/organization.json required
    "service": ["id", "name", "status", "organization_id"],  # schema/service.json required + tabular_required
    "location": ["id", "location_type"],  # schema/location.json required
    "address": [  # schema/address.json required
        "id", "address_1", "city", "state_province", "postal_code", "country", "address_type",
    ],
    "phone": ["id", "number"],  # schema/phone.json required
    # schema/service_at_location.json required + tabular_required
    "service_at_location": ["id", "service_id", "location_id"],
    "taxonomy": ["id", "name", "description"],  # schema/taxonomy.json required
    "taxonomy_term": ["id", "name", "description"],  # schema/taxonomy_term.json required
    # schema/attribute.json required + tabular_required
    "attribute": ["id", "link_id", "taxonomy_term_id", "link_entity"],
}
# Every field that holds an HSDS id (format "uuid" in the schema files).
ID_FIELDS = {
    "id", "organization_id", "service_id", "location_id", "taxonomy_id", "parent_id", "link_id",
    "taxonomy_term_id",
}


def export(db, out):
    """Run the command's main() as `make hsds` does; return (exit code, stdout, stderr)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = hsds.main(["--db", str(db), "--out", str(out)])
    return code, stdout.getvalue(), stderr.getvalue()


def read_csv(path):
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return reader.fieldnames, list(reader)


def query(db, sql, *params):
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


def edited_copy(built_db, tmp_path, *statements):
    """A copy of the built database with a few rows changed, to show one behaviour."""
    db = tmp_path / "edited.db"
    shutil.copy(built_db, db)
    with sqlite3.connect(db) as conn:
        for sql, params in statements:
            conn.execute(sql, params)
    return db


@pytest.fixture(scope="module")
def package(built_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("hsds") / "hsds"
    code, stdout, stderr = export(built_db, out)
    assert code == 0, stderr
    tables = {name: read_csv(out / path) for name, path in PATHS.items()}
    return {"out": out, "stdout": stdout, "stderr": stderr, "tables": tables}


def rows(package, name):
    return package["tables"][name][1]


def test_every_hsds_file_is_written_and_nothing_else(package):
    out = package["out"]
    assert sorted(p.name for p in out.iterdir()) == sorted([*PATHS.values(), "datapackage.json"])
    # No temporary folder is left beside the package.
    assert [p.name for p in out.parent.iterdir()] == ["hsds"]


def test_datapackage_describes_every_csv_with_fields_matching_its_header(package):
    descriptor = json.loads((package["out"] / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["profile"] == "tabular-data-package"
    assert {r["name"]: r["path"] for r in descriptor["resources"]} == PATHS
    for resource in descriptor["resources"]:
        header, _ = package["tables"][resource["name"]]
        assert [f["name"] for f in resource["schema"]["fields"]] == header, resource["name"]
        assert resource["format"] == "csv" and resource["encoding"] == "utf-8"
        # The descriptor marks at least HSDS's required fields as required.
        required = {f["name"] for f in resource["schema"]["fields"] if f["constraints"]["required"]}
        assert set(REQUIRED[resource["name"]]) <= required, resource["name"]


def test_hsds_required_fields_are_in_every_header_and_filled_on_every_row(package):
    for name, fields in REQUIRED.items():
        header, table = package["tables"][name]
        assert set(fields) <= set(header), f"{PATHS[name]} lacks {set(fields) - set(header)}"
        for n, row in enumerate(table, start=2):
            empty = [f for f in fields if not row[f].strip()]
            assert not empty, f"{PATHS[name]} line {n}: required {empty} empty"


def test_ids_are_unique_version_5_uuids(package):
    for name, (header, table) in package["tables"].items():
        ids = [row["id"] for row in table]
        assert len(ids) == len(set(ids)), f"{PATHS[name]}: duplicate ids"
        for row in table:
            for field in ID_FIELDS & set(header):
                if row[field]:
                    parsed = uuid.UUID(row[field])
                    assert str(parsed) == row[field] and parsed.version == 5, (name, field, row[field])


def test_ids_are_derived_from_the_program_ids(package, built_db):
    program = query(built_db, "select id from programs where alternate_name = '(AAMA)/TARP Outpatient'")[0]
    organization = next(r for r in rows(package, "organization") if r["alternate_name"] == "(AAMA)/TARP Outpatient")
    assert organization["id"] == str(uuid.uuid5(hsds.NAMESPACE, f"organization:{program['id']}"))


def test_foreign_keys_resolve(package):
    ids = {name: {row["id"] for row in rows(package, name)} for name in PATHS}
    links = [
        ("service", "organization_id", "organization"),
        ("location", "organization_id", "organization"),
        ("address", "location_id", "location"),
        ("phone", "service_id", "service"),
        ("service_at_location", "service_id", "service"),
        ("service_at_location", "location_id", "location"),
        ("taxonomy_term", "taxonomy_id", "taxonomy"),
        ("attribute", "taxonomy_term_id", "taxonomy_term"),
        ("attribute", "link_id", "service"),
    ]
    for table, field, target in links:
        dangling = {row[field] for row in rows(package, table)} - ids[target]
        assert not dangling, f"{PATHS[table]}.{field}: {len(dangling)} ids not in {PATHS[target]}"
    assert {row["link_entity"] for row in rows(package, "attribute")} == {"service"}
    assert all(row["parent_id"] == "" for row in rows(package, "taxonomy_term"))


def test_one_organization_service_location_and_address_per_program(package, built_db):
    programs = query(built_db, "select count(*) n from programs")[0]["n"]
    assert programs > 400
    for name in ("organization", "service", "location", "address", "service_at_location"):
        assert len(rows(package, name)) == programs, name
    # Each service at its own program's location.
    location_of = {row["service_id"]: row["location_id"] for row in rows(package, "service_at_location")}
    assert len(set(location_of.values())) == programs
    assert {r["status"] for r in rows(package, "service")} == {"active"}
    assert {r["location_type"] for r in rows(package, "location")} == {"physical"}
    assert {(r["country"], r["address_type"]) for r in rows(package, "address")} == {("US", "physical")}


def test_a_program_maps_to_its_own_values(package, built_db):
    program = query(built_db, "select * from programs where alternate_name = '(AAMA)/TARP Outpatient'")[0]
    org = next(r for r in rows(package, "organization") if r["alternate_name"] == program["alternate_name"])
    service = next(r for r in rows(package, "service") if r["organization_id"] == org["id"])
    location = next(r for r in rows(package, "location") if r["organization_id"] == org["id"])
    address = next(r for r in rows(package, "address") if r["location_id"] == location["id"])
    assert org["name"] == service["name"] == location["name"] == "Assoc for the Adv of Mexican Amer Inc"
    assert org["description"] == "Treatment program listed by SAMHSA (FindTreatment.gov) as: Substance use."
    assert service["url"] == org["website"] == "http://www.aama.org/"
    assert service["email"] == ""
    assert service["description"].startswith(
        "Levels of care: Intensive outpatient (ASAM level 2.1); Outpatient (ASAM level 1)."
    )
    assert (float(location["latitude"]), float(location["longitude"])) == (program["latitude"], program["longitude"])
    assert address == {
        "id": address["id"], "location_id": location["id"], "address_1": "204 Clifton Street",
        "city": "Houston", "state_province": "TX", "postal_code": "77011", "country": "US",
        "address_type": "physical",
    }


def test_the_phone_extension_is_its_own_field_and_the_intake_number_is_another_phone(package):
    org = next(r for r in rows(package, "organization") if r["alternate_name"] == "(AAMA)/TARP Outpatient")
    service = next(r for r in rows(package, "service") if r["organization_id"] == org["id"])
    phones = [(p["number"], p["extension"], p["type"], p["description"])
              for p in rows(package, "phone") if p["service_id"] == service["id"]]
    assert phones == [
        ("(713) 926-9491", "3101", "voice", "Main number."),
        ("(713) 926-9491", "", "voice", "Intake or hotline number."),
    ]


def test_every_listed_and_intake_phone_is_exported(package, built_db):
    expected = 0
    for p in query(built_db, "select phones, intake_phone from programs"):
        numbers = json.loads(p["phones"])
        expected += len(numbers) + bool(p["intake_phone"] and p["intake_phone"] not in numbers)
    assert len(rows(package, "phone")) == expected
    assert not [p for p in rows(package, "phone") if " ext. " in p["number"]]


def test_taxonomy_terms_are_the_care_levels(package, built_db):
    (taxonomy,) = rows(package, "taxonomy")
    assert taxonomy["name"] == "Levels of care"
    levels = query(built_db, "select slug, label, asam_level, description from care_levels order by sort_order")
    terms = rows(package, "taxonomy_term")
    assert [(t["code"], t["name"]) for t in terms] == [(lv["slug"], lv["label"]) for lv in levels]
    for term, level in zip(terms, levels):
        assert term["description"].startswith(level["description"])
        assert "ASAM level" in term["description"], term["code"]
        assert term["taxonomy_id"] == taxonomy["id"]
    detox = next(t for t in terms if t["code"] == "detox")
    assert detox["description"].endswith("ASAM level: WM.")


def test_attribute_rows_per_care_level_equal_the_programs_with_that_level(package, built_db):
    code_of = {t["id"]: t["code"] for t in rows(package, "taxonomy_term")}
    exported = Counter(code_of[a["taxonomy_term_id"]] for a in rows(package, "attribute"))
    expected = {
        r["care_level"]: r["n"]
        for r in query(built_db, "select care_level, count(distinct program_id) n from program_care_levels group by 1")
    }
    assert dict(exported) == expected
    assert expected["iop"] > 10
    pairs = [(a["link_id"], a["taxonomy_term_id"]) for a in rows(package, "attribute")]
    assert len(pairs) == len(set(pairs))


def test_summary_line_counts_each_file(package):
    line = package["stdout"].strip().splitlines()[-1]
    counts = ", ".join(f"{path} {len(rows(package, name))}" for name, path in PATHS.items())
    assert line == f"Wrote HSDS 3.0 package {package['out']}: {counts}"
    assert package["stderr"] == ""


def test_running_twice_gives_byte_identical_files(package, built_db, tmp_path):
    code, _, _ = export(built_db, tmp_path / "again")
    assert code == 0
    for path in [*PATHS.values(), "datapackage.json"]:
        assert (tmp_path / "again" / path).read_bytes() == (package["out"] / path).read_bytes(), path


def test_commas_quotes_and_newlines_round_trip_through_csv(built_db, tmp_path):
    tricky = 'Hope, "Recovery"\nCenter; Ñandú'
    db = edited_copy(built_db, tmp_path, (
        "update programs set name = ?, alternate_name = ? where alternate_name = '(AAMA)/TARP Outpatient'",
        (tricky, tricky),
    ))
    code, _, stderr = export(db, tmp_path / "hsds")
    assert code == 0, stderr
    _, organizations = read_csv(tmp_path / "hsds" / "organizations.csv")
    matches = [o for o in organizations if o["alternate_name"] == tricky]
    assert len(matches) == 1 and matches[0]["name"] == tricky


def test_a_program_without_coordinates_or_city_keeps_its_location_and_says_what_was_left_out(built_db, tmp_path):
    aama = query(built_db, "select id from programs where alternate_name = '(AAMA)/TARP Outpatient'")[0]["id"]
    other = query(built_db, "select id from programs where id != ? order by id limit 1", aama)[0]["id"]
    db = edited_copy(
        built_db, tmp_path,
        ("update programs set latitude = null, longitude = null where id = ?", (aama,)),
        ("update programs set city = null where id = ?", (other,)),
    )
    code, stdout, stderr = export(db, tmp_path / "hsds")
    assert code == 0
    _, locations = read_csv(tmp_path / "hsds" / "locations.csv")
    location = next(r for r in locations if r["id"] == hsds.hsds_id("location", aama))
    assert (location["latitude"], location["longitude"]) == ("", "")
    _, addresses = read_csv(tmp_path / "hsds" / "addresses.csv")
    assert len(addresses) == len(locations) - 1
    assert hsds.hsds_id("location", other) in {r["id"] for r in locations}
    assert hsds.hsds_id("location", other) not in {r["location_id"] for r in addresses}
    assert f"programs row {other}: no city: its address is left out of addresses.csv" in stderr
    assert stdout.strip().endswith("; 1 incomplete addresses left out")


def test_a_program_no_longer_listed_is_an_inactive_service(built_db, tmp_path):
    aama = query(built_db, "select id from programs where alternate_name = '(AAMA)/TARP Outpatient'")[0]["id"]
    columns = {r["name"] for r in query(built_db, "pragma table_info(programs)")}
    statements = [] if "status" in columns else [("alter table programs add column status text", ())]
    statements.append(("update programs set status = case when id = ? then 'missing' else 'listed' end", (aama,)))
    code, _, stderr = export(edited_copy(built_db, tmp_path, *statements), tmp_path / "hsds")
    assert code == 0, stderr
    _, services = read_csv(tmp_path / "hsds" / "services.csv")
    assert Counter(s["status"] for s in services)["inactive"] == 1
    assert next(s for s in services if s["id"] == hsds.hsds_id("service", aama))["status"] == "inactive"


def test_a_failed_export_leaves_the_previous_package_whole(built_db, tmp_path, monkeypatch):
    out = tmp_path / "hsds"
    assert export(built_db, out)[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real_write = hsds.write_csv

    def fail_on_phones(path, fields, rows, resource):
        if resource == "phone":
            raise hsds.HsdsError("disk full (simulated)")
        real_write(path, fields, rows, resource)

    monkeypatch.setattr(hsds, "write_csv", fail_on_phones)
    code, _, stderr = export(built_db, out)
    assert code == 1 and "disk full (simulated)" in stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["hsds"]


def test_it_refuses_to_replace_a_folder_that_is_not_a_package(built_db, tmp_path):
    out = tmp_path / "documents"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    code, _, stderr = export(built_db, out)
    assert code == 1 and "holds no datapackage.json" in stderr
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_a_missing_database_is_a_clear_error(tmp_path):
    code, _, stderr = export(tmp_path / "nope.db", tmp_path / "hsds")
    assert code == 1 and "run `make data` first" in stderr
    assert not (tmp_path / "hsds").exists()


def test_make_hsds_writes_the_package(built_db, tmp_path):
    out = tmp_path / "package"
    result = subprocess.run(
        ["make", "--no-print-directory", "hsds", f"DB={built_db}", f"HSDS_DIR={out}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith(f"Wrote HSDS 3.0 package {out}: organizations.csv ")
    assert sorted(p.name for p in out.iterdir()) == sorted([*PATHS.values(), "datapackage.json"])
