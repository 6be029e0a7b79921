"""Morphisms: every child valid, never silent, each kind doing what the spec table says.

Oracles: the parser (a child round-trips through its JSON document), the operator graph
(it assembles in both profiles with every dimension >= 1), an independent description of
each morph kind (which part of the document changes and how), hand-counted entries for a
known architecture, and a canonical form of the trained network's operator graph to show
that a morph is suppressed exactly when the child computes the same thing as its parent.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import numpy as np
import pytest

from munas.resources.graph import build_graph
from munas.space.architecture import Architecture, parse_architecture
from munas.space.bounds import FILTERS, KERNEL_SIZES, POOL_SIZES, UNITS
from munas.space.morphisms import (
    MORPH_KINDS,
    _candidates,
    all_morphs,
    all_morphs_named,
    random_child,
    random_morph,
)
from munas.space.sampling import Sampler, random_architecture

SHAPES = [(8, 8, 1), (28, 28, 1), (32, 32, 3), (98, 40, 1)]
STARTS = [(shape, classes) for shape in SHAPES for classes in (10, 2)]


def layer(type_, ker=None, filters=None, stride2=None, prepool=False, bn=False, relu=True) -> dict:
    out = {"type": type_}
    if type_ != "1x1Conv2D":
        out["ker_size"] = ker
        out["2x_stride"] = stride2
    if type_ != "DWConv2D":
        out["filters"] = filters
    out.update(has_prepool=prepool, has_bn=bn, has_relu=relu)
    return out


def document(shape, blocks, pooling, dense, num_classes=10) -> Architecture:
    return parse_architecture({
        "input_shape": list(shape), "num_classes": num_classes,
        "architecture": {
            "conv_blocks": [{"is_branch": branch, "layers": layers} for branch, layers in blocks],
            "pooling": pooling, "dense_blocks": [{"units": u} for u in dense],
        },
    })


# A 64x64 input keeps every map far larger than every kernel and pool, so no morph is silent
# except the filters of the branch's last layer (forced to the trunk's channel count).
KNOWN = document(
    (64, 64, 3),
    [
        (False, [layer("Conv2D", 3, 16, False), layer("1x1Conv2D", filters=32)]),
        (True, [layer("DWConv2D", 5, stride2=False)]),
        (False, [layer("Conv2D", 7, 128, True), layer("DWConv2D", 3, stride2=False), layer("Conv2D", 5, 1, False)]),
        (True, [layer("Conv2D", 3, 8, False), layer("1x1Conv2D", filters=64)]),
    ],
    {"type": "max", "pool_size": 2},
    [10, 256],
)

# Entries per kind implied by the spec table for KNOWN (B = 4 blocks with 2, 1, 3, 2 layers,
# 8 layers of which 6 have a kernel, pooling of size 2, dense units 10 and 256).
KNOWN_COUNTS = {
    "remove_random_block": 1,   # B > 1
    "append_block": 1,          # B < 10
    "toggle_branch": 3,         # blocks 1..3
    "remove_block": 1,          # block 1 has one layer
    "remove_layer": 3,          # blocks 0, 2, 3
    "insert_layer": 3,          # blocks 0, 1, 3
    "toggle_bn": 8, "toggle_relu": 8, "toggle_prepool": 8,
    "change_type": 16,          # two other types per layer
    "filters": 6 + 6 + 3 + 3 + 6,  # 16, 32, 128 (down only), 1 (up only), 8; the forced 64 has none
    "kernel": 1 + 2 + 1 + 1 + 2 + 1,  # 3 (up), 5, 7 (down), 3 (up), 5, 3 (up)
    "toggle_stride": 6,
    "toggle_pooling": 1, "flip_pool_type": 1, "pool_size": 1,  # size 2: only +2
    "remove_random_dense": 1, "append_dense": 1,
    "units": 3 + 3,             # 10 (up only), 256 (down only)
}


def test_known_architecture_has_the_entries_the_spec_table_implies():
    morphs = all_morphs_named(KNOWN, np.random.default_rng(0))
    assert Counter(m.kind for m in morphs) == KNOWN_COUNTS
    assert len(morphs) == 101
    silent = [m for m, is_silent in _candidates(KNOWN, Sampler(np.random.default_rng(0))) if is_silent]
    assert sorted(m.where for m in silent) == sorted(f"conv_blocks[3].layers[1] {d:+d}" for d in (-5, -3, -1, 1, 3, 5))
    assert {m.kind for m in silent} == {"filters"}


def test_filters_deltas_are_exact_and_bounded():
    morphs = all_morphs_named(KNOWN, np.random.default_rng(0))
    deltas = defaultdict(set)
    for m in morphs:
        if m.kind == "filters":
            b, i = map(int, re.match(r"conv_blocks\[(\d+)\]\.layers\[(\d+)\]", m.where).groups())
            deltas[(b, i)].add(m.child.conv_blocks[b].layers[i].filters - KNOWN.conv_blocks[b].layers[i].filters)
    assert deltas == {
        (0, 0): {-5, -3, -1, 1, 3, 5},
        (0, 1): {-5, -3, -1, 1, 3, 5},
        (2, 0): {-5, -3, -1},
        (2, 2): {1, 3, 5},
        (3, 0): {-5, -3, -1, 1, 3, 5},
    }


# --------------------------------------------------------------------------- semantics

LAYER_FIELDS = {"toggle_bn": "has_bn", "toggle_relu": "has_relu", "toggle_prepool": "has_prepool",
                "filters": "filters", "kernel": "ker_size", "toggle_stride": "stride2"}


def location(where: str) -> tuple[int | None, int | None]:
    match = re.match(r"(?:conv_blocks|dense_blocks)\[(\d+)\](?:\.layers\[(\d+)\])?", where)
    if match is None:
        return None, None
    return int(match.group(1)), None if match.group(2) is None else int(match.group(2))


def removed_with_repair(blocks: tuple, b: int) -> tuple:
    """The spec's block removal: a branch right after a removed trunk block becomes a trunk block."""
    rest = list(blocks[:b] + blocks[b + 1 :])
    if not blocks[b].is_branch and b < len(rest) and rest[b].is_branch:
        rest[b] = type(rest[b])(rest[b].layers, False)
    return tuple(rest)


