"""Peak memory: the section solver equals a brute force over every topological order on small
networks and the exhaustive op-set search on networks with many branches."""

from __future__ import annotations

import functools
import itertools
import math

import networkx as nx
import numpy as np
import pytest

from munas.resources.accounting import get_accounting
from munas.resources.graph import Op, OperatorGraph, build_graph
from munas.resources.peak_memory import _Section, _sections, exhaustive_peak_memory, peak_memory, schedule_peak
from munas.space.architecture import Architecture, ConvBlock, ConvLayer, DenseBlock, Pooling
from munas.space.stress import branchy_architecture, builtin_tasks

MAX_ORDERS = 2_000


def small_branchy_architecture(rng: np.random.Generator) -> Architecture:
    """Small networks rich in branches and tie-ups, so that operator order matters
    but every topological order can still be enumerated."""
    h = int(rng.integers(4, 13))
    w = h if rng.random() < 0.7 else int(rng.integers(4, 13))
    blocks = []
    for b in range(int(rng.integers(1, 5))):
        layers = []
        for _ in range(int(rng.integers(1, 3))):
            kind = ("Conv2D", "1x1Conv2D", "DWConv2D")[int(rng.integers(3))]
            layers.append(ConvLayer(
                type=kind,
                ker_size=None if kind == "1x1Conv2D" else int(rng.choice([3, 5])),
                filters=None if kind == "DWConv2D" else int(rng.integers(1, 9)),
                stride2=None if kind == "1x1Conv2D" else bool(rng.random() < 0.3),
                has_prepool=bool(rng.random() < 0.25),
            ))
        # A first block marked as a branch makes the Add read the network input itself.
        blocks.append(ConvBlock(layers=tuple(layers), is_branch=(b > 0 or rng.random() < 0.2) and rng.random() < 0.6))
    pooling = Pooling(type="max", pool_size=2) if rng.random() < 0.5 else None
    return Architecture(
        input_shape=(h, w, int(rng.integers(1, 4))),
        num_classes=int(rng.choice([2, 10])),
        conv_blocks=tuple(blocks),
        dense_blocks=(DenseBlock(units=int(rng.integers(10, 20))),),
        pooling=pooling,
    )


def topological_orders(graph: OperatorGraph):
    producer = graph.producer()
    dag = nx.DiGraph()
    dag.add_nodes_from(range(len(graph.ops)))
    for index, op in enumerate(graph.ops):
        for tensor in op.inputs:
            if tensor in producer:
                dag.add_edge(producer[tensor], index)
    return nx.all_topological_sorts(dag)


def brute_force_peak(graph: OperatorGraph) -> int | None:
    best = None
    for count, order in enumerate(topological_orders(graph)):
        if count == MAX_ORDERS:
            return None
        peak = schedule_peak(graph, list(order))
        best = peak if best is None else min(best, peak)
    return best


@pytest.mark.parametrize("accounting", ["tflm", "munas"])
def test_peak_memory_equals_brute_force_over_all_orders(accounting):
    rng = np.random.default_rng(7)
    checked = with_choice = 0
    while checked < 200:
        graph = build_graph(small_branchy_architecture(rng), accounting)
        expected = brute_force_peak(graph)
        if expected is None:
            continue
        result = peak_memory(graph)
        assert result.peak == expected
        index = {op.name: i for i, op in enumerate(graph.ops)}
        order = [index[name] for name in result.schedule]
        assert sorted(order) == list(range(len(graph.ops)))
        assert schedule_peak(graph, order) == result.peak, "the returned order must reach the peak"
        checked += 1
        with_choice += any(op.kind == "Add" for op in graph.ops)
    assert with_choice > 50, "the sample must exercise branches and tie-ups"


def test_graphs_of_another_shape_use_the_exhaustive_search():
    """A tensor read by two Adds (a long skip) is not a chain-and-join section."""
    graph = OperatorGraph(accounting=get_accounting("munas"), shapes=[(4, 4, 1)] + [(4, 4, 3)] * 5 + [(2,)])
    graph.ops = [
        Op("a", "Conv2D", (0,), 1), Op("b", "Conv2D", (0,), 2), Op("c", "Conv2D", (1,), 3),
        Op("add1", "Add", (3, 2), 4), Op("add2", "Add", (4, 1), 5), Op("out", "Dense", (5,), 6),
    ]
    graph.output = 6
    assert _sections(graph) is None
    result = peak_memory(graph)
    assert result.peak == brute_force_peak(graph) == exhaustive_peak_memory(graph).peak
    index = {op.name: i for i, op in enumerate(graph.ops)}
    assert schedule_peak(graph, [index[name] for name in result.schedule]) == result.peak


