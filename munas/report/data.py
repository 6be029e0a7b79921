"""The numbers behind each chart and the table of the run report, computed without plotly.

Everything comes from the stored candidates, through the same functions the terminal uses: the
front is :func:`munas.search.pareto.pareto_front` (within the bounds when any candidate fits,
exactly as ``search`` prints it) and the hypervolume curve replays the candidates, in the order
they finished, through the search's own :class:`munas.search.loop.SearchStats`, so each point is
the figure the progress line showed after that candidate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from munas.commands.units import format_bytes, format_count
from munas.search.candidates import EvaluatedCandidate
from munas.search.config import SearchConfig
from munas.search.fitness import Bounds
from munas.search.loop import SearchStats
from munas.search.pareto import pareto_front

STATUSES: tuple[str, ...] = ("ok", "nan_loss", "failed", "stopped")
"""Every status a stored candidate can have, in the order the report lists them."""


def front(candidates: Sequence[EvaluatedCandidate], bounds: Bounds) -> list[EvaluatedCandidate]:
    """The Pareto front ``search`` prints: within the bounds when any candidate fits, else of all."""
    within = any(bounds.within(c.objectives) for c in candidates if c.ok)
    return pareto_front(candidates, bounds, within_bounds=within)


@dataclass(frozen=True)
class Progress:
    """After each finished candidate (in the order they finished): how many had finished, the
    training-seconds spent so far, and the hypervolume of the feasible candidates so far."""

    finished: list[int]
    train_seconds: list[float]
    hypervolume: list[float]


def progress(candidates: Sequence[EvaluatedCandidate], config: SearchConfig) -> Progress:
    """Replay ``candidates`` (completion order, as the store returns them) through SearchStats."""
    stats = SearchStats(budget=config.budget)
    series = Progress([], [], [])
    for candidate in candidates:
        stats.add(candidate, config)
        series.finished.append(stats.done)
        series.train_seconds.append(stats.train_seconds)
        series.hypervolume.append(stats.hypervolume)
    return series


def by_status(candidates: Sequence[EvaluatedCandidate]) -> dict[str, list[EvaluatedCandidate]]:
    """The candidates of each status present, known statuses first (in :data:`STATUSES` order)."""
    groups: dict[str, list[EvaluatedCandidate]] = {}
    for status in STATUSES + tuple(sorted({c.status for c in candidates} - set(STATUSES))):
        members = [c for c in candidates if c.status == status]
        if members:
            groups[status] = members
    return groups


def screened(candidates: Sequence[EvaluatedCandidate]) -> list[EvaluatedCandidate]:
    """The trained candidates a screener predicted: both the prediction and the truth are known."""
    return [c for c in candidates if c.ok and c.predicted_error is not None]


@dataclass(frozen=True)
class Cell:
    """One table cell: the text shown and the value it sorts by (None sorts last)."""

    text: str
    key: float | str | None


TABLE_COLUMNS: tuple[str, ...] = ("id", "parent", "status", "val err", "test err", "int8 err", "PMU", "size", "MACs",
                                  "sparsity", "predicted", "train s", "fits", "front", "message")


def _rate(value: float | None) -> Cell:
    return Cell("-" if value is None else f"{value:.4f}", value)


def table_rows(candidates: Sequence[EvaluatedCandidate], bounds: Bounds,
               front_ids: set[int]) -> list[list[Cell]]:
    """One row of :data:`TABLE_COLUMNS` per candidate, by id. ``predicted`` is the screener's
    predicted error ± its spread; ``message`` says why a candidate failed or was stopped."""
    rows = []
    for c in sorted(candidates, key=lambda c: c.id):
        fits = c.ok and bounds.within(c.objectives)
        predicted = "-" if c.predicted_error is None else f"{c.predicted_error:.4f}" + (
            "" if c.predicted_error_std is None else f" ± {c.predicted_error_std:.4f}")
        rows.append([
            Cell(str(c.id), c.id), Cell("-" if c.parent_id is None else str(c.parent_id), c.parent_id),
            Cell(c.status, c.status), _rate(c.val_error), _rate(c.test_error), _rate(c.int8_test_error),
            Cell(format_bytes(c.pmu), c.pmu), Cell(format_bytes(c.model_size), c.model_size),
            Cell(format_count(c.macs), c.macs),
            Cell("-" if c.sparsity is None else f"{c.sparsity:.2f}", c.sparsity),
            Cell(predicted, c.predicted_error), Cell(f"{c.train_seconds:.1f}", c.train_seconds),
            Cell("yes" if fits else "no", int(fits)), Cell("yes" if c.id in front_ids else "", int(c.id in front_ids)),
            Cell(" ".join(c.message.split()), c.message or None),
        ])
    return rows
