"""`resources`: one JSON object per input in order, bad lines reported by number, the rest still processed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "spec_example1.json"


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), "resources", *args], input=stdin,
                          capture_output=True, text=True, cwd=ROOT)


def test_json_lines_keep_input_order_and_report_bad_lines_by_number():
    good = EXAMPLE.read_text().replace("\n", "")
    stdin = "\n".join([good, "{not json", "", '{"input_shape": [8, 8, 1]}', good]) + "\n"
    result = run("-", str(EXAMPLE), "--json", "--accounting", "munas", stdin=stdin)
    assert result.returncode == 2
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["input"] for row in rows] == ["stdin line 1", "stdin line 2", "stdin line 4", "stdin line 5",
                                              str(EXAMPLE)]
    ok = [row for row in rows if "error" not in row]
    assert len(ok) == 3
    for row in ok:
        assert (row["pmu"], row["model_size"], row["macs"]) == (720, 498, 16480)
        assert row["schedule"][0] == "block0/layer0/conv" and row["schedule"][-1] == "logits"
    assert "not valid JSON" in rows[1]["error"]
    assert rows[2]["error"] == "architecture: missing"
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 2 and errors[0].startswith("error: stdin line 2:")
    assert "Traceback" not in result.stderr


def test_table_for_files_and_default_tflm_accounting():
    result = run(str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert "1,360" in result.stdout  # tflm: the 784-byte input is resident with the first conv's 576


def test_missing_file_and_unknown_profile_are_one_line_errors():
    missing = run("nowhere.json")
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "no such file" in missing.stderr
    profile = run(str(EXAMPLE), "--accounting", "tflite")
    assert profile.returncode == 2 and "unknown accounting profile 'tflite'; choose one of munas, tflm" in profile.stderr
