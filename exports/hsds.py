"""Export data/programs.db as an Open Referral HSDS 3.0 tabular data package, atomically.

    python -m exports.hsds --db data/programs.db --out data/hsds

One program becomes one organization, service, location, physical address and
service_at_location, plus its phones; the care levels become the terms of the taxonomy
"Levels of care", linked to each service by attribute rows. Tables and fields take HSDS 3.0's
names (openreferral/specification, schema/*.json); the tables we write, their fields and the
wording of generated texts are declared in data/hsds_package.json.

The package is written into a temporary folder beside --out and renamed into place only when
complete, so a failed export leaves the previous package whole. The same database gives
byte-identical files: ids are uuid5 of our stable program ids, rows are sorted, nothing is
timestamped.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sqlite3
import sys
import uuid
from functools import lru_cache
from pathlib import Path

from common import paths
from common.normalize import normalize_phone

SPEC_PATH = paths.DATA / "hsds_package.json"
# Every exported id is uuid5 of this namespace and a key made of our own ids. Changing it changes
# every id of every package ever published: never do.
NAMESPACE = uuid.UUID("0e8f1dfc-5a65-45fc-b21d-e0acdda05081")
# HSDS 3.0 requires every part of an address (schema/address.json): its field -> our column.
ADDRESS_REQUIRED = {"address_1": "address", "city": "city", "state_province": "state", "postal_code": "zip"}
PROGRAM_COLUMNS = (
    "id", "name", "alternate_name", "address", "city", "state", "zip", "phones", "intake_phone",
    "website", "latitude", "longitude", "facility_type", "has_service_detail",
)


class HsdsError(RuntimeError):
    pass


@lru_cache(maxsize=None)
def load_spec(path: Path = SPEC_PATH) -> dict:
    """The package declaration: metadata, texts, the taxonomy and each resource's fields."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise HsdsError(f"{path}: cannot read the HSDS package declaration ({exc})") from exc


def hsds_id(kind: str, *keys: str) -> str:
    """A UUID for an HSDS record, the same for the same kind and keys on every run."""
    return str(uuid.uuid5(NAMESPACE, ":".join((kind, *keys))))


# -- reading the database ---------------------------------------------------------------------

def read_database(db_path: Path) -> dict:
    """Programs, care levels, facility types and each program's care levels, in a stable order."""
    if not db_path.is_file():
        raise HsdsError(f"no database at {db_path}: run `make data` first")
    conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        rows = lambda sql: [dict(r) for r in conn.execute(sql)]  # noqa: E731
        care_levels = rows("select slug, label, asam_level, description from care_levels order by sort_order")
        order = {level["slug"]: n for n, level in enumerate(care_levels)}
        levels_by_program: dict[str, list[str]] = {}
        for r in conn.execute("select distinct program_id, care_level from program_care_levels order by program_id"):
            if r["care_level"] not in order:
                raise HsdsError(f"{db_path}: program_care_levels names care level {r['care_level']!r}, "
                                f"which is not in care_levels (program {r['program_id']})")
            levels_by_program.setdefault(r["program_id"], []).append(r["care_level"])
        for levels in levels_by_program.values():
            levels.sort(key=order.get)
        # programs.status ("listed"/"missing") is newer than some databases: read it where it is.
        has_status = any(r["name"] == "status" for r in conn.execute("pragma table_info(programs)"))
        columns = ", ".join(PROGRAM_COLUMNS + (("status",) if has_status else ()))
        return {
            "programs": rows(f"select {columns} from programs order by id"),
            "care_levels": care_levels,
            "care_level_by_slug": {level["slug"]: level for level in care_levels},
            "facility_types": {r["code"]: r["label"] for r in rows("select code, label from facility_types")},
            "levels_by_program": levels_by_program,
        }
    except sqlite3.Error as exc:
        raise HsdsError(f"{db_path}: not a directory database this export can read ({exc})") from exc
    finally:
        conn.close()


# -- mapping (pure functions) -------------------------------------------------------------------

def taxonomy_rows(care_levels: list[dict], spec: dict) -> tuple[list[dict], list[dict]]:
    """The taxonomy "Levels of care" and one term per care level (slug as code)."""
    taxonomy = spec["taxonomy"]
    taxonomy_id = hsds_id("taxonomy", taxonomy["key"])
    terms = [
        {
            "id": term_id(spec, level["slug"]),
            "code": level["slug"],
            "name": level["label"],
            "description": term_description(level, spec["texts"]),
            "taxonomy_id": taxonomy_id,
            "parent_id": None,
        }
        for level in care_levels
    ]
    return [{"id": taxonomy_id, "name": taxonomy["name"], "description": taxonomy["description"]}], terms


def term_id(spec: dict, slug: str) -> str:
    return hsds_id("taxonomy_term", spec["taxonomy"]["key"], slug)


