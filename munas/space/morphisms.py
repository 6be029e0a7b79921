"""Morphisms: every one-step change of an architecture (reference spec §2.3).

:func:`all_morphs_named` lists every applicable morph of a parent, each entry one concrete
child with its internal random choices (which block to drop, the fresh layer to insert...)
already made; :func:`random_child` picks one uniformly, so morph kinds with many entries
(filters and units tweaks) are drawn most often, as in μNAS. Validity is by construction
(bound checks before numeric tweaks, branch repair on block removal, block 0 never toggled).

Two quirks of the reference are fixed:

* a fresh layer may be inserted at every position ``0..n`` (the reference never appended);
* no child is *silent*. The reference wastes trainings on children that assemble to exactly
  the parent's network: a filters change on the last layer of a branch block (its filters
  are forced to the trunk's channel count), a kernel change where the kernel is clipped to a
  smaller map anyway, a pre-pool toggled on a 1x1 map, a stride toggled where a single window
  covers the input, a pooling change where its window is 1x1, a 1x1 conv without BN/ReLU
  added to or dropped from the end of a branch after a DW conv (the assembly appends that
  very conv) ... Such children are dropped. A morph that changes one layer (or the pooling)
  is silent exactly when the layer computes the same thing on its input in the trained
  network (:data:`~munas.resources.accounting.TRAINED` shapes); the other morphs change the
  set of operators, except for the branch-end case just named. Hence no child equals its
  parent either.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from munas.resources.accounting import TRAINED
from munas.resources.graph import build_graph
from munas.space.architecture import (
    MAX_CONV_BLOCKS,
    MAX_DENSE_BLOCKS,
    MAX_LAYERS_PER_BLOCK,
    Architecture,
    ConvBlock,
    ConvLayer,
    DenseBlock,
    Pooling,
)
from munas.space.bounds import (
    FILTER_DELTAS,
    FILTERS,
    KERNEL_DELTAS,
    KERNEL_SIZES,
    LAYER_TYPES,
    POOL_SIZE_DELTAS,
    POOL_SIZES,
    POOL_TYPES,
    UNIT_DELTAS,
    UNITS,
)
from munas.space.sampling import Sampler, random_block, random_dense_block, random_layer, random_pooling

MORPH_KINDS = (
    "remove_random_block",
    "append_block",
    "toggle_branch",
    "remove_block",
    "remove_layer",
    "insert_layer",
    "toggle_bn",
    "toggle_relu",
    "toggle_prepool",
    "change_type",
    "filters",
    "kernel",
    "toggle_stride",
    "toggle_pooling",
    "flip_pool_type",
    "pool_size",
    "remove_random_dense",
    "append_dense",
    "units",
)
"""One name per row of the spec's morph table, in its order."""


class Morph(NamedTuple):
    """One entry of the morph list: its kind (a :data:`MORPH_KINDS` name), where it applies
    (a document path, plus the step for numeric tweaks), and the child it makes."""

    kind: str
    where: str
    child: Architecture

    def __str__(self) -> str:
        return f"{self.kind} {self.where}"


def all_morphs_named(arch: Architecture, rng: np.random.Generator, *, reference_sampling: bool = False) -> list[Morph]:
    """Every non-silent morph of ``arch``; fresh random values are drawn with ``rng``
    (with the reference's off-by-one ranges if ``reference_sampling``)."""
    return [morph for morph, silent in _candidates(arch, Sampler(rng, reference_sampling)) if not silent]


def all_morphs(arch: Architecture, rng: np.random.Generator, *, reference_sampling: bool = False) -> list[Architecture]:
    """The children of :func:`all_morphs_named`, without their names."""
    return [morph.child for morph in all_morphs_named(arch, rng, reference_sampling=reference_sampling)]


def random_morph(arch: Architecture, rng: np.random.Generator, *, reference_sampling: bool = False) -> Morph:
    """One entry of the morph list, drawn uniformly."""
    morphs = all_morphs_named(arch, rng, reference_sampling=reference_sampling)
    return morphs[int(rng.integers(len(morphs)))]


