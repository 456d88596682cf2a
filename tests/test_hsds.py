"""`make hsds`: the Open Referral HSDS 3.0 package (every official table as CSV, the official
datapackage.json) and the same services as HSDS JSON, checked against the real Houston/Dallas
build and validated against the official specification files (exports/hsds_spec/) with
frictionless and with jsonschema / check-jsonschema, by name and by position."""
import contextlib
import csv
import datetime
import hashlib
import io
import json
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest
from frictionless import Package
from jsonschema import Draft202012Validator

from exports import hsds, hsds_official, hsds_rows
from tests.support import ROOT

SPEC = ROOT / "exports" / "hsds_spec"
BIN = Path(sys.executable).parent  # the venv's commands, as the README runs them (.venv/bin/...)
# The official files as fetched from openreferral/specification (exports/hsds_spec/README.md).
OFFICIAL_SHA256 = {
    "datapackage.json": "06d063ec1a22f8797da3ee9cd1e2a9e519fa813d6f3e93140bbdd7814d36984b",
    "schema/compiled/service.json": "5cd7c2ecb5776947e437a4d5b9656f9a80db56bef3ad49f5bb142d49dbe66156",
}
OFFICIAL = json.loads((SPEC / "datapackage.json").read_text(encoding="utf-8"))
# Every official table and its file, in the official order (21 tables in HSDS 3.0.0).
PATHS = {r["name"]: r["path"] for r in OFFICIAL["resources"]}
OFFICIAL_FIELDS = {r["name"]: [f["name"] for f in r["schema"]["fields"]] for r in OFFICIAL["resources"]}
# The file of each of the nine tables the package always had: the "path" of schema/<table>.json.
FIRST_PATHS = {
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
    "language": ["id"],  # schema/language.json required
    "cost_option": ["id", "service_id"],  # schema/cost_option.json required + tabular_required
    "metadata": [  # schema/metadata.json required + tabular_required
        "id", "resource_id", "resource_type", "last_action_date", "last_action_type", "field_name",
        "previous_value", "replacement_value", "updated_by",
    ],
}
# Every field that holds an HSDS id (format "uuid" in the schema files).
ID_FIELDS = {
    f["name"] for r in OFFICIAL["resources"] for f in r["schema"]["fields"] if f.get("format") == "uuid"
}
AAMA = "(AAMA)/TARP Outpatient"
SITE_QUOTE = "Our Partial Hospitalization Program (PHP) runs five days a week, 9 to 3."
SITE_PAGE = "https://www.aama.org/programs/php"


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


def files(folder):
    """Every file under a folder, by relative path, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def package(built_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("hsds") / "hsds"
    code, stdout, stderr = export(built_db, out)
    assert code == 0, stderr
    tables = {name: read_csv(out / path) for name, path in PATHS.items()}
    documents = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((out / "json").iterdir())]
    return {"out": out, "stdout": stdout, "stderr": stderr, "tables": tables, "documents": documents}


def rows(package, name):
    return package["tables"][name][1]


def aama(package):
    """The (AAMA)/TARP Outpatient program's organization and service rows."""
    org = next(r for r in rows(package, "organization") if r["alternate_name"] == AAMA)
    return org, next(r for r in rows(package, "service") if r["organization_id"] == org["id"])


# -- the official files and the package's layout ------------------------------------------------------

def test_the_official_files_are_kept_unchanged():
    for path, digest in OFFICIAL_SHA256.items():
        assert hashlib.sha256((SPEC / path).read_bytes()).hexdigest() == digest, path
    assert OFFICIAL["version"] == "3.0.0" and len(PATHS) == 21
    assert "CC BY-SA 4.0" in (SPEC / "README.md").read_text(encoding="utf-8")


def test_every_hsds_file_is_written_and_nothing_else(package):
    out = package["out"]
    assert set(FIRST_PATHS.items()) <= set(PATHS.items())
    assert sorted(p.name for p in out.iterdir()) == sorted([*PATHS.values(), "datapackage.json", "json"])
    # No temporary folder is left beside the package.
    assert [p.name for p in out.parent.iterdir()] == ["hsds"]