def term_description(level: dict, texts: dict) -> str:
    """The care level's own description, with its ASAM level added where it does not name one."""
    if "ASAM level" in level["description"]:
        return level["description"]
    return texts["term_description_asam"].format(**level)


def organization_description(facility_codes: list[str], facility_types: dict[str, str], texts: dict) -> str:
    labels = [facility_types.get(code, code) for code in facility_codes]
    if not labels:
        return texts["organization_description_no_type"]
    return texts["organization_description"].format(facility_types=", ".join(labels))


def service_description(levels: list[str], has_detail: bool, care_levels: dict[str, dict], texts: dict) -> str:
    """The levels of care in words; why they are unknown when there are none."""
    if levels:
        words = "; ".join(texts["service_level"].format(**care_levels[slug]) for slug in levels)
        return texts["service_levels"].format(levels=words)
    return texts["service_no_level"] if has_detail else texts["service_no_detail"]


def service_status(program_status: str | None, mapping: dict) -> str:
    """HSDS service.status for programs.status (absent in older databases: the default)."""
    if program_status is None:
        return mapping["default"]
    try:
        return mapping["map"][program_status]
    except KeyError:
        raise HsdsError(
            f"programs.status {program_status!r} has no HSDS service status in {SPEC_PATH.name}"
        ) from None


def phone_rows(program: dict, service_id: str, texts: dict) -> list[dict]:
    """Every listed number (the first is the main one) and the intake number, each once."""
    entries = [
        [display, texts["phone_main"] if n == 0 else texts["phone_other"]]
        for n, display in enumerate(json.loads(program["phones"] or "[]"))
    ]
    intake = program["intake_phone"]
    if intake:
        same = next((e for e in entries if e[0] == intake), None)
        if same:
            same[1] = f"{same[1]} {texts['phone_also_intake']}"
        else:
            entries.append([intake, texts["phone_intake"]])
    rows = []
    for display, description in entries:
        phone = normalize_phone(display)
        if phone is None:
            raise HsdsError(f"programs row {program['id']}: phone {display!r} is not a valid number")
        number = display.removesuffix(f" ext. {phone.extension}") if phone.extension else display
        rows.append({
            "id": hsds_id("phone", program["id"], display),
            "service_id": service_id,
            "number": number,
            "extension": phone.extension,
            "type": "voice",
            "description": description,
        })
    return rows


def program_rows(program: dict, db: dict, spec: dict) -> tuple[dict[str, list[dict]], list[str]]:
    """The HSDS rows of one program, by resource name, and what had to be left out, and why."""
    pid = program["id"]
    ids = {kind: hsds_id(kind, pid) for kind in ("organization", "service", "location")}
    levels = db["levels_by_program"].get(pid, [])
    rows: dict[str, list[dict]] = {
        "organization": [organization_row(program, ids, db, spec)],
        "service": [service_row(program, ids, levels, db, spec)],
        "location": [{
            "id": ids["location"],
            "location_type": "physical",
            "organization_id": ids["organization"],
            "name": program["name"],
            "latitude": program["latitude"],
            "longitude": program["longitude"],
        }],
        "address": [],
        "phone": phone_rows(program, ids["service"], spec["texts"]),
        "service_at_location": [{
            "id": hsds_id("service_at_location", pid),
            "service_id": ids["service"],
            "location_id": ids["location"],
        }],
        "attribute": [
            {"id": hsds_id("attribute", pid, slug), "link_id": ids["service"], "link_entity": "service",
             "taxonomy_term_id": term_id(spec, slug)}
            for slug in levels
        ],
    }
    missing = [column for column in ADDRESS_REQUIRED.values() if not program[column]]
    if missing:
        # HSDS requires every part of an address: an incomplete one is left out, said out loud,
        # and the location (with its coordinates) stays.
        return rows, [f"programs row {pid}: no {', '.join(missing)}: its address is left out of addresses.csv"]
    rows["address"].append(address_row(program, ids["location"]))
    return rows, []


def organization_row(program: dict, ids: dict, db: dict, spec: dict) -> dict:
    return {
        "id": ids["organization"],
        "name": program["name"],
        "alternate_name": program["alternate_name"],
        "description": organization_description(
            json.loads(program["facility_type"] or "[]"), db["facility_types"], spec["texts"]
        ),
        "website": program["website"],
    }


def service_row(program: dict, ids: dict, levels: list[str], db: dict, spec: dict) -> dict:
    return {
        "id": ids["service"],
        "organization_id": ids["organization"],
        "name": program["name"],
        "alternate_name": program["alternate_name"],
        "description": service_description(
            levels, bool(program["has_service_detail"]), db["care_level_by_slug"], spec["texts"]
        ),
        "url": program["website"],
        "email": None,
        "status": service_status(program.get("status"), spec["service_status"]),
    }