def test_order_matters_and_the_search_finds_the_better_one():
    """A wide branch next to a narrow one: running the narrow chain first is cheaper."""
    wide = ConvLayer(type="1x1Conv2D", filters=32)
    narrow = ConvLayer(type="Conv2D", ker_size=3, filters=2, stride2=False)
    architecture = Architecture(
        input_shape=(10, 10, 1), num_classes=10,
        conv_blocks=(ConvBlock((narrow,)), ConvBlock((wide, ConvLayer(type="1x1Conv2D", filters=2)))
                     , ConvBlock((ConvLayer(type="1x1Conv2D", filters=32), narrow), is_branch=True)),
        dense_blocks=(DenseBlock(10),),
    )
    graph = build_graph(architecture, "munas")
    peaks = [schedule_peak(graph, list(order)) for order in topological_orders(graph)]
    assert min(peaks) < max(peaks)
    assert peak_memory(graph).peak == min(peaks)


def test_in_place_add_only_at_the_operands_last_use():
    """Spec example 2: the Add may write into an operand's buffer (1152 instead of 1728)."""
    layer = lambda f: ConvLayer(type="1x1Conv2D", filters=f)  # noqa: E731
    architecture = Architecture(
        input_shape=(8, 8, 1), num_classes=2,
        conv_blocks=(ConvBlock((ConvLayer(type="Conv2D", ker_size=3, filters=4, stride2=False),)),
                     ConvBlock((layer(16),)), ConvBlock((layer(5),), is_branch=True)),
        dense_blocks=(DenseBlock(12),), pooling=Pooling("max", 4),
    )
    graph = build_graph(architecture, "munas")
    add = next(i for i, op in enumerate(graph.ops) if op.kind == "Add")
    order = list(range(len(graph.ops)))
    # Live while the Add runs: B and C (576 each); the output reuses one of them.
    assert schedule_peak(graph, order[: add + 1]) == 1296
    assert peak_memory(graph).peak == 1296


EXHAUSTIVE_STATES = 3_000


def many_branch_architecture(rng: np.random.Generator) -> Architecture:
    """A trunk block and 5 to 8 branch blocks of 1 or 2 layers side by side (where the order of
    the branches decides the peak), optionally followed by a second such group."""
    tasks = builtin_tasks()
    shape, classes = tasks[int(rng.integers(len(tasks)))]
    return branchy_architecture(shape, classes, rng, max_branch_layers=2)


def forks(graph: OperatorGraph) -> list[_Section]:
    return [section for section in _sections(graph) if isinstance(section, _Section)]


def search_states(graph: OperatorGraph) -> int:
    """Executed-op sets the exhaustive search may visit: Π (chain length + 1) per section."""
    return sum(math.prod(len(chain) + 1 for chain in section.chains) for section in forks(graph))


def test_section_solver_equals_exhaustive_search_on_many_branches():
    rng = np.random.default_rng(11)
    checked = branches = 0
    while checked < 200:
        architecture = many_branch_architecture(rng)
        for accounting in ("tflm", "munas"):
            graph = build_graph(architecture, accounting)
            if search_states(graph) > EXHAUSTIVE_STATES:
                continue
            result = peak_memory(graph)
            assert result.peak == exhaustive_peak_memory(graph).peak
            index = {op.name: i for i, op in enumerate(graph.ops)}
            assert schedule_peak(graph, [index[name] for name in result.schedule]) == result.peak
            checked += 1
            branches += max(len(section.chains) for section in forks(graph)) >= 6
    assert branches > 100, "most sections must hold six chains or more"


def test_bounds_never_exceed_the_best_completion_and_exact_values_are_exact():
    """The search's invariants, on every state of small sections: the value of a state is at
    most the best completion from it (found here by a plain recursion over chain positions),
    and equal to it where the solver claims it exact."""
    rng = np.random.default_rng(5)
    sections = exact = 0
    while sections < 600:
        graph = build_graph(small_branchy_architecture(rng), ("tflm", "munas")[sections % 2])
        for section in forks(graph):
            sections += 1

            @functools.cache
            def completion(positions: tuple[int, ...], section=section) -> int:
                live = section.live(positions)
                steps = [max(live + sizes[p], completion(positions[:i] + (p + 1,) + positions[i + 1:]))
                         for i, (sizes, p) in enumerate(zip(section.sizes, positions)) if p < len(sizes)]
                return min(steps) if steps else section.join_step

            for positions in itertools.product(*(range(len(sizes) + 1) for sizes in section.sizes)):
                value, is_exact, _ = section.evaluate(positions, True)
                assert value <= completion(positions)
                if is_exact:
                    assert value == completion(positions)
                    exact += 1
    assert exact > 2000
