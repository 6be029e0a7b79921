import math

import numpy as np
import pytest
import torch

from munas.resources import TRAINED, build_graph, compute_resources
from munas.space.architecture import load_architecture
from munas.space.sampling import random_architecture
from munas.surrogate.encoding import EDGE_FEATURES, GRAPH_FEATURES, NODE_FEATURES, OP_KINDS, encode


def _architectures():
    rng = np.random.default_rng(7)
    archs = [load_architecture(f"examples/spec_example{i}.json") for i in (1, 2)]
    archs += [random_architecture((28, 28, 1), 10, rng) for _ in range(20)]
    archs += [random_architecture((8, 8, 1), 10, rng) for _ in range(20)]
    return archs


ARCHS = _architectures()


@pytest.mark.parametrize("arch", ARCHS, ids=lambda a: f"{len(a.conv_blocks)}blocks")
def test_one_node_per_op_and_one_edge_pair_per_dataflow(arch):
    graph = build_graph(arch, TRAINED)
    data = encode(arch, 0.4)
    assert data.num_nodes == len(graph.ops) == data.x.shape[0]
    assert data.x.shape[1] == len(NODE_FEATURES)
    # Oracle: every (op, input tensor) pair whose tensor some op produced is one dataflow edge.
    producer = {op.output: i for i, op in enumerate(graph.ops)}
    expected = {(producer[t], c) for c, op in enumerate(graph.ops) for t in op.inputs if t in producer}
    pairs = list(zip(data.edge_index[0].tolist(), data.edge_index[1].tolist()))
    forward = {p for p, attr in zip(pairs, data.edge_attr.tolist()) if attr == [1.0, 0.0]}
    backward = {p for p, attr in zip(pairs, data.edge_attr.tolist()) if attr == [0.0, 1.0]}
    assert forward == expected
    assert backward == {(c, p) for p, c in expected}
    assert len(pairs) == 2 * len(expected) == data.edge_attr.shape[0]
    assert data.edge_attr.shape[1] == len(EDGE_FEATURES)
    assert torch.isfinite(data.x).all() and torch.isfinite(data.graph_attr).all()


def test_node_features_describe_their_op():
    arch = load_architecture("examples/spec_example2.json")
    graph = build_graph(arch, TRAINED)
    data = encode(arch, None)
    names = list(NODE_FEATURES)
    for row, op in zip(data.x.tolist(), graph.ops):
        features = dict(zip(names, row))
        kinds = [k for k in OP_KINDS if features[f"is_{k}"] == 1.0]
        assert len(kinds) == 1
        assert math.isclose(features["log_macs"], math.log1p(op.macs), rel_tol=1e-6)
        assert math.isclose(features["log_out_channels"], math.log1p(op.out_channels), rel_tol=1e-6)
        assert features["has_relu"] == float(op.has_relu)
    # the 1x1 conv of block 1 is typed pointwise; the final dense layers are Dense
    assert data.x[1, names.index("is_PointwiseConv2D")] == 1.0
    assert data.x[-1, names.index("is_Dense")] == 1.0


def test_graph_features_carry_sparsity_and_exact_resources():
    arch = ARCHS[3]
    resources = compute_resources(arch, TRAINED)
    dense = dict(zip(GRAPH_FEATURES, encode(arch, 0.0).graph_attr[0].tolist()))
    sparse = dict(zip(GRAPH_FEATURES, encode(arch, 0.6).graph_attr[0].tolist()))
    assert dense["sparsity"] == 0.0 and sparse["sparsity"] == pytest.approx(0.6)
    assert sparse["log_pmu"] == pytest.approx(math.log1p(resources.pmu))
    assert sparse["log_model_size"] == pytest.approx(math.log1p(resources.model_size))
    assert sparse["log_macs"] == pytest.approx(math.log1p(resources.macs))
    assert sparse["log_sparse_model_size"] < dense["log_sparse_model_size"]


def test_resources_of_another_profile_are_not_mixed_in():
    arch = ARCHS[5]
    from_trained = encode(arch, 0.3, compute_resources(arch, TRAINED))
    from_munas = encode(arch, 0.3, compute_resources(arch, "munas"))
    assert torch.equal(from_trained.graph_attr, from_munas.graph_attr)
    assert torch.equal(from_trained.graph_attr, encode(arch, 0.3).graph_attr)
