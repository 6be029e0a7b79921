"""How well predicted errors match true ones: ranking (Kendall τ, Spearman ρ) and MAE.

Screening only needs the *order* of candidates right, so rank correlations are the figures
that matter; the MAE says whether the predicted values are usable as errors too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import kendalltau, spearmanr
from sklearn.metrics import mean_absolute_error


@dataclass(frozen=True)
class Scores:
    kendall_tau: float
    spearman_rho: float
    mae: float

    def as_dict(self) -> dict:
        return asdict(self)


def _correlation(value: float) -> float:
    """A constant prediction has no defined correlation; it ranks nothing, so count it as 0."""
    return 0.0 if value is None or math.isnan(value) else float(value)


def score(predicted: Sequence[float] | np.ndarray, true: Sequence[float] | np.ndarray) -> Scores:
    """Kendall τ (tau-b, ties handled), Spearman ρ and mean absolute error."""
    predicted = np.asarray(predicted, dtype=float)
    true = np.asarray(true, dtype=float)
    if predicted.shape != true.shape or predicted.ndim != 1 or len(true) < 2:
        raise ValueError(f"need two 1-d arrays of the same length >= 2, got {predicted.shape} and {true.shape}")
    return Scores(
        kendall_tau=_correlation(kendalltau(predicted, true).statistic),
        spearman_rho=_correlation(spearmanr(predicted, true).statistic),
        mae=float(mean_absolute_error(true, predicted)),
    )
