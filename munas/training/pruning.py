"""Structured pruning: Dynamic Pruning with Feedback over channel groups (spec §5, with fixes).

**Channel groups.** Channels that share indices must be removed together: the operands of an
Add (trunk output, branch outputs, a branch's extra 1x1 "match" conv) are summed channel by
channel, and a depthwise conv, pool or pad keeps its input's channels. A union-find over
tensors gives the groups; each group's channels are produced by one or more Conv2D / Dense
ops (the *producers*, whose kernels give the saliency) and carried through depthwise convs
(the *followers*, whose outputs are masked too because their bias would otherwise revive a
removed channel).

**Which groups are pruned.** Not the network input's group, nor any group whose producer
reads the input (possibly through pools or depthwise convs: the first-layer exclusion of the
reference, robust to a pre-pool, §8.11), nor the logits. Every pruned group keeps at least
one channel.

**Saliency and masks.** The saliency of a channel is the L2 norm of all kernel entries of all
producers that write it (for a group: the combined norm). The reference uses one global,
unnormalised threshold; layers then compete by fan-in and whole layers can vanish (§8.12).
Here every group removes the same fraction ``round(s * n)`` of its lowest-saliency channels,
so a target sparsity ``s`` removes about ``s`` of each pruned layer.

**Exactness.** Masks act on op outputs (after BN and ReLU), so a removed channel is exactly
zero; :func:`prune_network` then deletes it physically and the smaller network computes the
same function (the test compares outputs).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import torch

from munas.resources.graph import OperatorGraph, build_graph
from munas.space.architecture import Architecture, DenseBlock
from munas.training.model import ConvUnit, DenseUnit, GraphNetwork, build_network


@dataclass
class ChannelGroup:
    channels: int
    producers: list[str]
    """Conv2D / Dense ops writing these channels (their kernels define the saliency)."""
    followers: list[str]
    """Depthwise convs that carry these channels (masked along with the producers)."""
    prunable: bool


@dataclass
class ChannelPlan:
    groups: list[ChannelGroup]
    tensor_group: dict[int, int]
    """Activation tensor -> index of its channel group."""

    @property
    def prunable_channels(self) -> int:
        return sum(g.channels for g in self.groups if g.prunable)


class _UnionFind:
    def __init__(self) -> None:
        self.parent: list[int] = []

    def new(self) -> int:
        self.parent.append(len(self.parent))
        return len(self.parent) - 1

    def find(self, a: int) -> int:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a: int, b: int) -> int:
        ra, rb = self.find(a), self.find(b)
        self.parent[rb] = ra
        return ra


def channel_groups(graph: OperatorGraph) -> ChannelPlan:
    """Group the channels of ``graph`` that must be pruned together (see module docstring)."""
    sets = _UnionFind()
    space = {graph.input: sets.new()}
    input_space = space[graph.input]
    producers: dict[int, list[str]] = {}
    followers: dict[int, list[str]] = {}
    excluded: set[int] = {input_space}
    for op in graph.ops:
        source = sets.find(space[op.inputs[0]])
        if op.kind in ("Conv2D", "Dense"):
            out = sets.new()
            producers[out] = [op.name]
            if op.kind == "Conv2D" and source == sets.find(input_space):
                excluded.add(out)
            if op.output == graph.output:
                excluded.add(out)
        elif op.kind == "Add":
            out = source
            for tensor in op.inputs[1:]:
                out = sets.union(out, space[tensor])
        else:  # DWConv2D, Pool, Pad keep their input's channels
            out = source
            if op.kind == "DWConv2D":
                followers.setdefault(out, []).append(op.name)
        space[op.output] = out

    roots: dict[int, int] = {}
    groups: list[ChannelGroup] = []
    tensor_group: dict[int, int] = {}
    for tensor, s in space.items():
        root = sets.find(s)
        if root not in roots:
            roots[root] = len(groups)
            groups.append(ChannelGroup(graph.shapes[tensor][-1], [], [], True))
        tensor_group[tensor] = roots[root]
    for s, names in producers.items():
        groups[roots[sets.find(s)]].producers.extend(names)
    for s, names in followers.items():
        groups[roots[sets.find(s)]].followers.extend(names)
    for s in excluded:
        groups[roots[sets.find(s)]].prunable = False
    for group in groups:
        if group.channels < 2 or not group.producers:
            group.prunable = False
    return ChannelPlan(groups, tensor_group)


def ramp_sparsity(target: float, epoch: int, start_epoch: int, finish_epoch: int) -> float:
    """DPF's cubic ramp (spec §5.3) for 0-based ``epoch`` and 1-based start/finish epochs:
    0 at epoch ``start-1``, ``target`` from epoch ``finish-1`` on; ``start == finish`` jumps."""
    t0, tn = start_epoch - 1, finish_epoch - 1
    if epoch < t0:
        return 0.0
    if epoch >= tn:
        return target
    return target * (1 - (1 - (epoch - t0) / (tn - t0)) ** 3)


def channel_saliency(network: GraphNetwork, group: ChannelGroup) -> torch.Tensor:
    """Combined L2 norm of every producer's kernel slice per output channel of ``group``."""
    units = network.masked_units()
    total = None
    for name in group.producers:
        unit = units[name]
        weight = unit.conv.weight if isinstance(unit, ConvUnit) else unit.linear.weight
        squares = weight.detach().float().pow(2).flatten(1).sum(1)
        total = squares if total is None else total + squares
    return total.sqrt()


