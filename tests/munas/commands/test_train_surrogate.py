import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from munas.cli import app
from munas.search.config import SearchOptions, new_config
from munas.search.run import RunDirectory
from munas.search.store import RunStore

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[3]


def _empty_run(root, name="empty", dataset="digits"):
    run = RunDirectory(name, root)
    run.write_config(new_config(SearchOptions(dataset=dataset), name).to_dict())
    RunStore(run.database).close()
    return run


def _run_of_fixture_candidates(root, name, count):
    """A digits run whose store holds the first ``count`` candidates of the surrogate fixture."""
    from munas.surrogate.samples import candidate_from_record

    fixture = ROOT / "tests" / "surrogate" / "fixtures" / "digits_candidates.jsonl"
    run = _empty_run(root, name)
    with RunStore(run.database) as store:
        for line in fixture.read_text().splitlines()[:count]:
            store.add(candidate_from_record(json.loads(line)), {"next_id": 1})
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


def test_trains_on_a_real_run_reports_scores_and_saves(tmp_path):
    from munas.surrogate.persistence import load_ensemble, read_header

    _run_of_fixture_candidates(tmp_path, "digits-real", 24)
    out = tmp_path / "model.pt"
    result = runner.invoke(app, ["train-surrogate", "--dataset", "digits", "--folds", "2", "--out", str(out),
                                 "--runs-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Kendall" in result.output and f"saved: {out}" in result.output.replace("\n", "")
    header = read_header(out)
    assert header["metadata"]["candidates"] == 24 and header["metadata"]["runs"] == ["digits-real"]
    tau = header["metadata"]["cross_validation"]["kendall_tau"]
    assert -1.0 <= tau <= 1.0 and f"{tau:.3f}" in result.output
    assert len(load_ensemble(out).members) == header["members"]


def test_runs_on_read_only_storage_are_read_and_the_save_refused_before_training(tmp_path):
    from ..readonly import on_read_only_storage

    _run_of_fixture_candidates(tmp_path, "archived", 12)
    result = on_read_only_storage(tmp_path, [sys.executable, str(ROOT / "cli.py"), "train-surrogate",
                                             "--dataset", "digits", "--runs-dir", str(tmp_path)])
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (f"error: cannot save the surrogate in {tmp_path}: it is read-only; "
                                     "give --out FILE elsewhere")
