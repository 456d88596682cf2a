"""SAMHSA's service code reference (314 codes in 31 categories), read as data.

It is sheet 2 of the wide export, saved as csv. Its cells carry stray spaces ("Detoxification  ")
and the API spells some names in another case, so lookups strip and fold case.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from common import paths


class CodeReferenceError(RuntimeError):
    pass


@dataclass(frozen=True)
class ServiceCode:
    code: str
    name: str
    category_code: str
    category_name: str
    description: str
    sa: bool
    mh: bool
    both: bool


@dataclass(frozen=True)
class CodeReference:
    codes: dict[str, ServiceCode]
    # (category code, folded name or alias) -> service code, for the API's "f3" texts.
    by_text: dict[tuple[str, str], str]

    def get(self, code: str) -> ServiceCode | None:
        return self.codes.get(code.upper())

    def code_for(self, category_code: str, text: str) -> str | None:
        """The service code a category's text names, or None when the reference has no such text."""
        return self.by_text.get((category_code.strip().upper(), _fold(text)))


def _fold(text: str) -> str:
    return " ".join(text.split()).lower()


@lru_cache(maxsize=4)
def load_code_reference(path: str | Path | None = None) -> CodeReference:
    """Read the code reference csv (default: the shared SAMHSA copy, or $CODE_REFERENCE)."""
    path = Path(path or paths.CODE_REFERENCE)
    if not path.is_file():
        raise CodeReferenceError(
            f"SAMHSA code reference not found at {path}: set CODE_REFERENCE to "
            "findtreatment_service_code_reference_2023.csv (sheet 2 of the wide export, as csv)"
        )
    codes: dict[str, ServiceCode] = {}
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = [h.strip().lower() for h in next(reader)]
        for line, values in enumerate(reader, start=2):
            row = dict(zip(header, (v.strip() for v in values)))
            if not row.get("service_code"):
                raise CodeReferenceError(f"{path}, line {line}: no service_code")
            code = row["service_code"].upper()
            codes[code] = ServiceCode(
                code=code,
                name=" ".join(row["service_name"].split()),
                category_code=row["category_code"].upper(),
                category_name=row["category_name"],
                description=row.get("service_description", ""),
                sa=row.get("sa_code") == "Y",
                mh=row.get("mh_code") == "Y",
                both=row.get("both_code") == "Y",
            )
    by_text = {(c.category_code, _fold(c.name)): c.code for c in codes.values()}
    with (paths.DATA / "service_aliases.csv").open(newline="", encoding="utf-8") as fh:
        for alias in csv.DictReader(fh):
            by_text[(alias["category_code"].upper(), _fold(alias["text"]))] = alias["service_code"]
    return CodeReference(codes, by_text)
