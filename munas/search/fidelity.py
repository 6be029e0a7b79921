"""Multi-fidelity evaluation (``search --fidelity multi``): a short rung, then promote or stop.

Every chosen child first trains a *rung*: the first quarter of its epochs, under the full
run's learning-rate schedule and pruning ramp, so that the rung is exactly the prefix of the
full training (:func:`rung_epochs`). When the rung's result reaches the driver, a
:class:`Promotion` decides whether the child trains on. A promoted child continues from the
rung's saved state (a new job that carries it; nothing is retrained), and its full training
ends exactly as a single-fidelity one would. A stopped child is stored with status
``stopped``, its curve and its training seconds; it never becomes a parent and is never on
the front, but its estimated final error still teaches the predictor.

The decision is learning-curve-conditioned, as in ASHA's promotion (Li et al., 2020) with
the rung's curve extrapolated to the final error instead of ranked raw:

1. Every finished candidate has its full validation curve, so its rung is known too (the
   rung is a prefix). A ridge regression maps the rung's features (best and last rung error,
   the pruning target) to the final validation error; its residual spread is :math:`\\sigma`.
2. The child's final error is estimated as :math:`\\mu` and made optimistic,
   :math:`\\hat e = \\max(0, \\mu - \\kappa\\sigma)`.
3. The child is promoted unless some member of the current population *dominates*
   :math:`(\\hat e, \\mathrm{PMU}, \\mathrm{size}, \\mathrm{MACs})`, the resources being the
   child's exact ones: it is stopped only when a living parent is at least as good on every
   objective even after granting it optimism, so it could neither enter the front nor win a
   tournament against that member.

Until ``min_finished`` candidates have finished there is nothing to regress on and every
child is promoted, the first random networks included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from munas.errors import UserError
from munas.resources import compute_resources
from munas.resources.channels import pruned_shape
from munas.search.candidates import Candidate, EvaluatedCandidate
from munas.space.architecture import parse_architecture

FIDELITIES = ("full", "multi")
RUNG_FRACTION = 0.25


def rung_epochs(epochs: int, fraction: float = RUNG_FRACTION) -> int:
    """Epochs of the rung: ``fraction`` of the full training, at least one, fewer than all."""
    if epochs < 2:
        raise UserError(f"--fidelity multi needs at least 2 epochs per candidate (a rung and its continuation), "
                        f"got {epochs}")
    return min(epochs - 1, max(1, round(epochs * fraction)))


@dataclass(frozen=True)
class Decision:
    promote: bool
    estimated_error: float | None
    """The rung's predicted final validation error (None before the curve model is fitted)."""
    estimated_std: float | None


def _rung_features(curve: Sequence[float], rung: int, sparsity: float | None) -> np.ndarray:
    prefix = np.asarray(curve[:rung], dtype=float)
    return np.array([1.0, prefix.min(), prefix[-1], float(sparsity or 0.0)])


class Promotion:
    """The promotion rule of the module docstring.

    Args:
        rung: epochs of the rung.
        epochs: epochs of the full training (a finished candidate's curve has this many).
        min_finished: finished candidates needed before any child is stopped.
        kappa: optimism, in residual standard deviations of the curve model.
        ridge: L2 penalty of the curve model (few samples, correlated features).
    """

    def __init__(self, rung: int, epochs: int, min_finished: int = 8, kappa: float = 0.5, ridge: float = 1e-3) -> None:
        self.rung = rung
        self.epochs = epochs
        self.min_finished = min_finished
        self.kappa = kappa
        self.ridge = ridge

    def _curve_model(self, history: Sequence[EvaluatedCandidate]) -> tuple[np.ndarray, float] | None:
        finished = [c for c in history if c.ok and len(c.curve) >= self.epochs]
        if len(finished) < self.min_finished:
            return None
        x = np.stack([_rung_features(c.curve, self.rung, c.sparsity) for c in finished])
        y = np.array([float(c.val_error) for c in finished])  # type: ignore[arg-type]
        penalty = self.ridge * np.eye(x.shape[1])
        penalty[0, 0] = 0.0  # the intercept is not shrunk
        weights = np.linalg.solve(x.T @ x + penalty, x.T @ y)
        residuals = y - x @ weights
        spread = float(np.sqrt(np.sum(residuals**2) / max(1, len(y) - x.shape[1])))
        return weights, spread

    def decide(self, child: Candidate, curve: Sequence[float], history: Sequence[EvaluatedCandidate],
               population: Sequence[EvaluatedCandidate]) -> Decision:
        """Promote ``child`` (rung validation-error ``curve``) or stop it, given what has finished."""
        model = self._curve_model(history)
        if model is None or not curve:
            return Decision(True, None, None)
        weights, spread = model
        estimate = float(np.clip(_rung_features(curve, self.rung, child.sparsity) @ weights, 0.0, 1.0))
        optimistic = max(0.0, estimate - self.kappa * spread)
        r = child.resources
        point = np.array([optimistic, r.pmu, r.model_size, r.macs], dtype=float)
        dominated = any(np.all(np.asarray(m.objectives) <= point) and np.any(np.asarray(m.objectives) < point)
                        for m in population if m.ok)
        return Decision(not dominated, estimate, spread)


def proposal_to_json(candidate: Candidate, submitted_at: str) -> dict[str, Any]:
    """What a promoted rung stores of its proposal, so ``--resume`` can continue it."""
    return {"architecture": candidate.architecture.to_dict(), "sparsity": candidate.sparsity,
            "parent_id": candidate.parent_id, "predicted_error": candidate.predicted_error,
            "predicted_error_std": candidate.predicted_error_std,
            "proxies": None if candidate.proxies is None else dict(candidate.proxies), "submitted_at": submitted_at}


def proposal_from_json(values: Mapping[str, Any], accounting: str) -> tuple[Candidate, str]:
    """The proposal and submission time stored by :func:`proposal_to_json` (resources recomputed)."""
    architecture = parse_architecture(values["architecture"])
    resources = compute_resources(pruned_shape(architecture, values["sparsity"]), accounting)
    candidate = Candidate(architecture, values["sparsity"], resources, parent_id=values["parent_id"],
                          predicted_error=values["predicted_error"], predicted_error_std=values["predicted_error_std"],
                          proxies=values["proxies"])
    return candidate, str(values["submitted_at"])
