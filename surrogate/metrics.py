"""How well predicted errors match true ones: ranking (Kendall τ, Spearman ρ) and MAE.

Screening only needs the *order* of candidates right, so rank correlations are the figures
that matter; the MAE says whether the predicted values are usable as errors too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.stats import kendalltau, spearmanr
from sklearn.metrics import mean_absolute_error

if TYPE_CHECKING:
    from munas.search.candidates import EvaluatedCandidate


@dataclass(frozen=True)
class Scores:
    kendall_tau: float
    spearman_rho: float
    mae: float

    def as_dict(self) -> dict:
        return asdict(self)


def score(predicted: Sequence[float] | np.ndarray, true: Sequence[float] | np.ndarray) -> Scores:
    """Kendall τ (tau-b, ties handled), Spearman ρ and mean absolute error."""
    predicted = np.asarray(predicted, dtype=float)
    true = np.asarray(true, dtype=float)
    if predicted.shape != true.shape or predicted.ndim != 1 or len(true) < 2:
        raise ValueError(f"need two 1-d arrays of the same length >= 2, got {predicted.shape} and {true.shape}")
    mae = float(mean_absolute_error(true, predicted))
    if np.ptp(predicted) == 0 or np.ptp(true) == 0:
        return Scores(kendall_tau=0.0, spearman_rho=0.0, mae=mae)  # a constant ranks nothing: no correlation
    return Scores(
        kendall_tau=float(kendalltau(predicted, true).statistic),
        spearman_rho=float(spearmanr(predicted, true).statistic),
        mae=mae,
    )


def prediction_audit(candidates: Sequence[EvaluatedCandidate]) -> tuple[int, Scores] | None:
    """How well a search's stored predictions matched the measured validation errors.

    Only the candidates the screener chose to train have both; ``None`` when fewer than 3 do.
    Returns their count and the scores of the predicted (ensemble mean) against measured error.
    """
    pairs = [(c.predicted_error, c.val_error) for c in candidates if c.ok and c.predicted_error is not None]
    if len(pairs) < 3:
        return None
    predicted, measured = zip(*pairs)
    return len(pairs), score(predicted, measured)
