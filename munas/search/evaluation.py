"""Training one candidate on a worker: the unit of work every executor runs.

A job carries everything a fresh process needs (the architecture, sparsity, data set name
and folder, training configuration, seed), so the same function serves the in-process
executor, a local process pool and Ray workers. Each worker process loads a data set once
and keeps it. The outcome carries the resources of the *pruned* architecture under the
run's accounting profile (the trainer reports the trained profile's; any other is recomputed here).
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from munas.resources import compute_resources
from munas.search.candidates import Measurement
from munas.space.architecture import Architecture

_DATASETS: dict[tuple[str, str | None], Any] = {}


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class EvaluationJob:
    candidate_id: int
    architecture: Architecture
    sparsity: float | None
    dataset: str
    data_dir: str | None
    train_config: Any
    """The trainer's ``TrainConfig`` (a picklable dataclass)."""
    seed: int
    accounting: str
    stop_after: int | None = None
    """Multi-fidelity rung: train only this many epochs of the full schedule (outcome status ``rung``)."""
    resume_state: bytes | None = None
    """Continue a promoted rung from the state its outcome carried, instead of from scratch."""


@dataclass(frozen=True)
class EvaluationOutcome(Measurement):
    """What a worker measured for the job of ``candidate_id``. A rung's outcome has status
    ``rung`` and carries the trainer's serialised state, for the driver to store and hand to the
    continuation job if it promotes the candidate."""

    candidate_id: int
    rung_state: bytes | None = field(default=None, kw_only=True, repr=False)
    weights: bytes | None = field(default=None, kw_only=True, repr=False)
    """``torch.save`` bytes of the pruned network's weights (``ok`` only), for the run store;
    bytes, so they cross process pools and Ray as they are, and never enter the search's memory."""


def candidate_seed(run_seed: int, candidate_id: int) -> int:
    """The training seed of a candidate: fixed by the run seed and the id, whatever the executor."""
    return (run_seed * 1_000_003 + candidate_id) % (2**31 - 1)


def load_cached_dataset(name: str, data_dir: str | None) -> Any:
    """The data set, loaded once per process (workers train many candidates on it)."""
    key = (name, data_dir)
    if key not in _DATASETS:
        from munas.data import load_dataset

        _DATASETS[key] = load_dataset(name, data_dir)
    return _DATASETS[key]


def evaluate(job: EvaluationJob, device: str | None = None) -> EvaluationOutcome:
    """Train and prune one candidate; an exception becomes a ``failed`` outcome, never a crash."""
    from munas.training.checkpoint import weights_to_bytes
    from munas.training.trainer import train_candidate

    started = time.perf_counter()
    try:
        dataset = load_cached_dataset(job.dataset, job.data_dir)
        result = train_candidate(job.architecture, dataset, job.train_config, sparsity=job.sparsity, seed=job.seed,
                                 device=device, stop_after=job.stop_after, resume=job.resume_state)
    except Exception as error:
        last = traceback.format_exception_only(type(error), error)[-1].strip()
        return EvaluationOutcome(
            candidate_id=job.candidate_id, status="failed", message=last, val_error=None, test_error=None,
            int8_test_error=None, pruned_architecture=None, pmu=None, model_size=None, macs=None,
            train_seconds=time.perf_counter() - started, epochs=None, finished_at=now_iso())
    pruned = result.pruned_architecture
    resources = None
    if result.status == "ok" and pruned is not None:
        reported = result.resources
        resources = reported if reported is not None and reported.accounting == job.accounting \
            else compute_resources(pruned, job.accounting)
    return EvaluationOutcome(
        candidate_id=job.candidate_id, status=result.status, message=result.message or "",
        val_error=_maybe_float(result.val_error), test_error=_maybe_float(result.test_error),
        int8_test_error=_maybe_float(result.int8_test_error), pruned_architecture=pruned,
        pmu=None if resources is None else resources.pmu,
        model_size=None if resources is None else resources.model_size,
        macs=None if resources is None else resources.macs,
        train_seconds=float(result.train_seconds), epochs=result.epochs, finished_at=now_iso(),
        curve=tuple(1.0 - accuracy for accuracy in result.val_accuracies), rung_state=result.state,
        weights=weights_to_bytes(result.weights) if result.status == "ok" and result.weights is not None else None,
    )


def _maybe_float(value: Any) -> float | None:
    return None if value is None else float(value)