def test_the_descriptor_is_the_official_one_with_this_projects_name_license_and_sources(package):
    text = (package["out"] / "datapackage.json").read_text(encoding="utf-8")
    descriptor = json.loads(text)
    added = {k: v for k, v in descriptor.items() if k not in OFFICIAL}
    assert {k: v for k, v in descriptor.items() if k in OFFICIAL} == OFFICIAL  # every official key as it is
    assert sorted(added) == ["contributors", "licenses", "sources"]
    assert added["contributors"] == [{"title": "Treatment program directory (treatment-directory)",
                                      "role": "publisher"}]
    assert added["licenses"][0]["path"] == "https://www.usa.gov/government-works"
    assert [s.get("path") for s in added["sources"]] == ["https://findtreatment.gov/", None,
                                                         "https://openreferral.org/"]
    # Written as the official file is formatted: its text is kept, the additions follow it.
    official_text = (SPEC / "datapackage.json").read_text(encoding="utf-8")
    assert text.startswith(official_text[:-2] + ",\n")


def test_datapackage_describes_every_csv_with_fields_matching_its_header(package):
    descriptor = json.loads((package["out"] / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["profile"] == "tabular-data-package"
    assert {r["name"]: r["path"] for r in descriptor["resources"]} == PATHS
    for resource in descriptor["resources"]:
        header, _ = package["tables"][resource["name"]]
        assert [f["name"] for f in resource["schema"]["fields"]] == header, resource["name"]
        # The official descriptor names no encoding: Frictionless's default, UTF-8, is what is written.
        assert resource["format"] == "csv" and resource.get("encoding", "utf-8") == "utf-8"
        (package["out"] / resource["path"]).read_bytes().decode("utf-8")
        # The descriptor marks at least HSDS's required fields as required.
        required = {f["name"] for f in resource["schema"]["fields"] if f["constraints"]["required"]}
        assert set(REQUIRED.get(resource["name"], ["id"])) <= required, resource["name"]


def test_every_official_column_in_the_official_order_and_tables_without_data_are_header_only(package):
    for name, (header, table) in package["tables"].items():
        assert header == OFFICIAL_FIELDS[name], name
    empty = sorted(name for name, (_, table) in package["tables"].items() if not table)
    assert empty == sorted(["program", "contact", "schedule", "funding", "service_area", "required_document",
                            "accessibility", "meta_table_description", "organization_identifier"])
    for name in empty:
        assert (package["out"] / PATHS[name]).read_bytes() == (",".join(OFFICIAL_FIELDS[name]) + "\r\n").encode()


# -- validated against the official specification ------------------------------------------------

def test_the_package_is_valid_against_the_official_datapackage_foreign_keys_included(package):
    """As the README says to check it: `frictionless validate data/hsds/datapackage.json` (whose
    resources are the official ones: test_the_descriptor_is_the_official_one...)."""
    result = subprocess.run([str(BIN / "frictionless"), "validate", "--json", str(package["out"] / "datapackage.json")],
                            capture_output=True, text=True, timeout=300)
    report = json.loads(result.stdout)
    errors = [(task["name"], error["message"]) for task in report["tasks"] for error in task["errors"]]
    assert result.returncode == 0 and report["valid"], errors[:10]
    assert sorted(task["name"] for task in report["tasks"]) == sorted(PATHS)
    assert report["stats"]["warnings"] == 0


def test_the_validator_catches_a_reordered_header_and_a_dangling_foreign_key(package, tmp_path):
    """The checks above are real: the old package's faults fail them."""
    broken = tmp_path / "broken"
    shutil.copytree(package["out"], broken)
    header, attributes = read_csv(broken / "attributes.csv")
    reordered = [header[0], header[4], *header[1:4], header[5]]  # link_entity moved, as the old file had it
    with (broken / "attributes.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, reordered)
        writer.writeheader()
        writer.writerows(attributes)
    phones = (broken / "phones.csv").read_text(encoding="utf-8")
    first_service = rows(package, "phone")[0]["service_id"]
    (broken / "phones.csv").write_text(phones.replace(first_service, str(uuid.uuid4()), 1), encoding="utf-8")
    report = Package(OFFICIAL, basepath=str(broken)).validate()
    errors = {(task.name, error.type) for task in report.tasks for error in task.errors}
    assert ("attribute", "incorrect-label") in errors
    assert ("phone", "foreign-key") in errors


def test_every_service_document_is_valid_against_the_official_compiled_schema(package):
    validator = Draft202012Validator(hsds_official.service_schema(),
                                     format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert {"uuid", "uri", "email"} <= set(Draft202012Validator.FORMAT_CHECKER.checkers)
    assert len(package["documents"]) == len(rows(package, "service"))
    for document in package["documents"]:
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
        assert errors == [], document["id"]
    # The checker's own negative control: a wrong status and a wrong id fail.
    wrong = {**package["documents"][0], "status": "open", "id": "p0e380ebc628d"}
    assert len(list(validator.iter_errors(wrong))) == 2


def test_check_jsonschema_accepts_every_document(package):
    """As the README says to check them: check-jsonschema --schemafile .../service.json json/*.json"""
    documents = sorted(str(p) for p in (package["out"] / "json").iterdir())
    result = subprocess.run(
        [str(BIN / "check-jsonschema"), "--schemafile", str(SPEC / "schema/compiled/service.json"), *documents],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "ok -- validation done" in result.stdout


# -- read by position, as a strict consumer reads it ------------------------------------------------

def _check_cell(resource: dict, position: int, value: str) -> None:
    field = resource["schema"]["fields"][position]
    where = f"{resource['path']} column {position + 1} ({field['name']}): {value!r}"
    if value == "":
        assert not field["constraints"]["required"], where
        return
    if field.get("format") == "uuid":
        assert str(uuid.UUID(value)) == value, where
    elif field.get("format") == "uri":
        assert value.split(":", 1)[0] in ("http", "https", "urn"), where
    elif field.get("format") == "email":
        assert "@" in value, where
    if field["type"] == "number":
        float(value)
    elif field["type"] == "date":
        datetime.date.fromisoformat(value)
    if field["constraints"].get("enum"):
        assert value in field["constraints"]["enum"], where


def test_a_consumer_reading_by_position_gets_each_official_field_in_its_place(package):
    for resource in OFFICIAL["resources"]:
        with (package["out"] / resource["path"]).open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            assert next(reader) == OFFICIAL_FIELDS[resource["name"]]
            for line in reader:
                assert len(line) == len(resource["schema"]["fields"]), resource["path"]
                for position, value in enumerate(line):
                    _check_cell(resource, position, value)
    # Positions as the HSDS 3.0 table reference gives them: organizations.csv has website 6th,
    # email 5th; services.csv organization_id 2nd, name 4th, status 9th.
    org, service = aama(package)
    with (package["out"] / "organizations.csv").open(newline="", encoding="utf-8") as fh:
        line = next(r for r in csv.reader(fh) if r[0] == org["id"])
    assert (line[1], line[4], line[5]) == ("Assoc for the Adv of Mexican Amer Inc", "", "http://www.aama.org/")
    with (package["out"] / "services.csv").open(newline="", encoding="utf-8") as fh:
        line = next(r for r in csv.reader(fh) if r[0] == service["id"])
    assert (line[1], line[3], line[8]) == (org["id"], "Assoc for the Adv of Mexican Amer Inc", "active")


# -- what the package says ---------------------------------------------------------------------------

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
    program = query(built_db, "select id from programs where alternate_name = ?", AAMA)[0]
    organization, _ = aama(package)
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
        ("language", "service_id", "service"),
        ("cost_option", "service_id", "service"),
    ]
    for table, field, target in links:
        dangling = {row[field] for row in rows(package, table)} - ids[target]
        assert not dangling, f"{PATHS[table]}.{field}: {len(dangling)} ids not in {PATHS[target]}"
    assert {row["link_entity"] for row in rows(package, "attribute")} == {"service"}
    assert all(row["parent_id"] == "" for row in rows(package, "taxonomy_term"))
    for row in rows(package, "metadata"):
        assert row["resource_id"] in ids[row["resource_type"]], row


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
    program = query(built_db, "select * from programs where alternate_name = ?", AAMA)[0]
    org, service = aama(package)
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
        "id": address["id"], "location_id": location["id"], "attention": "", "address_1": "204 Clifton Street",
        "address_2": "", "city": "Houston", "region": "", "state_province": "TX", "postal_code": "77011",
        "country": "US", "address_type": "physical",
    }


def test_the_phone_extension_is_its_own_field_and_the_intake_number_is_another_phone(package):
    _, service = aama(package)
    phones = [(p["number"], p["extension"], p["type"], p["description"])
              for p in rows(package, "phone") if p["service_id"] == service["id"]]
    assert phones == [
        ("(713) 926-9491", "3101", "voice", "Main number."),
        ("(713) 926-9491", "", "voice", "Intake or hotline number."),
    ]


def test_an_extension_a_number_cannot_hold_whole_stays_with_the_phone_number():
    texts = hsds.load_spec()["texts"]
    program = {"id": "p1", "phones": '["(713) 926-9491 ext. 3101", "(713) 926-9492 ext. 012", '
                                     '"(713) 529-0037 ext. 0"]', "intake_phone": None}
    assert [(r["number"], r["extension"]) for r in hsds_rows.phone_rows(program, "s1", texts)] == [
        ("(713) 926-9491", 3101), ("(713) 926-9492 ext. 012", None), ("(713) 529-0037", None)]  # "ext. 0" is none


def test_every_listed_and_intake_phone_is_exported(package, built_db):
    expected = 0
    for p in query(built_db, "select phones, intake_phone from programs"):
        numbers = json.loads(p["phones"])
        expected += len(numbers) + bool(p["intake_phone"] and p["intake_phone"] not in numbers)
    assert len(rows(package, "phone")) == expected
    assert not [p for p in rows(package, "phone") if " ext. " in p["number"]]


def test_languages_payment_and_ages_come_from_samhsas_codes(package, built_db):
    _, service = aama(package)
    languages = [(r["name"], r["code"]) for r in rows(package, "language") if r["service_id"] == service["id"]]
    assert languages == [("Spanish", "es")]
    options = [r["option"] for r in rows(package, "cost_option") if r["service_id"] == service["id"]]
    assert options == ["Medicaid", "Medicare", "State-financed insurance (not Medicaid)", "Cash or self-payment",
                       "Sliding fee scale"]
    assert service["fees_description"].startswith("Payment SAMHSA lists as accepted: Medicaid, Medicare, ")
    # Children and adolescents (17 or younger) to adults (26-64): no minimum, 64 at most.
    assert (service["minimum_age"], service["maximum_age"]) == ("", "64")
    assert service["eligibility_description"] == (
        "Age groups SAMHSA lists as accepted: Children and adolescents (17 or younger), Young adults (18–25), "
        "Adults (26–64).")
    totals = query(built_db, "select sum(json_array_length(languages)) l, sum(json_array_length(payment)) p "
                             "from programs")[0]
    assert (len(rows(package, "language")), len(rows(package, "cost_option"))) == (totals["l"], totals["p"])


def test_no_payment_accepted_is_a_cost_of_zero_and_broken_age_ranges_give_no_bounds(package, built_db):
    free = query(built_db, "select id from programs where payment like '%No payment accepted%' order by id")
    assert free
    service_ids = {hsds.hsds_id("service", p["id"]) for p in free}
    zero = [r for r in rows(package, "cost_option") if r["option"] == "No payment accepted"]
    assert {r["service_id"] for r in zero} == service_ids
    assert {(r["amount"], r["currency"]) for r in zero} == {("0", "USD")}
    gap = query(built_db, "select id from programs where ages = '[\"Children and adolescents\", \"Adults\"]'")
    assert gap  # children and adults, not young adults: ages 18-25 are not accepted
    service = next(s for s in rows(package, "service") if s["id"] == hsds.hsds_id("service", gap[0]["id"]))
    assert (service["minimum_age"], service["maximum_age"]) == ("", "")
    assert "Adults (26–64)" in service["eligibility_description"]


def test_the_database_keeps_no_hours_so_schedules_are_empty(package, built_db):
    columns = {r["name"] for t in ("programs", "listings") for r in query(built_db, f"pragma table_info({t})")}
    assert not [c for c in columns if "hour" in c or "schedule" in c]
    assert rows(package, "schedule") == []
    assert all(document["schedules"] == [] for document in package["documents"])


def test_metadata_says_where_each_service_came_from_and_when(package, built_db):
    program = query(built_db, "select id from programs where alternate_name = ?", AAMA)[0]
    [listing] = query(built_db, "select * from listings where program_id = ?", program["id"])
    _, service = aama(package)
    [row] = [m for m in rows(package, "metadata") if m["resource_id"] == service["id"]]
    assert row["resource_type"] == "service"
    assert row["last_action_date"] == listing["fetched_at"][:10]
    assert (row["last_action_type"], row["field_name"], row["previous_value"]) == ("import", "source", "none")
    assert row["replacement_value"] == (f"{listing['source_url']}, {listing['source_ref']} "
                                        f"(the source's date: {listing['source_date']})")
    assert row["updated_by"] == "SAMHSA FindTreatment.gov export, read by the treatment program directory"
    services = Counter(m["resource_id"] for m in rows(package, "metadata") if m["resource_type"] == "service")
    assert sum(services.values()) == query(built_db, "select count(*) n from listings")[0]["n"]
    assert len(services) == len(rows(package, "service"))


def test_assured_date_is_the_sources_date_where_it_gives_a_whole_one(package, built_db, tmp_path):
    # The Houston/Dallas csv is dated by the year in its name only: no date to assure.
    assert {p["last_seen"] for p in query(built_db, "select last_seen from programs")} == {"2023"}
    assert {s["assured_date"] for s in rows(package, "service")} == {""}
    db = edited_copy(built_db, tmp_path, ("update programs set last_seen = '2023-11-07' where alternate_name = ?",
                                          (AAMA,)))
    assert export(db, tmp_path / "hsds")[0] == 0
    _, services = read_csv(tmp_path / "hsds" / "services.csv")
    assert Counter(s["assured_date"] for s in services) == {"": len(services) - 1, "2023-11-07": 1}


def test_taxonomy_terms_are_the_care_levels(package, built_db):
    (taxonomy,) = rows(package, "taxonomy")
    assert taxonomy["name"] == "Levels of care"
    assert taxonomy["uri"] == "urn:treatment-directory:taxonomy:care-levels"
    assert taxonomy["version"].startswith("sha256:") and len(taxonomy["version"]) == 23
    levels = query(built_db, "select slug, label, asam_level, description from care_levels order by sort_order")
    terms = rows(package, "taxonomy_term")
    assert [(t["code"], t["name"]) for t in terms] == [(lv["slug"], lv["label"]) for lv in levels]
    for term, level in zip(terms, levels):
        assert term["description"].startswith(level["description"])
        assert "ASAM level" in term["description"], term["code"]
        assert term["taxonomy_id"] == taxonomy["id"]
        assert term["term_uri"] == f"urn:treatment-directory:taxonomy:care-levels:{level['slug']}"
        assert (term["taxonomy"], term["language"]) == ("Levels of care", "en")
    detox = next(t for t in terms if t["code"] == "detox")
    assert detox["description"].endswith("ASAM level: WM.")


def test_the_taxonomy_version_changes_when_the_code_mapping_does(built_db, tmp_path):
    db = edited_copy(built_db, tmp_path, ("delete from care_level_codes where service_code = 'OMB'", ()))
    assert export(db, tmp_path / "hsds")[0] == 0
    _, [edited] = read_csv(tmp_path / "hsds" / "taxonomies.csv")
    assert export(built_db, tmp_path / "again")[0] == 0
    _, [built] = read_csv(tmp_path / "again" / "taxonomies.csv")
    assert edited["version"] != built["version"] and edited["id"] == built["id"]


def test_attribute_rows_per_care_level_equal_the_programs_with_that_level(package, built_db):
    code_of = {t["id"]: t["code"] for t in rows(package, "taxonomy_term")}
    exported = Counter(code_of[a["taxonomy_term_id"]] for a in rows(package, "attribute"))
    # One attribute per program, level and kind of source (the demo build has SAMHSA's only).
    expected = {
        r["care_level"]: r["n"]
        for r in query(built_db, "select care_level, count(*) n from "
                                 "(select distinct program_id, care_level, source from program_care_levels) group by 1")
    }
    assert dict(exported) == expected
    assert expected["iop"] > 10
    assert {a["link_type"] for a in rows(package, "attribute")} == {"samhsa_service_codes"}
    keys = [(a["link_id"], a["taxonomy_term_id"], a["link_type"]) for a in rows(package, "attribute")]
    assert len(keys) == len(set(keys))
    _, service = aama(package)
    assert [(code_of[a["taxonomy_term_id"]], a["value"]) for a in rows(package, "attribute")
            if a["link_id"] == service["id"]] == [("iop", "OIT"), ("outpatient", "OP, ORT")]


def test_site_stated_levels_are_apart_from_samhsas_with_their_quotes(built_db, tmp_path):
    pid = query(built_db, "select id from programs where alternate_name = ?", AAMA)[0]["id"]
    insert = "insert into program_care_levels values (?, ?, 'provider website', ?, ?, ?, '2025-06-02T09:30:00Z')"
    db = edited_copy(built_db, tmp_path, (insert, (pid, "php", SITE_QUOTE, SITE_PAGE, SITE_PAGE)),
                     (insert, (pid, "iop", "Intensive Outpatient Program (IOP)", SITE_PAGE, SITE_PAGE)))
    code, _, stderr = export(db, tmp_path / "hsds")
    assert code == 0, stderr
    out = tmp_path / "hsds"
    service_id = hsds.hsds_id("service", pid)
    code_of = {t["id"]: t["code"] for t in read_csv(out / "taxonomy_terms.csv")[1]}
    attributes = [a for a in read_csv(out / "attributes.csv")[1] if a["link_id"] == service_id]
    assert [(code_of[a["taxonomy_term_id"]], a["link_type"], a["value"]) for a in attributes] == [
        ("iop", "samhsa_service_codes", "OIT"),
        ("iop", "provider_website", "Intensive Outpatient Program (IOP)"),
        ("php", "provider_website", SITE_QUOTE),
        ("outpatient", "samhsa_service_codes", "OP, ORT"),
    ]
    # The SAMHSA-derived attributes keep their ids; the website's are new ones.
    assert attributes[0]["id"] == hsds.hsds_id("attribute", pid, "iop")
    php = attributes[2]
    [where] = [m for m in read_csv(out / "metadata.csv")[1] if m["resource_id"] == php["id"]]
    assert (where["last_action_date"], where["replacement_value"], where["updated_by"]) == (
        "2025-06-02", SITE_PAGE, "The program's own website, read by the treatment program directory")
    [service] = [s for s in read_csv(out / "services.csv")[1] if s["id"] == service_id]
    assert service["description"].endswith(
        "The program's own website states: Intensive outpatient (ASAM level 2.1); "
        "Partial hospitalization / day treatment (ASAM level 2.5) (quoted in its attributes).")
    document = json.loads((out / "json" / f"{service_id}.json").read_text(encoding="utf-8"))
    assert [a["metadata"][0]["replacement_value"] for a in document["attributes"]][1:3] == [SITE_PAGE, SITE_PAGE]
    Draft202012Validator(hsds_official.service_schema()).validate(document)


def test_the_json_documents_say_what_the_tables_say(package):
    by_service = {name: Counter(r["service_id"] for r in rows(package, name))
                  for name in ("phone", "language", "cost_option", "service_at_location")}
    services = {s["id"]: s for s in rows(package, "service")}
    for document in package["documents"]:
        row = services[document["id"]]
        assert {k: str(v) for k, v in document.items() if not isinstance(v, (list, dict))} == {
            k: v for k, v in row.items() if v}
        assert document["organization"]["id"] == row["organization_id"]
        for name, key in (("phone", "phones"), ("language", "languages"), ("cost_option", "cost_options"),
                          ("service_at_location", "service_at_locations")):
            assert len(document[key]) == by_service[name][document["id"]], (document["id"], key)
    phones = {p["id"]: p for d in package["documents"] for p in d["phones"]}
    assert {type(p["extension"]) for p in phones.values() if "extension" in p} == {int}


def test_summary_line_counts_each_file(package):
    line = package["stdout"].strip().splitlines()[-1]
    counts = ", ".join(f"{path} {len(rows(package, name))}" for name, path in PATHS.items())
    documents = len(package["documents"])
    assert line == f"Wrote HSDS 3.0 package {package['out']}: {counts}; {documents} service documents in json/"
    assert package["stderr"] == ""


def test_running_twice_gives_byte_identical_files(package, built_db, tmp_path):
    code, _, _ = export(built_db, tmp_path / "again")
    assert code == 0
    again, first = files(tmp_path / "again"), files(package["out"])
    assert sorted(again) == sorted(first)
    assert len([p for p in first if p.startswith("json/")]) == len(rows(package, "service"))
    for path in first:
        assert again[path] == first[path], path


def test_commas_quotes_and_newlines_round_trip_through_csv(built_db, tmp_path):
    tricky = 'Hope, "Recovery"\nCenter; Ñandú'
    db = edited_copy(built_db, tmp_path, (
        "update programs set name = ?, alternate_name = ? where alternate_name = ?", (tricky, tricky, AAMA),
    ))
    code, _, stderr = export(db, tmp_path / "hsds")
    assert code == 0, stderr
    _, organizations = read_csv(tmp_path / "hsds" / "organizations.csv")
    matches = [o for o in organizations if o["alternate_name"] == tricky]
    assert len(matches) == 1 and matches[0]["name"] == tricky


def test_a_program_without_coordinates_or_city_keeps_its_location_and_says_what_was_left_out(built_db, tmp_path):
    aama_id = query(built_db, "select id from programs where alternate_name = ?", AAMA)[0]["id"]
    other = query(built_db, "select id from programs where id != ? order by id limit 1", aama_id)[0]["id"]
    db = edited_copy(
        built_db, tmp_path,
        ("update programs set latitude = null, longitude = null where id = ?", (aama_id,)),
        ("update programs set city = null where id = ?", (other,)),
    )
    code, stdout, stderr = export(db, tmp_path / "hsds")
    assert code == 0
    _, locations = read_csv(tmp_path / "hsds" / "locations.csv")
    location = next(r for r in locations if r["id"] == hsds.hsds_id("location", aama_id))
    assert (location["latitude"], location["longitude"]) == ("", "")
    _, addresses = read_csv(tmp_path / "hsds" / "addresses.csv")
    assert len(addresses) == len(locations) - 1
    assert hsds.hsds_id("location", other) in {r["id"] for r in locations}
    assert hsds.hsds_id("location", other) not in {r["location_id"] for r in addresses}
    assert f"programs row {other}: no city: its address is left out of addresses.csv" in stderr
    assert stdout.strip().endswith("; 1 incomplete addresses left out")


def test_a_program_no_longer_listed_is_an_inactive_service(built_db, tmp_path):
    aama_id = query(built_db, "select id from programs where alternate_name = ?", AAMA)[0]["id"]
    columns = {r["name"] for r in query(built_db, "pragma table_info(programs)")}
    statements = [] if "status" in columns else [("alter table programs add column status text", ())]
    statements.append(("update programs set status = case when id = ? then 'missing' else 'listed' end", (aama_id,)))
    code, _, stderr = export(edited_copy(built_db, tmp_path, *statements), tmp_path / "hsds")
    assert code == 0, stderr
    _, services = read_csv(tmp_path / "hsds" / "services.csv")
    assert Counter(s["status"] for s in services)["inactive"] == 1
    assert next(s for s in services if s["id"] == hsds.hsds_id("service", aama_id))["status"] == "inactive"


def test_an_age_group_without_ages_is_a_clear_error(built_db, tmp_path):
    db = edited_copy(built_db, tmp_path, ("update programs set ages = '[\"Toddlers\"]' where alternate_name = ?",
                                          (AAMA,)))
    code, _, stderr = export(db, tmp_path / "hsds")
    assert code == 1 and "age groups ['Toddlers'] have no ages in data/hsds_package.json" in stderr
    assert not (tmp_path / "hsds").exists()


def test_a_failed_export_leaves_the_previous_package_whole(built_db, tmp_path, monkeypatch):
    out = tmp_path / "hsds"
    assert export(built_db, out)[0] == 0
    before = files(out)
    real_write = hsds.write_csv

    def fail_on_phones(path, fields, rows, resource):
        if resource == "phone":
            raise hsds.HsdsError("disk full (simulated)")
        real_write(path, fields, rows, resource)

    monkeypatch.setattr(hsds, "write_csv", fail_on_phones)
    code, _, stderr = export(built_db, out)
    assert code == 1 and "disk full (simulated)" in stderr
    assert files(out) == before
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
    assert sorted(p.name for p in out.iterdir()) == sorted([*PATHS.values(), "datapackage.json", "json"])
