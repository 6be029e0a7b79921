"""Pareto fronts and hypervolume of one or more runs.

Selection uses the **validation** error (the test error is never looked at while searching,
so it stays an unbiased estimate; spec quirk 21 plotted the test error instead). The front
is over all four objectives ``(val_error, PMU, size, MACs)``, all minimised.

Hypervolume: each bounded objective is divided by its bound, and the reference point is
the bound box corner ``(1, …, 1)``; so the hypervolume is the fraction of the "within all
bounds" box that the run's candidates dominate (0 = nothing within bounds, 1 would be a
zero-error, zero-cost network). Objectives without a bound are left out of it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from munas.search.candidates import OBJECTIVES, EvaluatedCandidate
from munas.search.fitness import Bounds


def non_dominated_mask(points: np.ndarray) -> np.ndarray:
    """``mask[i]`` is True when no other row is ≤ row i everywhere and < somewhere (minimisation).

    Identical rows do not dominate each other, so duplicates on the front are all kept.
    """
    points = np.asarray(points, dtype=float)
    if points.size == 0:
        return np.zeros(len(points), dtype=bool)
    less_equal = np.all(points[:, None, :] <= points[None, :, :], axis=2)   # [j, i]: j <= i everywhere
    strictly = np.any(points[:, None, :] < points[None, :, :], axis=2)      # [j, i]: j < i somewhere
    dominated = np.any(less_equal & strictly, axis=0)
    return ~dominated


def objective_matrix(candidates: Sequence[EvaluatedCandidate]) -> np.ndarray:
    return np.array([c.objectives for c in candidates], dtype=float).reshape(len(candidates), len(OBJECTIVES))


def pareto_front(candidates: Sequence[EvaluatedCandidate], bounds: Bounds | None = None,
                 within_bounds: bool = False) -> list[EvaluatedCandidate]:
    """Non-dominated ``ok`` candidates (optionally only those within ``bounds``), by val error."""
    pool = [c for c in candidates if c.ok]
    if within_bounds and bounds is not None:
        pool = [c for c in pool if bounds.within(c.objectives)]
    mask = non_dominated_mask(objective_matrix(pool))
    return sorted((c for c, keep in zip(pool, mask) if keep), key=lambda c: (c.val_error, c.id))


def hypervolume(candidates: Sequence[EvaluatedCandidate], bounds: Bounds) -> float:
    """Hypervolume of the ``ok`` candidates, normalised by the bounds (see the module docstring)."""
    return normalised_hypervolume(objective_matrix([c for c in candidates if c.ok]), bounds)


def normalised_hypervolume(objectives: np.ndarray, bounds: Bounds) -> float:
    """Hypervolume of raw objective rows after dividing by the bounds, reference point all ones."""
    active = list(bounds.active)
    if not active or len(objectives) == 0:
        return 0.0
    scale = np.array([bounds.as_tuple()[k] for k in active], dtype=float)
    points = np.asarray(objectives, dtype=float)[:, active] / scale
    points = points[np.all(points < 1.0, axis=1)]
    if len(points) == 0:
        return 0.0
    points = points[non_dominated_mask(points)]
    from pymoo.indicators.hv import HV

    return float(HV(ref_point=np.ones(len(active)))(points))


def hypervolume_curve(candidates: Sequence[EvaluatedCandidate], bounds: Bounds) -> np.ndarray:
    """Hypervolume after each stored candidate, in completion order (only the front is kept).

    Plotted against the candidates' cumulative ``train_seconds`` it is the search's progress per
    unit of compute (stopped multi-fidelity children cost their rung, add nothing).
    """
    front: list[np.ndarray] = []
    curve = np.zeros(len(candidates))
    value = 0.0
    for i, candidate in enumerate(candidates):
        if candidate.ok and bounds.within(candidate.objectives):
            points = np.array(front + [np.asarray(candidate.objectives)])
            front = list(points[non_dominated_mask(points)])
            value = normalised_hypervolume(np.array(front), bounds)
        curve[i] = value
    return curve
