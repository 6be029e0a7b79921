"""Flat-feature baselines the GNN must beat: a random forest and an MLP from scikit-learn.

Their features are the GNN's own encoding with the graph structure thrown away: the graph-
level features, the count of each operator type, and the mean and maximum of every node
feature. If the GNN cannot beat these, message passing over the dataflow is not earning
its keep.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.ensemble import RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch_geometric.data import Data

from munas.surrogate.encoding import OP_KINDS


def flat_features(graph: Data) -> np.ndarray:
    """One fixed-length vector per candidate: graph features, op counts, node means and maxima."""
    x = graph.x.numpy()
    counts = x[:, : len(OP_KINDS)].sum(axis=0)
    return np.concatenate([graph.graph_attr.numpy()[0], counts, x.mean(axis=0), x.max(axis=0)])


def feature_matrix(graphs: Sequence[Data]) -> np.ndarray:
    return np.stack([flat_features(g) for g in graphs])


def _random_forest(seed: int) -> RegressorMixin:
    return RandomForestRegressor(n_estimators=300, min_samples_leaf=2, random_state=seed, n_jobs=1)


def _mlp(seed: int) -> RegressorMixin:
    """Weight decay chosen by 3-fold cross-validation: with tens of samples and ~70 features
    an unregularised MLP fits noise, and a fixed strong decay underfits larger sets."""
    pipeline = make_pipeline(
        StandardScaler(),
        MLPRegressor(hidden_layer_sizes=(64, 64), max_iter=500, random_state=seed),
    )
    return GridSearchCV(pipeline, {"mlpregressor__alpha": [0.1, 1.0, 10.0]}, cv=3)


BASELINES: dict[str, Callable[[int], RegressorMixin]] = {"random_forest": _random_forest, "mlp": _mlp}


def fit_baseline(name: str, graphs: Sequence[Data], errors: Sequence[float] | np.ndarray, seed: int) -> RegressorMixin:
    """Fit baseline ``name`` (a key of :data:`BASELINES`) on flat features of ``graphs``."""
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; choose from {', '.join(BASELINES)}")
    model = BASELINES[name](seed)
    with warnings.catch_warnings():  # the MLP's iteration cap is deliberate (cost); its warning is noise
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(feature_matrix(graphs), np.asarray(errors, dtype=float))
    return model


def predict_baseline(model: RegressorMixin, graphs: Sequence[Data]) -> np.ndarray:
    return np.asarray(model.predict(feature_matrix(graphs)), dtype=float)
