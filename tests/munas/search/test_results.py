import json
import sqlite3

import pytest

from munas.errors import UserError
from munas.search.config import SearchOptions, new_config
from munas.search.results import load_results, read_selection, select_runs
from munas.search.run import RunDirectory
from munas.search.store import RunStore

from .factories import evaluated


def _run(root, name: str, dataset: str) -> RunDirectory:
    run = RunDirectory(name, root)
    run.write_config(new_config(SearchOptions(dataset=dataset), name).to_dict())
    return run


def test_runs_are_selected_by_name_or_data_set(tmp_path):
    _run(tmp_path, "a", "digits")
    _run(tmp_path, "b", "digits")
    _run(tmp_path, "c", "mnist")
    assert [r.name for r in select_runs(None, "digits", tmp_path)] == ["a", "b"]
    assert [r.name for r in select_runs(["c"], None, tmp_path)] == ["c"]
    assert [r.name for r in select_runs(["a"], "digits", tmp_path)] == ["a"]


@pytest.mark.parametrize(("names", "dataset", "message"), [
    (["a"], "mnist", "--dataset mnist does not match"),
    (None, "fashion_mnist", "no runs of data set 'fashion_mnist'"),
    (None, None, "several data sets"),
    (["a", "c"], None, "several data sets"),
    (["nowhere"], None, "run 'nowhere' does not exist"),
    (["../escape"], None, "invalid run name"),
])
def test_selections_that_cannot_be_compared_are_refused(tmp_path, names, dataset, message):
    _run(tmp_path, "a", "digits")
    _run(tmp_path, "c", "mnist")
    with pytest.raises(UserError, match=message):
        select_runs(names, dataset, tmp_path)


def test_results_hold_each_runs_config_and_stored_candidates(tmp_path):
    stored = _run(tmp_path, "stored", "digits")
    _run(tmp_path, "fresh", "digits")  # no candidate finished yet: no database
    with RunStore(stored.database) as store:
        store.add(evaluated(0), {"next_id": 1})
        store.add(evaluated(1, status="nan_loss"), {"next_id": 2})
    results = {r.name: r for r in load_results(select_runs(None, "digits", tmp_path))}
    assert [c.id for c in results["stored"].candidates] == [0, 1]
    assert results["fresh"].candidates == []
    assert results["stored"].config.dataset == "digits"


def _break(run: RunDirectory, how: str) -> None:
    if how == "garbage config.json":
        run.config_path.write_bytes(b"\xff\xfe\x00 not json")
    elif how == "config.json not an object":
        run.config_path.write_text("[1, 2, 3]")
    elif how == "config from another version":
        run.config_path.write_text(json.dumps(run.read_config() | {"a_future_option": 1}))
    elif how == "config values of the wrong kind":
        run.config_path.write_text(json.dumps(run.read_config() | {"bounds": {"error": "low"}}))
    elif how == "corrupt candidates.sqlite":
        run.database.write_bytes(b"this is not an SQLite database " * 200)
    elif how == "store from a newer version":
        with sqlite3.connect(run.database) as db:
            db.execute("PRAGMA user_version=99")


BREAKAGES = ["garbage config.json", "config.json not an object", "config from another version",
             "config values of the wrong kind", "corrupt candidates.sqlite", "store from a newer version"]


@pytest.mark.parametrize("how", BREAKAGES)
def test_one_broken_run_is_skipped_with_one_warning_and_is_an_error_when_named(tmp_path, how):
    good = _run(tmp_path, "good", "digits")
    bad = _run(tmp_path, "bad", "digits")
    for run in (good, bad):
        with RunStore(run.database) as store:
            store.add(evaluated(0), {"next_id": 1})
    _break(bad, how)
    warnings: list[str] = []
    results = read_selection(None, "digits", tmp_path, warn=warnings.append)
    assert [r.name for r in results] == ["good"] and [c.id for c in results[0].candidates] == [0]
    assert len(warnings) == 1 and warnings[0].startswith("skipped run 'bad': ")
    assert [r.name for r in read_selection(None, None, tmp_path, warn=warnings.append)] == ["good"]
    with pytest.raises(UserError):
        read_selection(["bad"], None, tmp_path, warn=warnings.append)


def test_when_every_run_is_broken_the_error_says_so(tmp_path):
    _break(_run(tmp_path, "only", "digits"), "garbage config.json")
    warnings: list[str] = []
    with pytest.raises(UserError, match="no runs of data set 'digits'"):
        read_selection(None, "digits", tmp_path, warn=warnings.append)
    assert len(warnings) == 1