def check_semantics(parent: Architecture, kind: str, where: str, child: Architecture, seen: dict) -> None:
    """Assert that ``child`` is ``parent`` changed exactly as the morph ``kind`` says."""
    assert child.input_shape == parent.input_shape and child.num_classes == parent.num_classes
    assert not child.conv_blocks[0].is_branch
    changed = {part for part in ("conv_blocks", "pooling", "dense_blocks") if getattr(child, part) != getattr(parent, part)}
    b, i = location(where)
    pb, cb = parent.conv_blocks, child.conv_blocks
    if kind in LAYER_FIELDS or kind == "change_type":
        assert changed == {"conv_blocks"}
        assert [len(x.layers) for x in cb] == [len(x.layers) for x in pb]
        assert [x.is_branch for x in cb] == [x.is_branch for x in pb]
        diffs = [(bb, ii) for bb in range(len(pb)) for ii in range(len(pb[bb].layers))
                 if pb[bb].layers[ii] != cb[bb].layers[ii]]
        assert diffs == [(b, i)]
        old, new = pb[b].layers[i], cb[b].layers[i]
        if kind == "change_type":
            assert new.type != old.type and where.endswith(new.type)
            seen["change_type"].add((old.type, new.type))
            return
        field = LAYER_FIELDS[kind]
        assert {f for f in old.__dict__ if getattr(old, f) != getattr(new, f)} == {field}
        before, after = getattr(old, field), getattr(new, field)
        if kind == "filters":
            assert after in FILTERS and not (pb[b].is_branch and i == len(pb[b].layers) - 1)
            seen["filters"].add(after - before)
        elif kind == "kernel":
            assert after in KERNEL_SIZES and abs(after - before) == 2
        else:
            assert after is (not before)
    elif kind == "toggle_branch":
        assert changed == {"conv_blocks"} and b >= 1 and len(cb) == len(pb)
        assert cb[b].is_branch != pb[b].is_branch and cb[b].layers == pb[b].layers
        assert cb[:b] + cb[b + 1 :] == pb[:b] + pb[b + 1 :]
    elif kind in ("remove_block", "remove_random_block"):
        assert changed == {"conv_blocks"} and cb == removed_with_repair(pb, b)
        if kind == "remove_block":
            assert len(pb[b].layers) == 1
        seen[kind].add((b, len(pb)))
    elif kind == "append_block":
        assert changed == {"conv_blocks"} and cb[:-1] == pb and len(cb[-1].layers) == 1 and b == len(pb)
        seen["append_block"].add(cb[-1].is_branch)
    elif kind in ("remove_layer", "insert_layer"):
        assert changed == {"conv_blocks"} and len(cb) == len(pb)
        assert [x for k, x in enumerate(cb) if k != b] == [x for k, x in enumerate(pb) if k != b]
        assert cb[b].is_branch == pb[b].is_branch
        old, new = pb[b].layers, cb[b].layers
        if kind == "remove_layer":
            assert new == old[:i] + old[i + 1 :]
        else:
            assert new[:i] + new[i + 1 :] == old
        seen[kind].add((i, len(old)))
    elif kind == "toggle_pooling":
        assert changed == {"pooling"} and (child.pooling is None) != (parent.pooling is None)
        if child.pooling is not None:
            assert child.pooling.pool_size in POOL_SIZES
    elif kind == "flip_pool_type":
        assert changed == {"pooling"} and child.pooling.pool_size == parent.pooling.pool_size
        assert {child.pooling.type, parent.pooling.type} == {"avg", "max"}
    elif kind == "pool_size":
        assert changed == {"pooling"} and child.pooling.type == parent.pooling.type
        assert child.pooling.pool_size in POOL_SIZES and abs(child.pooling.pool_size - parent.pooling.pool_size) == 2
    elif kind == "remove_random_dense":
        pd = parent.dense_blocks
        assert changed == {"dense_blocks"} and child.dense_blocks == pd[:b] + pd[b + 1 :]
    elif kind == "append_dense":
        assert changed == {"dense_blocks"} and child.dense_blocks[:-1] == parent.dense_blocks
        assert child.dense_blocks[-1].units in UNITS and len(child.dense_blocks) == b + 1
    elif kind == "units":
        assert changed == {"dense_blocks"}
        diffs = [j for j, (p, c) in enumerate(zip(parent.dense_blocks, child.dense_blocks)) if p != c]
        assert diffs == [b] and len(child.dense_blocks) == len(parent.dense_blocks)
        after = child.dense_blocks[b].units
        assert after in UNITS
        seen["units"].add(after - parent.dense_blocks[b].units)
    else:
        raise AssertionError(f"unknown morph kind {kind}")


