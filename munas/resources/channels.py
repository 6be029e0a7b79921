"""The shape structured pruning leaves: channel groups and how many of their channels survive.

Pruning removes channels, and which channels must go together is a fact about the operator
graph, not about trained weights; so is how many survive a target sparsity. Both live here,
free of torch, so the search can compute a child's pruned resources before anything is
trained (:func:`pruned_shape`); :mod:`munas.training.pruning` adds the torch side (saliency,
masks, physical removal).

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

**How many survive.** Every pruned group removes the same fraction ``round(s * n)`` of its
channels (the reference's one global threshold lets whole layers vanish, §8.12), so the count
depends on the sparsity alone; training decides only *which* channels survive.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from munas.resources.accounting import TRAINED
from munas.resources.graph import OperatorGraph, build_graph
from munas.space.architecture import Architecture, DenseBlock


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


def surviving_channels(plan: ChannelPlan, sparsity: float) -> dict[int, int]:
    """Group index -> how many channels survive ``sparsity`` (prunable groups only; at least one).

    The count depends on the sparsity alone; training decides only *which* channels survive.
    """
    return {index: group.channels - min(group.channels - 1, round(float(sparsity) * group.channels))
            for index, group in enumerate(plan.groups) if group.prunable}


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


def pruned_shape(architecture: Architecture, sparsity: float | None) -> Architecture:
    """The document that training ``architecture`` at ``sparsity`` ends with, known before training.

    Every pruned group keeps a count fixed by the sparsity (:func:`surviving_channels`), so the
    pruned network's shape, and with it its exact PMU, size and MACs, is known in advance; a
    screener can judge a child by the resources it will really have.
    """
    if not sparsity:
        return architecture
    graph = build_graph(architecture, TRAINED)
    plan = channel_groups(graph)
    return pruned_architecture(architecture, plan, graph, surviving_channels(plan, sparsity))
