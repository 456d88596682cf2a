"""The official Open Referral HSDS 3.0 files (exports/hsds_spec/, copied unchanged from
openreferral/specification; README.md there says from which commit, under which license) and the
package descriptor `make hsds` writes from them.

The tables, their columns, the columns' order and types are the official datapackage.json's, read
here and nowhere else, so the package cannot drift from the specification: a consumer that reads
the CSV files by position gets the official field at each position. The descriptor written beside
the data is the official one with only the top-level keys it leaves unset added (this project's
name, license and sources, from data/hsds_package.json); every official key stays as it is.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

SPEC_DIR = Path(__file__).resolve().parent / "hsds_spec"
DATAPACKAGE = SPEC_DIR / "datapackage.json"
SERVICE_SCHEMA = SPEC_DIR / "schema" / "compiled" / "service.json"


class SpecError(RuntimeError):
    pass


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SpecError(f"{path}: cannot read this official HSDS file ({exc})") from exc


@lru_cache(maxsize=None)
def official_descriptor(path: Path = DATAPACKAGE) -> dict:
    """The official HSDS 3.0 datapackage.json, as published."""
    descriptor = _read_json(path)
    if descriptor.get("version") != "3.0.0" or not descriptor.get("resources"):
        raise SpecError(f"{path}: not the HSDS 3.0.0 package descriptor (version {descriptor.get('version')!r})")
    return descriptor


@lru_cache(maxsize=None)
def service_schema(path: Path = SERVICE_SCHEMA) -> dict:
    """The official compiled JSON Schema of one service with everything it links to embedded."""
    return _read_json(path)


def resources(descriptor: dict | None = None) -> list[dict]:
    """Every official resource, in the official order."""
    return (descriptor or official_descriptor())["resources"]


def fields(resource: dict) -> list[str]:
    """A resource's field names in the official order: the CSV header, and each value's position."""
    return [field["name"] for field in resource["schema"]["fields"]]


def field_types(resource: dict) -> dict[str, str]:
    return {field["name"]: field["type"] for field in resource["schema"]["fields"]}


def package_descriptor(additions: dict, descriptor: dict | None = None) -> dict:
    """The official descriptor with `additions` (keys it does not set) added at the top level."""
    official = descriptor or official_descriptor()
    extra = {key: value for key, value in additions.items() if key != "why"}
    clash = sorted(set(extra) & set(official))
    if clash:
        raise SpecError(f"data/hsds_package.json would change the official descriptor's {clash}: "
                        "only keys it leaves unset may be added")
    return {**official, **extra}