def assert_valid(arch: Architecture) -> None:
    assert parse_architecture(arch.to_dict()) == arch
    for profile in ("tflm", "munas"):
        graph = build_graph(arch, profile)
        assert all(d >= 1 for shape in graph.shapes for d in shape)


def chains(seed: int, steps: int, starts_per_shape: int):
    """(parent, morphs, chosen morph) along random morph chains from random starts of every shape."""
    rng = np.random.default_rng(seed)
    for shape, classes in STARTS:
        for _ in range(starts_per_shape):
            arch = random_architecture(shape, classes, rng)
            for _ in range(steps):
                morphs = all_morphs_named(arch, rng)
                chosen = morphs[int(rng.integers(len(morphs)))]
                yield arch, morphs, chosen
                arch = chosen.child


def test_morph_chains_give_valid_distinct_children_of_every_kind():
    """1000 chains of 4 steps from random starts of every shape (4000 parents): the chosen
    child of each step is fully validated (JSON round trip, both profiles, distinct from its
    parent); at every 5th step all children are checked against their kind's description,
    and at every 80th step all of them are fully validated too."""
    seen: dict = defaultdict(set)
    kinds = Counter()
    for step, (parent, morphs, chosen) in enumerate(chains(seed=11, steps=4, starts_per_shape=125)):
        assert chosen.child != parent, chosen
        assert_valid(chosen.child)
        if step % 5:
            continue
        for morph in morphs:
            assert morph.child != parent, morph
            assert morph.child.extras == {}
            check_semantics(parent, morph.kind, morph.where, morph.child, seen)
            kinds[morph.kind] += 1
            if step % 80 == 0:
                assert_valid(morph.child)
    assert set(kinds) == set(MORPH_KINDS)
    assert seen["filters"] == {-5, -3, -1, 1, 3, 5}
    assert seen["units"] == {-5, -3, -1, 1, 3, 5}
    assert len(seen["change_type"]) == 6
    assert seen["append_block"] == {False, True}
    # insertion reaches every position 0..n, appending included; removal every position 0..n-1
    for n in (1, 2):
        assert {i for i, m in seen["insert_layer"] if m == n} == set(range(n + 1))
    for n in (2, 3):
        assert {i for i, m in seen["remove_layer"] if m == n} == set(range(n))
    assert {b for b, m in seen["remove_random_block"] if m == 3} == {0, 1, 2}


def test_chains_reach_the_bounds_of_the_space():
    blocks, layers, dense = set(), set(), set()
    for parent, _, _ in chains(seed=12, steps=120, starts_per_shape=1):
        blocks.add(len(parent.conv_blocks))
        layers.update(len(b.layers) for b in parent.conv_blocks)
        dense.add(len(parent.dense_blocks))
    assert blocks == set(range(1, 11)) and layers == {1, 2, 3} and dense == {1, 2, 3}