def surviving_channels(plan: ChannelPlan, sparsity: float) -> dict[int, int]:
    """Group index -> how many channels survive ``sparsity`` (prunable groups only; at least one).

    The count depends on the sparsity alone; training decides only *which* channels survive.
    """
    return {index: group.channels - min(group.channels - 1, int(round(sparsity * group.channels)))
            for index, group in enumerate(plan.groups) if group.prunable}


def pruned_shape(architecture: Architecture, sparsity: float | None) -> Architecture:
    """The document that training ``architecture`` at ``sparsity`` ends with, known before training.

    Every pruned group keeps a count fixed by the sparsity (:func:`surviving_channels`), so the
    pruned network's shape, and with it its exact PMU, size and MACs, is known in advance; a
    screener can judge a child by the resources it will really have.
    """
    if not sparsity:
        return architecture
    graph = build_graph(architecture, "tflm")
    plan = channel_groups(graph)
    return pruned_architecture(architecture, plan, graph, surviving_channels(plan, sparsity))


def keep_indices(network: GraphNetwork, plan: ChannelPlan, sparsity: float) -> dict[int, torch.Tensor]:
    """Group index -> sorted indices of the channels that survive at ``sparsity`` (prunable groups only)."""
    keep = {}
    for index, count in surviving_channels(plan, sparsity).items():
        saliency = channel_saliency(network, plan.groups[index])
        order = torch.argsort(saliency, descending=True, stable=True)
        keep[index] = order[:count].sort().values
    return keep


def masks_from_keep(network: GraphNetwork, plan: ChannelPlan, keep: dict[int, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Op name -> 0/1 output mask for every producer and follower of a pruned group."""
    masks = {}
    device = next(network.parameters()).device
    for index, indices in keep.items():
        group = plan.groups[index]
        mask = torch.zeros(group.channels, device=device)
        mask[indices.to(device)] = 1.0
        for name in group.producers + group.followers:
            masks[name] = mask
    return masks


def update_masks(network: GraphNetwork, plan: ChannelPlan, sparsity: float) -> dict[int, torch.Tensor]:
    """Recompute the masks from the current (dense) weights and install them; returns the keep sets."""
    keep = keep_indices(network, plan, sparsity)
    network.set_masks(masks_from_keep(network, plan, keep))
    return keep


_LAYER_SOURCE = re.compile(r"conv_blocks\[(\d+)\]\.layers\[(\d+)\]$")
_DENSE_SOURCE = re.compile(r"dense_blocks\[(\d+)\]$")


def pruned_architecture(architecture: Architecture, plan: ChannelPlan, graph: OperatorGraph,
                        counts: dict[int, int]) -> Architecture:
    """The document with the layers producing each group in ``counts`` cut to that many channels."""
    blocks = [list(block.layers) for block in architecture.conv_blocks]
    dense = list(architecture.dense_blocks)
    for op in graph.ops:
        group = plan.tensor_group[op.output]
        if group not in counts or op.kind not in ("Conv2D", "Dense"):
            continue
        count = counts[group]
        if (match := _LAYER_SOURCE.match(op.source)) is not None:
            b, i = int(match[1]), int(match[2])
            blocks[b][i] = dataclasses.replace(blocks[b][i], filters=count)
        elif (match := _DENSE_SOURCE.match(op.source)) is not None:
            d = int(match[1])
            dense[d] = DenseBlock(units=count, activation=dense[d].activation)
    conv_blocks = tuple(dataclasses.replace(block, layers=tuple(layers))
                        for block, layers in zip(architecture.conv_blocks, blocks))
    return dataclasses.replace(architecture, conv_blocks=conv_blocks, dense_blocks=tuple(dense))


def prune_network(architecture: Architecture, network: GraphNetwork, plan: ChannelPlan,
                  keep: dict[int, torch.Tensor], dropout: float = 0.0) -> tuple[Architecture, GraphNetwork]:
    """Physically remove the channels not in ``keep``: the pruned document and its network,
    holding the surviving weights (computes what the masked ``network`` computes)."""
    graph = network.graph
    smaller = pruned_architecture(architecture, plan, graph, {g: len(k) for g, k in keep.items()})
    pruned = build_network(smaller, dropout)
    device = next(network.parameters()).device
    pruned.to(device)
    keep = {g: k.to(device) for g, k in keep.items()}

    def channels(tensor: int) -> torch.Tensor | None:
        return keep.get(plan.tensor_group[tensor])

    with torch.no_grad():
        for op, old, new in zip(graph.ops, network.units, pruned.units):
            out_idx, in_idx = channels(op.output), channels(op.inputs[0])
            if isinstance(old, ConvUnit):
                weight, bias = old.conv.weight, old.conv.bias
                if out_idx is not None:
                    weight, bias = weight[out_idx], bias[out_idx]
                if in_idx is not None and op.kind == "Conv2D":
                    weight = weight[:, in_idx]
                new.conv.weight.copy_(weight)
                new.conv.bias.copy_(bias)
                if old.bn is not None:
                    for name, value in old.bn.state_dict().items():
                        take = value if out_idx is None or value.dim() == 0 else value[out_idx]
                        getattr(new.bn, name).copy_(take)
            elif isinstance(old, DenseUnit):
                weight, bias = old.linear.weight, old.linear.bias
                if out_idx is not None:
                    weight, bias = weight[out_idx], bias[out_idx]
                if in_idx is not None:
                    shape = graph.shapes[op.inputs[0]]
                    if len(shape) == 3:  # NHWC flatten: feature (h*W + w)*C + c
                        positions = torch.arange(shape[0] * shape[1], device=device)[:, None] * shape[2]
                        in_idx = (positions + in_idx[None, :]).flatten()
                    weight = weight[:, in_idx]
                new.linear.weight.copy_(weight)
                new.linear.bias.copy_(bias)
    return smaller, pruned