def random_child(arch: Architecture, rng: np.random.Generator, *, reference_sampling: bool = False) -> Architecture:
    """A child of ``arch`` drawn uniformly from its morph list (the aging-evolution mutation)."""
    return random_morph(arch, rng, reference_sampling=reference_sampling).child


# --------------------------------------------------------------------------- enumeration


def _candidates(arch: Architecture, sampler: Sampler) -> Iterator[tuple[Morph, bool]]:
    """Every morph of the spec table with whether it is silent, in table order."""
    blocks = arch.conv_blocks
    num_blocks = len(blocks)
    shapes = _TrainedShapes(arch)

    if num_blocks > 1:
        b = sampler.index(num_blocks)
        yield Morph("remove_random_block", f"conv_blocks[{b}]", _with_blocks(arch, _remove_block(blocks, b))), False
    if num_blocks < MAX_CONV_BLOCKS:
        new = random_block(sampler, num_blocks, 1)
        yield Morph("append_block", f"conv_blocks[{num_blocks}]", _with_blocks(arch, blocks + (new,))), False
    for b in range(1, num_blocks):
        toggled = ConvBlock(blocks[b].layers, not blocks[b].is_branch)
        yield Morph("toggle_branch", f"conv_blocks[{b}]", _with_blocks(arch, _put(blocks, b, toggled))), False

    for b, block in enumerate(blocks):
        layers = block.layers
        n = len(layers)
        if n == 1 and num_blocks > 1:
            yield Morph("remove_block", f"conv_blocks[{b}]", _with_blocks(arch, _remove_block(blocks, b))), False
        # Adding or dropping the last layer of a branch right after a DW conv is silent when that
        # layer computes what the 1x1 conv appended after a trailing DW would compute anyway.
        if n > 1:
            i = sampler.index(n)
            child = _with_layers(arch, b, layers[:i] + layers[i + 1 :])
            silent = (
                block.is_branch and i == n - 1 and layers[i - 1].type == "DWConv2D"
                and _same_as_match(layers[i], shapes.layer_input(b, i), shapes.branch_channels(b))
            )
            yield Morph("remove_layer", f"conv_blocks[{b}].layers[{i}]", child), silent
        if n < MAX_LAYERS_PER_BLOCK:
            i = sampler.index(n + 1)
            inserted = random_layer(sampler)
            child = _with_layers(arch, b, layers[:i] + (inserted,) + layers[i:])
            silent = (
                block.is_branch and i == n and layers[-1].type == "DWConv2D"
                and _same_as_match(inserted, shapes.match_input(b), shapes.branch_channels(b))
            )
            yield Morph("insert_layer", f"conv_blocks[{b}].layers[{i}]", child), silent
        for i in range(n):
            forced = shapes.branch_channels(b) if block.is_branch and i == n - 1 else None
            yield from _layer_morphs(arch, b, i, shapes.layer_input(b, i), forced, sampler)

    yield from _pooling_morphs(arch, shapes.pool_input(), sampler)
    yield from _dense_morphs(arch, sampler)


def _layer_morphs(
    arch: Architecture, b: int, i: int, shape: tuple[int, ...], forced: int | None, sampler: Sampler
) -> Iterator[tuple[Morph, bool]]:
    layer = arch.conv_blocks[b].layers[i]
    where = f"conv_blocks[{b}].layers[{i}]"
    before = _layer_effect(layer, shape, forced)

    def emit(kind: str, new: ConvLayer, step: str = "") -> tuple[Morph, bool]:
        layers = arch.conv_blocks[b].layers
        child = _with_layers(arch, b, layers[:i] + (new,) + layers[i + 1 :])
        return Morph(kind, where + step, child), _layer_effect(new, shape, forced) == before

    yield emit("toggle_bn", _changed(layer, has_bn=not layer.has_bn))
    yield emit("toggle_relu", _changed(layer, has_relu=not layer.has_relu))
    yield emit("toggle_prepool", _changed(layer, has_prepool=not layer.has_prepool))
    for layer_type in LAYER_TYPES:
        if layer_type != layer.type:
            yield emit("change_type", random_layer(sampler, layer_type), f" {layer_type}")
    if layer.filters is not None:
        for delta in FILTER_DELTAS:
            if layer.filters + delta in FILTERS:
                yield emit("filters", _changed(layer, filters=layer.filters + delta), f" {delta:+d}")
    if layer.ker_size is not None:
        for delta in KERNEL_DELTAS:
            if layer.ker_size + delta in KERNEL_SIZES:
                yield emit("kernel", _changed(layer, ker_size=layer.ker_size + delta), f" {delta:+d}")
        yield emit("toggle_stride", _changed(layer, stride2=not layer.stride2))


