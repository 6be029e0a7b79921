r"""μNAS's random-scalarisation fitness with bounds as soft constraints (spec §4.3).

For each tournament a fresh weight vector :math:`\lambda` is drawn, and a candidate with
objectives :math:`f = (\text{val\_error}, \text{PMU}, \text{size}, \text{MACs})` and bounds
:math:`b` scores

.. math::  \text{fitness}(x) = -\max_{k:\,b_k\ \text{set}} \frac{\min(f_k(x)/b_k,\ 10)}{\lambda_k}

Larger is better. An objective over its bound has a normalised value above 1 and therefore
tends to dominate the max: that is the soft constraint.

Deviation from the reference (quirk 8): the reference draws :math:`\lambda_k \sim U(0,1)`, so
a weight near 0 makes one objective explode and the tournament degenerates into a
single-objective pick. Here :math:`\lambda_k \sim U(\lambda_{\min}, 1)` with
:math:`\lambda_{\min}` = 0.05 by default (a candidate's weighted score is then at most 200×
its normalised value, instead of unbounded). ``lambda_floor=0`` reproduces the reference.
A weight is drawn for every objective, bounded or not, so the random stream matches the
reference's index alignment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from munas.search.candidates import OBJECTIVES, EvaluatedCandidate

NORMALISED_CAP = 10.0
"""Normalised objectives are capped here so a huge network does not swamp every weight."""
DEFAULT_LAMBDA_FLOOR = 0.05


@dataclass(frozen=True)
class Bounds:
    """Upper bounds of the objectives; None drops that objective from the fitness."""

    error: float | None
    pmu: int | None
    model_size: int | None
    macs: int | None

    def as_tuple(self) -> tuple[float | None, float | None, float | None, float | None]:
        return (self.error, self.pmu, self.model_size, self.macs)

    def as_dict(self) -> dict[str, float | int | None]:
        return dict(zip(("error", "pmu", "model_size", "macs"), self.as_tuple()))

    @classmethod
    def from_dict(cls, values: dict) -> Bounds:
        return cls(values.get("error"), values.get("pmu"), values.get("model_size"), values.get("macs"))

    @property
    def active(self) -> tuple[int, ...]:
        """Indices (into :data:`OBJECTIVES`) of the objectives that have a bound."""
        return tuple(i for i, b in enumerate(self.as_tuple()) if b is not None)

    def within(self, objectives: Sequence[float]) -> bool:
        """True when every bounded objective is at or under its bound."""
        return all(b is None or f <= b for f, b in zip(objectives, self.as_tuple()))


def normalise(objectives: Sequence[float], bounds: Bounds) -> np.ndarray:
    """``min(f_k / b_k, 10)`` per objective; NaN where the bound is not set."""
    out = np.full(len(OBJECTIVES), np.nan)
    for k, (value, bound) in enumerate(zip(objectives, bounds.as_tuple())):
        if bound is not None:
            out[k] = min(float(value) / float(bound), NORMALISED_CAP)
    return out


@dataclass(frozen=True)
class ScalarisedFitness:
    """One draw of the random scalarisation: call it on an objective vector (larger is better)."""

    lambdas: tuple[float, float, float, float]
    bounds: Bounds

    def __call__(self, objectives: Sequence[float]) -> float:
        normalised = normalise(objectives, self.bounds)
        active = list(self.bounds.active)
        if not active:
            raise ValueError("the fitness needs at least one bound")
        weights = np.asarray(self.lambdas)[active]
        return -float(np.max(normalised[active] / weights))

    def of(self, candidate: EvaluatedCandidate) -> float:
        return self(candidate.objectives)


def random_fitness(bounds: Bounds, rng: np.random.Generator,
                   lambda_floor: float = DEFAULT_LAMBDA_FLOOR) -> ScalarisedFitness:
    """A fresh fitness with ``λ_k ~ U(lambda_floor, 1)`` for all four objectives."""
    if not 0 <= lambda_floor < 1:
        raise ValueError(f"lambda_floor must be in [0, 1), got {lambda_floor}")
    if not bounds.active:
        raise ValueError("the fitness needs at least one bound")
    draws = rng.uniform(0.0, 1.0, size=len(OBJECTIVES))
    lambdas = lambda_floor + (1.0 - lambda_floor) * draws
    return ScalarisedFitness(tuple(float(x) for x in lambdas), bounds)  # type: ignore[arg-type]
