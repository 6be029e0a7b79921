"""Exact peak memory usage (PMU): the minimum over all operator orders of the largest live set.

While op ``o`` runs, memory holds its inputs, its output and every activation produced
earlier that a later op still needs. A tensor is freed right after its last consumer. An
``Add`` may write into the buffer of an operand that has exactly the output's shape when this
Add is that operand's last use (in-place accumulation, spec §3.3).

Search: executed-op sets are states; running op ``o`` from state ``E`` costs
``live(E) + bytes(out(o))`` (minus the output when the Add runs in place), and a schedule's
peak is the largest of its steps. We look for the order with the smallest peak by a
bottleneck best-first search whose key ``max(peak so far, L)`` never decreases along a path,
where ``L`` is a lower bound every schedule must reach (the largest single-op footprint).
The first time the complete state is taken from the queue its key is optimal. Ties go to the
deepest state, so when a greedy order already reaches ``L`` the search ends after one dive;
otherwise it expands only states whose peak is below the optimum. The reference memoises a
recursion over tensor sets instead, which takes seconds on branchy networks.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from munas.resources.graph import OperatorGraph


@dataclass(frozen=True)
class PeakMemory:
    peak: int
    """Bytes of activations resident at the worst moment of the best schedule."""
    schedule: tuple[str, ...]
    """Op names in the execution order that achieves :attr:`peak`."""


class _Problem:
    """Precomputed bitmask form of a graph for fast state transitions."""

    def __init__(self, graph: OperatorGraph):
        self.graph = graph
        ops = graph.ops
        producer = graph.producer()
        consumers = graph.consumers()
        counted = graph.accounting.input_in_peak_memory
        self.n = len(ops)

        def size(tensor: int) -> int:
            if tensor == graph.input and not counted:
                return 0
            return graph.tensor_bytes(tensor)

        self.predecessors = [0] * self.n
        self.out_bytes = [0] * self.n
        self.out_kept = [0] * self.n  # bytes the output keeps alive after the op
        # per op: (tensor bytes, mask of that tensor's consumers) for each distinct input
        self.inputs: list[list[tuple[int, int]]] = []
        self.inplace_candidates: list[list[tuple[int, int]]] = []
        consumer_mask = {t: sum(1 << c for c in cs) for t, cs in consumers.items()}
        for i, op in enumerate(ops):
            for t in op.inputs:
                if t in producer:
                    self.predecessors[i] |= 1 << producer[t]
            self.out_bytes[i] = size(op.output)
            has_readers = bool(consumers[op.output]) or op.output == graph.output
            self.out_kept[i] = self.out_bytes[i] if has_readers else 0
            distinct = list(dict.fromkeys(op.inputs))
            self.inputs.append([(size(t), consumer_mask[t]) for t in distinct])
            out_shape = graph.shapes[op.output]
            self.inplace_candidates.append(
                [
                    (size(t), consumer_mask[t] & ~(1 << i))
                    for t in distinct
                    if op.kind == "Add" and graph.shapes[t] == out_shape
                ]
            )
        self.initial_live = size(graph.input) if consumers[graph.input] else 0
        # Lower bound: every op needs its inputs and output resident at once.
        lower = self.initial_live
        for i in range(self.n):
            in_bytes = sum(b for b, _ in self.inputs[i])
            out = self.out_bytes[i]
            if any(True for _ in self.inplace_candidates[i]):
                out = 0  # may run in place (a conservative lower bound)
            lower = max(lower, in_bytes + out)
        self.lower_bound = lower

    def step(self, executed: int, live: int, op: int) -> tuple[int, int]:
        """(bytes resident while ``op`` runs, live bytes after it) from state ``executed``."""
        after = executed | (1 << op)
        freed = sum(b for b, readers in self.inputs[op] if readers & ~after == 0)
        peak = live + self.out_bytes[op]
        for b, other_readers in self.inplace_candidates[op]:
            if other_readers & ~executed == 0:  # this Add is the operand's last use
                peak = live
                break
        return peak, live - freed + self.out_kept[op]


def peak_memory(graph: OperatorGraph) -> PeakMemory:
    """Minimum peak memory over all valid operator orders, and the order achieving it."""
    problem = _Problem(graph)
    n = problem.n
    complete = (1 << n) - 1
    bound = problem.lower_bound
    start_key = max(problem.initial_live, bound)
    # heap entries: (key, -depth, tiebreak, executed, live, peak); parents for the schedule
    counter = 0
    heap = [(start_key, 0, counter, 0, problem.initial_live, problem.initial_live)]
    best: dict[int, int] = {0: problem.initial_live}
    parent: dict[int, tuple[int, int]] = {}
    while heap:
        key, neg_depth, _, executed, live, peak = heapq.heappop(heap)
        if executed == complete:
            return PeakMemory(peak=peak, schedule=_schedule(graph, parent, complete))
        if best.get(executed, peak) < peak:
            continue
        for op in range(n):
            bit = 1 << op
            if executed & bit or problem.predecessors[op] & ~executed:
                continue
            step_peak, new_live = problem.step(executed, live, op)
            new_peak = max(peak, step_peak)
            state = executed | bit
            known = best.get(state)
            if known is not None and known <= new_peak:
                continue
            best[state] = new_peak
            parent[state] = (executed, op)
            counter += 1
            heapq.heappush(heap, (max(new_peak, bound), neg_depth - 1, counter, state, new_live, new_peak))
    raise AssertionError("operator graph has a cycle")  # pragma: no cover - graphs are DAGs


def _schedule(graph: OperatorGraph, parent: dict[int, tuple[int, int]], state: int) -> tuple[str, ...]:
    order = []
    while state:
        state, op = parent[state]
        order.append(graph.ops[op].name)
    return tuple(reversed(order))


def schedule_peak(graph: OperatorGraph, order: list[int]) -> int:
    """Peak memory of one given op order (indices into ``graph.ops``), by direct simulation.

    Independent of the search above on purpose: tests use it as the brute-force oracle
    over every topological order.
    """
    consumers = graph.consumers()
    counted = graph.accounting.input_in_peak_memory
    remaining = {t: len(c) for t, c in consumers.items()}
    live: set[int] = {graph.input} if consumers[graph.input] else set()

    def size(tensor: int) -> int:
        return 0 if tensor == graph.input and not counted else graph.tensor_bytes(tensor)

    peak = sum(size(t) for t in live)
    for index in order:
        op = graph.ops[index]
        inplace = op.kind == "Add" and any(
            graph.shapes[t] == graph.shapes[op.output] and remaining[t] == op.inputs.count(t) for t in op.inputs
        )
        resident = live | set(op.inputs) | ({op.output} if not inplace else set())
        peak = max(peak, sum(size(t) for t in resident))
        for t in op.inputs:
            remaining[t] -= 1
        live = {t for t in live | {op.output} if remaining[t] > 0 or t == graph.output}
    return peak
