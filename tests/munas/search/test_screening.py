import json
import subprocess
import sys

import numpy as np
import pytest

from munas.errors import UserError
from munas.registry import Registry
from munas.resources import compute_resources
from munas.search import predictors, screening
from munas.search.candidates import Candidate
from munas.search.fitness import Bounds, ScalarisedFitness
from munas.search.predictors import Prediction, Predictor
from munas.search.screening import NoScreener, PredictorScreener, Screener, create_screener, list_screeners
from munas.space.sampling import random_architecture

from .factories import evaluated

FITNESS = ScalarisedFitness((0.5, 0.5, 0.5, 0.5), Bounds(0.1, 10_000, 10_000, 1_000_000))
ERROR_DOMINATES = ScalarisedFitness((0.5, 0.5, 0.5, 0.5), Bounds(0.1, 10**9, 10**9, 10**12))


class FixedPredictor(Predictor):
    """Predicts a prescribed mean and spread; records what it was fitted on."""

    def __init__(self, mean=(), std=(), fitted=True, **kwargs):
        super().__init__(**kwargs)
        self.prediction = Prediction(np.asarray(mean, float), np.asarray(std, float))
        self._fitted = fitted
        self.fitted_on: list[list[int]] = []

    @property
    def fitted(self):
        return self._fitted

    def fit(self, candidates, errors):
        assert [c.val_error for c in candidates] == list(errors)
        self.fitted_on.append([c.id for c in candidates])
        self._fitted = True

    def predict(self, candidates):
        return self.prediction


def _children(n, seed=0, same=False):
    rng = np.random.default_rng(seed)
    first = random_architecture((8, 8, 1), 10, rng)
    archs = [first if same else random_architecture((8, 8, 1), 10, rng) for _ in range(n)]
    return [Candidate(a, 0.1 * i, compute_resources(a)) for i, a in enumerate(archs)]


def _screener(mean, std, **kwargs):
    return PredictorScreener(FixedPredictor(mean, std), children_per_step=len(mean), **kwargs)


def test_none_is_built_in_and_trains_the_first_child():
    screener = create_screener("none", children_per_step=1)
    assert isinstance(screener, NoScreener)
    assert screener.choose(["a", "b"], fitness=None) == 0


def test_registered_screeners_are_created_with_k_and_seed(monkeypatch):
    monkeypatch.setattr(screening, "SCREENERS", Registry("screener"))

    @screening.SCREENERS.register("last")
    class Last(Screener):
        def choose(self, children, fitness):
            return len(children) - 1

    screener = create_screener("last", children_per_step=4, seed=7)
    assert (screener.children_per_step, screener.seed) == (4, 7)
    assert screener.choose([1, 2, 3], None) == 2
    assert "last" in list_screeners()


def test_a_predictor_name_makes_a_predictor_screener(monkeypatch):
    monkeypatch.setattr(predictors, "PREDICTORS", Registry("predictor"))
    monkeypatch.setattr(screening, "PREDICTORS", predictors.PREDICTORS)
    predictors.PREDICTORS.add("fixed", FixedPredictor)
    screener = create_screener("fixed", children_per_step=3, seed=5)
    assert isinstance(screener, PredictorScreener) and isinstance(screener.predictor, FixedPredictor)
    assert screener.children_per_step == 3 and "fixed" in list_screeners()
    assert screener.predictor.rng.integers(10**9) == np.random.default_rng(5).integers(10**9)


def test_unknown_names_bad_k_and_misplaced_init_are_user_errors():
    with pytest.raises(UserError, match=r"unknown surrogate 'magic'; choose one of .*gnn.*none.*rf"):
        create_screener("magic", children_per_step=1)
    with pytest.raises(UserError, match="--screen"):
        create_screener("none", children_per_step=0)
    with pytest.raises(UserError, match="--surrogate-init needs a predictor"):
        create_screener("none", children_per_step=1, init="x.pt")
    with pytest.raises(UserError, match="FixedPredictor cannot start from a saved file"):
        FixedPredictor(init="x.pt")


def test_the_core_lists_the_plugins_without_importing_them():
    """Listing every --surrogate name reads the entry points only: no surrogate, torch-geometric
    or scikit-learn module is imported by the core screening and predictor modules."""
    code = ("import json, sys; from munas.search.screening import list_screeners; names = list_screeners(); "
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch_geometric', 'sklearn') "
            "or m.startswith('munas.surrogate')); print(json.dumps([names, heavy]))")
    names, heavy = json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                             text=True).stdout)
    assert {"none", "gnn", "rf", "mlp"} <= set(names)
    assert heavy == []