def address_row(program: dict, location_id: str) -> dict:
    return {
        "id": hsds_id("address", program["id"]),
        "location_id": location_id,
        "address_1": program["address"],
        "city": program["city"],
        "state_province": program["state"],
        "postal_code": program["zip"],
        "country": "US",
        "address_type": "physical",
    }


def package_tables(db: dict, spec: dict) -> tuple[dict[str, list[dict]], list[str]]:
    """Every resource's rows, in the order of data/hsds_package.json, and the warnings."""
    tables: dict[str, list[dict]] = {resource["name"]: [] for resource in spec["resources"]}
    tables["taxonomy"], tables["taxonomy_term"] = taxonomy_rows(db["care_levels"], spec)
    warnings = []
    for program in db["programs"]:
        rows, problems = program_rows(program, db, spec)
        for name, resource_rows in rows.items():
            tables[name].extend(resource_rows)
        warnings.extend(problems)
    return tables, warnings


# -- writing --------------------------------------------------------------------------------------

def _cell(value) -> str:
    return "" if value is None else str(value)


def write_csv(path: Path, fields: list[str], rows: list[dict], resource: str) -> None:
    """UTF-8 CSV with a header row (RFC 4180 quoting, CRLF line ends as Frictionless expects)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(fields)
        for row in rows:
            unknown = set(row) - set(fields)
            if unknown:
                raise HsdsError(f"{resource}: fields {sorted(unknown)} are not declared in {SPEC_PATH.name}")
            writer.writerow([_cell(row.get(field)) for field in fields])


def descriptor(spec: dict) -> dict:
    """The Frictionless datapackage.json: the package, and each resource with its path and schema."""
    resources = []
    for resource in spec["resources"]:
        fields = []
        for field in resource["fields"]:
            constraints = {"required": bool(field.get("required"))}
            if field.get("unique"):
                constraints["unique"] = True
            if field.get("enum"):
                constraints["enum"] = field["enum"]
            entry = {"name": field["name"], "type": field["type"]}
            if field.get("format"):
                entry["format"] = field["format"]
            entry.update(description=field["description"], constraints=constraints)
            fields.append(entry)
        schema = {"fields": fields, "primaryKey": resource["primaryKey"]}
        if resource.get("foreignKeys"):
            schema["foreignKeys"] = resource["foreignKeys"]
        resources.append({
            "name": resource["name"],
            "path": resource["path"],
            "description": resource["description"],
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "schema": schema,
        })
    return {**spec["package"], "resources": resources}


def _check_out(out: Path) -> None:
    """Refuse to replace anything but a package this command wrote (or an empty folder)."""
    if out.exists() and not out.is_dir():
        raise HsdsError(f"--out {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "datapackage.json").is_file():
        raise HsdsError(f"refusing to replace {out}: it is not empty and holds no datapackage.json")


def _swap_into_place(temp: Path, out: Path) -> None:
    if not out.exists():
        os.replace(temp, out)
        return
    old = out.with_name(f".{out.name}.old.tmp-{os.getpid()}")
    os.replace(out, old)
    try:
        os.replace(temp, out)
    except OSError:
        os.replace(old, out)
        raise
    shutil.rmtree(old)


def export(db_path: Path, out: Path, spec_path: Path = SPEC_PATH) -> dict:
    """Write the package for db_path into out; return {"counts": {file: rows}, "warnings": [...]}."""
    spec = load_spec(spec_path)
    out = Path(os.path.abspath(out))  # "." or "data/hsds/" still have a folder name to put a temp beside
    _check_out(out)
    tables, warnings = package_tables(read_database(db_path), spec)
    if not tables["organization"]:
        raise HsdsError(f"{db_path} has no programs: keeping {out} as it is")
    out.parent.mkdir(parents=True, exist_ok=True)
    # ".tmp" in the name: .gitignore's /data/*.tmp* covers a folder left by a killed run.
    temp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir()
    try:
        counts = {}
        for resource in spec["resources"]:
            fields = [f["name"] for f in resource["fields"]]
            write_csv(temp / resource["path"], fields, tables[resource["name"]], resource["name"])
            counts[resource["path"]] = len(tables[resource["name"]])
        (temp / "datapackage.json").write_text(
            json.dumps(descriptor(spec), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        _swap_into_place(temp, out)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return {"counts": counts, "warnings": warnings}


def summary_line(out: Path, result: dict) -> str:
    files = ", ".join(f"{name} {n}" for name, n in result["counts"].items())
    left_out = f"; {len(result['warnings'])} incomplete addresses left out" if result["warnings"] else ""
    return f"Wrote HSDS 3.0 package {out}: {files}{left_out}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=Path("data/programs.db"))
    parser.add_argument("--out", type=Path, default=Path("data/hsds"))
    args = parser.parse_args(argv)
    try:
        result = export(args.db, args.out)
    except HsdsError as exc:
        print(f"hsds export failed: {exc}", file=sys.stderr)
        return 1
    for warning in result["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    print(summary_line(args.out, result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
