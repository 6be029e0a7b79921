"""Exact peak memory usage (PMU): the minimum over all operator orders of the largest live set.

While op ``o`` runs, memory holds its inputs, its output and every activation produced
earlier that a later op still needs. A tensor is freed right after its last consumer. An
``Add`` may write into the buffer of an operand that has exactly the output's shape when this
Add is that operand's last use (in-place accumulation, spec §3.3).

Our graphs are a series of *sections* between cut tensors. From a cut ``X``, either one op
leads to the next cut, or ``m`` chains of single-input ops start at ``X`` and meet in one
``Add`` whose output is the next cut (branch blocks, tie-up pools and pads). Every op of a
section descends from ``X`` and the next cut descends from every op of the section, so any
order runs the sections one after the other, and while a section runs only ``X`` survives from
earlier ones: the PMU is the largest section optimum and the schedule their concatenation.
So we solve the sections from the largest lower bound down and accept, for each, any schedule
within the peak already reached (it cannot change the maximum).

Inside a fork-join section, memory is ``[X while some chain head is pending] + Σ chain
residues``; the Add at the end costs the same in every order. We model each op as a job that
raises memory by ``a`` (its output) at its peak and leaves it changed by ``d`` (output minus
what it frees). When ``X`` is freed by a known op (it is the Add's operand, or only one head is
pending, or it is already gone) the chains are independent and the order is found in closed
form: minimising the maximal cumulative cost of chains of signed jobs (Abdel-Wahab & Kameda
1978, series-parallel precedence; Liu 1987 for the tree case): merge consecutive jobs of a
chain whenever the later one has priority at least that of the earlier (composite ``a =
max(a1, d1 + a2)``, ``d = d1 + d2``), then run all composites by priority: jobs with ``d <= 0``
first by increasing ``a``, then jobs with ``d > 0`` by decreasing ``a - d`` (adjacent
interchange shows each rule can only lower the maximum).

While two or more heads are pending, which head frees ``X`` is a choice, and the head that
frees it may profitably run in the middle of another chain's hill, so we search those states
(chain positions) best first, branch and bound (:meth:`_Section.solve`). The bounds never
exceed the peak of any completion from the state (admissible, :meth:`_Section.evaluate`):

- each remaining op's own footprint with the other chains at the least residue they can still
  reach (a chain whose head is pending either still keeps ``X`` alive or has run its head);
  the last op of all, run while every other chain holds its end result;
- for every pending head ``j``: the closed-form optimum when ``j`` frees ``X`` (``X`` lives
  at least until each head, so every schedule costs at least that model's optimum);
- for the head ``L`` that runs last, minimised over ``L``: its step, when every other chain
  has run at least its head and all of those ops ran beside ``X``, and ``L``'s later ops with
  the others at their floors (:meth:`_Section.sweep`); and both phases around the last head
  together (:meth:`_Section.phases_bound`).

Keys inherit the parent's key (the parent's bound covers the child's completions) and start
from the cheap bounds, the others being computed when a state leaves the queue. A run of ops
of one chain that ends at a live total no larger than anywhere on the way, with every step
within the state's key, is taken at once (:meth:`_Section.descend`): any completion stays
pointwise no larger after it. Chains of identical sizes are interchangeable, so states that
differ by swapping them are one. Complete schedules come from states whose freeing head is
known (exact) and from the plan suggested by the best relaxation (:meth:`_Section.plan`); the
search stops when no queued key is below the best of them, which is then optimal.

Graphs of another shape (none come out of :func:`build_graph` today) use
:func:`exhaustive_peak_memory`, a best-first search over executed-op sets that assumes no
structure; tests use it as the oracle for the section solver.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from itertools import chain as concatenated
from itertools import count
from typing import NamedTuple

from munas.resources.graph import OperatorGraph


@dataclass(frozen=True)
class PeakMemory:
    peak: int
    """Bytes of activations resident at the worst moment of the best schedule."""
    schedule: tuple[str, ...]
    """Op names in the execution order that achieves :attr:`peak`."""


def peak_memory(graph: OperatorGraph) -> PeakMemory:
    """Minimum peak memory over all valid operator orders, and the order achieving it."""
    sections = _sections(graph)
    if sections is None:
        return exhaustive_peak_memory(graph)
    # Only the largest section optimum matters: solve the sections from the largest lower
    # bound down, and accept for each any schedule within the peak already reached.
    solved: dict[int, tuple[int, list[int]]] = {}
    peak = 0
    for index in sorted(range(len(sections)), key=lambda i: -sections[i].lower_bound()):
        solved[index] = sections[index].solve(enough=peak)
        peak = max(peak, solved[index][0])
    order = [op for index in range(len(sections)) for op in solved[index][1]]
    return PeakMemory(peak=peak, schedule=tuple(graph.ops[i].name for i in order))


# -- sections --------------------------------------------------------------------------------


class _Step(NamedTuple):
    """A section of a single op: nothing to choose."""

    peak: int
    op: int

    def lower_bound(self) -> int:
        return self.peak

    def solve(self, enough: int) -> tuple[int, list[int]]:
        return self.peak, [self.op]


def _sections(graph: OperatorGraph) -> list[_Section | _Step] | None:
    """Split the graph at its cut tensors; None when a part is not a chain or a fork-join."""
    ops = graph.ops
    consumers = graph.consumers()
    counted = graph.accounting.input_in_peak_memory

    def size(tensor: int) -> int:
        return 0 if tensor == graph.input and not counted else graph.tensor_bytes(tensor)

    def single_input(op: int) -> bool:
        return len(ops[op].inputs) == 1

    sections: list[_Section | _Step] = []
    covered = 0
    cut = graph.input
    while cut != graph.output:
        readers = list(dict.fromkeys(consumers[cut]))
        if len(readers) == 1 and single_input(readers[0]):
            op = readers[0]
            sections.append(_Step(size(cut) + size(ops[op].output), op))
            covered += 1
            cut = ops[op].output
            continue
        joins = {r for r in readers if not single_input(r)}
        chains = []
        for head in readers:
            if head in joins:
                continue
            chain = [head]
            while True:
                out = ops[chain[-1]].output
                if out == graph.output or len(consumers[out]) != 1:
                    return None
                (following,) = consumers[out]
                if not single_input(following):
                    joins.add(following)
                    break
                chain.append(following)
            chains.append(chain)
        if len(joins) != 1:
            return None
        (join,) = joins
        pinned = cut in ops[join].inputs
        ends = {ops[c[-1]].output for c in chains} | ({cut} if pinned else set())
        add = ops[join]
        if add.kind != "Add" or set(add.inputs) != ends or len(add.inputs) != len(ends):
            return None
        in_place = any(graph.shapes[t] == graph.shapes[add.output] for t in add.inputs)
        sizes = [[size(ops[o].output) for o in c] for c in chains]
        sections.append(_Section(size(cut), pinned, chains, sizes, join, 0 if in_place else size(add.output)))
        covered += sum(len(c) for c in chains) + 1
        cut = add.output
    return sections if covered == len(ops) else None


def _priority(a: int, d: int) -> tuple[int, int]:
    """Sort key of a job (peak rise ``a``, net change ``d``): memory-releasing jobs first, by
    increasing peak; then memory-keeping jobs by decreasing ``a - d``."""
    return (0, a) if d <= 0 else (1, d - a)


def _merge(live: int, chains: list[list[tuple]]) -> tuple[int, list[tuple]]:
    """Peak of running the composite jobs of independent chains by priority, and that order."""
    jobs = sorted(concatenated(*chains))
    peak = live
    for _, a, d, _, _ in jobs:
        peak = max(peak, live + a)
        live += d
    return peak, jobs


def _moves(positions: tuple[int, ...], jobs: list[tuple]) -> list[int]:
    """The chain index of every op that the composite jobs run, in order."""
    cursor = list(positions)
    moves = []
    for _, _, _, i, end in jobs:
        moves.extend([i] * (end - cursor[i]))
        cursor[i] = end
    return moves


class _Section:
    """One section: source bytes, chains of ops with their output bytes, and the joining Add."""

    def __init__(self, source: int, pinned: bool, chains: list[list[int]], sizes: list[list[int]],
                 join: int, join_extra: int):
        self.source = source
        self.pinned = pinned
        """The Add reads the source itself, so no head frees it."""
        self.chains = chains
        self.sizes = sizes
        self.join = join
        self.ends = sum(s[-1] for s in sizes) + (source if pinned else 0)
        """Bytes resident once every chain has run (the Add's operands)."""
        self.join_step = self.ends + join_extra
        """Bytes resident while the Add runs (its output reuses an operand when it can)."""
        # floor[i][p]: the least residue chain i can have once its head has run, from position p;
        # hill[i][p]: the largest chain-local footprint of its non-head ops from position p.
        self.floor: list[list[int]] = []
        self.hill: list[list[int]] = []
        for s in sizes:
            k = len(s)
            floor, hill = [s[-1]] * (k + 1), [0] * (k + 1)
            for p in range(k - 1, 0, -1):
                floor[p] = min(floor[p + 1], s[p - 1])
                hill[p] = max(hill[p + 1], s[p - 1] + s[p])
            floor[0], hill[0] = floor[min(1, k)], hill[min(1, k)]
            self.floor.append(floor)
            self.hill.append(hill)
        kinds = {tuple(s): k for k, s in enumerate(sizes)}
        self.kinds = [kinds[tuple(s)] for s in sizes]
        """Chains with equal sizes share a kind (see :meth:`symmetric`)."""
        self._composites: dict[tuple[int, int, bool, int, int], list[tuple]] = {}
        self._progress: dict[tuple[int, int], list[tuple[int, int, int, int]]] = {}

    def composites(self, i: int, position: int, frees_source: bool, stop: int | None = None,
                   jump: int = 0) -> list[tuple]:
        """Ops ``position..stop`` of chain ``i`` (to its end by default) as composite jobs
        ``(priority, a, d, i, end)`` in chain order. With ``jump`` beyond ``position``, the chain
        first moves straight to position ``jump``, costing only its change of residue (a
        relaxation used by the bounds)."""
        sizes = self.sizes[i]
        stop = len(sizes) if stop is None else stop
        cache_key = (i, position, frees_source, stop, jump)
        cached = self._composites.get(cache_key)
        if cached is not None:
            return cached
        stack: list[tuple[int, int, int]] = []
        if jump > position:
            change = sizes[jump - 1] - sizes[position - 1]
            stack.append((change, change, jump))
            position = jump
        for j in range(position, stop):
            freed = sizes[j - 1] if j else (self.source if frees_source else 0)
            a, d = sizes[j], sizes[j] - freed
            while stack and _priority(a, d) <= _priority(stack[-1][0], stack[-1][1]):
                below_a, below_d, _ = stack.pop()
                a, d = max(below_a, below_d + a), below_d + d
            stack.append((a, d, j + 1))
        result = [(_priority(a, d), a, d, i, end) for a, d, end in stack]
        self._composites[cache_key] = result
        return result

    def symmetric(self, positions: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
        """The same state for every way of swapping chains of identical sizes (they can trade
        their schedules), so the search visits only one of them."""
        return tuple(sorted(zip(self.kinds, positions)))

    def live(self, positions: tuple[int, ...]) -> int:
        residues = sum(s[p - 1] for s, p in zip(self.sizes, positions) if p)
        source_live = self.pinned or 0 in positions
        return residues + (self.source if source_live else 0)

    def independent(self, positions: tuple[int, ...], freeing: int | None) -> tuple[int, list[tuple]]:
        """Optimal peak (Add included) and composite order from ``positions`` to the end when
        chain ``freeing``'s head frees the source and no other head does."""
        peak, jobs = _merge(self.live(positions), [
            self.composites(i, p, i == freeing) for i, p in enumerate(positions) if p < len(self.sizes[i])
        ])
        return max(peak, self.join_step), jobs

    def plan(self, positions: tuple[int, ...], last: int, targets: tuple[int, ...]) -> tuple[int, list[int]]:
        """Peak and chain moves of a complete schedule from ``positions``: the other chains
        advance to ``targets`` beside the source (in the best order), head ``last`` frees it,
        and the rest runs in the best order."""
        phase, jobs = _merge(self.live(positions), [
            self.composites(i, p, False, t) for i, (p, t) in enumerate(zip(positions, targets)) if t > p
        ])
        step = self.live(targets) + self.sizes[last][0]
        freed = targets[:last] + (1,) + targets[last + 1:]
        rest, rest_jobs = self.independent(freed, None)
        return max(phase, step, rest), _moves(positions, jobs) + [last] + _moves(freed, rest_jobs)

    def evaluate(self, positions: tuple[int, ...], thorough: bool
                 ) -> tuple[int, bool, tuple[int, tuple[int, ...]] | None]:
        """(value, exact, witness): the optimal completion from ``positions`` when the head that
        frees the source is known; otherwise a lower bound on every completion: the cheap
        bounds only, or (``thorough``) all of them with the last head and targets of the
        relaxation that attains the smallest value (a good schedule to try)."""
        pending = [i for i, p in enumerate(positions) if p == 0]
        if self.pinned or len(pending) <= 1:
            return self.finish(positions)[0], True, None
        floors = [f[p] for f, p in zip(self.floor, positions)]
        total_floor = sum(floors)
        pending_floor = sum(floors[i] for i in pending)
        # Each remaining op, the other chains at their floors: a pending chain has either run
        # its head by then or still keeps the source alive.
        bound = self.join_step
        for i, p in enumerate(positions):
            if p == len(self.sizes[i]):
                continue
            others_pending = pending_floor - (floors[i] if p == 0 else 0)
            others_done = total_floor - floors[i] - others_pending
            if p == 0:
                bound = max(bound, self.source + self.sizes[i][0] + others_done)
            if self.hill[i][p]:
                bound = max(bound, self.hill[i][p] + others_done + min(self.source, others_pending))
        # The last op of all ends some chain while every other chain holds its end result (and
        # the source, when that op is the chain's head and so the last head).
        bound = max(bound, self.ends + min(
            (s[-2] if len(s) > 1 else self.source) for s, p in zip(self.sizes, positions) if p < len(s)
        ))
        if not thorough:
            return bound, False, None
        # The source lives at least until any one pending head runs: freeing it there instead
        # gives independent chains whose optimum cannot exceed the real one.
        early = {last: self.independent(positions, last)[0] for last in pending}
        last_heads, phases = self.sweep(positions, pending)
        # The head that runs last frees the source, after every other head has run.
        relaxed = None
        for last, (at_last_head, targets) in last_heads.items():
            value = max(at_last_head,
                        max(self.source + self.sizes[last][0], self.hill[last][0]) + total_floor - floors[last])
            if relaxed is None or (value, early[last]) < relaxed[:2]:
                relaxed = (value, early[last], (last, targets))
        assert relaxed is not None  # some head is pending
        value = max(bound, max(early.values()), relaxed[0], self.phases_bound(positions, phases))
        return value, False, relaxed[2]

    def progress(self, i: int, position: int) -> list[tuple[int, int, int, int]]:
        """Chain ``i`` from ``position`` as ``(hill, i, residue, t)`` events: with its ops (head
        included) costing at most ``hill`` beyond the source, it can reach position ``t``."""
        cache_key = (i, position)
        cached = self._progress.get(cache_key)
        if cached is None:
            sizes = self.sizes[i]
            hill, cached = 0, []
            for j in range(position, len(sizes)):
                hill = max(hill, sizes[j] + (sizes[j - 1] if j else 0))
                cached.append((hill, i, sizes[j], j + 1))
            self._progress[cache_key] = cached
        return cached

    def sweep(self, positions: tuple[int, ...], pending: list[int]
              ) -> tuple[dict[int, tuple[int, tuple[int, ...]]], list[tuple[int, int, tuple, tuple]]]:
        """Where the other chains can be when the last head ``L`` runs.

        They have all run their heads, and every op they ran so far ran beside the source: if
        those ops' own footprints stay within a threshold ``h``, chain ``j`` is at a position
        ``t_j`` within reach of ``h``, and the peak is at least ``source + max(h, a_L + Σ
        r_j(t_j))``. Sweeping ``h`` over the chains' hills, each chain takes its least residue
        within reach. Returns, per pending ``L``, the least such value and the positions that
        attain it; and per threshold ``h`` (ascending) ``(h, K(h), lowest, reach)``: ``K`` the
        least ``a_L + Σ`` over the possible ``L`` (never increasing with ``h``), and per chain the
        last position of its least residue within reach and its furthest reachable position.
        """
        residue = [self.sizes[i][p - 1] if p else None for i, p in enumerate(positions)]
        lowest, reach = list(positions), list(positions)
        total = sum(r for r in residue if r is not None)
        missing = len(pending)
        best: dict[int, tuple[int, tuple[int, ...]]] = {}
        phases = []
        events = sorted(concatenated(*(self.progress(i, p) for i, p in enumerate(positions))))
        for index, (hill, i, size, t) in enumerate(events):
            reach[i] = max(reach[i], t)
            held = residue[i]
            if held is None:
                missing -= 1
                residue[i], lowest[i] = size, t
                total += size
            elif size < held or (size == held and t > lowest[i]):  # any order within a hill
                total += size - held
                residue[i], lowest[i] = size, t
            if (index + 1 < len(events) and events[index + 1][0] == hill) or missing > 1:
                continue
            least = None
            for last in pending if missing == 0 else [j for j in pending if residue[j] is None]:
                at_head = self.sizes[last][0] + total - (residue[last] or 0)
                least = at_head if least is None else min(least, at_head)
                value = self.source + max(hill, at_head)
                if last not in best or value < best[last][0]:
                    best[last] = (value, tuple(lowest[:last]) + (positions[last],) + tuple(lowest[last + 1:]))
            assert least is not None  # at most one chain is missing, and it is pending
            phases.append((hill, least, tuple(lowest), tuple(reach)))
        return best, phases

    def phases_bound(self, positions: tuple[int, ...], phases: list[tuple[int, int, tuple, tuple]]) -> int:
        """A lower bound over both phases, whichever head runs last.

        With threshold ``h`` as in :meth:`sweep`, the peak is at least ``source + max(h, K(h))``
        and at least the best completion after the last head, from positions within reach. A
        chain at any position up to its furthest reach ``R`` costs no less after the last head
        than the same chain started at the last position ``m`` of its least residue within
        reach that jumps straight to ``R`` (the jump costs only the change of residue): before
        ``R`` the real chain never holds less than at ``m``, from ``R`` on both agree. A
        pending chain out of reach can only be the last head, at position 1. That
        completion bound ``S(h)`` and ``K(h)`` never increase with ``h`` (a longer reach only
        lowers ``m`` or lengthens the jump), so the best threshold is where ``source + h``
        crosses them: a binary search.
        """
        cache: dict[int, int] = {}

        def falling(k: int) -> int:  # max(source + K, S) at threshold k, never increasing
            if k not in cache:
                _, least, lowest, reach = phases[k]
                chains, total = [], 0
                for i, (m, far) in enumerate(zip(lowest, reach)):
                    start = m if far else 1
                    total += self.sizes[i][start - 1]
                    chains.append(self.composites(i, start, False, jump=far))
                peak, _ = _merge(total, chains)
                cache[k] = max(self.source + least, peak, self.join_step)
            return cache[k]

        low, high = 0, len(phases)  # first threshold where source + h is at least the rest
        while low < high:
            middle = (low + high) // 2
            if self.source + phases[middle][0] >= falling(middle):
                high = middle
            else:
                low = middle + 1
        options = []
        if low < len(phases):
            options.append(self.source + phases[low][0])
        if low > 0:
            options.append(falling(low - 1))
        return min(options)

    def descend(self, positions: tuple[int, ...], limit: int) -> tuple[tuple[int, ...], list[int], int]:
        """Run every descent that costs at most ``limit``: ops of one chain that end at a live
        total no larger than at any point on the way. Any completion keeps its peak after such
        moves (memory is pointwise no larger and the moved ops fit under ``limit``)."""
        moves: list[int] = []
        peak = 0
        changed = True
        while changed:
            changed = False
            for i, sizes in enumerate(self.sizes):
                p = positions[i]
                frees_source = p == 0 and not self.pinned and positions.count(0) == 1
                if p == len(sizes) or (p == 0 and not frees_source):
                    continue  # a head that keeps the source alive only adds memory
                live = lowest = self.live(positions)
                target, steps, target_steps = p, 0, 0
                for j in range(p, len(sizes)):
                    step = live + sizes[j]
                    if step > limit:
                        break
                    steps = max(steps, step)
                    live = step - (sizes[j - 1] if j else self.source)
                    if live <= lowest:
                        lowest, target, target_steps = live, j + 1, steps
                if target > p:
                    positions = positions[:i] + (target,) + positions[i + 1:]
                    moves.extend([i] * (target - p))
                    peak = max(peak, target_steps)
                    changed = True
        return positions, moves, peak

    def finish(self, positions: tuple[int, ...]) -> tuple[int, list[tuple]]:
        """Optimal peak and composite order from a state whose freeing head is known."""
        pending = [i for i, p in enumerate(positions) if p == 0]
        return self.independent(positions, pending[0] if len(pending) == 1 and not self.pinned else None)

    def lower_bound(self) -> int:
        return self.evaluate((0,) * len(self.chains), False)[0]

    def solve(self, enough: int) -> tuple[int, list[int]]:
        """Peak and op order of the section: optimal, or any order within ``enough``.

        Best-first branch and bound over chain positions. A state's key ``max(parent key, peak
        so far, bound)`` never exceeds the peak of any schedule through it (the parent's key
        bounds all of the parent's completions); the incumbent is the best complete schedule
        seen: an exact completion, or the plan suggested by a state's relaxation. When no
        queued state has a key below the incumbent, nothing can beat it.
        """
        heap: list[tuple] = []
        tiebreak = count()
        best: dict[tuple[tuple[int, int], ...], int] = {}  # least peak so far per (symmetric) state
        parent: dict[tuple[int, ...], tuple[tuple[int, ...] | None, list[int]]] = {}
        incumbent: list = [math.inf, None, None]  # peak, positions, moves from there to the end

        def offer(value: int, positions: tuple[int, ...], moves: list[int]) -> None:
            if value < incumbent[0]:
                incumbent[:] = [value, positions, moves]

        def push(origin: tuple[int, ...] | None, moves: list[int], positions: tuple[int, ...], peak: int,
                 depth: int, floor: int, thorough: bool) -> None:
            value, exact, witness = self.evaluate(positions, thorough)
            if thorough and not exact:
                positions, descent, descent_peak = self.descend(positions, max(floor, peak, value))
                if descent:
                    moves = moves + descent
                    peak = max(peak, descent_peak)
                    value, exact, witness = self.evaluate(positions, thorough)
            key = max(floor, peak, value)
            known = best.get(self.symmetric(positions))
            if key >= incumbent[0] or (known is not None and known <= peak):
                return
            best[self.symmetric(positions)] = peak
            parent[positions] = (origin, moves)
            if exact:
                offer(key, positions, _moves(positions, self.finish(positions)[1]))
            else:
                heapq.heappush(heap, (key, -depth - len(moves), next(tiebreak), positions, peak, witness))

        start = (0,) * len(self.chains)
        push(None, [], start, self.live(start), 0, 0, True)
        while heap and incumbent[0] > enough:
            key, neg_depth, _, positions, peak, witness = heapq.heappop(heap)
            if key >= incumbent[0]:
                break
            if best[self.symmetric(positions)] < peak:
                continue
            if witness is None:  # queued on the cheap bounds: evaluate fully, queue again
                value, _, witness = self.evaluate(positions, True)
                key = max(key, value)
                moved, descent, descent_peak = self.descend(positions, key)
                if descent:
                    push(positions, descent, moved, max(peak, descent_peak), -neg_depth, key, True)
                elif key < incumbent[0]:
                    heapq.heappush(heap, (key, neg_depth, next(tiebreak), positions, peak, witness))
                continue
            value, moves = self.plan(positions, *witness)
            offer(max(peak, value), positions, moves)
            if key >= incumbent[0] or incumbent[0] <= enough:
                break
            live = self.live(positions)
            for i, p in enumerate(positions):
                if p < len(self.sizes[i]):  # two heads or more are pending: no move frees the source
                    moved = positions[:i] + (p + 1,) + positions[i + 1:]
                    push(positions, [i], moved, max(peak, live + self.sizes[i][p]), -neg_depth, key, False)
        value, positions, moves = incumbent
        return value, self._order(positions, moves, parent)

    def _order(self, positions: tuple[int, ...], tail: list[int], parent: dict) -> list[int]:
        """Op indices: the searched moves up to ``positions``, then ``tail``, then the Add."""
        segments = [tail]
        state: tuple[int, ...] | None = positions
        while state is not None:
            state, moves = parent[state]
            segments.append(moves)
        cursor = [0] * len(self.chains)
        order = []
        for i in concatenated(*reversed(segments)):
            order.append(self.chains[i][cursor[i]])
            cursor[i] += 1
        return order + [self.join]


# -- exhaustive search -------------------------------------------------------------------------


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
        for _, other_readers in self.inplace_candidates[op]:
            if other_readers & ~executed == 0:  # this Add is the operand's last use
                peak = live
                break
        return peak, live - freed + self.out_kept[op]


def exhaustive_peak_memory(graph: OperatorGraph) -> PeakMemory:
    """Minimum peak memory of any operator graph, without assuming its shape.

    Executed-op sets are states; running op ``o`` from state ``E`` costs ``live(E) +
    bytes(out(o))`` (minus the output when the Add runs in place). A bottleneck best-first
    search keyed by ``max(peak so far, L)``, ``L`` the largest single-op footprint, returns the
    optimum the first time the complete set leaves the queue. Exact on every DAG but it expands
    every state cheaper than the optimum: seconds on sections with many branches.
    """
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
        _, neg_depth, _, executed, live, peak = heapq.heappop(heap)
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
