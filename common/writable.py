"""Can a folder take a new file? Asked by the build, the crawl and the HSDS export before they
work, so that a read-only `data/` folder is one line that names the folder and what to do, not a
traceback after the work was done for nothing (issue 15: 19 lines from `make build`, thousands
from `make crawl`, 15 from `make hsds`).

The answer comes from trying: a probe file is created and removed. Permission bits cannot say it
(root ignores them; a read-only mount, an immutable folder or a full disk refuse whatever they say).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def cannot_write(folder: Path) -> str | None:
    """Why no new file can be made in folder (created with its parents when missing), or None."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        return f"{folder} is a file, not a folder"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a missing folder that cannot be made: name the one that failed
        return f"{exc.filename or folder} cannot be created ({exc.strerror or exc})"
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=folder)
    except OSError as exc:
        return f"{folder} cannot be written ({exc.strerror or exc})"
    os.close(fd)
    os.unlink(probe)
    return None


def os_error_line(exc: OSError) -> str:
    """An OSError as one line: what failed and on which path, without the traceback."""
    paths = " -> ".join(str(p) for p in (exc.filename, exc.filename2) if p)
    return f"{exc.strerror or exc}{': ' + paths if paths else ''}"
