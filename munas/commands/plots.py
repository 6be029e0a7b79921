"""The front plot: validation error against each resource, the printed front marked.

Presentation only (``pareto`` and ``search`` write it); the front itself is computed in
:mod:`munas.search.pareto`. The plot marks exactly the candidates the printed table lists:
the front over all four objectives (validation error, PMU, size, MACs). A panel shows two of
them, so a front member may sit above another candidate in a panel (it wins on a resource
that panel does not show); marking each panel's own 2-D front instead would disagree with
the table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from munas.commands.units import format_bytes, format_count
from munas.search.candidates import EvaluatedCandidate
from munas.search.fitness import Bounds
from munas.search.pareto import hypervolume_curve, objective_matrix

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PANELS: tuple[tuple[str, str, str, Callable[[int | float | None], str]], ...] = (
    ("pmu", "peak memory (B)", "PMU", format_bytes),
    ("model_size", "model size (B)", "size", format_bytes),
    ("macs", "MACs", "MACs", format_count),
)
"""Per panel: the resource, its axis label, its name in a bound's label, how its bound is written."""


def front_label(run: str, count: int) -> str:
    return f"{run}: Pareto front ({count})"


def draw_fronts(groups: Mapping[str, Sequence[EvaluatedCandidate]], bounds: Bounds | None,
                front: Sequence[tuple[str, EvaluatedCandidate]], title: str = "") -> Figure:
    """A figure with one panel per resource: validation error vs resource, for every run.

    Every trained candidate is a faint dot; the members of ``front`` (the rows the front table
    prints, as ``(run, candidate)``) are opaque and edged, labelled ``<run>: Pareto front (n)``.
    Each bound is a dashed line labelled with its value (the feasible region is bottom-left).
    The caller closes the figure.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    marked = {(run, c.id) for run, c in front}
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.6), sharey=True)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, (label, candidates) in enumerate(groups.items()):
        ok = [c for c in candidates if c.ok]
        if not ok:
            continue
        colour = colours[index % len(colours)]
        values = objective_matrix(ok)
        on_front = np.array([(label, c.id) in marked for c in ok])
        for panel, axis in enumerate(axes):
            x, error = np.maximum(values[:, panel + 1], 1.0), values[:, 0]
            axis.scatter(x, error, s=12, color=colour, alpha=0.35, linewidths=0,
                         label=f"{label}: all trained ({len(ok)})" if panel == 0 else None)
            axis.scatter(x[on_front], error[on_front], s=30, color=colour, edgecolors="black", linewidths=0.5,
                         zorder=3, label=front_label(label, int(on_front.sum())) if panel == 0 else None)
    for axis, (resource, axis_label, name, write) in zip(axes, PANELS):
        axis.set_xscale("log")
        axis.set_xlabel(axis_label)
        axis.grid(True, which="both", alpha=0.25)
        if bounds is not None:
            limit = bounds.as_dict()[resource]
            if limit is not None:
                axis.axvline(limit, color="grey", linestyle="--", linewidth=1, label=f"{name} bound {write(limit)}")
            if bounds.error is not None:
                axis.axhline(bounds.error, color="dimgrey", linestyle=":", linewidth=1,
                             label=f"error bound {bounds.error:g}")
        axis.legend(loc="upper right", fontsize=7)
    axes[0].set_ylabel("validation error")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_fronts(groups: Mapping[str, Sequence[EvaluatedCandidate]], bounds: Bounds | None,
                front: Sequence[tuple[str, EvaluatedCandidate]], path: str, title: str = "") -> None:
    """Write :func:`draw_fronts` as a PNG to ``path``."""
    figure = draw_fronts(groups, bounds, front, title)
    import matplotlib.pyplot as plt  # after draw_fronts chose the Agg backend

    try:
        figure.savefig(path, dpi=120)
    finally:
        plt.close(figure)


def plot_progress(groups: Mapping[str, Sequence[EvaluatedCandidate]], bounds: Bounds, path: str,
                  title: str = "") -> None:
    """Write a PNG of each run's hypervolume against stored candidates and against cumulative
    training-seconds (rungs included): the second is what a search costs in compute."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    try:
        for label, candidates in groups.items():
            curve = hypervolume_curve(candidates, bounds)
            seconds = np.cumsum([c.train_seconds for c in candidates])
            axes[0].step(np.arange(1, len(curve) + 1), curve, where="post", label=label)
            axes[1].step(seconds, curve, where="post", label=label)
        for axis, xlabel in zip(axes, ("stored candidates", "cumulative training-seconds")):
            axis.set_xlabel(xlabel)
            axis.grid(True, alpha=0.3)
            axis.legend(fontsize=7)
        axes[0].set_ylabel("hypervolume (normalised by the bounds)")
        if title:
            figure.suptitle(title)
        figure.tight_layout()
        figure.savefig(path, dpi=120)
    finally:
        plt.close(figure)