# --------------------------------------------------------------------------- silence


def computation(arch: Architecture) -> list[tuple]:
    """The trained network's operators as a computation, independent of how it is written:
    1x1-window pools (identities) are dropped, a stride is 1 when one window covers the whole
    input (it cannot matter), and a one-to-one-channel conv is depthwise."""
    graph = build_graph(arch, "tflm")
    producer = {graph.input: -1}
    ops = []
    for op in graph.ops:
        inputs = tuple(producer[t] for t in op.inputs)
        if op.kind == "Pool" and op.kernel == (1, 1):
            producer[op.output] = inputs[0]
            continue
        in_shape = graph.shapes[op.inputs[0]]
        kind, stride = op.kind, op.stride
        if kind in ("Conv2D", "DWConv2D"):
            if op.in_channels == op.out_channels == 1:
                kind = "DWConv2D"
            if in_shape[:2] == op.kernel:
                stride = (1, 1)
        ops.append((kind, inputs, in_shape, graph.shapes[op.output], op.kernel, stride, op.out_channels,
                    op.has_bn, op.has_relu, op.pool_type, op.padding))
        producer[op.output] = len(ops) - 1
    return ops


def test_a_morph_is_suppressed_exactly_when_the_child_computes_the_same_network():
    silent_kinds = Counter()
    checked = 0
    for step, (parent, _, _) in enumerate(chains(seed=13, steps=16, starts_per_shape=2)):
        if step % 2:
            continue
        reference = computation(parent)
        for morph, silent in _candidates(parent, Sampler(np.random.default_rng(step))):
            assert silent == (computation(morph.child) == reference), morph
            silent_kinds[morph.kind] += silent
            checked += 1
    assert checked > 5000
    # small maps make all of these silent at times; the test would be vacuous otherwise
    for kind in ("filters", "kernel", "toggle_prepool", "toggle_stride", "toggle_pooling", "flip_pool_type", "pool_size"):
        assert silent_kinds[kind] > 0, kind


TINY = document(
    (4, 4, 2),
    [
        (False, [layer("Conv2D", 3, 6, False), layer("DWConv2D", 3, stride2=True)]),  # 4x4 -> 2x2 -> 1x1 (k clipped to 2)
        (False, [layer("Conv2D", 5, 8, True)]),                                         # on 1x1: k 1, stride moot
        (True, [layer("1x1Conv2D", filters=4)]),                                        # forced to 8 channels
    ],
    {"type": "avg", "pool_size": 2},                                                    # 1x1 window: identity
    [16],
)


def test_silent_morphs_on_a_tiny_network_are_suppressed():
    wheres = {(m.kind, m.where) for m in all_morphs_named(TINY, np.random.default_rng(0))}
    kinds = {kind for kind, _ in wheres}
    assert ("toggle_prepool", "conv_blocks[1].layers[0]") not in wheres  # 1x1 map
    assert ("toggle_prepool", "conv_blocks[0].layers[0]") in wheres
    assert ("toggle_stride", "conv_blocks[1].layers[0]") not in wheres  # one window covers 1x1
    assert ("toggle_stride", "conv_blocks[0].layers[0]") in wheres
    assert not any(k == "kernel" and w.startswith("conv_blocks[1]") for k, w in wheres)  # 5 and 3 both clip to 1
    assert ("kernel", "conv_blocks[0].layers[1] +2") not in wheres  # 3 and 5 both clip to 2 on a 2x2 map
    assert not any(k == "filters" and w.startswith("conv_blocks[2]") for k, w in wheres)  # forced
    assert not kinds & {"toggle_pooling", "flip_pool_type", "pool_size"}  # pooling a 1x1 map is the identity
    assert ("toggle_bn", "conv_blocks[1].layers[0]") in wheres and ("units", "dense_blocks[0] +5") in wheres


BRANCH_ENDING_IN_DW = document(
    (28, 28, 1),
    [(False, [layer("Conv2D", 3, 12, False)]), (True, [layer("DWConv2D", 3, stride2=False)])],
    None, [20],
)


