r"""An ensemble of GNN members: the mean is the prediction, the spread is its uncertainty.

Members differ by initialisation, by the part of the data held out for their early stopping
and by the order of their batches (:mod:`surrogate.training`), so where the data say little
about a candidate they disagree, and the standard deviation across members says how much.
Screening uses it to be optimistic about candidates the surrogate knows little about.

Members predict the standardised *log* error :math:`t = \log(e + 0.01)`. Validation errors
are skewed: most candidates of a search sit close to the best error and a few fail near
chance level. In log space a difference between two good candidates (0.14 vs 0.16) weighs
about as much as one between bad ones, which is what choosing among children needs
(measured on Fashion-MNIST logs, 100 training candidates: held-out Kendall τ 0.62 with raw
errors, 0.66 with log errors). Mean and spread are reported in error units.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch_geometric.data import Batch, Data

from munas.search.predictors import Prediction
from munas.surrogate.model import ModelConfig, SurrogateGNN
from munas.surrogate.threads import single_threaded

LOG_OFFSET = 0.01
TARGET = "log(error + 0.01)"
"""What the members regress (before standardisation); saved files say it, and must match."""


def error_to_target(error: np.ndarray | torch.Tensor | float):
    return np.log(np.asarray(error, dtype=np.float64) + LOG_OFFSET)


def target_to_error(target: torch.Tensor) -> torch.Tensor:
    return torch.exp(target) - LOG_OFFSET


class SurrogateEnsemble:
    """A few :class:`SurrogateGNN` members sharing one target standardisation.

    ``target_mean`` and ``target_std`` standardise the log error (:data:`TARGET`).
    """

    def __init__(self, members: Sequence[SurrogateGNN], target_mean: float, target_std: float):
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = list(members)
        self.target_mean = float(target_mean)
        self.target_std = float(target_std)

    @classmethod
    def untrained(cls, size: int, config: ModelConfig = ModelConfig(), seed: int = 0) -> SurrogateEnsemble:
        """Freshly initialised members (reproducible from ``seed``), identity target scaling."""
        members = []
        for m in range(size):
            torch.manual_seed(seed * 1000 + m)
            members.append(SurrogateGNN(config))
        return cls(members, 0.0, 1.0)

    @property
    def config(self) -> ModelConfig:
        return self.members[0].config

    def predict_batch(self, batch: Batch) -> Prediction:
        """Predict every graph of an already collated batch (one forward pass per member)."""
        with torch.inference_mode(), single_threaded():
            outputs = []
            for member in self.members:
                member.eval()
                outputs.append(member(batch))
            stacked = target_to_error(torch.stack(outputs).double() * self.target_std + self.target_mean)
        mean = stacked.mean(dim=0).numpy()
        std = stacked.std(dim=0, unbiased=False).numpy() if len(self.members) > 1 else np.zeros_like(mean)
        return Prediction(mean=mean, std=std)

    def predict(self, graphs: Sequence[Data]) -> Prediction:
        """Predict a list of encoded candidates, collated into one batch."""
        return self.predict_batch(Batch.from_data_list(list(graphs)))
