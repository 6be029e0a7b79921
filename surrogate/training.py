"""Fitting the surrogate ensemble on evaluated candidates.

Loss per batch, on standardised log errors :math:`\\tilde y = (t - \\mu_t) / \\sigma_t`,
:math:`t = \\log(e + 0.01)` (why log: :mod:`surrogate.ensemble`):

.. math::

    L = \\frac{1}{n}\\sum_i (p_i - \\tilde y_i)^2
        + w \\cdot \\frac{1}{|P|} \\sum_{(i,j) \\in P} \\log\\big(1 + e^{-(p_i - p_j)}\\big),
    \\qquad P = \\{(i, j) : e_i > e_j\\}

The regression term keeps predictions on the scale of errors (so the optimism bonus of
screening, in error units, means something); the pairwise logistic term (RankNet) rewards
getting the *order* right, which is all that choosing one child out of K needs.

Each member holds out a different random part of the data and stops when its loss there
has not improved for ``patience`` epochs, keeping its best weights; with too few samples to
spare a held-out part it trains for a fixed number of epochs. A warm start continues from
the members of a previous ensemble (fewer epochs): during a search the training set only
grows, so the previous weights are a good starting point. Feature and target
standardisation are refitted on every fit, because the new data may extend their range.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch.nn import functional as F
from torch_geometric.data import Batch, Data

from munas.surrogate.ensemble import SurrogateEnsemble, error_to_target
from munas.surrogate.metrics import Scores, score
from munas.surrogate.model import ModelConfig, SurrogateGNN
from munas.surrogate.threads import single_threaded


@dataclass(frozen=True)
class TrainingConfig:
    members: int = 5
    model: ModelConfig = field(default_factory=ModelConfig)
    epochs: int = 300
    """Maximum epochs of a cold start."""
    warm_epochs: int = 100
    """Maximum epochs when continuing from a previous ensemble."""
    patience: int = 40
    lr: float = 3e-3
    weight_decay: float = 1e-4
    ranking_weight: float = 1.0
    holdout_fraction: float = 0.2
    min_holdout: int = 4
    """Fewer than ``2 * min_holdout`` samples: no held-out part, fixed number of epochs."""
    batch_size: int = 128

    def as_dict(self) -> dict:
        return asdict(self)


def pairwise_ranking_loss(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean logistic loss over the pairs whose true errors differ (0 if none do)."""
    worse = target[:, None] > target[None, :]
    if not bool(worse.any()):
        return predicted.sum() * 0.0
    margin = predicted[:, None] - predicted[None, :]
    return F.softplus(-margin[worse]).mean()


def surrogate_loss(predicted: torch.Tensor, target: torch.Tensor, ranking_weight: float) -> torch.Tensor:
    return F.mse_loss(predicted, target) + ranking_weight * pairwise_ranking_loss(predicted, target)


def _collate(graphs: Sequence[Data], indices: np.ndarray) -> Batch:
    return Batch.from_data_list([graphs[i] for i in indices])


