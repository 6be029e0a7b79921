import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from cli import app
from munas.search.run import RunDirectory
from munas.search.store import RunStore

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[3]


def _empty_run(root, name="empty", dataset="digits"):
    run = RunDirectory(name, root)
    run.write_config({"dataset": dataset})
    RunStore(run.database).close()
    return run


def test_empty_run_is_a_one_line_error(tmp_path):
    _empty_run(tmp_path)
    result = subprocess.run([sys.executable, "cli.py", "train-surrogate", "--run", "empty", "--runs-dir", str(tmp_path)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: only 0 successfully trained candidates in empty")
    assert "Traceback" not in result.stdout + result.stderr


def test_no_runs_and_mixed_data_sets_are_clear_errors(tmp_path):
    result = runner.invoke(app, ["train-surrogate", "--runs-dir", str(tmp_path)])
    assert "no runs in" in str(result.exception)
    _empty_run(tmp_path, "a", "digits")
    _empty_run(tmp_path, "b", "mnist")
    result = runner.invoke(app, ["train-surrogate", "--runs-dir", str(tmp_path)])
    assert "several data sets (digits, mnist)" in str(result.exception)
    result = runner.invoke(app, ["train-surrogate", "--run", "missing", "--runs-dir", str(tmp_path)])
    assert "does not exist" in str(result.exception)
