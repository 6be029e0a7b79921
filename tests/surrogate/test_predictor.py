import json

import numpy as np
import pytest

from munas.errors import UserError
from munas.resources import compute_resources
from munas.search.candidates import Candidate
from munas.search.fitness import Bounds, ScalarisedFitness
from munas.search.predictors import create_predictor
from munas.search.screening import PredictorScreener, create_screener
from munas.surrogate.ensemble import SurrogateEnsemble
from munas.surrogate.model import ModelConfig
from munas.surrogate.persistence import save_ensemble
from munas.surrogate.predictor import GNNPredictor
from munas.surrogate.samples import candidate_from_record
from munas.surrogate.training import TrainingConfig

from .conftest import FIXTURE

FITNESS = ScalarisedFitness((0.5, 0.5, 0.5, 0.5), Bounds(0.1, 10_000, 10_000, 1_000_000))
SMALL = TrainingConfig(members=2, epochs=20, warm_epochs=5)


def _evaluated():
    return [candidate_from_record(json.loads(line)) for line in FIXTURE.read_text().splitlines()]


def _errors(candidates):
    return [c.val_error for c in candidates]


def test_registered_as_gnn():
    assert isinstance(create_predictor("gnn"), GNNPredictor)
    screener = create_screener("gnn", children_per_step=4)
    assert isinstance(screener, PredictorScreener) and isinstance(screener.predictor, GNNPredictor)


def test_predicts_a_mean_and_a_spread_per_candidate_and_warm_starts_later_fits(monkeypatch):
    history = _evaluated()
    predictor = GNNPredictor(seed=0, training=SMALL)
    assert not predictor.fitted
    with pytest.raises(RuntimeError, match="not been fitted"):
        predictor.predict(history[:2])
    predictor.fit(history[:20], _errors(history[:20]))
    first = predictor.ensemble
    prediction = predictor.predict(history[20:28])
    assert prediction.mean.shape == prediction.std.shape == (8,)
    assert (prediction.std >= 0).all() and (prediction.std > 0).any()

    from munas.surrogate import predictor as module

    starts = []
    real_fit = module.fit_ensemble
    monkeypatch.setattr(module, "fit_ensemble",
                        lambda *a, init=None, **k: starts.append(init) or real_fit(*a, init=init, **k))
    predictor.fit(history[:25], _errors(history[:25]))
    assert starts == [first] and predictor.ensemble is not first


def test_screens_real_children_by_the_optimistic_fitness():
    from munas.space.morphisms import random_child

    history = _evaluated()
    screener = PredictorScreener(GNNPredictor(seed=0, training=SMALL), children_per_step=8, min_evaluations=20)
    screener.observe(history[:20])
    assert screener.fits == 1
    rng = np.random.default_rng(4)
    parent = history[40]
    children = []
    for _ in range(8):
        architecture = random_child(parent.architecture, rng)
        children.append(Candidate(architecture, parent.sparsity, compute_resources(architecture)))
    chosen = screener.choose(children, FITNESS)
    assert all(c.predicted_error is not None and c.predicted_error_std >= 0 for c in children)
    scores = [FITNESS((max(c.predicted_error - screener.kappa * c.predicted_error_std, 0.0), c.resources.pmu,
                       c.resources.model_size, c.resources.macs)) for c in children]
    assert chosen == int(np.argmax(scores))


def test_an_initial_surrogate_makes_it_fitted_with_the_loaded_shape(tmp_path):
    path = tmp_path / "init.pt"
    save_ensemble(SurrogateEnsemble.untrained(2, ModelConfig(hidden=16, layers=1)), path)
    predictor = GNNPredictor(init=path)
    assert predictor.fitted
    assert predictor.training.members == 2 and predictor.training.model == ModelConfig(hidden=16, layers=1)
    assert predictor.predict(_evaluated()[:3]).mean.shape == (3,)


def test_an_initial_surrogate_of_another_data_set_is_refused(tmp_path):
    path = tmp_path / "init.pt"
    save_ensemble(SurrogateEnsemble.untrained(1), path, metadata={"dataset": "fashion_mnist"})
    with pytest.raises(UserError, match="trained on 'fashion_mnist' candidates, but this search is on 'digits'"):
        create_screener("gnn", children_per_step=2, init=path, dataset="digits")
    assert GNNPredictor(init=path, dataset="fashion_mnist").fitted


def test_the_seed_makes_the_fits_repeatable():
    history = _evaluated()[:12]
    predictions = []
    for _ in range(2):
        predictor = GNNPredictor(seed=3, training=TrainingConfig(members=2, epochs=5, warm_epochs=2))
        predictor.fit(history, _errors(history))
        predictions.append(predictor.predict(history).mean)
    np.testing.assert_allclose(predictions[0], predictions[1])
