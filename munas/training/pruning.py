"""Structured pruning, the torch side: Dynamic Pruning with Feedback over channel groups (spec §5, with fixes).

Which channels are pruned together, which groups are exempt and how many channels survive a
sparsity are arithmetic on the operator graph (:mod:`munas.resources.channels`); this module
picks *which* channels survive, masks them during training and removes them afterwards.

**Saliency and masks.** The saliency of a channel is the L2 norm of all kernel entries of all
producers that write it (for a group: the combined norm). The reference uses one global,
unnormalised threshold; layers then compete by fan-in and whole layers can vanish (§8.12).
Here every group loses its lowest-saliency channels, as many as
:func:`~munas.resources.channels.surviving_channels` leaves out, so a target sparsity ``s``
removes about ``s`` of each pruned layer.

**Exactness.** Masks act on op outputs (after BN and ReLU), so a removed channel is exactly
zero; :func:`prune_network` then deletes it physically and the smaller network computes the
same function (the test compares outputs).
"""

from __future__ import annotations

from typing import cast

import torch

from munas.resources.channels import ChannelGroup, ChannelPlan, pruned_architecture, surviving_channels
from munas.space.architecture import Architecture
from munas.training.model import ConvUnit, DenseUnit, GraphNetwork, build_network


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
    total: torch.Tensor | None = None
    for name in group.producers:
        unit = units[name]
        layer = unit.conv if isinstance(unit, ConvUnit) else cast(DenseUnit, unit).linear
        squares = layer.weight.detach().float().pow(2).flatten(1).sum(1)
        total = squares if total is None else total + squares
    assert total is not None, "a pruned group has producers"
    return total.sqrt()


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
                # the same graph, so the same unit; every conv has a bias
                assert isinstance(new, ConvUnit) and old.conv.bias is not None and new.conv.bias is not None
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
                assert isinstance(new, DenseUnit)
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
