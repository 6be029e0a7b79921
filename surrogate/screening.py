"""The GNN screener: of K children, train the one the surrogate finds most promising.

Registered as ``--surrogate gnn``. Per step the search hands over K children with their
exact resources (of the network pruned to its sparsity: the shape pruning leaves is known before
training) and the tournament's fitness. The screener predicts each child's
validation error with the ensemble and makes it optimistic by the ensemble's spread,

.. math::  \\hat e_i = \\max(0,\\ \\mu_i - \\kappa\\,\\sigma_i),

so a child the surrogate knows little about still gets a chance (upper-confidence style
exploration); the chosen child maximises ``fitness((ê_i, PMU_i, size_i, MACs_i))``. The
resources are exact, only the error is predicted.

Until ``min_evaluations`` candidates have trained successfully there is nothing to learn
from, and the screener behaves like plain μNAS: it trains the first child (the one
``--surrogate none`` would train). With an initial surrogate (``init``, e.g. trained by
``train-surrogate`` on earlier runs) it screens from the start. Every ``retrain_every`` new
results the ensemble is refitted on everything seen so far, warm-started from the current
members. Every scored child gets its prediction recorded (``predicted_error`` and
``predicted_error_std``), so the run store can audit the surrogate afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from torch_geometric.data import Data

from munas.errors import UserError
from munas.search.candidates import Candidate, EvaluatedCandidate
from munas.search.fitness import ScalarisedFitness
from munas.search.screening import Screener, register_screener
from munas.surrogate.encoding import encode
from munas.surrogate.ensemble import Prediction, SurrogateEnsemble
from munas.surrogate.persistence import load_ensemble
from munas.surrogate.training import TrainingConfig, fit_ensemble


@register_screener("gnn")
class GNNScreener(Screener):
    """Screen K children with an ensemble GNN; learn from every trained candidate.

    Args:
        children_per_step: K, children made per trained candidate.
        min_evaluations: successful trainings needed before the first fit.
        retrain_every: refit after this many new successful trainings.
        kappa: optimism, in ensemble standard deviations.
        init: a surrogate file to start from (``train-surrogate --out``).
        dataset: the search's data set; an ``init`` trained on another one is refused, since
            its errors would be another task's.
        training: fit settings (members, epochs, ...).
        seed: seed of the fits (the search's seed, so a search is repeatable).
    """

    def __init__(
        self,
        children_per_step: int = 8,
        min_evaluations: int = 10,
        retrain_every: int = 5,
        kappa: float = 0.5,
        init: str | Path | None = None,
        dataset: str | None = None,
        training: TrainingConfig | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(children_per_step, seed)
        if min_evaluations < 2:
            raise UserError(f"the surrogate needs at least 2 evaluations before its first fit, got {min_evaluations}")
        if retrain_every < 1:
            raise UserError(f"the surrogate's retrain interval must be at least 1, got {retrain_every}")
        if kappa < 0:
            raise UserError(f"the surrogate's optimism kappa must be >= 0, got {kappa}")
        self.min_evaluations = min_evaluations
        self.retrain_every = retrain_every
        self.kappa = kappa
        self.rng = np.random.default_rng(seed)
        self.ensemble: SurrogateEnsemble | None = load_ensemble(init, dataset) if init is not None else None
        training = training or TrainingConfig()
        if self.ensemble is not None:  # warm starts need the loaded members' shape
            training = replace(training, members=len(self.ensemble.members), model=self.ensemble.config)
        self.training = training
        self._graphs: list[Data] = []
        self._errors: list[float] = []
        self._seen: set[int] = set()
        self._fitted_on = 0
        self.fits = 0

    # -- learning ----------------------------------------------------------------------------
    def observe(self, evaluated: Sequence[EvaluatedCandidate]) -> None:
        """Collect successful results; refit when enough new ones have arrived.

        Failed trainings have no error to learn from and are skipped. A candidate id seen
        before is ignored, so a resumed search may pass the history again without doubling it.
        """
        for candidate in evaluated:
            if not candidate.ok or candidate.id in self._seen:
                continue
            self._seen.add(candidate.id)
            self._graphs.append(encode(candidate.architecture, candidate.sparsity))
            self._errors.append(float(candidate.val_error))  # type: ignore[arg-type]
        count = len(self._errors)
        if count < self.min_evaluations:
            return
        if self._fitted_on == 0 or count - self._fitted_on >= self.retrain_every:
            self.ensemble = fit_ensemble(self._graphs, self._errors, self.training, self.rng, init=self.ensemble)
            self._fitted_on = count
            self.fits += 1

    # -- choosing ----------------------------------------------------------------------------
    def predict(self, children: Sequence[Candidate]) -> Prediction:
        """Ensemble prediction of the children's validation errors (one batched forward pass)."""
        if self.ensemble is None:
            raise RuntimeError("the surrogate has not been fitted yet")
        graphs = [encode(c.architecture, c.sparsity) for c in children]  # c.resources are the pruned network's
        return self.ensemble.predict(graphs)

    def choose(self, children: Sequence[Candidate], fitness: ScalarisedFitness) -> int:
        if self.ensemble is None:
            return 0
        prediction = self.predict(children)
        optimistic = np.maximum(prediction.mean - self.kappa * prediction.std, 0.0)
        scores = []
        for child, mean, std, error in zip(children, prediction.mean, prediction.std, optimistic):
            child.predicted_error = float(mean)
            child.predicted_error_std = float(std)
            r = child.resources
            scores.append(fitness((float(error), float(r.pmu), float(r.model_size), float(r.macs))))
        return int(np.argmax(scores))

