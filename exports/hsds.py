"""Export data/programs.db as Open Referral HSDS 3.0: the tabular package and the same services as JSON.

    python -m exports.hsds --db data/programs.db --out data/hsds

The package is the official one (openreferral/specification 3.0, kept unchanged in
exports/hsds_spec/): every official table as a CSV file (header only where the directory knows
nothing for it), every official column in the official order, and the official datapackage.json
beside them with this project's name, license and sources added where it leaves them unset
(data/hsds_package.json). json/<service id>.json holds each service as one document in the shape
of the official compiled schema schema/compiled/service.json.

One program becomes one organization, service, location, physical address and
service_at_location, plus its phones, languages, cost options (payment accepted), ages accepted,
care levels (attributes of the taxonomy "Levels of care", SAMHSA's and the program's website's
apart) and metadata rows saying where each record came from and when (exports/hsds_rows.py).

Everything is written into a temporary folder beside --out and renamed into place only when
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
import sys
from functools import lru_cache
from pathlib import Path

from common import paths
from common.csv_cells import inert
from common.writable import cannot_write, os_error_line
from exports import hsds_official as official
from exports.hsds_database import DatabaseError, read_database
from exports.hsds_ids import NAMESPACE, hsds_id  # noqa: F401  (the ids' public home is this module too)
from exports.hsds_json import service_documents
from exports.hsds_official import SpecError
from exports.hsds_rows import RowError, program_rows
from exports.hsds_taxonomy import TaxonomyError, taxonomy_rows

SPEC_PATH = paths.DATA / "hsds_package.json"
JSON_DIR = "json"


class HsdsError(RuntimeError):
    pass


@lru_cache(maxsize=None)
def load_spec(path: Path = SPEC_PATH) -> dict:
    """What this project adds to the official files: package metadata, texts, mappings."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise HsdsError(f"{path}: cannot read the HSDS package declaration ({exc})") from exc


def package_tables(db: dict, spec: dict) -> tuple[dict[str, list[dict]], list[str]]:
    """Every official resource's rows (most of them empty) and the warnings."""
    tables: dict[str, list[dict]] = {resource["name"]: [] for resource in official.resources()}
    tables["taxonomy"], tables["taxonomy_term"] = taxonomy_rows(db, spec)
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
    """UTF-8 CSV with the official header (RFC 4180 quoting, CRLF line ends as Frictionless expects);
    a text cell that would start a spreadsheet formula is written inert (common/csv_cells.py), as
    the server's CSVs are. The JSON documents keep the text as it is."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(fields)
        for row in rows:
            unknown = set(row) - set(fields)
            if unknown:
                raise HsdsError(f"{resource}: fields {sorted(unknown)} are not in the official HSDS datapackage.json")
            writer.writerow([_cell(inert(row.get(field))) for field in fields])


def write_json_documents(folder: Path, documents: list[dict]) -> None:
    folder.mkdir()
    for document in documents:
        (folder / f"{document['id']}.json").write_text(
            json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


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


def _write_package(temp: Path, tables: dict[str, list[dict]], spec: dict) -> dict[str, int]:
    counts = {}
    for resource in official.resources():
        write_csv(temp / resource["path"], official.fields(resource), tables[resource["name"]], resource["name"])
        counts[resource["path"]] = len(tables[resource["name"]])
    # indent=4, ASCII: the official file's own formatting, so its text is kept as it was.
    descriptor = official.package_descriptor(spec["package"])
    (temp / "datapackage.json").write_text(json.dumps(descriptor, indent=4) + "\n", encoding="utf-8")
    documents = service_documents(tables, official.resources())
    write_json_documents(temp / JSON_DIR, documents)
    counts[f"{JSON_DIR}/"] = len(documents)
    return counts


def export(db_path: Path, out: Path, spec_path: Path = SPEC_PATH) -> dict:
    """Write the package for db_path into out; return {"counts": {file: rows}, "warnings": [...]}."""
    spec = load_spec(spec_path)
    out = Path(os.path.abspath(out))  # "." or "data/hsds/" still have a folder name to put a temp beside
    _check_out(out)
    problem = cannot_write(out.parent)  # the package is written beside --out, then renamed into place
    if problem:
        raise HsdsError(f"{problem}: the package is written there before it replaces {out.name}; make the folder "
                        f"writable, or export elsewhere (make hsds HSDS_DIR=other/hsds). {out} is unchanged")
    try:
        tables, warnings = package_tables(read_database(db_path), spec)
    except (DatabaseError, RowError, TaxonomyError, SpecError) as exc:
        raise HsdsError(str(exc)) from exc
    if not tables["organization"]:
        raise HsdsError(f"{db_path} has no programs: keeping {out} as it is")
    out.parent.mkdir(parents=True, exist_ok=True)
    # ".tmp" in the name: .gitignore's /data/*.tmp* covers a folder left by a killed run.
    temp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir()
    try:
        counts = _write_package(temp, tables, spec)
        _swap_into_place(temp, out)
    except SpecError as exc:
        raise HsdsError(str(exc)) from exc
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return {"counts": counts, "warnings": warnings}


def summary_line(out: Path, result: dict) -> str:
    files = ", ".join(f"{name} {n}" for name, n in result["counts"].items() if not name.endswith("/"))
    documents = f"; {result['counts'][f'{JSON_DIR}/']} service documents in {JSON_DIR}/"
    left_out = f"; {len(result['warnings'])} incomplete addresses left out" if result["warnings"] else ""
    return f"Wrote HSDS 3.0 package {out}: {files}{documents}{left_out}"


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
    except OSError as exc:  # the disk (full, gone read-only mid-export): one line; the old package stays
        print(f"hsds export failed: {os_error_line(exc)}", file=sys.stderr)
        return 1
    for warning in result["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    print(summary_line(args.out, result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
