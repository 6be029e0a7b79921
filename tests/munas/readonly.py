"""Run a command with a folder on read-only storage, for tests that run as root.

``chmod`` does not stop root, so a test of "the run lives on read-only storage" that only
removes write permissions proves nothing here. A read-only bind mount does: the kernel
refuses every write under it with EROFS, whoever asks. The mount is made in a private mount
namespace (``unshare -m``), so it exists only for the command and vanishes with it.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

_SCRIPT = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'


def on_read_only_storage(folder: Path, command: Sequence[str], **kwargs) -> subprocess.CompletedProcess:
    """Run ``command`` while ``folder`` is mounted read-only (skips the test where that is impossible)."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode:
        pytest.skip("needs unshare -m (root in a mount namespace) to make a read-only mount")
    return subprocess.run(["unshare", "-m", "sh", "-c", _SCRIPT, "sh", str(folder), *command],
                          capture_output=True, text=True, timeout=120, **kwargs)