def test_before_any_fit_it_trains_the_first_child_like_plain_munas():
    screener = PredictorScreener(FixedPredictor(fitted=False), children_per_step=3)
    children = _children(3)
    assert screener.choose(children, FITNESS) == 0
    assert all(c.predicted_error is None for c in children)


def test_equal_resources_lower_predicted_error_wins_and_is_recorded():
    children = _children(4, same=True)  # identical architectures: identical exact resources
    screener = _screener([0.09, 0.03, 0.06, 0.08], [0.0] * 4, kappa=0.0)
    assert screener.choose(children, ERROR_DOMINATES) == 1
    assert [c.predicted_error for c in children] == pytest.approx([0.09, 0.03, 0.06, 0.08])
    assert [c.predicted_error_std for c in children] == [0.0] * 4


def test_optimism_prefers_the_uncertain_child_among_equal_means():
    children = _children(2, same=True)
    assert _screener([0.05, 0.05], [0.0, 0.02], kappa=1.0).choose(children, ERROR_DOMINATES) == 1


def test_optimism_never_goes_below_zero_error():
    children = _children(2, same=True)  # without the floor, the uncertain child's -0.15 would win
    assert _screener([0.0, 0.05], [0.0, 0.2], kappa=1.0).choose(children, ERROR_DOMINATES) == 0


def test_exact_resources_decide_between_equal_predictions():
    children = _children(6, seed=3)
    screener = _screener([0.05] * 6, [0.0] * 6)
    scores = [FITNESS((0.05, c.resources.pmu, c.resources.model_size, c.resources.macs)) for c in children]
    expected = int(np.argmax(scores))
    assert expected != 0 and len(set(scores)) > 1  # the resources, not the order, decide
    assert screener.choose(children, FITNESS) == expected


@pytest.mark.parametrize("kwargs", [{"min_evaluations": 1}, {"retrain_every": 0}, {"kappa": -1.0},
                                    {"children_per_step": 0}])
def test_bad_settings_are_user_errors(kwargs):
    with pytest.raises(UserError):
        PredictorScreener(FixedPredictor(), **{"children_per_step": 2, **kwargs})


def test_fits_on_schedule_on_successes_only_and_never_twice_on_one_candidate():
    predictor = FixedPredictor(fitted=False)
    screener = PredictorScreener(predictor, children_per_step=2, min_evaluations=4, retrain_every=3)
    done = [evaluated(i, (0.1 * i, 1, 1, 1)) for i in range(10)]
    screener.observe(done[:3] + [evaluated(50, (0.5, 1, 1, 1), status="nan_loss")])
    assert screener.fits == 0 and not predictor.fitted
    screener.observe(done[:3])  # already seen (a resumed search passes the history again)
    assert screener.fits == 0
    screener.observe(done[3:4])
    assert predictor.fitted_on == [[0, 1, 2, 3]]
    screener.observe(done[4:6])
    assert screener.fits == 1
    screener.observe(done[6:7])
    assert predictor.fitted_on[-1] == list(range(7)) and screener.fits == 2


def test_a_history_passed_at_once_replays_the_fits_made_one_candidate_at_a_time():
    """What --resume relies on: the same fits, at the same counts, as the uninterrupted run."""
    done = [evaluated(i, (0.01 * i, 1, 1, 1), status="nan_loss" if i == 5 else "ok") for i in range(14)]
    one_by_one, at_once = FixedPredictor(fitted=False), FixedPredictor(fitted=False)
    screener = PredictorScreener(one_by_one, children_per_step=2, min_evaluations=4, retrain_every=3)
    for candidate in done:
        screener.observe([candidate])
    PredictorScreener(at_once, children_per_step=2, min_evaluations=4, retrain_every=3).observe(done)
    assert at_once.fitted_on == one_by_one.fitted_on
    assert [len(ids) for ids in at_once.fitted_on] == [4, 7, 10, 13]


def test_a_predictor_fitted_from_the_start_screens_from_the_start_and_refits_at_the_minimum():
    predictor = FixedPredictor([0.2, 0.1], [0.0, 0.0])
    screener = PredictorScreener(predictor, children_per_step=2, min_evaluations=2)
    assert screener.choose(_children(2, same=True), ERROR_DOMINATES) == 1
    screener.observe([evaluated(i, (0.1, 1, 1, 1)) for i in range(2)])
    assert predictor.fitted_on == [[0, 1]]
