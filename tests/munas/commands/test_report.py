"""``report`` and ``search --report`` on a real (tiny) digits run, and the page in headless Chromium
(see :mod:`tests.munas.report.browser` for how the browser is driven)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from ..report.browser import chromium, load, needs_chromium

ROOT = Path(__file__).resolve().parents[3]
CLI = [sys.executable, str(ROOT / "cli.py")]
SEARCH = ["search", "--dataset", "digits", "--epochs", "1", "--population", "4", "--sample", "2", "--budget", "6",
          "--seed", "1", "--error", "0.9", "--pmu", "4KB", "--size", "100KB", "--macs", "2M", "--run", "tiny"]
REFRESH = '<meta http-equiv="refresh"'


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    """A finished ``search --report`` run; the page seen while it ran is saved as running.html."""
    folder = tmp_path_factory.mktemp("report")
    page = folder / "runs" / "tiny" / "report.html"
    process = subprocess.Popen([*CLI, *SEARCH, "--report"], cwd=folder, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        while process.poll() is None and not page.exists():
            time.sleep(0.05)
        if page.exists():
            (folder / "running.html").write_text(page.read_text())  # whole: the page is replaced atomically
        output, _ = process.communicate(timeout=300)
    finally:
        process.kill()
    assert process.returncode == 0, output
    assert f"report: {Path('runs', 'tiny', 'report.html')}" in output
    return folder


def test_the_page_follows_the_search_and_is_final_when_it_ends(run_folder):
    running = (run_folder / "running.html").read_text()
    assert REFRESH in running and "This search is <b>running</b>" in running
    final = (run_folder / "runs" / "tiny" / "report.html").read_text()
    assert REFRESH not in final and "Finished: all 6 candidates" in final
    assert final.count("<tr class=") == 6


def test_report_writes_the_page_where_asked(run_folder):
    result = subprocess.run([*CLI, "report", "tiny", "--out", "copy.html"], cwd=run_folder, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    assert "report (6 of 6 candidates): copy.html" in result.stdout
    assert "Finished: all 6 candidates" in (run_folder / "copy.html").read_text()


@pytest.mark.parametrize("args, message", [
    (["nope"], "run 'nope' does not exist"),
    (["tiny", "--out", "missing/page.html"], "the folder missing does not exist"),
    (["tiny", "--out", "runs"], "is a folder"),
])
def test_bad_input_is_one_error_line(run_folder, args, message):
    result = subprocess.run([*CLI, "report", *args], cwd=run_folder, capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


@needs_chromium
def test_the_page_loads_in_chromium_without_console_errors_and_draws_its_charts(run_folder, tmp_path):
    broken = tmp_path / "broken.html"
    broken.write_text("<html><body><script>throw new Error('kaboom')</script></body></html>")
    assert "kaboom" in "".join(load(broken, tmp_path)[1])  # the check does see an error

    page = run_folder / "runs" / "tiny" / "report.html"
    dom, console = load(page, tmp_path)
    assert not console
    charts = re.findall(r'<div id="[^"]+" class="plotly-graph-div([^"]*)"', dom)
    assert len(charts) == 3  # front, hypervolume, population (no surrogate in this run)
    assert all("js-plotly-plot" in classes for classes in charts)  # plotly drew each of them
    assert dom.count('class="main-svg"') >= 2 * len(charts)

    shot = tmp_path / "report.png"
    chromium("--hide-scrollbars", "--window-size=1200,1600", f"--screenshot={shot}", page.as_uri(), tmp_path=tmp_path)
    with Image.open(shot) as image:
        assert image.size == (1200, 1600)
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 24)) > 50  # charts, not a blank or error page
