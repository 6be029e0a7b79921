"""The GNN predictor: an ensemble of graph networks over the candidate's dataflow graph.

Registered as ``--surrogate gnn`` (entry point ``munas.predictors``); the screening around
it (optimism, fitness with the exact resources, when to fit) is
:class:`munas.search.screening.PredictorScreener`. The mean is the ensemble's mean and the
spread the standard deviation across its members (:mod:`surrogate.ensemble`).

Every fit after the first is warm-started from the current members: during a search the
training set only grows, so the previous weights are a good starting point. An initial
ensemble (``init``, trained by ``train-surrogate`` on earlier runs) makes the predictor
fitted from the start, and the later fits continue from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from munas.search.predictors import Described, Prediction, Predictor
from munas.surrogate.encoding import encode
from munas.surrogate.ensemble import SurrogateEnsemble
from munas.surrogate.persistence import load_ensemble
from munas.surrogate.training import TrainingConfig, fit_ensemble


class GNNPredictor(Predictor):
    """Predict validation errors with an ensemble GNN.

    Args:
        seed: seed of the fits (the search's seed, so a search is repeatable), or a generator.
        init: a surrogate file to start from (``train-surrogate --out``).
        dataset: the search's data set; an ``init`` trained on another one is refused, since
            its errors would be another task's.
        training: fit settings (members, epochs, ...).
    """

    def __init__(self, seed: int | np.random.Generator = 0, init: str | Path | None = None,
                 dataset: str | None = None, training: TrainingConfig | None = None) -> None:
        super().__init__(seed)
        self.ensemble: SurrogateEnsemble | None = load_ensemble(init, dataset) if init is not None else None
        training = training or TrainingConfig()
        if self.ensemble is not None:  # warm starts need the loaded members' shape
            training = replace(training, members=len(self.ensemble.members), model=self.ensemble.config)
        self.training = training

    @property
    def fitted(self) -> bool:
        return self.ensemble is not None

    def fit(self, candidates: Sequence[Described], errors: Sequence[float] | np.ndarray) -> None:
        """Fit the ensemble on the encoded candidates, warm-started from the current one."""
        graphs = [encode(c.architecture, c.sparsity) for c in candidates]
        self.ensemble = fit_ensemble(graphs, errors, self.training, self.rng, init=self.ensemble)

    def predict(self, candidates: Sequence[Described]) -> Prediction:
        """Ensemble prediction of the candidates' validation errors (one batched forward pass)."""
        if self.ensemble is None:
            raise RuntimeError("the GNN predictor has not been fitted yet")
        return self.ensemble.predict([encode(c.architecture, c.sparsity) for c in candidates])
