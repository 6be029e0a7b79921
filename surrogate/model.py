"""The GNN that predicts a candidate's validation error from its graph encoding.

Architecture (one ensemble member):

.. math::

    h^{(0)}_v = W_0 \\hat x_v, \\qquad
    h^{(l+1)}_v = h^{(l)}_v + \\mathrm{GINE}^{(l)}(h^{(l)}, e)_v, \\qquad
    \\hat y = \\mathrm{MLP}\\big([\\mathrm{mean}_v h^{(L)}_v \\,\\|\\, \\max_v h^{(L)}_v \\,\\|\\, \\hat g]\\big)

where :math:`\\hat x_v` and :math:`\\hat g` are the node and graph features standardised by
statistics of the training set (:class:`FeatureScaler`, stored as buffers so that a saved
model carries them). GINE convolutions (Hu et al., 2020) use the edge direction feature, so
a node distinguishes what it reads from what reads it. Residual connections keep deep
stacks from over-smoothing the short chains that CNN graphs are. The output is the
standardised validation error; :class:`surrogate.ensemble.SurrogateEnsemble` maps it back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.nn import GINEConv, global_max_pool, global_mean_pool

from munas.surrogate.encoding import EDGE_FEATURES, GRAPH_FEATURES, NODE_FEATURES


@dataclass(frozen=True)
class ModelConfig:
    """Shape of one member; stored in a saved model's header so it can be rebuilt."""

    hidden: int = 64
    layers: int = 3
    dropout: float = 0.1

    def as_dict(self) -> dict:
        return asdict(self)


class FeatureScaler(nn.Module):
    """Standardises features with a mean and standard deviation fitted on training data.

    Constant features (standard deviation 0, e.g. no op has BatchNorm in the first
    candidates) are only centred, so a later candidate that has the feature gets a finite
    value rather than a division by zero.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, size: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(size))
        self.register_buffer("std", torch.ones(size))

    def fit(self, values: torch.Tensor) -> None:
        self.mean.copy_(values.mean(dim=0))
        std = values.std(dim=0, unbiased=False) if len(values) > 1 else torch.ones_like(self.std)
        self.std.copy_(torch.where(std > 1e-6, std, torch.ones_like(std)))

    def forward(self, values: torch.Tensor) -> torch.Tensor:
        return (values - self.mean) / self.std


class SurrogateGNN(nn.Module):
    """Message passing over the operator graph, mean+max pooling, MLP head with graph features."""

    def __init__(self, config: ModelConfig = ModelConfig()):
        super().__init__()
        self.config = config
        h = config.hidden
        self.node_scaler = FeatureScaler(len(NODE_FEATURES))
        self.graph_scaler = FeatureScaler(len(GRAPH_FEATURES))
        self.embed = nn.Linear(len(NODE_FEATURES), h)
        self.convs = nn.ModuleList(
            GINEConv(nn.Sequential(nn.Linear(h, h), nn.ReLU(), nn.Linear(h, h)), train_eps=True,
                     edge_dim=len(EDGE_FEATURES))
            for _ in range(config.layers)
        )
        self.norms = nn.ModuleList(nn.LayerNorm(h) for _ in range(config.layers))
        self.head = nn.Sequential(
            nn.Linear(2 * h + len(GRAPH_FEATURES), h),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(h, h),
            nn.ReLU(),
            nn.Linear(h, 1),
        )

    def fit_scalers(self, batch: Batch) -> None:
        """Fit the feature standardisation on the training set (all its nodes and graphs)."""
        self.node_scaler.fit(batch.x)
        self.graph_scaler.fit(batch.graph_attr)

    def forward(self, batch: Batch) -> torch.Tensor:
        """Standardised predicted error, one value per graph of ``batch`` (shape [num_graphs])."""
        h = self.embed(self.node_scaler(batch.x))
        for conv, norm in zip(self.convs, self.norms):
            h = h + torch.relu(norm(conv(h, batch.edge_index, batch.edge_attr)))
        pooled = torch.cat(
            [global_mean_pool(h, batch.batch, batch.num_graphs), global_max_pool(h, batch.batch, batch.num_graphs),
             self.graph_scaler(batch.graph_attr)],
            dim=1,
        )
        return self.head(pooled).squeeze(-1)
