"""``pareto`` over runs it must not trip on: one broken run among good ones, a run on read-only storage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from munas.search.config import SearchOptions, new_config
from munas.search.run import RunDirectory
from munas.search.store import RunStore

from ..readonly import on_read_only_storage
from ..search.factories import evaluated

ROOT = Path(__file__).resolve().parents[3]
CLI = [sys.executable, str(ROOT / "cli.py")]


def _finished_run(root: Path, name: str) -> RunDirectory:
    run = RunDirectory(name, root)
    run.write_config(new_config(SearchOptions(dataset="digits"), name).to_dict())
    with RunStore(run.database) as store:
        store.add(evaluated(0, (0.05, 3000, 5000, 100_000)), {"next_id": 1})
        store.add(evaluated(1, (0.03, 3500, 9000, 150_000)), {"next_id": 2})
    return run


def test_a_broken_run_is_skipped_with_one_warning_and_the_others_are_reported(tmp_path):
    _finished_run(tmp_path, "good")
    _finished_run(tmp_path, "broken").database.write_bytes(b"garbage " * 500)
    result = subprocess.run([*CLI, "pareto", "--dataset", "digits", "--json", "--runs-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert '"good"' in result.stdout and '"broken"' not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: skipped run 'broken': ") and "candidates.sqlite" in lines[0]
    named = subprocess.run([*CLI, "pareto", "--run", "broken", "--runs-dir", str(tmp_path)],
                           capture_output=True, text=True, timeout=120)
    assert named.returncode == 2 and named.stderr.startswith("error: ") and "Traceback" not in named.stderr


def test_a_finished_run_on_read_only_storage_is_reported_without_writing(tmp_path):
    run = _finished_run(tmp_path, "archived")
    before = sorted(p.name for p in run.path.iterdir())
    result = on_read_only_storage(tmp_path, [*CLI, "pareto", "--run", "archived", "--runs-dir", str(tmp_path)],
                                  env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert "Pareto front of archived (2 of 2 candidates)" in result.stdout
    assert result.stderr.strip() == f"warning: plot not written: {run.path} is read-only; give --out FILE to write it elsewhere"
    assert sorted(p.name for p in run.path.iterdir()) == before


def test_a_stopped_child_costs_training_seconds_and_the_progress_plot_is_written(tmp_path):
    import dataclasses
    import json

    run = _finished_run(tmp_path, "multi")
    stopped = dataclasses.replace(evaluated(2, status="stopped"), curve=(0.5,), rung_seconds=1.5, estimated_error=0.4)
    with RunStore(run.database) as store:
        store.add(stopped, {"next_id": 3})
    result = subprocess.run([*CLI, "pareto", "--run", "multi", "--json", "--out", str(tmp_path / "front.png"),
                             "--runs-dir", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)["runs"]["multi"]
    assert summary["stopped"] == 1 and summary["train_seconds"] == 4.5  # three candidates of 1.5 s each
    assert sorted(row["id"] for row in json.loads(result.stdout)["front"]) == [0, 1]  # never the stopped one
    assert (tmp_path / "front-hypervolume.png").stat().st_size > 0
