import numpy as np
import torch
from torch_geometric.data import Batch

from munas.space.sampling import random_architecture
from munas.surrogate.encoding import encode
from munas.surrogate.ensemble import LOG_OFFSET, SurrogateEnsemble, error_to_target, target_to_error
from munas.surrogate.model import ModelConfig


def test_mean_and_spread_are_those_of_the_members_in_error_units():
    rng = np.random.default_rng(5)
    graphs = [encode(random_architecture((8, 8, 1), 10, rng), 0.2) for _ in range(6)]
    ensemble = SurrogateEnsemble.untrained(4, ModelConfig(hidden=16, layers=2), seed=1)
    ensemble.target_mean, ensemble.target_std = 0.3, 0.1
    prediction = ensemble.predict(graphs)
    batch = Batch.from_data_list(graphs)
    with torch.no_grad():
        members = np.exp(np.stack([m.eval()(batch).numpy() for m in ensemble.members]) * 0.1 + 0.3) - LOG_OFFSET
    np.testing.assert_allclose(prediction.mean, members.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(prediction.std, members.std(axis=0), rtol=1e-4)
    assert (prediction.std > 0).all()  # differently initialised members disagree


def test_single_member_has_no_spread():
    rng = np.random.default_rng(6)
    graphs = [encode(random_architecture((8, 8, 1), 10, rng), 0.2) for _ in range(3)]
    assert (SurrogateEnsemble.untrained(1).predict(graphs).std == 0).all()


def test_log_target_round_trips():
    errors = np.array([0.0, 0.02, 0.5, 0.9])
    back = target_to_error(torch.from_numpy(error_to_target(errors))).numpy()
    np.testing.assert_allclose(back, errors, atol=1e-12)
