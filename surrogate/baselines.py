"""Flat-feature predictors the GNN must beat: a random forest and an MLP from scikit-learn.

Their features are the GNN's own encoding with the graph structure thrown away: the graph-
level features, the count of each operator type, and the mean and maximum of every node
feature. If the GNN cannot beat these, message passing over the dataflow is not earning
its keep. Both screen a search too (``--surrogate rf``, ``--surrogate mlp``; entry points
``munas.predictors``).

Spread: the random forest's is the standard deviation of its trees' predictions,
:math:`\\sigma = \\operatorname{sd}_t\\, f_t(x)` around :math:`\\mu = \\operatorname{mean}_t f_t(x)`
(the forest's own prediction), large where the bootstrapped trees disagree. The MLP is a
single network and has no spread (zeros): screening with it is greedy on its mean.
Every fit starts afresh, with a seed drawn from the predictor's generator.

When every candidate they are fitted on carries zero-cost proxies (``search`` computes them
with a predictor, :mod:`munas.training.proxies`), the proxies are appended to the features; a
candidate to predict that lacks them gets the fitted candidates' mean.
"""

from __future__ import annotations

import warnings
from abc import abstractmethod
from collections.abc import Sequence

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.ensemble import RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch_geometric.data import Data

from munas.search.predictors import Described, Prediction, Predictor, proxy_features
from munas.surrogate.encoding import OP_KINDS, encode


def flat_features(graph: Data) -> np.ndarray:
    """One fixed-length vector per candidate: graph features, op counts, node means and maxima."""
    x = graph.x.numpy()
    counts = x[:, : len(OP_KINDS)].sum(axis=0)
    return np.concatenate([graph.graph_attr.numpy()[0], counts, x.mean(axis=0), x.max(axis=0)])


def feature_matrix(candidates: Sequence[Described], proxies: np.ndarray | None = None) -> np.ndarray:
    """The flat features of the encoded candidates, one row each, followed by their zero-cost
    proxies when ``proxies`` is given (the fill-in values for a candidate without them)."""
    rows = [flat_features(encode(c.architecture, c.sparsity)) for c in candidates]
    if proxies is not None:
        rows = [np.concatenate([row, _or(proxy_features(c), proxies)]) for row, c in zip(rows, candidates)]
    return np.stack(rows)


def _or(values: np.ndarray | None, default: np.ndarray) -> np.ndarray:
    return default if values is None or len(values) != len(default) else values


class FlatFeaturePredictor(Predictor):
    """A scikit-learn regressor on :func:`feature_matrix`; subclasses choose the regressor."""

    model: RegressorMixin | None = None
    use_proxies = True
    """Append the candidates' zero-cost proxies to the features when every fitted one has them."""
    _proxy_means: np.ndarray | None = None

    @abstractmethod
    def _regressor(self, seed: int) -> RegressorMixin:
        """A fresh, unfitted regressor seeded with ``seed``."""

    @property
    def fitted(self) -> bool:
        return self.model is not None

    def fit(self, candidates: Sequence[Described], errors: Sequence[float] | np.ndarray) -> None:
        model = self._regressor(int(self.rng.integers(2**31)))
        proxies = [p for p in map(proxy_features, candidates) if p is not None]
        usable = self.use_proxies and len(proxies) == len(candidates) and len({len(p) for p in proxies}) == 1
        self._proxy_means = np.mean(np.stack(proxies), axis=0) if usable else None
        with warnings.catch_warnings():  # the MLP's iteration cap is deliberate (cost); its warning is noise
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(feature_matrix(candidates, self._proxy_means), np.asarray(errors, dtype=float))
        self.model = model

    def predict(self, candidates: Sequence[Described]) -> Prediction:
        if self.model is None:
            raise RuntimeError(f"{type(self).__name__} has not been fitted yet")
        features = feature_matrix(candidates, self._proxy_means)
        return Prediction(mean=np.asarray(self.model.predict(features), dtype=float), std=self._spread(features))

    def _spread(self, features: np.ndarray) -> np.ndarray:
        """No uncertainty by default."""
        return np.zeros(len(features))


class RandomForestPredictor(FlatFeaturePredictor):
    """300 trees, leaves of at least 2 candidates; spread: the trees' standard deviation."""

    model: RandomForestRegressor | None = None

    def _regressor(self, seed: int) -> RegressorMixin:
        return RandomForestRegressor(n_estimators=300, min_samples_leaf=2, random_state=seed, n_jobs=1)

    def _spread(self, features: np.ndarray) -> np.ndarray:
        assert self.model is not None
        per_tree = np.stack([tree.predict(features) for tree in self.model.estimators_])
        return per_tree.std(axis=0)


class MLPPredictor(FlatFeaturePredictor):
    """Two hidden layers of 64; no spread.

    Weight decay chosen by 3-fold cross-validation: with tens of samples and ~70 features
    an unregularised MLP fits noise, and a fixed strong decay underfits larger sets.
    """

    def _regressor(self, seed: int) -> RegressorMixin:
        pipeline = make_pipeline(
            StandardScaler(),
            MLPRegressor(hidden_layer_sizes=(64, 64), max_iter=500, random_state=seed),
        )
        return GridSearchCV(pipeline, {"mlpregressor__alpha": [0.1, 1.0, 10.0]}, cv=3)
