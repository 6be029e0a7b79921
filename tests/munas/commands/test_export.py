"""``export``: every refusal is one ``error:`` line with exit 2 (no conversion needed to test
them), and the real exports of a trained digits network: int8 TFLite (LiteRT and TFLite Micro
accuracy = munas's int8 test accuracy), the C array compiled with ``cc``, ONNX float and QDQ."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from munas.search.config import SearchOptions, new_config
from munas.search.run import RunDirectory

from ..deploy.support import require_deploy_extra, trained_run

ROOT = Path(__file__).resolve().parents[3]
CLI = [sys.executable, str(ROOT / "cli.py")]
UNBOUNDED = ["--error", "none", "--pmu", "none", "--size", "none", "--macs", "none"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    trained_run(root)
    return root


def _export(runs: Path, *args: str, prelude: str = "") -> subprocess.CompletedProcess:
    command = ([sys.executable, "-c", f"{prelude}; from munas.cli import main; main()"] if prelude else CLI)
    return subprocess.run([*command, "export", *args, "--runs-dir", str(runs)], capture_output=True, text=True,
                          timeout=900, cwd=ROOT)


def _one_error(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize(("args", "expected"), [
    (["nope", "0"], "nope"),
    (["trained", "7"], "has no candidate 7"),
    (["trained", "seven"], "an id or 'best'"),
    (["trained", "1"], "status 'failed'"),
    (["trained", "2"], "no stored weights"),
    (["trained", "0", "--format", "pdf"], "--format must be one of tflite, onnx, c"),
    (["trained", "best", "--error", "0.0001"], "no trained candidate within the bounds"),
])
def test_refusals_are_one_error_line(runs, args, expected):
    assert expected in _one_error(_export(runs, *args))


def test_a_run_from_before_weights_were_stored_is_refused(tmp_path):
    run = RunDirectory("old", tmp_path)
    run.write_config(new_config(SearchOptions(dataset="digits"), "old").to_dict())
    from munas.search.store import RunStore

    from ..search.factories import evaluated

    with RunStore(run.database) as store:  # no weights table at all
        store.add(evaluated(0), {"next_id": 1})
    assert "no stored weights" in _one_error(_export(tmp_path, "old", "0"))


@pytest.mark.parametrize(("fmt", "module"), [("tflite", "tflite_micro"), ("onnx", "onnx")])
def test_a_missing_extra_names_the_install_command(runs, fmt, module):
    # the first package each format needs, so the message is the same with or without the extra
    line = _one_error(_export(runs, "trained", "0", "--format", fmt,
                              prelude=f"import sys; sys.modules[{module!r}] = None"))
    assert f"'{module}'" in line and "pip install 'munas[deploy]'" in line


@pytest.mark.slow
def test_best_tflite_matches_munas_int8_accuracy_in_litert_and_tflite_micro(runs, tmp_path):
    require_deploy_extra()
    result = _export(runs, "trained", "best", *UNBOUNDED, "--format", "tflite", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["candidate"] == 0 and (tmp_path / "model.tflite").stat().st_size == report["tflite_bytes"]
    assert report["munas_int8_test_accuracy"] > 0.8  # a trained network, not chance
    assert abs(report["litert_test_accuracy"] - report["munas_int8_test_accuracy"]) <= 0.005
    assert report["tflm_test_accuracy"] == report["litert_test_accuracy"]
    assert report["tflm_litert_label_disagreements"] == 0
    assert 1.0 <= report["tflm_arena_planned"] / report["munas_pmu_tflm"] <= 1.10


MAIN_C = """#include <stdio.h>
#include "model_data.h"
int main(void) {
  printf("%u %d %c%c%c%c\\n", g_model_len, G_MODEL_ARENA_SIZE, g_model[4], g_model[5], g_model[6], g_model[7]);
  return 0;
}
"""


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")
def test_c_export_compiles_and_links_with_the_model_and_its_arena(runs, tmp_path):
    require_deploy_extra()
    result = _export(runs, "trained", "0", "--format", "c", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    (tmp_path / "main.c").write_text(MAIN_C)
    subprocess.run(["cc", "-Wall", "-Werror", "-o", str(tmp_path / "check"), str(tmp_path / "main.c"),
                    str(tmp_path / "model_data.c")], check=True, cwd=tmp_path)
    printed = subprocess.run([str(tmp_path / "check")], capture_output=True, text=True, check=True).stdout.split()
    assert printed == [str(report["tflite_bytes"]), str(report["tflm_arena_needed"]), "TFL3"]


@pytest.mark.slow
def test_onnx_float_and_qdq_agree_with_torch(runs, tmp_path):
    require_deploy_extra()
    result = _export(runs, "trained", "0", "--format", "onnx", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["onnx_float_agreement_with_torch"] >= 0.995
    assert report["onnx_float_test_accuracy"] == pytest.approx(report["torch_test_accuracy"], abs=0.005)
    assert abs(report["onnx_int8_qdq_test_accuracy"] - report["munas_int8_test_accuracy"]) <= 0.02