def _pooling_morphs(arch: Architecture, shape: tuple[int, ...], sampler: Sampler) -> Iterator[tuple[Morph, bool]]:
    before = _pool_effect(arch.pooling, shape)

    def emit(kind: str, pooling: Pooling | None, step: str = "") -> tuple[Morph, bool]:
        child = Architecture(arch.input_shape, arch.num_classes, arch.conv_blocks, arch.dense_blocks, pooling)
        return Morph(kind, "pooling" + step, child), _pool_effect(pooling, shape) == before

    pooling = arch.pooling
    if pooling is None:
        yield emit("toggle_pooling", random_pooling(sampler))
        return
    yield emit("toggle_pooling", None)
    other = next(t for t in POOL_TYPES if t != pooling.type)
    yield emit("flip_pool_type", Pooling(other, pooling.pool_size))  # type: ignore[arg-type]
    for delta in POOL_SIZE_DELTAS:
        if pooling.pool_size + delta in POOL_SIZES:
            yield emit("pool_size", Pooling(pooling.type, pooling.pool_size + delta), f" {delta:+d}")


def _dense_morphs(arch: Architecture, sampler: Sampler) -> Iterator[tuple[Morph, bool]]:
    dense = arch.dense_blocks
    count = len(dense)

    def child(new: tuple[DenseBlock, ...]) -> Architecture:
        return Architecture(arch.input_shape, arch.num_classes, arch.conv_blocks, new, arch.pooling)

    if count > 1:
        j = sampler.index(count)
        yield Morph("remove_random_dense", f"dense_blocks[{j}]", child(dense[:j] + dense[j + 1 :])), False
    if count < MAX_DENSE_BLOCKS:
        yield Morph("append_dense", f"dense_blocks[{count}]", child(dense + (random_dense_block(sampler),))), False
    for j, block in enumerate(dense):
        for delta in UNIT_DELTAS:
            if block.units + delta in UNITS:
                new = DenseBlock(block.units + delta, block.activation)
                yield Morph("units", f"dense_blocks[{j}] {delta:+d}", child(_put(dense, j, new))), False


# --------------------------------------------------------------------------- silence


class _TrainedShapes:
    """Input shapes of every layer and of the pooling, and the channel count each branch block
    is forced to, read off the trained network of the parent (:data:`TRAINED` shapes). A morph of
    one layer leaves that layer's input (and the trunk a branch is forced to match) unchanged."""

    def __init__(self, arch: Architecture):
        graph = build_graph(arch, TRAINED)
        self._arch = arch
        self._input: dict[str, tuple[int, ...]] = {}
        self._channels: dict[str, int] = {}
        for op in graph.ops:  # several ops share a source (pre-pool, conv): keep the first input, last output
            self._input.setdefault(op.source, graph.shapes[op.inputs[0]])
            self._channels[op.source] = op.out_channels

    def layer_input(self, b: int, i: int) -> tuple[int, ...]:
        return self._input[f"conv_blocks[{b}].layers[{i}]"]

    def branch_channels(self, b: int) -> int:
        """Output channels of branch block ``b``: its last conv, or the 1x1 conv after a trailing DW."""
        last = len(self._arch.conv_blocks[b].layers) - 1
        return self._channels.get(f"conv_blocks[{b}]", self._channels[f"conv_blocks[{b}].layers[{last}]"])

    def match_input(self, b: int) -> tuple[int, ...]:
        """Input of the 1x1 conv appended to branch block ``b`` after its trailing DW conv."""
        return self._input[f"conv_blocks[{b}]"]

    def pool_input(self) -> tuple[int, ...]:
        return self._input["pooling" if self._arch.pooling is not None else "dense_blocks[0]"]


