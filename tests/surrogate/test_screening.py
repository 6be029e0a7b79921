import numpy as np
import pytest

from munas.resources import compute_resources
from munas.search.candidates import Candidate
from munas.search.fitness import Bounds, ScalarisedFitness
from munas.search.screening import create_screener
from munas.space.sampling import random_architecture
from munas.surrogate.ensemble import Prediction, SurrogateEnsemble
from munas.surrogate.screening import GNNScreener

FITNESS = ScalarisedFitness((0.5, 0.5, 0.5, 0.5), Bounds(0.1, 10_000, 10_000, 1_000_000))
ERROR_DOMINATES = ScalarisedFitness((0.5, 0.5, 0.5, 0.5), Bounds(0.1, 10**9, 10**9, 10**12))


def _children(n, seed=0, same=False):
    rng = np.random.default_rng(seed)
    first = random_architecture((8, 8, 1), 10, rng)
    archs = [first if same else random_architecture((8, 8, 1), 10, rng) for _ in range(n)]
    return [Candidate(a, 0.1 * i, compute_resources(a)) for i, a in enumerate(archs)]


class _Fixed(GNNScreener):
    """The choice logic with a prescribed prediction (the ensemble is tested elsewhere)."""

    def __init__(self, mean, std, **kwargs):
        super().__init__(**kwargs)
        self.ensemble = SurrogateEnsemble.untrained(1)
        self._prediction = Prediction(np.asarray(mean, float), np.asarray(std, float))

    def predict(self, children):
        return self._prediction


def test_registered_as_gnn():
    assert isinstance(create_screener("gnn", children_per_step=4), GNNScreener)


def test_before_any_fit_it_trains_the_first_child_like_plain_munas():
    screener = GNNScreener(children_per_step=3)
    children = _children(3)
    assert screener.choose(children, FITNESS) == 0
    assert all(c.predicted_error is None for c in children)


def test_equal_resources_lower_predicted_error_wins_and_is_recorded():
    children = _children(4, same=True)  # identical architectures: identical exact resources
    screener = _Fixed([0.09, 0.03, 0.06, 0.08], [0.0] * 4, children_per_step=4, kappa=0.0)
    assert screener.choose(children, ERROR_DOMINATES) == 1
    assert [c.predicted_error for c in children] == pytest.approx([0.09, 0.03, 0.06, 0.08])
    assert [c.predicted_error_std for c in children] == [0.0] * 4


def test_optimism_prefers_the_uncertain_child_among_equal_means():
    children = _children(2, same=True)
    assert _Fixed([0.05, 0.05], [0.0, 0.02], children_per_step=2, kappa=1.0).choose(children, ERROR_DOMINATES) == 1


def test_exact_resources_decide_between_equal_predictions():
    children = _children(6, seed=3)
    screener = _Fixed([0.05] * 6, [0.0] * 6, children_per_step=6)
    scores = [FITNESS((0.05, c.resources.pmu, c.resources.model_size, c.resources.macs)) for c in children]
    expected = int(np.argmax(scores))
    assert expected != 0 and len(set(scores)) > 1  # the resources, not the order, decide
    assert screener.choose(children, FITNESS) == expected


@pytest.mark.parametrize("kwargs", [{"min_evaluations": 1}, {"retrain_every": 0}, {"kappa": -1.0},
                                    {"children_per_step": 0}])
def test_bad_settings_are_user_errors(kwargs):
    from munas.errors import UserError

    with pytest.raises(UserError):
        GNNScreener(**kwargs)


def _evaluated():
    import json

    from munas.surrogate.samples import candidate_from_record

    from .conftest import FIXTURE

    return [candidate_from_record(json.loads(line)) for line in FIXTURE.read_text().splitlines()]


def test_learns_from_real_candidates_on_schedule_and_scores_every_child():
    from dataclasses import replace

    from munas.space.morphisms import random_child
    from munas.surrogate.training import TrainingConfig

    history = _evaluated()
    screener = GNNScreener(children_per_step=8, min_evaluations=20, retrain_every=10,
                           training=TrainingConfig(members=2, epochs=20, warm_epochs=5),
                           seed=0)
    failed = replace(history[0], id=10_000, status="nan_loss", val_error=None)
    screener.observe(history[:19] + [failed])
    assert screener.fits == 0 and screener.ensemble is None
    screener.observe(history[:19])  # already seen: not counted twice
    screener.observe(history[19:20])
    assert screener.fits == 1
    screener.observe(history[20:29])
    assert screener.fits == 1
    screener.observe(history[29:30])
    assert screener.fits == 2

    rng = np.random.default_rng(4)
    parent = history[40]
    children = []
    for _ in range(8):
        architecture = random_child(parent.architecture, rng)
        children.append(Candidate(architecture, parent.sparsity, compute_resources(architecture)))
    chosen = screener.choose(children, FITNESS)
    assert 0 <= chosen < 8
    assert all(c.predicted_error is not None and c.predicted_error_std >= 0 for c in children)
    scores = [FITNESS((max(c.predicted_error - screener.kappa * c.predicted_error_std, 0.0), c.resources.pmu,
                       c.resources.model_size, c.resources.macs)) for c in children]
    assert chosen == int(np.argmax(scores))


def test_an_initial_surrogate_screens_from_the_start(tmp_path):
    from munas.surrogate.model import ModelConfig
    from munas.surrogate.persistence import save_ensemble

    path = tmp_path / "init.pt"
    save_ensemble(SurrogateEnsemble.untrained(2, ModelConfig(hidden=16, layers=1)), path)
    screener = GNNScreener(children_per_step=3, init=path)
    assert screener.training.members == 2 and screener.training.model == ModelConfig(hidden=16, layers=1)
    children = _children(3)
    screener.choose(children, FITNESS)
    assert all(c.predicted_error is not None for c in children)


def test_an_initial_surrogate_of_another_data_set_is_refused(tmp_path):
    from munas.errors import UserError
    from munas.surrogate.persistence import save_ensemble

    path = tmp_path / "init.pt"
    save_ensemble(SurrogateEnsemble.untrained(1), path, metadata={"dataset": "fashion_mnist"})
    with pytest.raises(UserError, match="trained on 'fashion_mnist' candidates, but this search is on 'digits'"):
        GNNScreener(init=path, dataset="digits")
    assert GNNScreener(init=path, dataset="fashion_mnist").ensemble is not None


def test_the_seed_makes_the_fits_repeatable():
    from munas.surrogate.training import TrainingConfig

    history = _evaluated()[:12]
    predictions = []
    for _ in range(2):
        screener = GNNScreener(children_per_step=4, min_evaluations=10, seed=3,
                               training=TrainingConfig(members=2, epochs=5, warm_epochs=2))
        screener.observe(history)
        children = [Candidate(c.architecture, c.sparsity, compute_resources(c.architecture)) for c in history]
        predictions.append(screener.predict(children).mean)
    np.testing.assert_allclose(predictions[0], predictions[1])
