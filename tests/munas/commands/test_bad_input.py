"""Hostile input to every command: each run ends with one ``error:`` line and exit 2, or a result.

The commands run in-process through :func:`munas.cli.main` (the console entry point), so an
exception that escapes it is exactly the traceback a user would see. Hypothesis generates the
documents, numbers and files; training is replaced by a sentinel where a command would start
it, because what is under test is everything before (the training itself has its own tests).
Examples are capped so the whole file costs a few seconds.
"""

from __future__ import annotations

import contextlib
import copy
import errno
import io
import json
import math
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from munas import cli
from munas.search.config import SearchOptions, new_config
from munas.search.run import RunDirectory
from munas.search.store import RunStore
from tests.munas.search.factories import evaluated

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = json.loads((ROOT / "examples" / "spec_example1.json").read_text())
FUZZ = settings(max_examples=30, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


class ReachedTraining(Exception):
    """Raised where a command would start training: everything before it accepted the input."""


def invoke(*args: str, stdin: str = "") -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``munas ARGS`` run in this process."""
    out, err = io.StringIO(), io.StringIO()
    old_argv, old_stdin = sys.argv, sys.stdin
    sys.argv, sys.stdin = ["munas", *args], io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                cli.main()
                code = 0
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        sys.argv, sys.stdin = old_argv, old_stdin
    return code, out.getvalue(), err.getvalue()


def assert_clean(code: int, out: str, err: str, errors: int = 1) -> None:
    """Exit 0, or exit 2 with exactly ``errors`` lines, each ``error: …``; never a traceback."""
    assert "Traceback" not in out + err
    if code == 0:
        return
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, (code, err)
    assert len(lines) == errors and all(line.startswith("error: ") for line in lines), err


def outcome(*args: str, stdin: str = "") -> tuple[int, str, str]:
    """Invoke, treating "reached training" as acceptance; check it ended cleanly."""
    try:
        code, out, err = invoke(*args, stdin=stdin)
    except ReachedTraining:
        return 0, "", ""
    assert_clean(code, out, err)
    return code, out, err


@pytest.fixture
def no_training(monkeypatch):
    """Training, for search and train, raises :class:`ReachedTraining` instead of running."""
    def reached(*args, **kwargs):
        raise ReachedTraining

    monkeypatch.setattr("munas.search.loop._loop", reached)
    monkeypatch.setattr("munas.training.trainer.train_candidate", reached)


# --- strategies -----------------------------------------------------------------------------------

EXTREME_NUMBERS = st.sampled_from([0, -1, -3, 1, 2**31, 2**63, 10**100, 1e308, -1e308, 0.5, 1e-300,
                                   math.nan, math.inf, -math.inf, True, False, None])
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
              EXTREME_NUMBERS),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)),
    max_leaves=20,
)
FLAG_TEXT = st.one_of(
    st.sampled_from(["", "0", "-3", "1", "nan", "inf", "-inf", "1e999", "1e999999999", "64KB", "64KiB", "30M", "10%",
                     "none", "0.5", "99999999999999999999999", "0x10", "1_000", " ", "[/]", "--help", "-", "é"]),
    st.text(max_size=12),
)


def _paths(document) -> list[tuple]:
    """Every path (tuple of keys/indices) to a value inside a JSON document."""
    found: list[tuple] = [()]
    if isinstance(document, dict):
        for key, value in document.items():
            found += [(key, *rest) for rest in _paths(value)]
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += [(index, *rest) for rest in _paths(value)]
    return found


@st.composite
def mutated(draw, document):
    """``document`` with one value replaced by garbage, or one key deleted."""
    document = copy.deepcopy(document)
    path = draw(st.sampled_from(_paths(document)[1:]))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) and draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(JSON_VALUES)
    return document


def _dump(document) -> str:
    return json.dumps(document, allow_nan=True)


RAW_FILES = st.one_of(
    st.binary(max_size=200),
    st.sampled_from([b"", b"\xff\xfe\x00", b"[" * 100_000, b"{" * 50_000 + b"}", b'{"a": ' * 20_000,
                     b"PK\x03\x04garbage", b"\x93NUMPY\x01\x00", b"SQLite format 3\x00" + b"\x00" * 100,
                     b"1e999999", b"NaN", b'"' + b"x" * 100_000 + b'"']),
)


# --- resources: architecture documents of any content --------------------------------------------

@FUZZ
@given(document=st.one_of(JSON_VALUES, mutated(EXAMPLE)))
def test_resources_any_document(tmp_path_factory, document):
    path = tmp_path_factory.mktemp("arch") / "arch.json"
    path.write_text(_dump(document))
    outcome("resources", str(path))
    outcome("resources", "-", "--json", stdin=_dump(document) + "\n")


@FUZZ
@given(content=RAW_FILES)
def test_resources_any_file(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("arch") / "arch.json"
    path.write_bytes(content)
    outcome("resources", str(path))


@FUZZ
@given(accounting=FLAG_TEXT)
def test_resources_any_accounting(accounting):
    outcome("resources", str(ROOT / "examples" / "spec_example1.json"), "--accounting", accounting)


def test_resources_reports_each_bad_input_once(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[/]")
    code, out, err = invoke("resources", str(bad), str(tmp_path / "missing.json"), str(ROOT / "examples" / "spec_example1.json"))
    assert_clean(code, out, err, errors=2)
    assert "1,296" in out or "PMU" in out


# --- datasets --------------------------------------------------------------------------------------

@FUZZ
@given(name=FLAG_TEXT)
def test_datasets_any_name(tmp_path_factory, name):
    data_dir = tmp_path_factory.mktemp("data")
    outcome("datasets", name, "--data-dir", str(data_dir))
    if name.strip() and not name.startswith("-"):
        outcome("datasets", name, "--verify", "--data-dir", str(data_dir))


@FUZZ
@given(content=RAW_FILES)
def test_datasets_verify_any_file(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("data") / "mine.npz"
    path.write_bytes(content)
    outcome("datasets", str(path), "--verify")


@st.composite
def npz_arrays(draw):
    """Four arrays of odd shapes, dtypes, values and lengths."""
    def array(kind):
        shape = draw(st.sampled_from([(0,), (6,), (6, 4, 4), (6, 4, 4, 1), (0, 4, 4), (6, 0, 4), (3, 4, 4, 2), (6, 2)]))
        dtype = draw(st.sampled_from([np.uint8, np.int64, np.float32, np.float64, np.bool_, np.uint64, np.complex64,
                                      np.str_]))
        fill = draw(st.sampled_from([0, 1, 255, 256, -1, 10**6, 1e300, math.nan, math.inf, 0.5]))
        with np.errstate(all="ignore"):
            values = np.full(shape, fill) if dtype is np.str_ else np.full(shape, fill).astype(dtype)
        if kind == "y" and values.ndim == 1 and values.size and dtype is not np.str_:
            values = values.copy()
            values[: len(values) // 2] = 0
        return values

    return {"x_train": array("x"), "y_train": array("y"), "x_test": array("x"), "y_test": array("y")}


@FUZZ
@given(arrays=npz_arrays())
def test_datasets_verify_any_npz(tmp_path_factory, arrays):
    path = tmp_path_factory.mktemp("data") / "mine.npz"
    np.savez(path, **arrays)
    outcome("datasets", str(path), "--verify")


# --- search: every flag, up to the first training ---------------------------------------------------

SEARCH_FLAGS = ["--budget", "--population", "--sample", "--initial-population", "--epochs", "--workers", "--screen",
                "--seed", "--pmu", "--size", "--macs", "--error", "--executor", "--surrogate", "--accounting",
                "--run", "--dataset", "--address"]


@FUZZ
@given(flags=st.dictionaries(st.sampled_from(SEARCH_FLAGS), FLAG_TEXT, min_size=1, max_size=3))
def test_search_any_flag_values(tmp_path_factory, no_training, flags):
    runs = tmp_path_factory.mktemp("runs")
    args = [part for flag, value in flags.items() for part in (flag, value)]
    if "--run" not in flags:
        args += ["--run", "fuzz"]
    outcome("search", "--runs-dir", str(runs), *args)


@FUZZ
@given(content=RAW_FILES)
def test_search_any_surrogate_file(tmp_path_factory, no_training, content):
    folder = tmp_path_factory.mktemp("surrogate")
    (folder / "gnn.pt").write_bytes(content)
    outcome("search", "--runs-dir", str(folder / "runs"), "--run", "s", "--surrogate", "gnn",
            "--surrogate-init", str(folder / "gnn.pt"))


# --- stored runs: config.json and candidates.sqlite with garbage -------------------------------------

def _stored_run(root: Path, name: str = "good", candidates: int = 12) -> RunDirectory:
    run = RunDirectory(name, root)
    run.write_config(new_config(SearchOptions(run=name, dataset="digits"), name).to_dict())
    with RunStore(run.database) as store:
        for i in range(candidates):
            store.add(evaluated(i, (0.05 + 0.01 * i, 1000 + 300 * (i % 4), 2000 + 100 * i, 10_000 * (12 - i))),
                      {"next_id": i + 1, "rng": {}})
    return run


@pytest.fixture(scope="module")
def good_config(tmp_path_factory) -> dict:
    return new_config(SearchOptions(run="good", dataset="digits"), "good").to_dict()


@FUZZ
@given(document=st.one_of(JSON_VALUES, st.builds(dict)), data=st.data())
def test_pareto_and_resume_any_config(tmp_path_factory, no_training, good_config, document, data):
    config = data.draw(st.one_of(st.just(document), mutated(good_config)))
    root = tmp_path_factory.mktemp("runs")
    run = _stored_run(root)
    run.config_path.write_text(_dump(config))
    outcome("pareto", "--run", "good", "--runs-dir", str(root), "--json")
    outcome("search", "--run", "good", "--resume", "--runs-dir", str(root))


@FUZZ
@given(content=RAW_FILES, which=st.sampled_from(["config.json", "candidates.sqlite"]))
def test_pareto_any_run_file(tmp_path_factory, content, which):
    root = tmp_path_factory.mktemp("runs")
    run = _stored_run(root)
    (run.path / "candidates.sqlite-wal").unlink(missing_ok=True)
    (run.path / which).write_bytes(content)
    outcome("pareto", "--run", "good", "--runs-dir", str(root), "--csv")


@FUZZ
@given(column=st.sampled_from(["architecture", "pruned_architecture", "val_error", "pmu", "status", "sparsity",
                               "macs", "parent_id"]),
       value=st.one_of(JSON_VALUES.map(_dump), st.text(max_size=30), st.floats(), st.integers(-2**63, 2**63 - 1),
                       st.none(), st.binary(max_size=10)))
def test_pareto_and_train_surrogate_any_stored_value(tmp_path_factory, column, value):
    root = tmp_path_factory.mktemp("runs")
    run = _stored_run(root)
    with sqlite3.connect(run.database) as connection:
        try:
            connection.execute(f"UPDATE candidates SET {column} = ? WHERE id = 3", (value,))
        except sqlite3.IntegrityError:  # a NOT NULL column: the database itself refuses that value
            return
    outcome("pareto", "--run", "good", "--runs-dir", str(root))
    outcome("train-surrogate", "--run", "good", "--runs-dir", str(root), "--folds", "1")


@FUZZ
@given(flags=st.dictionaries(st.sampled_from(["--error", "--pmu", "--size", "--macs", "--out", "--run", "--dataset"]),
                             FLAG_TEXT, min_size=1, max_size=3))
def test_pareto_any_flag_values(tmp_path_factory, flags):
    root = tmp_path_factory.mktemp("runs")
    _stored_run(root)
    args = [part for flag, value in flags.items() for part in (flag, value)]
    if "--out" in flags:  # keep whatever it writes inside the test's folder
        args[args.index("--out") + 1] = str(root / (flags["--out"].replace("/", "_") or "x"))
    outcome("pareto", "--runs-dir", str(root), *args)


@FUZZ
@given(folds=FLAG_TEXT, seed=FLAG_TEXT)
def test_train_surrogate_any_flag_values(tmp_path_factory, folds, seed):
    root = tmp_path_factory.mktemp("runs")
    _stored_run(root, candidates=3)  # too few to fit: every valid flag ends in the "too few" error
    outcome("train-surrogate", "--runs-dir", str(root), "--folds", folds, "--seed", seed)


# --- train ------------------------------------------------------------------------------------------

DIGITS_ARCH = {"input_shape": [8, 8, 1], "num_classes": 10, "architecture": {
    "conv_blocks": [{"is_branch": False, "layers": [{"type": "Conv2D", "ker_size": 3, "filters": 4, "2x_stride": False,
                                                      "has_prepool": False, "has_bn": True, "has_relu": True}]}],
    "pooling": {"type": "max", "pool_size": 2}, "dense_blocks": [{"units": 8}]}}


@FUZZ
@given(document=st.one_of(JSON_VALUES, mutated(DIGITS_ARCH)),
       flags=st.dictionaries(st.sampled_from(["--sparsity", "--epochs", "--threads", "--seed", "--dataset", "--device"]),
                             FLAG_TEXT, max_size=2))
def test_train_any_document_and_flags(tmp_path_factory, no_training, document, flags):
    path = tmp_path_factory.mktemp("arch") / "arch.json"
    path.write_text(_dump(document))
    outcome("train", str(path), *[part for flag, value in flags.items() for part in (flag, value)])


# --- the environment: a full disk, a read-only folder -------------------------------------------------

def _fail_with(number: int):
    def fail(*args, **kwargs):
        raise OSError(number, errno.errorcode[number] and __import__("os").strerror(number))
    return fail


@pytest.mark.parametrize("number", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_search_on_a_full_or_read_only_disk(tmp_path, monkeypatch, no_training, number):
    monkeypatch.setattr("munas.search.run.RunDirectory.write_config", _fail_with(number))
    code, out, err = invoke("search", "--runs-dir", str(tmp_path), "--run", "full")
    assert_clean(code, out, err)
    assert code == 2 and __import__("os").strerror(number) in err


@pytest.mark.parametrize("number", [errno.ENOSPC, errno.EROFS])
def test_pareto_plot_on_a_full_or_read_only_disk(tmp_path, monkeypatch, number):
    _stored_run(tmp_path)
    monkeypatch.setattr("munas.commands.pareto.plot_fronts", _fail_with(number))
    code, out, err = invoke("pareto", "--run", "good", "--runs-dir", str(tmp_path))
    assert_clean(code, out, err)
    assert code == 2


def test_store_full_disk_while_searching(tmp_path, monkeypatch, no_training):
    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr("munas.search.store.RunStore.__init__", full)
    monkeypatch.setattr("munas.search.loop._loop", lambda *a, **k: None)
    code, out, err = invoke("search", "--runs-dir", str(tmp_path), "--run", "full")
    assert_clean(code, out, err)
    assert code == 2 and "database or disk is full" in err