def _layer_effect(layer: ConvLayer, shape: tuple[int, ...], forced: int | None) -> tuple:
    """What ``layer`` computes on an input of ``shape`` in the trained network.

    Mirrors the assembly rules (pre-pool skipped on 1x1 maps, floor pooling, kernel clipped to
    the map) and adds the equivalences that make two layers the same function with the same
    parameters: the stride does not matter when one window covers the whole input, and a
    conv from one channel to one channel is a depthwise conv.
    """
    h, w, c = shape
    prepool = layer.has_prepool and (h > 1 or w > 1)
    if prepool:
        h, w = h // min(2, h), w // min(2, w)
    pointwise = layer.type == "1x1Conv2D"
    kernel = 1 if pointwise else min(layer.kernel, h, w)
    stride = 1 if pointwise or (h == kernel and w == kernel) else layer.stride
    depthwise = layer.type == "DWConv2D"
    out = c if depthwise else (forced if forced is not None else layer.filters)
    trailing_match = depthwise and forced is not None  # a 1x1 conv follows a DW at the end of a branch
    return (prepool, depthwise or c == out == 1, trailing_match, kernel, stride, out, layer.has_bn, layer.has_relu)


def _same_as_match(layer: ConvLayer, shape: tuple[int, ...], channels: int) -> bool:
    """Whether ``layer``, last in a branch block, computes what the assembly's channel-matching
    1x1 conv (no BN, no ReLU) computes on ``shape``."""
    match = ConvLayer(type="1x1Conv2D", filters=channels, has_relu=False)
    return _layer_effect(layer, shape, channels) == _layer_effect(match, shape, channels)


def _pool_effect(pooling: Pooling | None, shape: tuple[int, ...]) -> tuple | None:
    """The final pooling as computed: None when absent or when its clipped window is 1x1."""
    if pooling is None:
        return None
    window = (min(pooling.pool_size, shape[0]), min(pooling.pool_size, shape[1]))
    return None if window == (1, 1) else (pooling.type, window)


# --------------------------------------------------------------------------- construction


def _changed(layer: ConvLayer, **fields: object) -> ConvLayer:
    """``dataclasses.replace`` without its overhead (it is called ~100 times per parent)."""
    return ConvLayer(**{**layer.__dict__, **fields})


def _put(items: tuple, index: int, item: object) -> tuple:
    return items[:index] + (item,) + items[index + 1 :]


def _with_blocks(arch: Architecture, blocks: tuple[ConvBlock, ...]) -> Architecture:
    """A child with new conv blocks. Children never inherit the parent's derived ``_`` keys."""
    return Architecture(arch.input_shape, arch.num_classes, blocks, arch.dense_blocks, arch.pooling)


def _with_layers(arch: Architecture, b: int, layers: tuple[ConvLayer, ...]) -> Architecture:
    block = arch.conv_blocks[b]
    return _with_blocks(arch, _put(arch.conv_blocks, b, ConvBlock(layers, block.is_branch)))


def _remove_block(blocks: tuple[ConvBlock, ...], b: int) -> tuple[ConvBlock, ...]:
    """Drop block ``b``; a branch that ran beside a removed trunk block becomes a trunk block
    (so block 0 is never a branch)."""
    rest = blocks[:b] + blocks[b + 1 :]
    if not blocks[b].is_branch and b < len(rest) and rest[b].is_branch:
        rest = _put(rest, b, ConvBlock(rest[b].layers, False))
    return rest
