"""How `make serve` serves a database, for the bench: the command itself (`Server`) and the
keyword arguments of an in-process twin of it (`datasette_kwargs`), whose SQL the bench captures.

The serving settings are written in one place, read through one function here,
`datasette_settings`: the project's shared serving module (common/serving.py, over the
configuration directory's settings.json) when the checkout has it; otherwise the
`--setting NAME VALUE` pairs written in the Makefile's `serve` recipe. No command is run to find
them (no `make -n`).
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAKEFILE = ROOT / "Makefile"


def _shared_serving():
    """common.serving, the settings the Makefile, tests and bench share, or None before it exists."""
    try:
        from common import serving
    except ImportError:
        return None
    return serving


def datasette_settings(makefile: Path = MAKEFILE) -> dict:
    """The Datasette settings `make serve` applies, typed as Datasette takes them."""
    shared = _shared_serving()
    return shared.settings() if shared else recipe_settings(makefile)


def datasette_kwargs(db: Path, makefile: Path = MAKEFILE, **more_settings) -> dict:
    """Keyword arguments of datasette.app.Datasette that serve `db` as `make serve DB=db` does
    (immutable, the same metadata, plugins, templates, settings and inspect file), with
    `more_settings` over the settings."""
    inspect = inspect_file(db)
    shared = _shared_serving()
    if shared:
        return shared.datasette_options(db, inspect_file=inspect, **more_settings)
    return recipe_kwargs(db, makefile, **more_settings)


def serve_recipe(makefile: Path = MAKEFILE) -> str:
    """The recipe of the Makefile's `serve` target, its continued lines joined into one line each."""
    text = makefile.read_text().replace("\\\n", " ")
    match = re.search(r"^serve:[^\n]*\n((?:\t[^\n]*\n?)+)", text, re.M)
    if match is None:
        raise RuntimeError(f"{makefile}: no `serve:` target with a recipe")
    return match.group(1)


def _recipe_option(db: Path, makefile: Path, *names: str) -> Path | None:
    recipe = serve_recipe(makefile).replace("$(DB)", str(db))
    match = re.search(r"(?:^|\s)(?:" + "|".join(map(re.escape, names)) + r")\s+(\S+)", recipe)
    return (ROOT / match.group(1)) if match else None


def inspect_file(db: Path) -> Path | None:
    """The inspect file `make serve` writes for `db` (common.serve_command decides where), once written."""
    from common.serve_command import inspect_file_for

    path = inspect_file_for(Path(db))
    return path if path.is_file() else None


def typed_settings(raw: dict[str, str]) -> dict:
    """Settings as Datasette's constructor takes them (on/off as bool, numbers as int)."""
    from datasette.app import DEFAULT_SETTINGS

    settings = {}
    for name, value in raw.items():
        default = DEFAULT_SETTINGS.get(name)
        if isinstance(default, bool):
            settings[name] = str(value).lower() in ("on", "true", "1", "yes")
        elif isinstance(default, int):
            settings[name] = int(value)
        else:
            settings[name] = value
    return settings


def recipe_settings(makefile: Path = MAKEFILE) -> dict:
    """The `--setting NAME VALUE` pairs of the serve recipe, typed."""
    return typed_settings(dict(re.findall(r"--setting\s+(\S+)\s+(\S+)", serve_recipe(makefile))))


def recipe_kwargs(db: Path, makefile: Path = MAKEFILE, **more_settings) -> dict:
    """datasette_kwargs from the serve recipe's own options (-m, --plugins-dir, --template-dir)."""
    import yaml

    metadata = _recipe_option(db, makefile, "-m", "--metadata")
    plugins, templates = (_recipe_option(db, makefile, name) for name in ("--plugins-dir", "--template-dir"))
    inspect = inspect_file(db)
    return {
        "immutables": [str(db)],
        "metadata": yaml.safe_load(metadata.read_text()) if metadata else None,
        "plugins_dir": str(plugins) if plugins else None,
        "template_dir": str(templates) if templates else None,
        "settings": {**recipe_settings(makefile), **more_settings},
        "inspect_data": json.loads(inspect.read_text()) if inspect else None,
    }


class Server:
    """`make serve DB=... PORT=...` (and any other make variables) in its own process group, as a
    person starts it."""

    def __init__(self, db: Path, port: int, log_path: Path, **variables):
        self.db, self.port, self.log_path = db, port, log_path
        self.variables = variables  # more make variables, e.g. SERVE_CONFIG=
        self.base = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None
        self.startup_seconds = 0.0

    def __enter__(self) -> "Server":
        self.log = self.log_path.open("w")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            ["make", "--no-print-directory", "serve", f"DB={self.db}", f"PORT={self.port}",
             *(f"{name}={value}" for name, value in self.variables.items())],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self._wait_until_answering(started + 300)
        self.startup_seconds = time.perf_counter() - started
        return self

    def serving_processes(self) -> int:
        """How many processes answer requests: uvicorn's workers (its children started by
        multiprocessing), or 1 when `make serve` runs a single process."""
        import psutil

        try:
            tree = psutil.Process(self.process.pid).children(recursive=True)
            workers = [p for p in tree if "spawn_main" in " ".join(p.cmdline())]
        except psutil.Error:
            return 0
        return len(workers) or 1

    def _wait_until_answering(self, deadline: float) -> None:
        import httpx

        while True:
            try:
                httpx.get(self.base + "/-/versions.json", timeout=5).raise_for_status()
                return
            except httpx.HTTPError:
                if self.process.poll() is not None or time.perf_counter() > deadline:
                    self.__exit__(None, None, None)
                    raise RuntimeError(f"make serve did not start; see {self.log_path}:\n"
                                       + self.log_path.read_text()[-2000:])
                time.sleep(0.3)

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
            except ProcessLookupError:
                pass
        self.log.close()