def _fit_member(
    member: SurrogateGNN,
    graphs: Sequence[Data],
    targets: torch.Tensor,
    epochs: int,
    config: TrainingConfig,
    rng: np.random.Generator,
) -> None:
    n = len(graphs)
    order = rng.permutation(n)
    holdout_size = round(config.holdout_fraction * n) if n >= 2 * config.min_holdout else 0
    holdout_size = max(holdout_size, config.min_holdout) if holdout_size else 0
    held, train = order[:holdout_size], order[holdout_size:]
    # Batches are collated once: re-collating every epoch would cost more than the training step.
    chunks = [train[i : i + config.batch_size] for i in range(0, len(train), config.batch_size)]
    batches = [(_collate(graphs, chunk), targets[chunk]) for chunk in chunks]
    held_batch = (_collate(graphs, held), targets[held]) if holdout_size else None

    optimiser = torch.optim.AdamW(member.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    best_loss, best_state, stale = float("inf"), None, 0
    for _ in range(epochs):
        member.train()
        for b in rng.permutation(len(batches)):
            batch, y = batches[b]
            optimiser.zero_grad()
            surrogate_loss(member(batch), y, config.ranking_weight).backward()
            optimiser.step()
        if held_batch is None:
            continue
        member.eval()
        with torch.no_grad():
            loss = float(surrogate_loss(member(held_batch[0]), held_batch[1], config.ranking_weight))
        if loss < best_loss - 1e-6:
            best_loss, best_state, stale = loss, copy.deepcopy(member.state_dict()), 0
        else:
            stale += 1
            if stale >= config.patience:
                break
    if best_state is not None:
        member.load_state_dict(best_state)
    member.eval()


def fit_ensemble(
    graphs: Sequence[Data],
    errors: Sequence[float] | np.ndarray,
    config: TrainingConfig,
    rng: np.random.Generator,
    init: SurrogateEnsemble | None = None,
    on_member_done: Callable[[int], None] | None = None,
) -> SurrogateEnsemble:
    """Train an ensemble to predict ``errors`` (validation errors) from encoded ``graphs``.

    Args:
        graphs: encoded candidates (:func:`surrogate.encoding.encode`).
        errors: their true validation errors, same order.
        config: sizes, epochs and loss weights.
        rng: source of every random choice (hold-out splits, batch order, initial weights).
        init: warm start from these members (same member count and model shape).
        on_member_done: called with the member index after each member, for progress display.
    """
    y = np.asarray(errors, dtype=np.float64)
    if len(graphs) != len(y):
        raise ValueError(f"{len(graphs)} graphs but {len(y)} errors")
    if len(y) < 2:
        raise ValueError(f"need at least 2 evaluated candidates to fit a surrogate, got {len(y)}")
    if init is not None and (len(init.members) != config.members or init.config != config.model):
        raise ValueError("warm start needs an ensemble with the same number of members and model shape")
    t = error_to_target(y)
    target_mean = float(t.mean())
    target_std = float(t.std()) if t.std() > 1e-8 else 1.0
    targets = torch.tensor((t - target_mean) / target_std, dtype=torch.float32)
    everything = Batch.from_data_list(list(graphs))

    members = []
    for m in range(config.members):
        torch.manual_seed(int(rng.integers(2**31)))
        member = copy.deepcopy(init.members[m]) if init is not None else SurrogateGNN(config.model)
        member.fit_scalers(everything)
        epochs = config.warm_epochs if init is not None else config.epochs
        with single_threaded():
            _fit_member(member, graphs, targets, epochs, config, rng)
        members.append(member)
        if on_member_done is not None:
            on_member_done(m)
    return SurrogateEnsemble(members, target_mean, target_std)


@dataclass
class CrossValidation:
    """Held-out predictions of a k-fold cross-validation and their scores."""

    scores: Scores
    predicted: np.ndarray
    true: np.ndarray
    folds: int


def cross_validate(
    graphs: Sequence[Data],
    errors: Sequence[float] | np.ndarray,
    folds: int,
    config: TrainingConfig,
    rng: np.random.Generator,
    on_fold_done: Callable[[int], None] | None = None,
) -> CrossValidation:
    """k-fold: every candidate is predicted by an ensemble that never saw it; scores pool all folds."""
    y = np.asarray(errors, dtype=np.float64)
    n = len(y)
    if folds < 2 or folds > n:
        raise ValueError(f"folds must be in 2..{n} (the number of candidates), got {folds}")
    predicted = np.empty(n)
    for k, test in enumerate(np.array_split(rng.permutation(n), folds)):
        train = np.setdiff1d(np.arange(n), test)
        ensemble = fit_ensemble([graphs[i] for i in train], y[train], config, rng)
        predicted[test] = ensemble.predict([graphs[i] for i in test]).mean
        if on_fold_done is not None:
            on_fold_done(k)
    return CrossValidation(scores=score(predicted, y), predicted=predicted, true=y, folds=folds)