@pytest.mark.parametrize("relu", [False, True])
def test_dropping_what_the_assembly_appends_after_a_dw_conv_is_silent(relu):
    """The assembly appends a 1x1 conv (no BN, no ReLU) after a branch's trailing DW conv, so
    dropping such a layer written out after a DW is silent."""
    written = document(
        (28, 28, 1),
        [(False, [layer("Conv2D", 3, 12, False)]),
         (True, [layer("DWConv2D", 3, stride2=False), layer("1x1Conv2D", filters=5, relu=relu)])],
        None, [20],
    )
    assert (computation(written) == computation(BRANCH_ENDING_IN_DW)) is not relu
    removals = {}
    for seed in range(40):
        for morph, silent in _candidates(written, Sampler(np.random.default_rng(seed))):
            if morph.kind == "remove_layer" and morph.where.startswith("conv_blocks[1]"):
                removals[morph.where] = silent
    assert removals == {"conv_blocks[1].layers[0]": False, "conv_blocks[1].layers[1]": not relu}


def test_inserting_what_the_assembly_appends_after_a_dw_conv_is_silent():
    outcomes = defaultdict(set)
    for seed in range(3000):
        for morph, silent in _candidates(BRANCH_ENDING_IN_DW, Sampler(np.random.default_rng(seed))):
            if morph.kind == "insert_layer" and morph.where == "conv_blocks[1].layers[1]":
                new = morph.child.conv_blocks[1].layers[1]
                plain_pointwise = new.type == "1x1Conv2D" and not (new.has_bn or new.has_relu or new.has_prepool)
                outcomes[plain_pointwise].add(silent)
    assert outcomes == {False: {False}, True: {True}}


def test_a_conv_from_one_channel_to_one_is_a_depthwise_conv():
    """On a one-channel input, a Conv2D with one filter is a DWConv2D with the same kernel:
    replacing one by the other is silent exactly when every other field agrees."""
    parent = document((8, 8, 1), [(False, [layer("Conv2D", 3, 1, False)])], None, [20])
    outcomes = defaultdict(set)
    for seed in range(300):
        for morph, silent in _candidates(parent, Sampler(np.random.default_rng(seed))):
            if morph.where == "conv_blocks[0].layers[0] DWConv2D":
                new = morph.child.conv_blocks[0].layers[0]
                same = (new.ker_size, new.stride2, new.has_prepool, new.has_bn, new.has_relu) == (3, False, False, False, True)
                assert same == (computation(morph.child) == computation(parent))
                outcomes[same].add(silent)
    assert outcomes == {False: {False}, True: {True}}


def test_branch_repair_keeps_block_zero_a_trunk_block():
    arch = document(
        (28, 28, 1),
        [(False, [layer("Conv2D", 3, 4, False)]), (True, [layer("Conv2D", 3, 4, False)]),
         (True, [layer("DWConv2D", 3, stride2=False)]), (False, [layer("Conv2D", 3, 4, False)])],
        None, [20],
    )
    removals = {m.where: m.child for m in all_morphs_named(arch, np.random.default_rng(0)) if m.kind == "remove_block"}
    assert [b.is_branch for b in removals["conv_blocks[0]"].conv_blocks] == [False, True, False]
    assert [b.is_branch for b in removals["conv_blocks[1]"].conv_blocks] == [False, True, False]
    assert [b.is_branch for b in removals["conv_blocks[2]"].conv_blocks] == [False, True, False]
    assert [b.is_branch for b in removals["conv_blocks[3]"].conv_blocks] == [False, True, True]
    assert not any(m.kind == "toggle_branch" and m.where == "conv_blocks[0]"
                   for m in all_morphs_named(arch, np.random.default_rng(0)))


def test_enumeration_and_random_child_are_deterministic_and_uniform():
    arch = KNOWN
    assert all_morphs(arch, np.random.default_rng(3)) == all_morphs(arch, np.random.default_rng(3))
    assert random_child(arch, np.random.default_rng(4)) in all_morphs(arch, np.random.default_rng(4))
    rng = np.random.default_rng(5)
    drawn = Counter(random_morph(arch, rng).kind for _ in range(2000))
    total = sum(KNOWN_COUNTS.values())
    for kind in ("filters", "change_type", "toggle_bn"):
        assert drawn[kind] / 2000 == pytest.approx(KNOWN_COUNTS[kind] / total, abs=0.03)


def test_reference_sampling_applies_to_fresh_layers_in_morphs():
    def fresh_values(reference: bool) -> set:
        rng = np.random.default_rng(6)
        values = set()
        for _ in range(300):
            for m in all_morphs_named(KNOWN, rng, reference_sampling=reference):
                if m.kind == "change_type":
                    new = m.child.conv_blocks[location(m.where)[0]].layers[location(m.where)[1]]
                    values.add(("k", new.ker_size))
                    values.add(("f", new.filters))
        return values

    assert ("k", 7) in fresh_values(False) and ("k", 7) not in fresh_values(True)
    assert ("f", 128) in fresh_values(False) and ("f", 128) not in fresh_values(True)
