"""``search --report``'s page writer: rewritten after every candidate, atomically; a running search is detected."""

from __future__ import annotations

import os
import subprocess
import sys

from munas.report.live import LiveReport, Reporters, search_running, write_atomically
from munas.search.loop import SearchStats
from munas.search.run import RunDirectory

from .runs import candidates, config


class Recorder:
    def __init__(self, calls: list) -> None:
        self.calls = calls

    def start(self, config, stats) -> None:
        self.calls.append((self, "start"))

    def update(self, evaluated, stats) -> None:
        self.calls.append((self, evaluated.id))

    def stop(self) -> None:
        self.calls.append((self, "stop"))


def test_the_page_follows_the_search_and_stops_reloading_when_it_ends(tmp_path):
    run_config = config(budget=3)
    RunDirectory(run_config.run, tmp_path).write_config(run_config.to_dict())
    report, stats = LiveReport(tmp_path), SearchStats(budget=3)
    report.start(run_config, stats)
    assert report.path == tmp_path / "unit" / "report.html"
    assert "0 of 3 candidates" in report.path.read_text() and 'http-equiv="refresh"' in report.path.read_text()
    for candidate in candidates()[:3]:
        report.update(candidate, stats)
        assert f"<td data-sort=\"{candidate.id}\">{candidate.id}</td>" in report.path.read_text()
    report.stop()
    final = report.path.read_text()
    assert "http-equiv" not in final and "Finished: all 3 candidates" in final
    assert sorted(os.listdir(report.path.parent)) == ["config.json", "report.html"]  # no temporary file left


def test_a_page_that_cannot_be_written_warns_once_and_the_search_goes_on(tmp_path, capsys):
    run_config = config()
    RunDirectory(run_config.run, tmp_path).write_config(run_config.to_dict())
    report = LiveReport(tmp_path, tmp_path / "missing" / "report.html")
    report.start(run_config, SearchStats(budget=8))
    report.update(candidates()[0], SearchStats(budget=8))
    report.stop()
    assert capsys.readouterr().err.count("warning:") == 1


def test_reporters_hear_every_call_in_order():
    calls: list = []
    first, second = Recorder(calls), Recorder(calls)
    both = Reporters([first, second])
    both.start(config(), SearchStats(budget=8))
    both.update(candidates()[0], SearchStats(budget=8))
    both.stop()
    assert calls == [(first, "start"), (second, "start"), (first, 0), (second, 0), (first, "stop"), (second, "stop")]


def test_write_atomically_replaces_the_whole_file(tmp_path):
    target = tmp_path / "page.html"
    target.write_text("old")
    write_atomically(target, "new")
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["page.html"]


def test_a_run_is_running_while_a_live_process_holds_its_lock(tmp_path):
    run = RunDirectory("held", tmp_path)
    assert not search_running(run)  # no lock file
    with run:
        assert search_running(run)
    assert not search_running(run)  # released: the lock file is emptied
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (run.path / "lock").write_text(f"pid {finished.stdout.strip()}")  # a search killed by SIGKILL leaves its pid
    assert not search_running(run)
