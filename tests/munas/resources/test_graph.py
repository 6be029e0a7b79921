"""Assembly and the per-op formulas: the spec's worked examples, and what `tflm` changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from munas.resources import compute_resources
from munas.resources.graph import build_graph
from munas.space.architecture import Architecture, ConvBlock, ConvLayer, DenseBlock, load_architecture

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def conv(k, f, stride2=False, **flags):
    return ConvLayer(type="Conv2D", ker_size=k, filters=f, stride2=stride2, **flags)


def pointwise(f, **flags):
    return ConvLayer(type="1x1Conv2D", filters=f, **flags)


def depthwise(k, stride2=False, **flags):
    return ConvLayer(type="DWConv2D", ker_size=k, stride2=stride2, **flags)


EXAMPLE_3 = Architecture(
    input_shape=(12, 12, 3), num_classes=2,
    conv_blocks=(ConvBlock((conv(3, 6),)), ConvBlock((conv(3, 8, stride2=True),)),
                 ConvBlock((depthwise(3),), is_branch=True)),
    dense_blocks=(DenseBlock(10),),
)


@pytest.mark.parametrize("architecture, pmu, size, macs", [
    (load_architecture(EXAMPLES / "spec_example1.json"), 720, 498, 16480),
    (load_architecture(EXAMPLES / "spec_example2.json"), 1296, 993, 8284),
    (EXAMPLE_3, 1112, 2025, 31570),
])
def test_munas_profile_reproduces_the_reference_figures(architecture, pmu, size, macs):
    resources = compute_resources(architecture, "munas")
    assert (resources.pmu, resources.model_size, resources.macs) == (pmu, size, macs)


def test_example_1_per_op_table():
    graph = build_graph(load_architecture(EXAMPLES / "spec_example1.json"), "munas")
    rows = [(op.kind, graph.shapes[op.output], op.weights + op.biases, op.macs) for op in graph.ops]
    assert rows == [
        ("Conv2D", (12, 12, 4), 104, 14400),
        ("Pool", (6, 6, 4), 0, 576),
        ("DWConv2D", (4, 4, 4), 40, 576),
        ("Conv2D", (4, 4, 8), 40, 512),
        ("Pool", (1, 1, 8), 0, 128),
        ("Dense", (16,), 144, 128),
        ("Dense", (10,), 170, 160),
    ]


def test_tflm_counts_the_input_and_int32_biases():
    architecture = load_architecture(EXAMPLES / "spec_example1.json")
    munas, tflm = compute_resources(architecture, "munas"), compute_resources(architecture, "tflm")
    assert tflm.pmu == 784 + 576  # the input stays resident while the first conv runs
    biases = 4 + 4 + 8 + 16 + 10
    assert tflm.model_size == munas.model_size + 3 * biases
    assert tflm.macs == munas.macs


def test_pooling_rounds_up_in_munas_and_down_in_tflm():
    """Spec example 2 pools 6x6 by 4: the reference graph says 2x2, the trained network 1x1."""
    architecture = load_architecture(EXAMPLES / "spec_example2.json")
    munas, tflm = build_graph(architecture, "munas"), build_graph(architecture, "tflm")
    pool = lambda g: next(op for op in g.ops if op.name == "pool")  # noqa: E731
    assert munas.shapes[pool(munas).output] == (2, 2, 16)
    assert tflm.shapes[pool(tflm).output] == (1, 1, 16)
    dense = lambda g: next(op for op in g.ops if op.name == "dense0")  # noqa: E731
    assert dense(munas).in_channels == 64 and dense(tflm).in_channels == 16


def test_branch_last_layer_is_forced_to_trunk_channels_without_touching_the_document():
    architecture = load_architecture(EXAMPLES / "spec_example2.json")
    graph = build_graph(architecture, "tflm")
    branch = next(op for op in graph.ops if op.name == "block2/layer0/conv")
    assert branch.out_channels == 16
    assert architecture.conv_blocks[2].layers[0].filters == 5


def test_trailing_depthwise_branch_gets_a_matching_pointwise_conv():
    graph = build_graph(EXAMPLE_3, "munas")
    match = next(op for op in graph.ops if op.name == "block2/match/conv")
    assert (match.in_channels, match.out_channels, match.kernel) == (6, 8, (1, 1))
    assert not match.has_relu and not match.has_bn


def test_tie_up_pools_by_rounded_ratio_and_pads_the_remainder():
    """Tie-up pools each operand by round(h / H) (half to even), then a zero-padded Add.

    A 7x7 branch against a 3x3 trunk: round(7/3) = 2 and floor(7/2) = 3, shapes agree.
    An 8x8 branch against a 3x3 trunk: round(8/3) = 3; munas rounds the pool up (3x3), tflm
    down (2x2), and tflm then needs an explicit Pad to 3x3 (TFLM has no padded Add).
    """
    architecture = Architecture(
        input_shape=(9, 9, 1), num_classes=10,
        conv_blocks=(ConvBlock((conv(3, 2),)),                         # 7x7
                     ConvBlock((conv(3, 2, stride2=True),)),           # 7 -> (7-3)//2+1 = 3
                     ConvBlock((pointwise(2),), is_branch=True)),      # 7x7 from block 1's input
        dense_blocks=(DenseBlock(10),),
    )
    tflm = build_graph(architecture, "tflm")
    shapes = {op.name: tflm.shapes[op.output] for op in tflm.ops}
    assert shapes["block1/layer0/conv"] == (3, 3, 2)
    assert shapes["tieup_final/pool1"] == (3, 3, 2)  # round(7/3) = 2, floor(7/2) = 3
    eight = Architecture(
        input_shape=(10, 10, 1), num_classes=10,
        conv_blocks=(ConvBlock((conv(3, 2),)),                         # 8x8
                     ConvBlock((conv(3, 2, stride2=True),)),           # (8-3)//2+1 = 3
                     ConvBlock((pointwise(2),), is_branch=True)),      # 8x8
        dense_blocks=(DenseBlock(10),),
    )
    tflm = build_graph(eight, "tflm")
    shapes = {op.name: tflm.shapes[op.output] for op in tflm.ops}
    assert shapes["tieup_final/pool1"] == (2, 2, 2)  # round(8/3) = 3, floor(8/3) = 2
    assert shapes["tieup_final/pad1"] == (3, 3, 2)
    assert shapes["tieup_final/add"] == (3, 3, 2)
    munas = build_graph(eight, "munas")
    assert {op.name: munas.shapes[op.output] for op in munas.ops}["tieup_final/pool1"] == (3, 3, 2)


def test_kernel_is_clipped_to_small_inputs_and_prepool_skipped_on_1x1():
    architecture = Architecture(
        input_shape=(3, 3, 2), num_classes=10,
        conv_blocks=(ConvBlock((conv(7, 4),)), ConvBlock((conv(5, 4, has_prepool=True),))),
        dense_blocks=(DenseBlock(10),),
    )
    graph = build_graph(architecture, "tflm")
    first, second = graph.ops[0], graph.ops[1]
    assert first.kernel == (3, 3) and graph.shapes[first.output] == (1, 1, 4)
    assert second.kind == "Conv2D" and second.kernel == (1, 1), "no pre-pool on a 1x1 map"


def test_non_square_input_uses_a_square_kernel_clipped_to_the_short_side():
    architecture = Architecture(
        input_shape=(98, 4, 1), num_classes=12,
        conv_blocks=(ConvBlock((conv(7, 3),)),), dense_blocks=(DenseBlock(10),),
    )
    graph = build_graph(architecture, "tflm")
    assert graph.ops[0].kernel == (4, 4)
    assert graph.shapes[graph.ops[0].output] == (95, 1, 3)
