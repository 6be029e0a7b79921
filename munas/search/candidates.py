"""What the search passes around: a proposed child, and a finished (trained) candidate.

Objectives are always the 4-tuple ``(val_error, pmu, model_size, macs)`` in this order
(spec §4.1); the validation error drives selection, the test error is only reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field, fields

from munas.resources import Resources
from munas.space.architecture import Architecture

OBJECTIVES: tuple[str, ...] = ("val_error", "pmu", "model_size", "macs")
"""Names of the objectives, in the order of every objective vector and bound tuple."""

Objectives = tuple[float, float, float, float]


@dataclass
class Candidate:
    """A child proposed by the search and not trained yet.

    ``resources`` are the exact resources the trained candidate will have: those of the
    architecture pruned to ``sparsity`` (:func:`munas.resources.channels.pruned_shape`; how many
    channels survive is fixed by the sparsity, only which ones is learned), under the run's
    accounting profile. A :class:`~munas.search.screening.Screener` that scores the child may set
    ``predicted_error`` (and ``predicted_error_std``); the run store keeps them with the
    trained candidate so predictions can be compared with the truth later.
    """

    architecture: Architecture
    sparsity: float | None
    resources: Resources
    parent_id: int | None = None
    predicted_error: float | None = None
    predicted_error_std: float | None = None
    proxies: Mapping[str, float] | None = None
    """Zero-cost proxies at initialisation (:mod:`munas.training.proxies`), when the search computes them."""


@dataclass(frozen=True)
class Measurement:
    """What training one candidate measured, on whichever worker trained it.

    ``pmu``/``model_size``/``macs`` are the resources of the *pruned* architecture under the
    run's accounting profile. ``status`` is ``ok``, ``nan_loss`` or ``failed``, or ``stopped``
    (multi-fidelity: its rung was not promoted); only ``ok`` candidates have errors and resources.
    ``train_seconds`` is all the training the candidate cost, its rung included; ``rung_seconds``
    the rung's part (None for a single-fidelity training). ``curve`` is the validation error
    after each epoch trained.
    """

    status: str
    message: str
    val_error: float | None
    test_error: float | None
    int8_test_error: float | None
    pruned_architecture: Architecture | None
    pmu: int | None
    model_size: int | None
    macs: int | None
    train_seconds: float
    epochs: int | None
    finished_at: str
    _: KW_ONLY
    curve: tuple[float, ...] = ()
    rung_seconds: float | None = None


@dataclass(frozen=True)
class EvaluatedCandidate(Measurement):
    """A candidate after training, what the run store holds per row: the proposal (id, parent,
    architecture, sparsity, what a screener predicted, when it was submitted) and its
    :class:`Measurement`. Only ``ok`` candidates have objectives and can become parents."""

    id: int
    parent_id: int | None
    architecture: Architecture
    sparsity: float | None
    predicted_error: float | None
    predicted_error_std: float | None
    submitted_at: str
    _: KW_ONLY
    proxies: Mapping[str, float] | None = field(default=None, compare=False)
    estimated_error: float | None = None
    """``stopped`` only: the final validation error its rung predicted (what the predictor learns)."""

    @classmethod
    def from_proposal(cls, candidate_id: int, proposal: Candidate, submitted_at: str,
                      measurement: Measurement, estimated_error: float | None = None) -> EvaluatedCandidate:
        """The record of ``proposal`` trained as ``candidate_id``: every measured field carries over."""
        measured = {f.name: getattr(measurement, f.name) for f in fields(Measurement)}
        return cls(id=candidate_id, parent_id=proposal.parent_id, architecture=proposal.architecture,
                   sparsity=proposal.sparsity, predicted_error=proposal.predicted_error,
                   predicted_error_std=proposal.predicted_error_std, submitted_at=submitted_at,
                   proxies=proposal.proxies, estimated_error=estimated_error, **measured)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def objectives(self) -> Objectives:
        """``(val_error, pmu, model_size, macs)``; only defined for ``ok`` candidates."""
        if not self.ok:
            raise ValueError(f"candidate {self.id} has status {self.status!r} and no objectives")
        return (float(self.val_error), float(self.pmu), float(self.model_size), float(self.macs))  # type: ignore[arg-type]
