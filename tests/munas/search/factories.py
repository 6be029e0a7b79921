"""Builders of stored-candidate records for the search's unit tests (no training involved)."""

from __future__ import annotations

from munas.search.candidates import EvaluatedCandidate
from munas.space.architecture import Architecture, ConvBlock, ConvLayer, DenseBlock

ARCHITECTURE = Architecture(
    input_shape=(8, 8, 1), num_classes=10,
    conv_blocks=(ConvBlock((ConvLayer("Conv2D", ker_size=3, filters=4, stride2=False),)),),
    dense_blocks=(DenseBlock(16),),
)


def evaluated(candidate_id: int, objectives: tuple[float, float, float, float] = (0.1, 1000, 1000, 1000),
              status: str = "ok", parent_id: int | None = None, sparsity: float | None = 0.3) -> EvaluatedCandidate:
    ok = status == "ok"
    error, pmu, size, macs = objectives
    return EvaluatedCandidate(
        id=candidate_id, parent_id=parent_id, architecture=ARCHITECTURE, sparsity=sparsity, status=status,
        message="" if ok else "loss became NaN", val_error=error if ok else None,
        test_error=error + 0.01 if ok else None, int8_test_error=error + 0.02 if ok else None,
        pruned_architecture=ARCHITECTURE if ok else None, pmu=int(pmu) if ok else None,
        model_size=int(size) if ok else None, macs=int(macs) if ok else None, train_seconds=1.5, epochs=3,
        predicted_error=None, predicted_error_std=None, submitted_at="2026-01-01T00:00:00.000+00:00",
        finished_at="2026-01-01T00:00:01.000+00:00",
    )
