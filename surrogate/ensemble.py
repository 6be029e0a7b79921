"""An ensemble of GNN members: the mean is the prediction, the spread is its uncertainty.

Members differ by initialisation, by the part of the data held out for their early stopping
and by the order of their batches (:mod:`surrogate.training`), so where the data say little
about a candidate they disagree, and the standard deviation across members says how much.
Screening uses it to be optimistic about candidates the surrogate knows little about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch_geometric.data import Batch, Data

from surrogate.model import ModelConfig, SurrogateGNN
from surrogate.threads import single_threaded


@dataclass
class Prediction:
    """Predicted validation error per candidate: ensemble mean and standard deviation."""

    mean: np.ndarray
    std: np.ndarray


class SurrogateEnsemble:
    """A few :class:`SurrogateGNN` members sharing one target standardisation."""

    def __init__(self, members: Sequence[SurrogateGNN], target_mean: float, target_std: float):
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = list(members)
        self.target_mean = float(target_mean)
        self.target_std = float(target_std)

    @classmethod
    def untrained(cls, size: int, config: ModelConfig = ModelConfig(), seed: int = 0) -> "SurrogateEnsemble":
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
            stacked = torch.stack(outputs).double() * self.target_std + self.target_mean
        mean = stacked.mean(dim=0).numpy()
        std = stacked.std(dim=0, unbiased=False).numpy() if len(self.members) > 1 else np.zeros_like(mean)
        return Prediction(mean=mean, std=std)

    def predict(self, graphs: Sequence[Data]) -> Prediction:
        """Predict a list of encoded candidates, collated into one batch."""
        return self.predict_batch(Batch.from_data_list(list(graphs)))
