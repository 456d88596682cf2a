"""How the directory is served, written once: the project root is a Datasette configuration
directory (settings.json, metadata.yml, plugins/, templates/), which `make serve` serves with
`datasette serve . -i DB`. The tests and the bench start the same Datasette in process with
`Datasette(**datasette_options(db))`.

Why a function: Datasette 0.65 reads a configuration directory's settings.json only when it is
given no settings at all, so a caller that needs one more (a base_url, a lifted time limit) would
silently lose the others; `settings(**more)` merges them with the file instead.
"""
from __future__ import annotations

import json
from pathlib import Path

from common.paths import ROOT

CONFIG_DIR = ROOT
SETTINGS_FILE = "settings.json"


def settings(config_dir: Path = CONFIG_DIR, **more) -> dict:
    """The Datasette settings of config_dir's settings.json, with `more` over them
    (e.g. settings(base_url="/dir/"))."""
    return {**json.loads((Path(config_dir) / SETTINGS_FILE).read_text(encoding="utf-8")), **more}


def datasette_options(db: Path, *, inspect_file: Path | None = None, config_dir: Path = CONFIG_DIR,
                      **more_settings) -> dict:
    """Keyword arguments of datasette.app.Datasette that serve `db` as `make serve DB=db` does:
    immutable, from the configuration directory (metadata, plugins, templates), its settings plus
    `more_settings`, and the counts of `inspect_file` (written by `datasette inspect`) if given."""
    return {
        "immutables": [str(db)],
        "config_dir": Path(config_dir),
        "settings": settings(config_dir, **more_settings),
        "inspect_data": json.loads(Path(inspect_file).read_text(encoding="utf-8")) if inspect_file else None,
    }
