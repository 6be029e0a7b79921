"""Pareto fronts, hypervolume and the front plot of one or more runs.

Selection uses the **validation** error (the test error is never looked at while searching,
so it stays an unbiased estimate; spec quirk 21 plotted the test error instead). The front
is over all four objectives ``(val_error, PMU, size, MACs)``, all minimised.

Hypervolume: each bounded objective is divided by its bound, and the reference point is
the bound box corner ``(1, …, 1)``; so the hypervolume is the fraction of the "within all
bounds" box that the run's candidates dominate (0 = nothing within bounds, 1 would be a
zero-error, zero-cost network). Objectives without a bound are left out of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from munas.search.candidates import OBJECTIVES, EvaluatedCandidate
from munas.search.fitness import Bounds

RESOURCE_LABELS = {"pmu": "peak memory (B)", "model_size": "model size (B)", "macs": "MACs"}


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


def front_2d(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the 2-D front of (resource x, error y), sorted by x."""
    mask = non_dominated_mask(np.column_stack([x, y]))
    indices = np.flatnonzero(mask)
    return indices[np.argsort(x[indices], kind="stable")]


def plot_fronts(groups: Mapping[str, Sequence[EvaluatedCandidate]], bounds: Bounds | None, path: str,
                title: str = "") -> None:
    """PNG with one panel per resource: validation error vs resource, every run's 2-D front.

    All candidates are faint dots, each run's 2-D front is opaque with a step line, and the
    bounds are dashed lines (the feasible region is bottom-left).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(15, 4.6), sharey=True)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, (label, candidates) in enumerate(groups.items()):
        ok = [c for c in candidates if c.ok]
        if not ok:
            continue
        colour = colours[index % len(colours)]
        values = objective_matrix(ok)
        error = values[:, 0]
        for panel, (axis, resource) in enumerate(zip(axes, ("pmu", "model_size", "macs"))):
            x = np.maximum(values[:, panel + 1], 1.0)
            axis.scatter(x, error, s=12, color=colour, alpha=0.35, linewidths=0)
            front = front_2d(x, error)
            axis.step(x[front], error[front], where="post", color=colour, linewidth=1.2)
            axis.scatter(x[front], error[front], s=26, color=colour, label=label if panel == 0 else None,
                         edgecolors="black", linewidths=0.4, zorder=3)
    for panel, (axis, resource) in enumerate(zip(axes, ("pmu", "model_size", "macs"))):
        axis.set_xscale("log")
        axis.set_xlabel(RESOURCE_LABELS[resource])
        axis.grid(True, which="both", alpha=0.25)
        if bounds is not None:
            limit = bounds.as_tuple()[panel + 1]
            if limit is not None:
                axis.axvline(limit, color="grey", linestyle="--", linewidth=1)
            if bounds.error is not None:
                axis.axhline(bounds.error, color="grey", linestyle="--", linewidth=1)
    axes[0].set_ylabel("validation error")
    axes[0].legend(loc="upper right", fontsize=8)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
