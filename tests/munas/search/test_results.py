import pytest

from munas.errors import UserError
from munas.search.config import SearchOptions, new_config
from munas.search.results import load_results, select_runs
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
