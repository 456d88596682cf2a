"""Imports follow the flow of the data (README, "Architecture"):

    sources → crawler/ → feed → pipelines/ → data/programs.db → Datasette (plugins/, templates/)
                                                              → exports/

Each layer imports only itself and common/ (the shared vocabularies, places and normalizers);
common/ imports none of them. Tools (bench/) and tests may import anything; nothing imports tests.
Checked on the source of every module, imports inside functions included."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import ROOT

PROJECT_PACKAGES = {"common", "crawler", "pipelines", "exports", "plugins", "bench", "tests"}
ALLOWED = {
    "common": {"common"},
    "crawler": {"crawler", "common"},
    "pipelines": {"pipelines", "common"},
    "exports": {"exports", "common"},
    "plugins": {"plugins", "common"},
    "bench": PROJECT_PACKAGES - {"tests"},
}


def project_imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level project package) of every import in a module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [(node.lineno, name.split(".")[0]) for name in names if name.split(".")[0] in PROJECT_PACKAGES]
    return found


def modules(layer: str) -> list[Path]:
    return sorted((ROOT / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_what_it_may(layer):
    assert modules(layer), f"no modules in {layer}/"
    wrong = [f"{path.relative_to(ROOT)}:{line} imports {package}"
             for path in modules(layer) for line, package in project_imports(path)
             if package not in ALLOWED[layer]]
    assert wrong == []


def test_the_checker_sees_a_forbidden_import(tmp_path):
    module = tmp_path / "spider.py"
    module.write_text("import os\nfrom pipelines.build import build\n\ndef f():\n    import plugins.find\n")
    assert project_imports(module) == [(2, "pipelines"), (5, "plugins")]


def path_edits(path: Path) -> list[int]:
    """Lines that change the import path: a call of insert or append on the sys module's path
    list, or the name of the environment variable that extends it written as a string."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Attribute) and node.attr in ("insert", "append") \
                and isinstance(node.value, ast.Attribute) and node.value.attr == "path" \
                and isinstance(node.value.value, ast.Name) and node.value.value.id == "sys":
            found.append(node.lineno)
        elif isinstance(node, ast.Constant) and node.value == "PYTHONPATH":
            found.append(node.lineno)
    return found


def test_nothing_edits_the_import_path():
    """The project is installed (make install): no module edits the import path."""
    offenders = [f"{path.relative_to(ROOT)}:{line}"
                 for layer in [*ALLOWED, "tests"] for path in modules(layer) if path != Path(__file__)
                 for line in path_edits(path)]
    assert offenders == []


def test_the_path_checker_sees_an_edit(tmp_path):
    module = tmp_path / "m.py"
    edit = ".".join(("sys", "path", "append"))  # spelled apart: this file is no path edit itself
    module.write_text(f"import os, sys\n{edit}('x')\nenv = {{'PYTHONPATH': '.'}}\n")
    assert path_edits(module) == [2, 3]


def test_test_files_import_no_other_test_file():
    offenders = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(("tests.test_", "tests.conftest")):
                offenders.append(f"{path.name}:{node.lineno} {node.module}")
    assert offenders == []
