"""Start-up of the command line: the commands that train nothing answer without loading torch.

The app imports every command module to build its help, so one heavy import at module level in
any of them slows down every command. These run the light commands as a user does and read
what Python imported (``-X importtime`` lists every module on stderr).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "spec_example1.json"
HEAVY = {"torch", "torch_geometric", "ray", "matplotlib", "sklearn", "pymoo", "plotly"}


def imported_packages(*args: str) -> set[str]:
    """Top-level packages that ``python cli.py ARGS`` imports; the command must succeed."""
    result = subprocess.run([sys.executable, "-X", "importtime", str(ROOT / "cli.py"), *args],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    modules = [line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines()
               if line.startswith("import time:")]
    return {module.split(".")[0] for module in modules}


@pytest.mark.parametrize("command", ["--help", "resources", "datasets"])
def test_light_commands_import_no_heavy_package(command, tmp_path):
    args = {"--help": ["--help"], "resources": ["resources", str(EXAMPLE)],
            "datasets": ["datasets", "--data-dir", str(tmp_path)]}[command]
    packages = imported_packages(*args)
    assert "munas" in packages  # the listing is real
    assert not packages & HEAVY


def test_installed_names_stay_under_munas(tmp_path):
    """Outside the checkout only ``munas`` is importable: the data and surrogate folders install as
    ``munas.data`` and ``munas.surrogate``, never as generic top-level names that shadow a user's own."""
    probe = "import importlib.util as u; print([u.find_spec(n) is not None for n in ('data', 'surrogate', 'cli')])"
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert found.stdout.strip() == "[False, False, False]"
    console = subprocess.run([sys.executable, "-m", "munas", "--help"], capture_output=True, text=True, cwd=tmp_path)
    assert console.returncode == 0 and "search" in console.stdout
