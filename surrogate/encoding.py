"""Graph encoding of a candidate (architecture + pruning sparsity) for the GNN surrogate.

The encoding reads the same operator graph that the resource models and the trained network
are built from (:func:`munas.resources.build_graph` under :data:`~munas.resources.TRAINED`),
so the surrogate sees exactly the network that is trained: one node per operator, one edge per
tensor that flows from the op producing it to an op reading it.

Every count (channels, spatial size, MACs, parameters, bytes) spans orders of magnitude, so
it enters as ``log1p``: a 3x3 conv with 8 or 16 filters differs by a constant, not by a
factor, which is what a network with bounded weights can use. Features are not standardised
here; the model standardises them with statistics of its training set
(:class:`surrogate.model.FeatureScaler`).

Graph-level features carry what the search knows exactly before training: the pruning
sparsity target and the unpruned network's peak memory, model size and MACs.
"""

from __future__ import annotations

import math

import torch
from torch_geometric.data import Data

from munas.resources import TRAINED, Resources, build_graph, compute_resources
from munas.resources.graph import Op, OperatorGraph
from munas.space.architecture import Architecture

OP_KINDS: tuple[str, ...] = ("Conv2D", "PointwiseConv2D", "DWConv2D", "MaxPool", "AvgPool", "Pad", "Add", "Dense")
"""Node types. A 1x1 ``Conv2D`` and the two pooling types get their own type: they play
different roles in the network (channel mixing, downsampling by max or by mean)."""

NODE_FEATURES: tuple[str, ...] = (
    *(f"is_{kind}" for kind in OP_KINDS),
    "kernel",
    "stride",
    "log_in_channels",
    "log_out_channels",
    "log_in_spatial",
    "log_out_spatial",
    "has_bn",
    "has_relu",
    "log_macs",
    "log_parameters",
    "log_output_bytes",
    "reads_network_input",
    "relative_depth",
)

GRAPH_FEATURES: tuple[str, ...] = (
    "sparsity",
    "log_pmu",
    "log_model_size",
    "log_macs",
    "log_sparse_model_size",
    "log_parameters",
    "num_ops",
)

EDGE_FEATURES: tuple[str, ...] = ("forward", "backward")
"""Each dataflow edge is stored in both directions so that messages reach a node from its
producers and from its consumers; the edge feature says which direction a copy goes."""


def _op_type(op: Op) -> str:
    if op.kind == "Conv2D" and op.kernel == (1, 1):
        return "PointwiseConv2D"
    if op.kind == "Pool":
        return "MaxPool" if op.pool_type == "max" else "AvgPool"
    return op.kind


def _spatial(shape: tuple[int, ...]) -> int:
    """Spatial positions of a tensor: h*w for a feature map, 1 for a dense vector."""
    return shape[0] * shape[1] if len(shape) == 3 else 1


def _node_features(graph: OperatorGraph, index: int, op: Op) -> list[float]:
    one_hot = [1.0 if _op_type(op) == kind else 0.0 for kind in OP_KINDS]
    in_shape = graph.shapes[op.inputs[0]]
    out_shape = graph.shapes[op.output]
    depth = index / max(len(graph.ops) - 1, 1)
    return one_hot + [
        float(max(op.kernel)),
        float(max(op.stride)),
        math.log1p(op.in_channels),
        math.log1p(op.out_channels),
        math.log1p(_spatial(in_shape)),
        math.log1p(_spatial(out_shape)),
        float(op.has_bn),
        float(op.has_relu),
        math.log1p(op.macs),
        math.log1p(op.weights + op.biases),
        math.log1p(graph.tensor_bytes(op.output)),
        float(graph.input in op.inputs),
        depth,
    ]


def encode(architecture: Architecture, sparsity: float | None = None, resources: Resources | None = None) -> Data:
    """Encode one candidate as a torch-geometric :class:`~torch_geometric.data.Data`.

    Args:
        architecture: the (unpruned) candidate, as the search proposes it.
        sparsity: its pruning target in [0, 1); ``None`` (no pruning) counts as 0.
        resources: its exact unpruned resources if the caller has them already. They are
            used only if their accounting is :data:`~munas.resources.TRAINED` (a search may use
            another profile); otherwise the trained profile's are computed, so the features
            never mix profiles.

    Returns:
        ``Data`` with ``x`` [num_ops, len(NODE_FEATURES)], ``edge_index`` [2, 2*num_dataflow_edges],
        ``edge_attr`` [2*num_dataflow_edges, 2] and ``graph_attr`` [1, len(GRAPH_FEATURES)].
    """
    graph = build_graph(architecture, TRAINED)
    if resources is None or resources.accounting != TRAINED.name:
        resources = compute_resources(architecture, TRAINED)
    s = float(sparsity or 0.0)
    x = torch.tensor([_node_features(graph, i, op) for i, op in enumerate(graph.ops)], dtype=torch.float32)

    producer = graph.producer()
    sources, targets = [], []
    for consumer, op in enumerate(graph.ops):
        for tensor in op.inputs:
            if tensor in producer:
                sources.append(producer[tensor])
                targets.append(consumer)
    count = len(sources)
    edge_index = torch.tensor([sources + targets, targets + sources], dtype=torch.long).reshape(2, 2 * count)
    edge_attr = torch.tensor([[1.0, 0.0]] * count + [[0.0, 1.0]] * count, dtype=torch.float32).reshape(2 * count, 2)

    graph_attr = torch.tensor(
        [[
            s,
            math.log1p(resources.pmu),
            math.log1p(resources.model_size),
            math.log1p(resources.macs),
            math.log1p(resources.model_size * (1.0 - s)),
            math.log1p(graph.parameters),
            math.log1p(len(graph.ops)),
        ]],
        dtype=torch.float32,
    )
    return Data(x=x, edge_index=edge_index, edge_attr=edge_attr, graph_attr=graph_attr, num_nodes=len(graph.ops))
