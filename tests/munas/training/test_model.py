"""The torch network is exactly the operator graph: shapes and parameter counts, op by op."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from munas.resources.graph import build_graph
from munas.space.architecture import parse_architecture
from munas.space.sampling import random_architecture
from munas.training.model import ConvUnit, DenseUnit, build_network

from ..documents import layer

INPUT_SHAPES = [((8, 8, 1), 10), ((28, 28, 1), 10), ((32, 32, 3), 2), ((48, 48, 3), 62), ((98, 40, 1), 12)]


def _check_against_graph(architecture) -> None:
    graph = build_graph(architecture, "tflm")
    network = build_network(architecture, dropout=0.15).eval()
    outputs: dict[int, torch.Size] = {}
    for index, unit in enumerate(network.units):
        unit.register_forward_hook(lambda m, i, o, index=index: outputs.__setitem__(index, o.shape))
    h, w, c = architecture.input_shape
    with torch.no_grad():
        logits = network(torch.rand(2, c, h, w))
    assert logits.shape == (2, architecture.output_units)
    for index, (op, unit) in enumerate(zip(graph.ops, network.units)):
        shape = graph.shapes[op.output]
        expected = (2, shape[2], shape[0], shape[1]) if len(shape) == 3 else (2, shape[0])
        assert tuple(outputs[index]) == expected, (op.name, op.source)
        if isinstance(unit, (ConvUnit, DenseUnit)):
            layer = unit.conv if isinstance(unit, ConvUnit) else unit.linear
            assert layer.weight.numel() == op.weights, op.name
            assert layer.bias.numel() == op.biases, op.name
            bn = unit.bn if isinstance(unit, ConvUnit) else None
            assert (bn is not None) == op.has_bn
            if bn is not None:  # BatchNorm's affine pair is counted apart from the graph's op
                assert sum(p.numel() for p in bn.parameters()) == 2 * op.out_channels
        else:
            assert not list(unit.parameters()), op.name
    non_bn = sum(p.numel() for n, p in network.named_parameters() if ".bn." not in n)
    assert non_bn == graph.parameters


@pytest.mark.parametrize("input_shape, num_classes", INPUT_SHAPES)
def test_random_architectures_match_graph(input_shape, num_classes):
    rng = np.random.default_rng(sum(input_shape) + num_classes)
    for _ in range(50):  # 250 architectures over five input shapes
        _check_against_graph(random_architecture(input_shape, num_classes, rng))


_layer = functools.partial(layer, filters=4, has_bn=False)


def test_hand_built_edge_cases_match_graph():
    """Odd sizes (floor pooling), branch tie-ups with zero padding, DW branch end, 1x1 maps."""
    blocks = [
        {"is_branch": False, "layers": [_layer("Conv2D", filters=6, has_bn=True)]},
        {"is_branch": False, "layers": [_layer("Conv2D", **{"2x_stride": True}, has_prepool=True)]},
        {"is_branch": True, "layers": [_layer("DWConv2D", ker_size=5)]},
        {"is_branch": True, "layers": [_layer("1x1Conv2D", filters=9), _layer("Conv2D", ker_size=7)]},
        {"is_branch": False, "layers": [_layer("Conv2D", ker_size=7, has_prepool=True), _layer("DWConv2D")]},
    ]
    for shape in [(11, 13, 2), (5, 5, 1), (1, 1, 3)]:
        doc = {"input_shape": list(shape), "num_classes": 3,
               "architecture": {"conv_blocks": blocks, "pooling": {"type": "max", "pool_size": 6},
                                "dense_blocks": [{"units": 12}, {"units": 10}]}}
        _check_against_graph(parse_architecture(doc))


def test_flatten_is_nhwc_order():
    """Dense input feature (h*W + w)*C + c reads channel c at row h, column w."""
    doc = {"input_shape": [3, 4, 1], "num_classes": 3,
           "architecture": {"conv_blocks": [{"is_branch": False, "layers": [
               _layer("1x1Conv2D", filters=2, has_relu=False)]}], "dense_blocks": [{"units": 5}]}}
    network = build_network(parse_architecture(doc)).eval()
    conv, dense = network.units[0].conv, network.units[1].linear
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([1.0, -2.0]).reshape(2, 1, 1, 1))
        conv.bias.zero_()
        dense.weight.zero_()
        dense.bias.zero_()
        dense.weight[0, (1 * 4 + 2) * 2 + 1] = 1.0  # h=1, w=2, c=1
        x = torch.zeros(1, 1, 3, 4)
        x[0, 0, 1, 2] = 3.0
        hidden = torch.relu(dense(torch.nn.functional.relu(conv(x)).permute(0, 2, 3, 1).flatten(1)))
        assert hidden[0, 0] == 0.0  # relu(-6)
        x[0, 0, 1, 2] = -3.0
        assert network.units[1](network.units[0](x))[0, 0] == pytest.approx(6.0)


def test_conv_bias_before_batchnorm_gets_no_gradient():
    """BatchNorm cancels the bias, so its exact gradient is 0; under bf16 it was amplified rounding
    noise that SGD integrated until a pruned training diverged (munas/training/model.py)."""
    doc = {"input_shape": [8, 8, 1], "num_classes": 3, "architecture": {"conv_blocks": [{"is_branch": False, "layers": [
        layer("Conv2D", filters=4), layer("Conv2D", filters=4, has_bn=False)]}], "dense_blocks": [{"units": 6}]}}
    network = build_network(parse_architecture(doc)).train()
    network(torch.rand(5, 1, 8, 8)).sum().backward()
    with_bn, without_bn = network.units[0].conv, network.units[1].conv
    assert with_bn.bias.grad is None and with_bn.weight.grad.abs().sum() > 0
    assert without_bn.bias.grad.abs().sum() > 0
