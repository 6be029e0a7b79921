"""Random architectures and sparsities: valid, deterministic, with the stated distribution.

Frequencies are measured on a few thousand seeded draws (deterministic) with tolerances of
about 5 standard deviations or more; the range tests show separately that upper bounds are
drawn by default and never with the reference's sampling.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from munas.errors import UserError
from munas.resources.graph import build_graph
from munas.space.architecture import ArchitectureError, parse_architecture
from munas.space.sampling import child_sparsity, random_architecture, random_sparsity

SHAPES = [(8, 8, 1), (28, 28, 1), (32, 32, 3), (98, 40, 1)]


def sample(n: int, seed: int, reference_sampling: bool = False, shape=(28, 28, 1), num_classes: int = 10) -> list:
    rng = np.random.default_rng(seed)
    return [random_architecture(shape, num_classes, rng, reference_sampling=reference_sampling) for _ in range(n)]


@pytest.fixture(scope="module")
def default_archs():
    return sample(3000, seed=1)


@pytest.fixture(scope="module")
def reference_archs():
    return sample(3000, seed=2, reference_sampling=True)


def observed_ranges(archs) -> dict[str, set]:
    """Every value each free variable took."""
    seen: dict[str, set] = {k: set() for k in ("blocks", "layers", "ker_size", "filters", "pool_size", "dense", "units")}
    for arch in archs:
        seen["blocks"].add(len(arch.conv_blocks))
        for block in arch.conv_blocks:
            seen["layers"].add(len(block.layers))
            for layer in block.layers:
                if layer.ker_size is not None:
                    seen["ker_size"].add(layer.ker_size)
                if layer.filters is not None:
                    seen["filters"].add(layer.filters)
        if arch.pooling is not None:
            seen["pool_size"].add(arch.pooling.pool_size)
        seen["dense"].add(len(arch.dense_blocks))
        seen["units"].update(d.units for d in arch.dense_blocks)
    return seen


def test_default_sampling_covers_every_value_including_upper_bounds(default_archs):
    seen = observed_ranges(default_archs)
    assert seen["blocks"] == set(range(1, 11))
    assert seen["layers"] == {1, 2, 3}
    assert seen["ker_size"] == {3, 5, 7}
    assert seen["filters"] == set(range(1, 129))
    assert seen["pool_size"] == {2, 4, 6}
    assert seen["dense"] == {1, 2, 3}
    assert min(seen["units"]) == 10 and max(seen["units"]) == 256


def test_reference_sampling_never_draws_upper_bounds(reference_archs):
    seen = observed_ranges(reference_archs)
    assert seen["blocks"] == set(range(1, 10))
    assert seen["layers"] == {1, 2}
    assert seen["ker_size"] == {3, 5}
    assert seen["filters"] == set(range(1, 128))
    assert seen["pool_size"] == {2, 4}
    assert seen["dense"] == {1, 2}
    assert min(seen["units"]) == 10 and max(seen["units"]) == 255


@pytest.mark.parametrize("which", ["default", "reference"])
def test_probabilities_match_the_spec(which, default_archs, reference_archs):
    archs = default_archs if which == "default" else reference_archs
    layers = [layer for arch in archs for block in arch.conv_blocks for layer in block.layers]
    spatial = [layer for layer in layers if layer.type != "1x1Conv2D"]
    later_blocks = [block for arch in archs for block in arch.conv_blocks[1:]]

    def frequency(items, predicate) -> float:
        return sum(map(predicate, items)) / len(items)

    assert frequency(layers, lambda layer: layer.has_relu) == pytest.approx(0.9, abs=0.015)
    assert frequency(layers, lambda layer: layer.has_prepool) == pytest.approx(0.25, abs=0.02)
    assert frequency(layers, lambda layer: layer.has_bn) == pytest.approx(0.5, abs=0.025)
    assert frequency(spatial, lambda layer: layer.stride2) == pytest.approx(0.5, abs=0.025)
    assert frequency(archs, lambda a: a.pooling is not None) == pytest.approx(0.9, abs=0.03)
    assert frequency(later_blocks, lambda b: b.is_branch) == pytest.approx(0.5, abs=0.025)
    assert not any(arch.conv_blocks[0].is_branch for arch in archs)
    types = Counter(layer.type for layer in layers)
    for layer_type in ("Conv2D", "1x1Conv2D", "DWConv2D"):
        assert types[layer_type] / len(layers) == pytest.approx(1 / 3, abs=0.025)
    pool_types = Counter(arch.pooling.type for arch in archs if arch.pooling is not None)
    assert pool_types["avg"] / sum(pool_types.values()) == pytest.approx(0.5, abs=0.05)


def test_block_counts_are_uniform(default_archs, reference_archs):
    for archs, top in ((default_archs, 10), (reference_archs, 9)):
        counts = Counter(len(arch.conv_blocks) for arch in archs)
        for b in range(1, top + 1):
            assert counts[b] / len(archs) == pytest.approx(1 / top, abs=0.03)


def test_type_specific_fields_only():
    for arch in sample(300, seed=3):
        for block in arch.conv_blocks:
            for layer in block.layers:
                assert (layer.ker_size is None) == (layer.type == "1x1Conv2D")
                assert (layer.stride2 is None) == (layer.type == "1x1Conv2D")
                assert (layer.filters is None) == (layer.type == "DWConv2D")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("num_classes", [2, 10])
def test_random_architectures_are_valid_in_both_profiles(shape, num_classes):
    for arch in sample(150, seed=4, shape=shape, num_classes=num_classes):
        assert arch.input_shape == shape and arch.num_classes == num_classes
        assert parse_architecture(arch.to_dict()) == arch
        for profile in ("tflm", "munas"):
            graph = build_graph(arch, profile)
            assert all(d >= 1 for tensor_shape in graph.shapes for d in tensor_shape)
            assert graph.shapes[graph.output] == ((1,) if num_classes == 2 else (num_classes,))


def test_same_seed_same_architectures():
    assert sample(50, seed=5) == sample(50, seed=5)
    assert sample(50, seed=5) != sample(50, seed=6)


@pytest.mark.parametrize(
    "shape, num_classes, message",
    [
        ((28, 28), 10, "input_shape: must be three positive integers"),
        ((28, 0, 1), 10, "input_shape: must be three positive integers"),
        ((28, 28, 1.5), 10, "input_shape: must be three positive integers"),
        ((28, 28, 1), 1, "num_classes: must be an integer >= 2"),
        ((28, 28, 1), True, "num_classes: must be an integer >= 2"),
    ],
)
def test_bad_arguments_are_rejected(shape, num_classes, message):
    with pytest.raises(ArchitectureError, match=message):
        random_architecture(shape, num_classes, np.random.default_rng(0))


def test_random_sparsity_is_uniform_in_bounds():
    rng = np.random.default_rng(7)
    values = np.array([random_sparsity(rng, 0.2, 0.6) for _ in range(4000)])
    assert values.min() >= 0.2 and values.max() <= 0.6
    assert values.mean() == pytest.approx(0.4, abs=0.01)
    assert values.std() == pytest.approx(0.4 / np.sqrt(12), abs=0.01)


def test_child_sparsity_is_a_clipped_gaussian_step():
    rng = np.random.default_rng(8)
    steps = np.array([child_sparsity(0.5, rng, 0.0, 1.0) for _ in range(4000)]) - 0.5
    assert steps.mean() == pytest.approx(0.0, abs=0.005)
    assert steps.std() == pytest.approx(0.05, abs=0.005)
    wide = np.array([child_sparsity(0.5, rng, 0.0, 1.0, sigma=0.2) for _ in range(4000)]) - 0.5
    assert wide.std() == pytest.approx(0.2, abs=0.01)
    at_bound = [child_sparsity(0.9, rng, 0.1, 0.9) for _ in range(2000)]
    assert min(at_bound) >= 0.1 and max(at_bound) == 0.9
    assert 0.4 < sum(v == 0.9 for v in at_bound) / len(at_bound) < 0.6  # half the steps go over


@pytest.mark.parametrize("lo, hi", [(0.6, 0.2), (-0.1, 0.5), (0.2, 1.5)])
def test_bad_sparsity_bounds_are_rejected(lo, hi):
    with pytest.raises(UserError, match="sparsity bounds"):
        random_sparsity(np.random.default_rng(0), lo, hi)
    with pytest.raises(UserError, match="sparsity bounds"):
        child_sparsity(0.3, np.random.default_rng(0), lo, hi)
