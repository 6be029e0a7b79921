"""The front plot: validation error against each resource, one 2-D front per run.

Presentation only (``pareto`` and ``search`` write it); the fronts themselves are computed
in :mod:`munas.search.pareto`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from munas.search.candidates import EvaluatedCandidate
from munas.search.fitness import Bounds
from munas.search.pareto import non_dominated_mask, objective_matrix

RESOURCE_LABELS = {"pmu": "peak memory (B)", "model_size": "model size (B)", "macs": "MACs"}


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
        for panel, axis in enumerate(axes):
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
