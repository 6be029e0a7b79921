"""int8 post-training quantisation, simulated in float ("fake quantisation").

What the device runs is not the float network: TFLite Micro folds BatchNorm into the conv,
stores weights as int8 and every activation tensor as int8. This module applies the same
rounding to a copy of the trained network so users see the accuracy the device will score:

* BatchNorm folded into the preceding conv (inference statistics);
* weights: per-output-channel symmetric int8, scale ``max|w| / 127``;
* biases: int32 on the grid ``input_scale * weight_scale`` (TFLite's bias scale);
* activations: per-tensor asymmetric int8 (zero point, range widened to include 0), ranges
  calibrated as min/max over a few validation batches; the network input and every op's
  output (after its fused ReLU) is rounded to its grid, Adds and pools included.

Not modelled: the fixed-point requantisation multipliers of integer kernels (their rounding
error is below one output step) and saturation inside int32 accumulators (cannot happen at
these sizes).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from munas.training.model import ConvUnit, DenseUnit, GraphNetwork


def _fold_batchnorm(unit: ConvUnit) -> None:
    bn, bias = unit.bn, unit.conv.bias
    if bn is None:
        return
    # model.py builds every conv with a bias and every BatchNorm with running statistics
    assert bias is not None and bn.running_var is not None and bn.running_mean is not None
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    unit.conv.weight.mul_(scale.reshape(-1, 1, 1, 1))
    bias.copy_((bias - bn.running_mean) * scale + bn.bias)
    unit.bn = None


def _weight_scales(weight: torch.Tensor) -> torch.Tensor:
    peak = weight.abs().flatten(1).amax(1)
    return torch.where(peak > 0, peak / 127.0, torch.ones_like(peak))


def _fake_quant(x: torch.Tensor, scale: float, zero_point: int) -> torch.Tensor:
    return (torch.clamp(torch.round(x / scale) + zero_point, -128, 127) - zero_point) * scale


def _activation_grid(low: float, high: float) -> tuple[float, int]:
    """Scale and zero point of an asymmetric int8 tensor covering [low, high] and 0."""
    low, high = min(low, 0.0), max(high, 0.0)
    scale = (high - low) / 255.0 if high > low else 1.0
    zero_point = round(-128 - low / scale)
    return scale, max(-128, min(127, zero_point))


class _Range:
    def __init__(self) -> None:
        self.low, self.high = float("inf"), float("-inf")

    def observe(self, x: torch.Tensor) -> None:
        self.low = min(self.low, float(x.min()))
        self.high = max(self.high, float(x.max()))


@torch.no_grad()
def folded_network(network: GraphNetwork) -> GraphNetwork:
    """A float copy of ``network`` (eval mode, no masks) with every BatchNorm folded into its conv,
    as the device runs it; what the int8 simulation and the TFLite export both start from."""
    model = copy.deepcopy(network).eval()
    model.set_masks({})
    for unit in model.units:
        if isinstance(unit, ConvUnit):
            _fold_batchnorm(unit)
    return model


@torch.no_grad()
def quantize_network(network: GraphNetwork, calibration: list[torch.Tensor]) -> GraphNetwork:
    """An int8-simulating copy of ``network`` (eval mode), calibrated on the given input batches."""
    model = folded_network(network)

    # 1. calibrate activation ranges of the float (folded) network
    ranges: dict[str | int, _Range] = {"input": _Range(), **{index: _Range() for index in range(len(model.units))}}
    hooks = [unit.register_forward_hook(lambda m, i, o, index=index: ranges[index].observe(o))
             for index, unit in enumerate(model.units)]
    for batch in calibration:
        ranges["input"].observe(batch)
        model(batch)
    for hook in hooks:
        hook.remove()
    grids = {key: _activation_grid(r.low, r.high) for key, r in ranges.items()}

    # 2. weights to int8 per channel, biases to the int32 grid of input scale x weight scale
    producer_of_input = {op.output: index for index, op in enumerate(model.graph.ops)}
    for op, module in zip(model.graph.ops, model.units):
        if not isinstance(module, (ConvUnit, DenseUnit)):
            continue
        layer: nn.Conv2d | nn.Linear = module.conv if isinstance(module, ConvUnit) else module.linear
        assert layer.bias is not None  # model.py gives every conv and dense layer a bias
        scales = _weight_scales(layer.weight)
        shape = (-1,) + (1,) * (layer.weight.dim() - 1)
        layer.weight.copy_(torch.clamp(torch.round(layer.weight / scales.reshape(shape)), -127, 127)
                           * scales.reshape(shape))
        source = producer_of_input.get(op.inputs[0], "input")
        bias_scale = grids[source][0] * scales
        layer.bias.copy_(torch.round(layer.bias / bias_scale) * bias_scale)

    # 3. round the input and every op output to its int8 grid from now on
    model.register_forward_pre_hook(lambda m, args: (_fake_quant(args[0], *grids["input"]),))
    for index, module in enumerate(model.units):
        module.register_forward_hook(lambda m, i, o, index=index: _fake_quant(o, *grids[index]))
    return model
