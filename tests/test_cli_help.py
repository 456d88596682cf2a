"""Every command of the project answers --help with its usage, not a traceback.

argparse formats help strings with %, so a help text holding a literal percent sign
(`pipelines.build --help` said "30% of its programs") crashed with a TypeError.
"""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("crawler", "pipelines", "exports", "common", "bench", "plugins")


def command_modules() -> list[str]:
    modules = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "argparse.ArgumentParser" in path.read_text(encoding="utf-8"):
                modules.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return modules


def test_the_commands_are_found():
    assert "pipelines.build" in command_modules()
    assert "pipelines.site_levels" in command_modules()


@pytest.mark.parametrize("module", command_modules())
def test_help_prints_usage(module):
    done = subprocess.run([sys.executable, "-m", module, "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{module} --help: {done.stderr.strip().splitlines()[-1:]}"
    assert done.stdout.startswith("usage:")
    assert "Traceback" not in done.stderr
