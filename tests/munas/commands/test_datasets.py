import gzip
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from munas.cli import app
from munas.data import DataError
from munas.data.idx import IDX_SETS
from munas.data.testing import real_data_dir

runner = CliRunner()
MNIST = IDX_SETS["mnist"]
ROOT = Path(__file__).resolve().parents[3]


def test_overview_lists_every_data_set_and_where_it_looks(tmp_path):
    result = runner.invoke(app, ["datasets", "--data-dir", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name in ("chars74k", "cifar10", "digits", "fashion_mnist", "mnist", "speech_commands"):
        assert name in result.output
    # Long paths are folded over several lines of the table; compare without the layout.
    flat = re.sub(r"[\s│]", "", result.output)
    assert "builtin" in flat and str(tmp_path / "cifar-10-batches-py") in flat
    mnist_row = next(line for line in result.output.splitlines() if " mnist " in line)
    assert "no" in mnist_row.split() and "28×28×1" in mnist_row


def test_verify_prints_split_sizes():
    result = runner.invoke(app, ["datasets", "digits", "--verify"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "1,293" in result.output and "144" in result.output and "360" in result.output


def test_verify_checks_the_sums(tmp_path, monkeypatch):
    monkeypatch.setenv("MUNAS_CACHE_DIR", str(tmp_path / "cache"))
    shutil.copytree(real_data_dir("mnist") / MNIST.folder, tmp_path / MNIST.folder)
    result = runner.invoke(app, ["datasets", "mnist", "--verify", "--data-dir", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert result.output.count("sha256 of the decompressed content matches") == 4
    assert "54,000" in result.output and "6,000" in result.output and "10,000" in result.output


def test_unknown_name_is_a_user_error_listing_valid_names():
    # cli.main turns a UserError into "error: <message>" and exit 2 (the subprocess test below).
    result = runner.invoke(app, ["datasets", "imagenet", "--verify"])
    assert isinstance(result.exception, DataError)
    assert str(result.exception).startswith("unknown data set 'imagenet': use one of chars74k, cifar10, digits")


def test_corrupt_file_is_one_line_error_from_the_command(tmp_path):
    shutil.copytree(real_data_dir("mnist") / MNIST.folder, tmp_path / MNIST.folder)
    target = tmp_path / MNIST.remote_files["test_labels"].path
    target.write_bytes(gzip.compress(gzip.decompress(target.read_bytes())[:-1]))
    result = subprocess.run([sys.executable, "cli.py", "datasets", "mnist", "--verify", "--data-dir", str(tmp_path)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120,
                            env={**os.environ, "MUNAS_CACHE_DIR": str(tmp_path / "cache")})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {target}: sha256 of the decompressed content is")
    assert "Traceback" not in result.stdout + result.stderr


def test_verify_says_unverified_for_a_partial_release():
    result = runner.invoke(app, ["datasets", "cifar10", "--verify", "--data-dir", str(real_data_dir("cifar10"))],
                           env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("UNVERIFIED cifar10: not the canonical CIFAR-10 release") and "4000 of 10000" in last


def test_verify_says_verified_for_the_built_in_copy():
    result = runner.invoke(app, ["datasets", "digits", "--verify"], env={"COLUMNS": "400"})
    assert result.output.strip().splitlines()[-1].startswith("VERIFIED digits: the canonical release")


def test_search_warns_once_at_the_start_on_unverified_data(tmp_path, monkeypatch):
    from types import SimpleNamespace

    # The reporter reads the data set the search loaded; here it reports digits as a partial copy.
    monkeypatch.setattr("munas.commands.search.load_cached_dataset",
                        lambda *args: SimpleNamespace(unverified="a partial copy"))
    result = runner.invoke(app, ["search", "--budget", "1", "--population", "1", "--sample", "1", "--epochs", "1",
                                 "--runs-dir", str(tmp_path), "--run", "partial"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if "UNVERIFIED" in line]
    assert warnings == ["warning: UNVERIFIED data set digits: a partial copy"]
    assert result.output.index("UNVERIFIED") < result.output.index("run directory:")
