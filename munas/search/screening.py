"""Screeners decide which of K mutated children is worth training (DESIGN.md §5).

Training is the whole cost of the search; a screener that predicts a child's error without
training it lets the search make many children and train only the most promising one.
The loop knows only the :class:`Screener` base class and :func:`create_screener`.

``--surrogate NAME`` names either a screener of :data:`SCREENERS` (``none``, built in:
train the single child as μNAS does) or a predictor of
:data:`munas.search.predictors.PREDICTORS` (plug-ins such as the GNN surrogate), which
:class:`PredictorScreener` turns into a screener. The screening logic is therefore written
once, here, and a predictor only fits and predicts.

A screener's :meth:`Screener.choose` may record what it predicted for a child by setting
``child.predicted_error`` / ``child.predicted_error_std``; the run store keeps the values of
the child that is trained.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from munas.errors import UserError
from munas.registry import Registry
from munas.search.candidates import Candidate, EvaluatedCandidate
from munas.search.fitness import ScalarisedFitness
from munas.search.predictors import PREDICTORS, Predictor, create_predictor


class Screener(ABC):
    """Base class: pick a child to train, learn from trained candidates.

    Subclasses override :meth:`choose` and usually :meth:`observe`. ``children_per_step`` is
    how many children the loop makes per trained candidate (K; 1 means no screening);
    ``seed`` is the search's seed, for screeners whose learning is random.
    """

    def __init__(self, children_per_step: int = 1, seed: int = 0) -> None:
        if children_per_step < 1:
            raise UserError(f"--screen must be at least 1, got {children_per_step}")
        self.children_per_step = children_per_step
        self.seed = seed

    @abstractmethod
    def choose(self, children: Sequence[Candidate], fitness: ScalarisedFitness) -> int:
        """Index of the child to train. ``fitness`` is the tournament's scalarisation
        (call it on ``(error, pmu, size, macs)``; larger is better)."""

    def observe(self, evaluated: Sequence[EvaluatedCandidate]) -> None:  # noqa: B027 (default: learn nothing)
        """Learn from newly trained candidates (all of them, including failed ones).

        On ``--resume`` the whole stored history is passed once, before the loop continues.
        """


SCREENERS: Registry[Callable[..., Screener]] = Registry("screener")
"""Screeners that need no predictor, by name; each is called with ``children_per_step`` and ``seed``."""


@SCREENERS.register("none")
class NoScreener(Screener):
    """μNAS without a surrogate: the first child is trained (K > 1 then just wastes morphs)."""

    def choose(self, children: Sequence[Candidate], fitness: ScalarisedFitness) -> int:
        return 0


class PredictorScreener(Screener):
    r"""Of K children, train the one a predictor finds most promising; teach it every result.

    Per step the search hands over K children with their exact resources (of the network
    pruned to its sparsity: the shape pruning leaves is known before training) and the
    tournament's fitness. The predictor gives each child's validation error a mean
    :math:`\mu_i` and a spread :math:`\sigma_i`; the screener makes it optimistic,

    .. math::  \hat e_i = \max(0,\ \mu_i - \kappa\,\sigma_i),

    so a child the predictor knows little about still gets a chance (upper-confidence style
    exploration), and trains the child maximising ``fitness((ê_i, PMU_i, size_i, MACs_i))``.
    The resources are exact, only the error is predicted. Every scored child gets its
    prediction recorded (``predicted_error`` and ``predicted_error_std``), so the run store
    can audit the predictor afterwards.

    Until ``min_evaluations`` candidates have trained successfully there is nothing to learn
    from, and the screener behaves like plain μNAS: it trains the first child (the one
    ``--surrogate none`` would train). A predictor that starts fitted (loaded with
    ``--surrogate-init``) screens from the start. Once ``min_evaluations`` results are in,
    the predictor is fitted on all of them, and refitted every ``retrain_every`` new results.

    Args:
        predictor: what predicts the errors.
        children_per_step: K, children made per trained candidate.
        min_evaluations: successful trainings needed before the first fit.
        retrain_every: refit after this many new successful trainings.
        kappa: optimism, in predicted standard deviations.
    """

    def __init__(self, predictor: Predictor, children_per_step: int, min_evaluations: int = 10,
                 retrain_every: int = 5, kappa: float = 0.5) -> None:
        super().__init__(children_per_step)
        if min_evaluations < 2:
            raise UserError(f"the surrogate needs at least 2 evaluations before its first fit, got {min_evaluations}")
        if retrain_every < 1:
            raise UserError(f"the surrogate's retrain interval must be at least 1, got {retrain_every}")
        if kappa < 0:
            raise UserError(f"the surrogate's optimism kappa must be >= 0, got {kappa}")
        self.predictor = predictor
        self.min_evaluations = min_evaluations
        self.retrain_every = retrain_every
        self.kappa = kappa
        self._trained: list[EvaluatedCandidate] = []
        self._seen: set[int] = set()
        self._fitted_on = 0
        self.fits = 0

    def observe(self, evaluated: Sequence[EvaluatedCandidate]) -> None:
        """Collect successful results, in order; refit when enough new ones have arrived.

        Failed trainings have no error to learn from and are skipped. A child stopped after its
        multi-fidelity rung is learned with the final error its rung predicted
        (``estimated_error``), so the predictor also learns where not to go. A candidate id seen
        before is ignored, so a resumed search may pass the history again without doubling it.
        The fit schedule is checked after each candidate, not once per call: a resumed search
        that passes its whole history at once replays the fits of the uninterrupted run at the
        same counts, on the same candidates, drawing the same numbers from the predictor's
        generator, so the predictor (warm starts included) and every later choice are the
        uninterrupted run's. The price is the time of those fits again on ``--resume``.
        """
        for candidate in evaluated:
            if _error_to_learn(candidate) is not None and candidate.id not in self._seen:
                self._seen.add(candidate.id)
                self._trained.append(candidate)
                self._fit_when_due()

    def _fit_when_due(self) -> None:
        count = len(self._trained)
        if count < self.min_evaluations:
            return
        if self._fitted_on == 0 or count - self._fitted_on >= self.retrain_every:
            self.predictor.fit(self._trained, [float(_error_to_learn(c)) for c in self._trained])  # type: ignore[arg-type]
            self._fitted_on = count
            self.fits += 1

    def choose(self, children: Sequence[Candidate], fitness: ScalarisedFitness) -> int:
        if not self.predictor.fitted:
            return 0
        prediction = self.predictor.predict(children)  # one batched call for the K children
        optimistic = np.maximum(prediction.mean - self.kappa * prediction.std, 0.0)
        scores = []
        for child, mean, std, error in zip(children, prediction.mean, prediction.std, optimistic):
            child.predicted_error = float(mean)
            child.predicted_error_std = float(std)
            r = child.resources
            scores.append(fitness((float(error), float(r.pmu), float(r.model_size), float(r.macs))))
        return int(np.argmax(scores))


def _error_to_learn(candidate: EvaluatedCandidate) -> float | None:
    """The validation error of a finished candidate, or the rung's estimate for a stopped one."""
    if candidate.ok:
        return candidate.val_error
    return candidate.estimated_error if candidate.status == "stopped" else None


def list_screeners() -> list[str]:
    """Every valid ``--surrogate`` name: the screeners and the predictors (plug-ins are not imported)."""
    return sorted(set(SCREENERS.names()) | set(PREDICTORS.names()))


def create_screener(name: str, children_per_step: int, seed: int = 0, init: str | Path | None = None,
                    dataset: str | None = None) -> Screener:
    """The screener for ``--surrogate name``: a registered screener, or a predictor's screener.

    Args:
        name: a screener or predictor name (:func:`list_screeners`).
        children_per_step: K, children made per trained candidate.
        seed: the search's seed.
        init: a saved predictor to start from (``--surrogate-init``; only predictors load one).
        dataset: the search's data set, for the predictor to check ``init`` against.
    """
    if name in SCREENERS.names():
        if init is not None:
            raise UserError(f"--surrogate-init needs a predictor to load it into; --surrogate {name} has none")
        return SCREENERS.get(name)(children_per_step=children_per_step, seed=seed)
    if name not in PREDICTORS.names():
        raise UserError(f"unknown surrogate {name!r}; choose one of {', '.join(list_screeners())}")
    return PredictorScreener(create_predictor(name, seed=seed, init=init, dataset=dataset), children_per_step)
