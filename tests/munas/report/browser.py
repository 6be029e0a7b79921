"""Debian's headless ``chromium``, run as a user opens a file, for the report's browser tests.

``--dump-dom`` prints the page after its scripts ran, ``--enable-logging=stderr --v=0`` prints
every console message and uncaught exception as a ``CONSOLE`` line, ``--screenshot`` saves what
a reader sees. Plain flags are all these checks need: no DevTools client, no browser download.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--virtual-time-budget=5000"]
CONSOLE = re.compile(r":CONSOLE[:(].*")
"""A console line in chromium's log (``INFO:CONSOLE:1] "message", source: …``; older: ``CONSOLE(1)``)."""

needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="chromium is not installed (apt-get install chromium; .ci/run does)")


def chromium(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run headless chromium with a fresh profile under ``tmp_path``; talks only to file:// URLs."""
    assert CHROMIUM is not None
    profile = tmp_path / f"profile-{time.monotonic_ns()}"
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                          timeout=120)


def load(page: Path, tmp_path: Path) -> tuple[str, list[str]]:
    """The page's DOM after its scripts ran, and its console lines."""
    result = chromium("--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri(), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout, CONSOLE.findall(result.stderr)
