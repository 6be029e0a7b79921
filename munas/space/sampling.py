"""Uniform random architectures and sparsities (reference spec §2.2 and §4.4).

Ranges are sampled inclusive of their upper bound. The μNAS reference never draws the upper
end of a numeric range (an off-by-one in its discrete sampler, spec §8.1: at most 9 blocks,
2 layers per block, kernels 3/5, pool sizes 2/4, 2 dense blocks, 127 filters, 255 units);
``reference_sampling=True`` reproduces that distribution for comparisons with the paper.
Categorical choices (layer type, pooling type) and coins are not affected by the quirk.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

from munas.errors import UserError
from munas.space.architecture import Architecture, ArchitectureError, ConvBlock, ConvLayer, DenseBlock, Pooling
from munas.space.bounds import (
    CONV_BLOCKS,
    DENSE_BLOCKS,
    FILTERS,
    KERNEL_SIZES,
    LAYER_TYPES,
    LAYERS_PER_BLOCK,
    POOL_SIZES,
    POOL_TYPES,
    UNITS,
)

# Probabilities of the random generator (spec §2.2). ReLU is nearly always on and pre-pooling
# rare so that random networks are mostly ordinary conv stacks.
P_RELU = 0.9
P_PREPOOL = 0.25
P_BN = 0.5
P_STRIDE2 = 0.5
P_BRANCH = 0.5
P_POOLING = 0.9

T = TypeVar("T")


class Sampler:
    """The random draws of the search space, from one ``numpy.random.Generator``.

    Draws go through ``rng.random()`` (one float each) rather than ``rng.integers`` because
    a morph enumeration makes a few hundred of them per step and the float draw is several
    times cheaper; ``int(u * n)`` is uniform on ``0..n-1`` up to float resolution.
    """

    def __init__(self, rng: np.random.Generator, reference_sampling: bool = False):
        self.rng = rng
        self.reference_sampling = reference_sampling

    def index(self, n: int) -> int:
        """Uniform integer in ``0..n-1``."""
        return min(int(self.rng.random() * n), n - 1)

    def categorical(self, values: Sequence[T]) -> T:
        """Uniform choice among ``values`` (types, positions)."""
        return values[self.index(len(values))]

    def discrete(self, values: Sequence[T]) -> T:
        """Uniform choice in a numeric range; the reference's sampler never draws the last value."""
        n = len(values) - 1 if self.reference_sampling and len(values) > 1 else len(values)
        return values[self.index(n)]

    def coin(self, p: float) -> bool:
        return bool(self.rng.random() < p)


def random_layer(sampler: Sampler, layer_type: str | None = None) -> ConvLayer:
    """A random conv layer; of ``layer_type`` if given, else of a uniformly drawn type.

    Only the fields that the type has are drawn (a ``DWConv2D`` has no filters, a
    ``1x1Conv2D`` neither kernel nor stride).
    """
    kind = layer_type if layer_type is not None else sampler.categorical(LAYER_TYPES)
    if kind not in LAYER_TYPES:
        raise ValueError(f"unknown layer type {kind!r}; expected one of {', '.join(LAYER_TYPES)}")
    spatial = kind != "1x1Conv2D"
    return ConvLayer(
        type=kind,
        ker_size=sampler.discrete(KERNEL_SIZES) if spatial else None,
        filters=sampler.discrete(FILTERS) if kind != "DWConv2D" else None,
        stride2=sampler.coin(P_STRIDE2) if spatial else None,
        has_prepool=sampler.coin(P_PREPOOL),
        has_bn=sampler.coin(P_BN),
        has_relu=sampler.coin(P_RELU),
    )


def random_block(sampler: Sampler, index: int, num_layers: int) -> ConvBlock:
    """A block of ``num_layers`` random layers; block 0 is always a trunk block."""
    is_branch = index > 0 and sampler.coin(P_BRANCH)
    return ConvBlock(layers=tuple(random_layer(sampler) for _ in range(num_layers)), is_branch=is_branch)


def random_pooling(sampler: Sampler) -> Pooling:
    return Pooling(type=sampler.categorical(POOL_TYPES), pool_size=sampler.discrete(POOL_SIZES))  # type: ignore[arg-type]


def random_dense_block(sampler: Sampler) -> DenseBlock:
    return DenseBlock(units=sampler.discrete(UNITS))


def random_architecture(
    input_shape: Sequence[int],
    num_classes: int,
    rng: np.random.Generator,
    *,
    reference_sampling: bool = False,
) -> Architecture:
    """A uniformly random architecture of the search space (spec §2.2).

    ``input_shape`` is (height, width, channels). Every range includes its upper bound unless
    ``reference_sampling`` asks for the μNAS reference's distribution (see module docstring).
    """
    shape = tuple(input_shape)
    positive = all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 1 for d in shape)
    if len(shape) != 3 or not positive:
        raise ArchitectureError(f"input_shape: must be three positive integers (height, width, channels), got {shape}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise ArchitectureError(f"num_classes: must be an integer >= 2, got {num_classes!r}")
    sampler = Sampler(rng, reference_sampling)
    blocks = tuple(
        random_block(sampler, b, sampler.discrete(LAYERS_PER_BLOCK)) for b in range(sampler.discrete(CONV_BLOCKS))
    )
    pooling = random_pooling(sampler) if sampler.coin(P_POOLING) else None
    dense = tuple(random_dense_block(sampler) for _ in range(sampler.discrete(DENSE_BLOCKS)))
    return Architecture(
        input_shape=tuple(int(d) for d in shape),  # type: ignore[arg-type]
        num_classes=int(num_classes),
        conv_blocks=blocks,
        dense_blocks=dense,
        pooling=pooling,
    )


def _check_sparsity_bounds(lo: float, hi: float) -> None:
    if not (0.0 <= lo <= hi <= 1.0):
        raise UserError(f"sparsity bounds must satisfy 0 <= min <= max <= 1, got min={lo} max={hi}; "
                        "fix the pruning settings")


def random_sparsity(rng: np.random.Generator, lo: float, hi: float) -> float:
    """Initial pruning sparsity of a random search point: ``U(lo, hi)`` (spec §4.4)."""
    _check_sparsity_bounds(lo, hi)
    return float(rng.uniform(lo, hi))


def child_sparsity(parent: float, rng: np.random.Generator, lo: float, hi: float, sigma: float = 0.05) -> float:
    """A child's sparsity: the parent's plus ``N(0, sigma²)``, clipped to ``[lo, hi]`` (spec §4.4)."""
    _check_sparsity_bounds(lo, hi)
    return float(np.clip(parent + rng.normal(0.0, sigma), lo, hi))
