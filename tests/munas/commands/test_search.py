"""``search`` when nobody watches a terminal: one plain line per finished candidate, as it happens."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
LINE = re.compile(r"^\[(\d+)/40\] candidate #(\d+) (ok, val err [\d.]+, test err [\d.]+, int8 err [\d.]+, PMU .+, "
                  r"size .+, MACs .+|\w+: .*); trained [\d.]+ s · best .+$")


def test_a_piped_search_prints_one_line_per_candidate_as_it_finishes(tmp_path):
    process = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "search", "--dataset", "digits", "--epochs", "1",
                                "--population", "4", "--sample", "2", "--budget", "40", "--run", "piped"],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "COLUMNS": "80"})
    try:
        seen = []
        for line in process.stdout:  # arrives while the search runs: 40 candidates take far longer than 2
            if line.startswith("["):
                seen.append(line.rstrip("\n"))
            if len(seen) == 2:
                break
        assert process.poll() is None, "the lines came only at the end"
        process.send_signal(signal.SIGINT)
        rest, errors = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 128 + signal.SIGINT, errors
    for number, line in enumerate(seen, start=1):
        match = LINE.match(line)
        assert match, line
        assert match.group(1) == str(number) and match.group(2) == str(number - 1)
    assert "━" not in rest and "\x1b[" not in rest  # no progress bar drawn into the log
