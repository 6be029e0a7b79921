import dataclasses

import pytest

from munas.errors import UserError
from munas.search.config import SearchConfig, SearchOptions, new_config, resumed_config
from munas.search.fitness import Bounds

# config.json's train_config as stored before the defaults moved into the data set modules:
# a resumed run compares it, so it must never change.
STORED_TRAIN_CONFIG = {
    "digits": {"epochs": 8, "batch_size": 32, "optimizer": "sgdw", "lr": 0.01, "weight_decay": 1e-05,
               "lr_schedule": [[6, 0.002]], "dropout": 0.0, "prune_start_epoch": 1, "prune_finish_epoch": 6,
               "min_sparsity": 0.05, "max_sparsity": 0.9, "momentum": 0.9, "mask_refresh_batches": 16,
               "calibration_batches": 5, "precision": "auto"},
    "mnist": {"epochs": 30, "batch_size": 128, "optimizer": "sgdw", "lr": 0.005, "weight_decay": 4e-05,
              "lr_schedule": [], "dropout": 0.0, "prune_start_epoch": 3, "prune_finish_epoch": 18,
              "min_sparsity": 0.05, "max_sparsity": 0.8, "momentum": 0.9, "mask_refresh_batches": 16,
              "calibration_batches": 5, "precision": "auto"},
}


def test_paper_bounds_per_data_set(tmp_path):
    def bounds(dataset: str, pruning: bool = True) -> Bounds:
        return new_config(SearchOptions(dataset=dataset, pruning=pruning), "r").bounds

    assert bounds("fashion_mnist") == Bounds(0.10, 64_000, 64_000, 30_000_000)
    assert bounds("mnist") == Bounds(0.035, 2_500, 4_500, 30_000_000)
    assert bounds("chars74k") == Bounds(0.30, 10_000, 20_000, 1_000_000)
    assert bounds("speech_commands") == Bounds(0.085, 60_000, 40_000, 20_000_000)
    assert bounds("cifar10", pruning=True) == Bounds(0.10, 50_000, 50_000, 60_000_000)
    assert bounds("cifar10", pruning=False) == Bounds(0.18, 75_000, 75_000, 30_000_000)
    assert bounds("digits") == Bounds(0.08, 4_000, 10_000, 200_000)
    assert bounds(str(tmp_path)) == Bounds(0.10, 64_000, 64_000, 30_000_000)  # a user data set (a folder)


@pytest.mark.parametrize("dataset", sorted(STORED_TRAIN_CONFIG))
def test_stored_training_configuration_is_unchanged(dataset):
    assert new_config(SearchOptions(dataset=dataset), "r").train_config == STORED_TRAIN_CONFIG[dataset]


def test_search_sizes_per_data_set(tmp_path):
    for dataset, size in (("cifar10", (6000, 100, 25, None)), ("mnist", (2000, 100, 25, None)),
                          (str(tmp_path), (2000, 100, 25, None))):
        config = new_config(SearchOptions(dataset=dataset), "r")
        assert (config.budget, config.population, config.sample, config.epochs) == size


def test_an_unknown_data_set_gets_no_defaults():
    with pytest.raises(UserError, match="unknown data set 'mnsit'"):
        new_config(SearchOptions(dataset="mnsit"), "r")


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
    (SearchOptions(surrogate_init="x.pt"), "--surrogate-init needs a"),
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


def test_fidelity_is_checked_defines_the_search_and_proxies_follow_the_predictor():
    assert new_config(SearchOptions(), "a").fidelity == "full" and not new_config(SearchOptions(), "a").proxies
    multi = new_config(SearchOptions(surrogate="gnn", fidelity="multi"), "b")
    assert multi.fidelity == "multi" and multi.proxies
    assert SearchConfig.from_dict({k: v for k, v in multi.to_dict().items() if k not in ("fidelity", "proxies")}) \
        .fidelity == "full"  # a config.json written before the option resumes as μNAS
    with pytest.raises(UserError, match="unknown --fidelity 'half'"):
        new_config(SearchOptions(fidelity="half"), "c")
    with pytest.raises(UserError, match="at least 2 epochs"):
        new_config(SearchOptions(fidelity="multi", epochs=1), "d")
    with pytest.raises(UserError, match="started with --fidelity full"):
        resumed_config(new_config(SearchOptions(), "e"), SearchOptions(fidelity="multi"))
