"""Simulated int8: BatchNorm folding is exact, weights and activations sit on int8 grids,
and the int8 accuracy of a trained network stays close to the float accuracy."""

from __future__ import annotations

import copy

import torch

from munas.space.architecture import parse_architecture
from munas.training.model import ConvUnit, DenseUnit, build_network
from munas.training.quantization import _fold_batchnorm, quantize_network

from .conftest import SMALL_DIGITS_CNN


def _trained_network(digits_run):
    architecture, result = digits_run
    network = build_network(architecture)
    network.load_state_dict(result.weights)
    return network.eval()


def test_batchnorm_folding_is_exact(digits_run):
    network = _trained_network(digits_run)
    unit = network.units[0]
    x = torch.rand(5, 1, 8, 8)
    with torch.no_grad():
        expected = unit(x)
        folded = copy.deepcopy(unit)
        _fold_batchnorm(folded)
        assert folded.bn is None
        torch.testing.assert_close(folded(x), expected, rtol=1e-5, atol=1e-5)


def test_weights_are_per_channel_int8_and_activations_take_256_levels(digits, digits_run):
    quantized = quantize_network(_trained_network(digits_run), [digits.x_val[:64]])
    for unit in quantized.units:
        if isinstance(unit, (ConvUnit, DenseUnit)):
            weight = (unit.conv if isinstance(unit, ConvUnit) else unit.linear).weight.detach()
            scale = weight.abs().flatten(1).amax(1) / 127
            levels = weight / scale.reshape((-1,) + (1,) * (weight.dim() - 1))
            torch.testing.assert_close(levels, levels.round(), rtol=0, atol=1e-3)
    outputs = []
    quantized.units[1].register_forward_hook(lambda m, i, o: outputs.append(o))
    with torch.no_grad():
        quantized(digits.x_test)
    assert 16 < outputs[0].unique().numel() <= 256


def test_int8_accuracy_is_close_to_float(digits_run):
    _, result = digits_run
    assert abs(result.int8_test_error - result.test_error) <= 0.02


def test_quantized_copy_leaves_the_float_network_untouched(digits, digits_run):
    network = _trained_network(digits_run)
    before = {k: v.clone() for k, v in network.state_dict().items()}
    quantize_network(network, [digits.x_val[:32]])
    assert all(torch.equal(before[k], v) for k, v in network.state_dict().items())
    assert not network._forward_hooks and all(not u._forward_hooks for u in network.units)


def test_untrained_network_quantizes_without_error():
    network = build_network(parse_architecture(SMALL_DIGITS_CNN)).eval()
    x = torch.rand(16, 1, 8, 8)
    with torch.no_grad():
        assert quantize_network(network, [x])(x).shape == (16, 10)
