import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from munas.errors import UserError
from munas.search.predictors import create_predictor
from munas.space.sampling import random_architecture
from munas.surrogate.baselines import MLPPredictor, RandomForestPredictor, feature_matrix
from munas.surrogate.encoding import GRAPH_FEATURES, NODE_FEATURES, OP_KINDS, encode
from munas.surrogate.samples import Sample

ROOT = Path(__file__).resolve().parents[2]


def _samples(n, seed):
    rng = np.random.default_rng(seed)
    return [Sample(random_architecture((8, 8, 1), 10, rng), float(rng.uniform(0, 0.8)), 0.0, "digits", "test")
            for _ in range(n)]


def test_flat_features_have_fixed_length_and_count_ops():
    samples = _samples(5, 1)
    matrix = feature_matrix(samples)
    assert matrix.shape == (5, len(GRAPH_FEATURES) + len(OP_KINDS) + 2 * len(NODE_FEATURES))
    counts = matrix[:, len(GRAPH_FEATURES) : len(GRAPH_FEATURES) + len(OP_KINDS)].sum(axis=1)
    assert counts.tolist() == [encode(s.architecture, s.sparsity).num_nodes for s in samples]


@pytest.mark.parametrize(("name", "cls"), [("rf", RandomForestPredictor), ("mlp", MLPPredictor)])
def test_registered_and_learn_a_feature_they_see(name, cls):
    predictor = create_predictor(name, seed=0)
    assert isinstance(predictor, cls) and not predictor.fitted
    samples = _samples(60, 2)
    target = np.array([s.sparsity for s in samples])
    predictor.fit(samples[:40], target[:40])
    prediction = predictor.predict(samples[40:])
    assert np.corrcoef(prediction.mean, target[40:])[0, 1] > 0.8
    assert prediction.std.shape == (20,) and (prediction.std >= 0).all()


def test_the_forest_spread_is_the_spread_of_its_trees_and_the_mlp_has_none():
    samples = _samples(40, 3)
    target = np.array([s.sparsity for s in samples])
    forest = RandomForestPredictor(seed=1)
    forest.fit(samples[:30], target[:30])
    prediction = forest.predict(samples[30:])
    trees = np.stack([tree.predict(feature_matrix(samples[30:])) for tree in forest.model.estimators_])
    np.testing.assert_allclose(prediction.mean, trees.mean(axis=0))
    np.testing.assert_allclose(prediction.std, trees.std(axis=0))
    assert (prediction.std > 0).any()
    mlp = MLPPredictor(seed=1)
    mlp.fit(samples[:30], target[:30])
    assert (mlp.predict(samples[30:]).std == 0).all()


def test_a_shared_generator_gives_the_draws_a_seed_gives():
    samples = _samples(30, 4)
    target = np.array([s.sparsity for s in samples])
    by_seed, by_generator = RandomForestPredictor(seed=7), RandomForestPredictor(seed=np.random.default_rng(7))
    for predictor in (by_seed, by_generator):
        predictor.fit(samples, target)
    np.testing.assert_array_equal(by_seed.predict(samples).mean, by_generator.predict(samples).mean)


def test_they_cannot_start_from_a_saved_surrogate():
    with pytest.raises(UserError, match="RandomForestPredictor cannot start from a saved file"):
        create_predictor("rf", init="gnn.pt")


@pytest.mark.slow
def test_a_digits_search_screened_by_the_random_forest_completes(tmp_path):
    """``search --surrogate rf`` end to end through the command line, in a fresh process."""
    command = [sys.executable, str(ROOT / "cli.py"), "search", "--dataset", "digits", "--epochs", "1",
               "--population", "4", "--sample", "2", "--seed", "3", "--budget", "14", "--surrogate", "rf",
               "--screen", "4", "--run", "rf"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stdout + result.stderr
    with sqlite3.connect(tmp_path / "runs" / "rf" / "candidates.sqlite") as db:
        stored = db.execute("SELECT id, predicted_error, predicted_error_std FROM candidates").fetchall()
    assert len(stored) == 14
    predicted = [(i, p, std) for i, p, std in stored if p is not None]
    # The forest first fits after 10 trained candidates; every later child was screened.
    assert len(predicted) >= 3 and min(i for i, *_ in predicted) >= 10
    assert all(p >= 0 and std >= 0 for _, p, std in predicted)
