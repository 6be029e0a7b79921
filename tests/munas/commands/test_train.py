"""``train`` command: table, JSON, --save round trip, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from munas.cli import app
from munas.data import load_dataset
from munas.errors import UserError
from munas.space.architecture import parse_architecture, save_architecture
from munas.training.checkpoint import WEIGHTS_FILE, load_trained

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[3]


def _layer(filters: int) -> dict:
    return {"type": "Conv2D", "ker_size": 3, "filters": filters, "2x_stride": False, "has_prepool": False,
            "has_bn": True, "has_relu": True}


@pytest.fixture
def digits_arch(tmp_path) -> Path:
    path = tmp_path / "arch.json"
    save_architecture(parse_architecture({"input_shape": [8, 8, 1], "num_classes": 10, "architecture": {
        "conv_blocks": [{"is_branch": False, "layers": [_layer(8)]}, {"is_branch": False, "layers": [_layer(16)]}],
        "pooling": {"type": "max", "pool_size": 2}, "dense_blocks": [{"units": 16}]}}), path)
    return path


def test_json_output_and_saved_model_reproduce_the_test_error(digits_arch, tmp_path):
    out = tmp_path / "trained"
    result = runner.invoke(app, ["train", str(digits_arch), "--dataset", "digits", "--sparsity", "0.5",
                                 "--epochs", "6", "--json", "--save", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["status"] == "ok" and summary["epochs"] == 6 and summary["sparsity"] == 0.5
    assert summary["resources"]["macs"] < summary["original_resources"]["macs"]
    assert summary["pruned_architecture"]["architecture"]["conv_blocks"][1]["layers"][0]["filters"] == 8
    _, network = load_trained(out)
    data = load_dataset("digits")
    with torch.no_grad():
        accuracy = (network(data.x_test).argmax(1) == data.y_test).float().mean().item()
    assert accuracy == pytest.approx(1 - summary["test_error"], abs=1e-6)
    assert json.loads((out / "result.json").read_text())["test_error"] == summary["test_error"]


def test_table_names_errors_resources_and_time(digits_arch):
    result = runner.invoke(app, ["train", str(digits_arch), "--epochs", "2"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    for text in ("validation error", "test error (int8)", "PMU", "model size", "MACs", "training time"):
        assert text in result.output


def test_unsafe_weights_file_is_refused(digits_arch, tmp_path):
    runner.invoke(app, ["train", str(digits_arch), "--epochs", "1", "--save", str(tmp_path / "m")])

    class Payload:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"x": Payload()}, tmp_path / "m" / WEIGHTS_FILE)
    with pytest.raises(UserError, match="refused, not a plain tensor file"):
        load_trained(tmp_path / "m")


def test_bad_input_is_one_line_error(digits_arch, tmp_path):
    cases = [
        (["train", str(tmp_path / "missing.json")], "cannot read"),
        (["train", str(digits_arch), "--dataset", "no_such_set"], "unknown data set"),
        (["train", str(digits_arch), "--sparsity", "1.5"], "--sparsity must be in [0, 1)"),
    ]
    for args, message in cases:
        done = subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], done.stderr
