import os
import signal
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from munas.errors import UserError
from munas.search.run import RunDirectory, RunLockedError, default_run_name, list_runs, validate_run_name


@pytest.mark.parametrize("name", ["digits-20260101-120000", "a", "my_run.2", "A-b_c.d"])
def test_valid_names(name):
    assert validate_run_name(name) == name


@pytest.mark.parametrize("name", ["", "..", "../x", "a/../../b", "/etc", "a/b", ".hidden", "-x", "a..b", "x" * 101,
                                  "a b", "a\\b", "ä"])
def test_invalid_names_are_rejected_before_becoming_paths(name, tmp_path):
    with pytest.raises(UserError, match="invalid run name"):
        RunDirectory(name, tmp_path)


def test_default_name_is_dataset_and_time():
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert default_run_name("fashion_mnist", now) == "fashion_mnist-20260102-030405"
    assert default_run_name("/data/my set.npz", now) == "my_set-20260102-030405"


def test_a_second_writer_is_refused_with_one_line(tmp_path):
    with RunDirectory("r", tmp_path):
        with pytest.raises(RunLockedError, match=f"pid {os.getpid()}") as error:
            RunDirectory("r", tmp_path).acquire()
        assert "\n" not in str(error.value)
    with RunDirectory("r", tmp_path):  # released on exit
        pass


def test_the_lock_dies_with_its_process(tmp_path):
    code = ("import sys, time; from munas.search.run import RunDirectory; "
            f"run = RunDirectory('r', {str(tmp_path)!r}); run.acquire(); print('locked', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunLockedError, match=f"pid {holder.pid}"):
            RunDirectory("r", tmp_path).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with RunDirectory("r", tmp_path):
        pass


def test_config_is_written_atomically_and_runs_are_listed(tmp_path):
    run = RunDirectory("r", tmp_path)
    assert not run.exists()
    run.write_config({"dataset": "digits"})
    assert run.read_config() == {"dataset": "digits"}
    assert not list(run.path.glob("*.tmp"))
    (tmp_path / "not-a-run").mkdir()
    assert [r.name for r in list_runs(tmp_path)] == ["r"]
    with pytest.raises(UserError, match="does not exist"):
        RunDirectory("missing", tmp_path).read_config()
