import numpy as np
import pytest

from munas.space.sampling import random_architecture
from munas.surrogate.baselines import BASELINES, feature_matrix, fit_baseline, predict_baseline
from munas.surrogate.encoding import GRAPH_FEATURES, NODE_FEATURES, OP_KINDS, encode


def _graphs(n, seed):
    rng = np.random.default_rng(seed)
    return [encode(random_architecture((8, 8, 1), 10, rng), float(rng.uniform(0, 0.8))) for _ in range(n)]


def test_flat_features_have_fixed_length_and_count_ops():
    graphs = _graphs(5, 1)
    matrix = feature_matrix(graphs)
    assert matrix.shape == (5, len(GRAPH_FEATURES) + len(OP_KINDS) + 2 * len(NODE_FEATURES))
    counts = matrix[:, len(GRAPH_FEATURES) : len(GRAPH_FEATURES) + len(OP_KINDS)].sum(axis=1)
    assert counts.tolist() == [g.num_nodes for g in graphs]


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_baselines_learn_a_feature_they_see(name):
    graphs = _graphs(60, 2)
    target = np.array([g.graph_attr[0, 0].item() for g in graphs])  # the sparsity
    model = fit_baseline(name, graphs[:40], target[:40], seed=0)
    predicted = predict_baseline(model, graphs[40:])
    assert np.corrcoef(predicted, target[40:])[0, 1] > 0.8
