"""`make serve`: the directory on HOST:PORT, served by WORKERS processes behind one port.

Why uvicorn's workers: Datasette is an ASGI app and already runs on uvicorn (`datasette serve`
starts one uvicorn process, so one core); `uvicorn --workers N --factory` is the same maintained
server with its own supervisor: the workers share the listening socket (the kernel spreads
connections between them), a worker that dies is started again, and SIGHUP restarts them one by
one. Each worker is its own Datasette over the same immutable file (SQLite reads it without
locks), with its own memory ceiling (MEMORY_MB, RLIMIT_AS, common/serving.limit_memory).

The counts of `datasette inspect` go beside the database when its folder is writable, else to a
cache folder (a read-only data/ serves too). Every failure is one line on stderr and exit 1.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import serving


def inspect_file_for(db: Path) -> Path:
    """Where the inspect counts of db go: beside it if its folder is writable, else in the user's
    cache folder (XDG_CACHE_HOME or ~/.cache, else the temporary folder)."""
    if os.access(db.parent, os.W_OK):
        return db.with_name(db.name + ".inspect.json")
    for base in (os.environ.get("XDG_CACHE_HOME"), Path.home() / ".cache", tempfile.gettempdir()):
        folder = Path(base or "") / "treatment-directory" if base else None
        if folder is not None:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError:
                continue
            if os.access(folder, os.W_OK):
                return folder / f"{db.resolve().as_posix().strip('/').replace('/', '_')}.inspect.json"
    raise OSError("no writable folder for the inspect file (set XDG_CACHE_HOME)")


def write_inspect(db: Path, inspect_file: Path) -> None:
    bin_dir = Path(sys.executable).parent
    result = subprocess.run([str(bin_dir / "datasette"), "inspect", str(db), "--inspect-file", str(inspect_file)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["datasette inspect failed"])[-1]
        raise OSError(f"cannot read {db}: {last}")


def uvicorn_command(args) -> list[str]:
    return [str(Path(sys.executable).parent / "uvicorn"), "--factory", "common.serving:asgi_app",
            "--host", args.host, "--port", str(args.port), "--workers", str(args.workers),
            "--timeout-graceful-shutdown", "10"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--config", type=Path, default=serving.CONFIG_DIR)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-mb", type=int, default=2048, help="address-space ceiling per worker; 0: none")
    args = parser.parse_args(argv)
    try:
        if not args.db.is_file():
            raise OSError(f"no {args.db} yet: run 'make data' first")
        inspect_file = inspect_file_for(args.db)
        write_inspect(args.db, inspect_file)
    except OSError as error:
        print(f"make serve: {error}", file=sys.stderr)
        return 1
    os.environ.update({serving.ENV_DB: str(args.db.resolve()), serving.ENV_INSPECT: str(inspect_file),
                       serving.ENV_CONFIG: str(args.config.resolve()), serving.ENV_MEMORY_MB: str(args.memory_mb)})
    print(f"Serving the directory at http://{args.host}:{args.port}/ with {args.workers} workers (Ctrl-C to stop)",
          flush=True)
    os.execv(uvicorn_command(args)[0], uvicorn_command(args))


if __name__ == "__main__":
    sys.exit(main())
