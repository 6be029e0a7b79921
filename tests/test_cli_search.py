"""End to end: real searches on ``digits`` through the command line, the Pareto front of the
result, and crash safety (SIGKILL then --resume, SIGINT, two writers on one run)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, str(ROOT / "cli.py")]
# Tiny but real: every candidate is trained on digits for one epoch with pruning.
SMALL = ["--dataset", "digits", "--epochs", "1", "--population", "4", "--sample", "2", "--seed", "3"]
# Loose enough that some one-epoch candidates fit, tight enough (PMU) that some do not.
BOUNDS = ["--error", "0.9", "--pmu", "4KB", "--size", "100KB", "--macs", "2M"]


ENV = {**os.environ, "COLUMNS": "200"}


def cli(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=ENV)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def rows(database: Path) -> list[tuple]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return db.execute("SELECT * FROM candidates ORDER BY seq").fetchall()


def stored_ids(database: Path) -> int:
    if not database.exists():
        return 0
    try:
        return len(rows(database))
    except sqlite3.OperationalError:  # created, schema not yet written
        return 0


def start(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([*CLI, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=ENV)


def wait_for_rows(process: subprocess.Popen, database: Path, count: int, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while stored_ids(database) < count:
        assert process.poll() is None, process.stdout.read()
        assert time.monotonic() < deadline, "search made no progress"
        time.sleep(0.05)


def dominates(a, b) -> bool:
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


def test_search_then_pareto_on_real_digits(tmp_path):
    result = cli("search", *SMALL, *BOUNDS, "--budget", "8", "--run", "e2e", cwd=tmp_path)
    run = tmp_path / "runs" / "e2e"
    assert "Pareto front" in result.stdout and "plot: " in result.stdout and "run directory: " in result.stdout
    assert (run / "pareto.png").read_bytes()[:4] == b"\x89PNG"
    config = json.loads((run / "config.json").read_text())
    assert config["bounds"] == {"error": 0.9, "pmu": 4000, "model_size": 100000, "macs": 2000000}
    assert config["train_config"]["epochs"] == 1 and config["budget"] == 8
    stored = rows(run / "candidates.sqlite")
    assert len(stored) == 8
    assert len((run / "search.log").read_text().splitlines()) >= 9

    everything = json.loads(cli("pareto", "--run", "e2e", "--json", cwd=tmp_path).stdout)
    front = everything["front"]
    assert everything["error"] == "val_error" and front
    assert everything["runs"]["e2e"]["surrogate"] is None  # plain μNAS predicts nothing
    with sqlite3.connect(run / "candidates.sqlite") as db:
        ok = db.execute("SELECT id, val_error, pmu, model_size, macs FROM candidates WHERE status = 'ok'").fetchall()
    objectives = {row[0]: row[1:] for row in ok}
    front_ids = {m["id"] for m in front}
    for member in front:  # nothing stored dominates a front member...
        point = (member["val_error"], member["pmu"], member["model_size"], member["macs"])
        assert point == objectives[member["id"]]
        assert not any(dominates(other, point) for other in objectives.values())
    for candidate_id, point in objectives.items():  # ...and everything off the front is dominated
        if candidate_id not in front_ids:
            assert any(dominates(objectives[i], point) for i in front_ids)

    feasible = json.loads(cli("pareto", "--run", "e2e", "--json", "--within-bounds", cwd=tmp_path).stdout)
    bound = (0.9, 4000, 100000, 2000000)
    within = {i for i, p in objectives.items() if all(x <= b for x, b in zip(p, bound))}
    assert within, "no candidate within the bounds: the within-bounds front would be untested"
    assert {m["id"] for m in feasible["front"]} <= within
    assert all(m["within_bounds"] for m in feasible["front"])
    assert bool(feasible["front"]) == bool(within)
    assert 0.0 <= feasible["hypervolume"] <= 1.0 and (feasible["hypervolume"] > 0) == bool(within)

    table = cli("pareto", "--dataset", "digits", "--out", "front.png", cwd=tmp_path)
    assert "hypervolume" in table.stdout and (tmp_path / "front.png").is_file()
    csv_lines = cli("pareto", "--run", "e2e", "--csv", cwd=tmp_path).stdout.strip().splitlines()
    assert csv_lines[0].startswith("run,id,val_error") and len(csv_lines) == len(front) + 1


def test_gnn_search_trains_screened_children_and_pareto_audits_its_predictions(tmp_path):
    from scipy.stats import kendalltau

    cli("search", *SMALL, *BOUNDS, "--budget", "16", "--surrogate", "gnn", "--screen", "4", "--run", "gnn",
        cwd=tmp_path)
    with sqlite3.connect(tmp_path / "runs" / "gnn" / "candidates.sqlite") as db:
        stored = db.execute("SELECT id, status, val_error, predicted_error, predicted_error_std FROM candidates").fetchall()
    assert len(stored) == 16
    predicted = [(i, error, p, std) for i, status, error, p, std in stored if p is not None]
    # The surrogate first fits after 10 trained candidates; every later child was screened.
    assert len(predicted) >= 4 and min(i for i, *_ in predicted) >= 10
    assert all(p >= 0 and std >= 0 for _, _, p, std in predicted)

    audited = [(error, p) for _, error, p, _ in predicted if error is not None]
    report = json.loads(cli("pareto", "--run", "gnn", "--json", cwd=tmp_path).stdout)["runs"]["gnn"]["surrogate"]
    assert report["screened_candidates"] == len(audited)
    expected_tau = kendalltau([p for _, p in audited], [e for e, _ in audited]).statistic
    assert report["kendall_tau"] == pytest.approx(expected_tau)
    table = cli("pareto", "--run", "gnn", cwd=tmp_path).stdout
    assert f"predictions of its {len(audited)} screened candidates" in table


def test_sigkill_then_resume_keeps_every_finished_candidate_and_matches_an_uninterrupted_run(tmp_path):
    args = [*SMALL, "--budget", "7"]
    database = tmp_path / "runs" / "killed" / "candidates.sqlite"
    process = start("search", *args, "--run", "killed", cwd=tmp_path)
    try:
        wait_for_rows(process, database, 3)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        process.kill()
    before = rows(database)
    assert 3 <= len(before) < 7
    resumed = cli("search", "--run", "killed", "--resume", cwd=tmp_path)
    assert f"resuming with {len(before)} stored candidates" in resumed.stdout
    after = rows(database)
    assert len(after) == 7
    assert after[:len(before)] == before  # every row finished before the kill is intact
    assert sorted(r[1] for r in after) == list(range(7))

    cli("search", *args, "--run", "straight", cwd=tmp_path)
    straight = rows(tmp_path / "runs" / "straight" / "candidates.sqlite")

    def genotype(table):  # id, parent, architecture, sparsity, val/test error, resources
        return [(r[1], r[2], r[5], r[6], r[8], r[9], r[11], r[12], r[13]) for r in table]

    assert genotype(after) == genotype(straight)


def test_second_writer_is_refused_and_sigint_stops_cleanly_saying_how_to_resume(tmp_path):
    database = tmp_path / "runs" / "stopped" / "candidates.sqlite"
    process = start("search", *SMALL, "--budget", "200", "--run", "stopped", cwd=tmp_path)
    try:
        wait_for_rows(process, database, 2)
        refused = cli("search", "--run", "stopped", "--resume", cwd=tmp_path, check=False)
        assert refused.returncode == 2 and "is being written by pid" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
        assert process.poll() is None
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 128 + signal.SIGINT
    assert "resume with: python cli.py search --run stopped --resume" in output
    assert "Traceback" not in output
    stored = rows(database)
    count = len(stored)
    assert count >= 2
    assert not any("Interrupted" in (row[4] or "") for row in stored)  # the training in flight is not a failure
    finished = cli("search", "--run", "stopped", "--resume", "--budget", str(count + 1), cwd=tmp_path)
    assert len(rows(database)) == count + 1 and "Pareto front" in finished.stdout


def in_process(args: list[str], monkeypatch, capsys) -> tuple[int, str, str]:
    """Run ``python cli.py ARGS`` inside the test process (no interpreter start-up)."""
    import munas.cli as entry

    monkeypatch.setattr(sys, "argv", ["cli.py", *args])
    try:
        entry.main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("args, message", [
    (["--run", "../escape"], "invalid run name"),
    (["--run", "/tmp/abs"], "invalid run name"),
    (["--pmu", "lots"], "--pmu: cannot read 'lots'"),
    (["--sample", "9", "--population", "4"], "cannot exceed --population"),
    (["--resume"], "--resume needs --run"),
    (["--run", "nothing", "--resume"], "does not exist"),
    (["--screen", "4"], "needs a surrogate"),
    (["--executor", "carrier-pigeon"], "unknown executor"),
    (["--workers", "2"], "use --executor process"),
    (["--dataset", "no_such_set"], "no_such_set"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    code, _, err = in_process(["search", *args, "--budget", "1"], monkeypatch, capsys)
    assert code == 2, err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "escape").exists() and not (tmp_path / "runs").exists()  # nothing written


def test_resuming_with_a_different_search_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert in_process(["search", *SMALL, "--budget", "1", "--run", "one"], monkeypatch, capsys)[0] == 0
    for args, message in ((["--dataset", "mnist"], "--dataset digits"), (["--seed", "9"], "--seed 3"),
                          (["--pmu", "1KB"], "bound pmu")):
        code, _, err = in_process(["search", "--run", "one", "--resume", *args], monkeypatch, capsys)
        assert code == 2 and message in err, err
    code, _, err = in_process(["search", *SMALL, "--budget", "1", "--run", "one"], monkeypatch, capsys)
    assert code == 2 and "already exists" in err
    code, _, err = in_process(["pareto", "--run", "nope"], monkeypatch, capsys)
    assert code == 2 and "does not exist" in err
