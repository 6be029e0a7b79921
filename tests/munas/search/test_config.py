import dataclasses

import pytest

from munas.errors import UserError
from munas.search.config import (
    PAPER_BOUNDS, SearchConfig, SearchOptions, default_bounds, new_config, resumed_config,
)
from munas.search.fitness import Bounds


def test_paper_bounds_per_data_set():
    assert default_bounds("fashion_mnist") == Bounds(0.10, 64_000, 64_000, 30_000_000)
    assert default_bounds("mnist") == Bounds(0.035, 2_500, 4_500, 30_000_000)
    assert default_bounds("chars74k") == Bounds(0.30, 10_000, 20_000, 1_000_000)
    assert default_bounds("speech_commands") == Bounds(0.085, 60_000, 40_000, 20_000_000)
    assert default_bounds("cifar10", pruning=True) == Bounds(0.10, 50_000, 50_000, 60_000_000)
    assert default_bounds("cifar10", pruning=False) == PAPER_BOUNDS["cifar10"]
    assert default_bounds("/somewhere/my.npz") == Bounds(0.10, 64_000, 64_000, 30_000_000)


def test_defaults_for_the_embedded_data_set():
    config = new_config(SearchOptions(), "r")
    assert config.dataset == "digits" and config.pruning and config.accounting == "tflm"
    assert (config.budget, config.population, config.sample, config.initial_population) == (80, 20, 5, 20)
    assert config.epochs == config.train_config["epochs"] == 8
    assert config.surrogate == "none" and config.screen == 1 and not config.tournament_with_replacement
    lo, hi = config.sparsity_range
    assert 0 <= lo < hi <= 1


def test_paper_search_size_elsewhere_and_options_override():
    config = new_config(SearchOptions(dataset="fashion_mnist"), "r")
    assert (config.budget, config.population, config.sample) == (2000, 100, 25)
    assert config.train_config["epochs"] == 45
    config = new_config(SearchOptions(dataset="fashion_mnist", budget=10, population=6, epochs=2, pmu=1000,
                                      no_bound=frozenset({"macs"}), pruning=False), "r")
    assert (config.budget, config.population, config.sample) == (10, 6, 6)
    assert config.bounds == Bounds(0.10, 1000, 64_000, None)
    assert config.train_config["epochs"] == 2 and config.sparsity_range is None


def test_reference_selection_switches_both_quirks_back():
    config = new_config(SearchOptions(reference_selection=True), "r")
    assert config.tournament_with_replacement and config.lambda_floor == 0.0
    with pytest.raises(UserError, match="--reference-selection"):
        resumed_config(config, SearchOptions(reference_selection=False))


def test_config_round_trips_through_json():
    config = new_config(SearchOptions(budget=3), "r")
    assert SearchConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize("options, message", [
    (SearchOptions(sample=30, population=10), "cannot exceed --population"),
    (SearchOptions(budget=0), "--budget"),
    (SearchOptions(accounting="exotic"), "unknown accounting profile"),
    (SearchOptions(screen=3), "needs a surrogate"),
    (SearchOptions(executor="pigeon"), "unknown executor"),
    (SearchOptions(surrogate_init="x.pt"), "needs a surrogate"),
    (SearchOptions(surrogate="gnn", surrogate_init="/no/such/file.pt"), "no such file"),
    (SearchOptions(workers=0, executor="process"), "--workers"),
    (SearchOptions(no_bound=frozenset({"error", "pmu", "model_size", "macs"})), "every bound is none"),
])
def test_invalid_options(options, message):
    with pytest.raises(UserError, match=message):
        new_config(options, "r")


def test_resume_may_change_the_budget_and_executor_only():
    stored = new_config(SearchOptions(budget=5, seed=2), "r")
    resumed = resumed_config(stored, SearchOptions(budget=9, workers=2, executor="process"))
    assert (resumed.budget, resumed.workers, resumed.executor) == (9, 2, "process")
    assert dataclasses.replace(resumed, budget=5, workers=1, executor="inprocess") == stored
    assert resumed_config(stored, SearchOptions(seed=2, dataset="digits")) == stored  # same values are fine
    for options, message in ((SearchOptions(seed=3), "--seed 2"), (SearchOptions(dataset="mnist"), "--dataset"),
                             (SearchOptions(population=7), "--population"), (SearchOptions(epochs=1), "--epochs"),
                             (SearchOptions(error=0.2), "bound error"),
                             (SearchOptions(no_bound=frozenset({"macs"})), "bound macs")):
        with pytest.raises(UserError, match=message):
            resumed_config(stored, options)


def test_resume_refuses_a_changed_training_preset():
    stored = new_config(SearchOptions(budget=5), "r")
    altered = dataclasses.replace(stored, train_config={**stored.train_config, "lr": 123.0})
    with pytest.raises(UserError, match="training preset"):
        resumed_config(altered, SearchOptions())
